using LearnerVault.Server.Pipeline;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace LearnerVault.Server.Tests;

public sealed class UnhandledErrorsTests
{
    [Fact]
    public async Task HandleAsync_ExceptionQuotingPersonalData_LogsTypeButNotMessageAndAnswers500()
    {
        var sink = new CapturingLoggerProvider();
        using var services = new ServiceCollection().AddLogging(b => b.AddProvider(sink)).BuildServiceProvider();
        var context = new DefaultHttpContext { RequestServices = services };
        context.Response.Body = new MemoryStream();
        Exception thrown;
        try
        {
            throw new ArgumentException("An item with the same key has already been added. Key: mailto:zoe@example.org");
        }
        catch (ArgumentException ex)
        {
            thrown = ex;
        }

        context.Features.Set<IExceptionHandlerFeature>(new ExceptionHandlerFeature { Error = thrown, Path = "/xapi/statements" });

        await UnhandledErrors.HandleAsync(context);

        Assert.Equal(500, context.Response.StatusCode);
        var line = Assert.Single(sink.Lines);
        Assert.Contains(nameof(ArgumentException), line, StringComparison.Ordinal);
        Assert.DoesNotContain("zoe@example.org", line, StringComparison.Ordinal);
        context.Response.Body.Position = 0;
        var body = await new StreamReader(context.Response.Body).ReadToEndAsync(TestContext.Current.CancellationToken);
        Assert.DoesNotContain("zoe@example.org", body, StringComparison.Ordinal);
    }

    private sealed class CapturingLoggerProvider : ILoggerProvider, ILogger
    {
        public List<string> Lines { get; } = [];

        public ILogger CreateLogger(string categoryName) => this;

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Lines.Add(formatter(state, exception) + (exception?.Message ?? string.Empty));

        public void Dispose()
        {
        }
    }
}
