using Microsoft.AspNetCore.Diagnostics;

namespace LearnerVault.Server.Pipeline;

/// <summary>
/// The last resort for an exception no step handled: a 500 with a generic body, and a log entry with the exception's
/// type and stack only. Exception messages are left out on purpose: framework messages can quote values (a duplicate
/// dictionary key, a parameter), and here a value may be a learner's identifier.
/// </summary>
public static partial class UnhandledErrors
{
    /// <summary>The framework's own exception log, silenced in favour of <see cref="HandleAsync"/>.</summary>
    public const string FrameworkCategory = "Microsoft.AspNetCore.Diagnostics.ExceptionHandlerMiddleware";

    public static async Task HandleAsync(HttpContext context)
    {
        if (context.Features.Get<IExceptionHandlerFeature>()?.Error is { } error)
        {
            var logger = context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(UnhandledErrors));
            Log(logger, error.GetType().FullName ?? "unknown", context.Request.Method, error.StackTrace ?? string.Empty);
        }

        await XapiErrors.WriteAsync(context, StatusCodes.Status500InternalServerError, "The server failed to process the request.");
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Unhandled {ExceptionType} on a {Method} request (message withheld: it may quote personal data)\n{StackTrace}")]
    private static partial void Log(ILogger logger, string exceptionType, string method, string stackTrace);
}
