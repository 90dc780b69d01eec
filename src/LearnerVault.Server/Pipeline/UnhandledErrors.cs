using Microsoft.AspNetCore.Diagnostics;
using Npgsql;

namespace LearnerVault.Server.Pipeline;

/// <summary>
/// The last resort for an exception no step handled: a 500 with a generic body, and a log entry with the exception's
/// type and stack only. Exception messages are left out on purpose: framework messages can quote values (a duplicate
/// dictionary key, a parameter), and here a value may be a learner's identifier. When the store itself cannot be
/// reached (PostgreSQL down, failing over, out of connections), the answer is 503 with Retry-After instead: the request
/// was fine and a client should try again, which is what xAPI clients and load balancers understand.
/// </summary>
public static partial class UnhandledErrors
{
    /// <summary>The framework's own exception log, silenced in favour of <see cref="HandleAsync"/>.</summary>
    public const string FrameworkCategory = "Microsoft.AspNetCore.Diagnostics.ExceptionHandlerMiddleware";

    public static async Task HandleAsync(HttpContext context)
    {
        var error = context.Features.Get<IExceptionHandlerFeature>()?.Error;
        var logger = context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(UnhandledErrors));
        if (error is not null && IsStoreUnavailable(error))
        {
            LogUnavailable(logger, error.GetType().FullName ?? "unknown", (error as PostgresException)?.SqlState ?? "-", context.Request.Method);
            context.Response.Headers.RetryAfter = RetryAfterSeconds;
            await WriteAsync(context, StatusCodes.Status503ServiceUnavailable, "store-unavailable", "The data store is unavailable; try again shortly.");
            return;
        }

        if (error is not null)
        {
            Log(logger, error.GetType().FullName ?? "unknown", context.Request.Method, error.StackTrace ?? string.Empty);
        }

        await WriteAsync(context, StatusCodes.Status500InternalServerError, "internal", "The server failed to process the request.");
    }

    /// <summary>The admin API answers in problem documents, the xAPI endpoint as the xAPI specification says.</summary>
    private static Task WriteAsync(HttpContext context, int status, string slug, string message) =>
        context.Request.Path.StartsWithSegments(Api.ApiPipeline.Prefix, StringComparison.Ordinal)
            ? Api.ApiProblems.WriteAsync(context, status, slug, message, null)
            : XapiErrors.WriteAsync(context, status, message);

    public const string RetryAfterSeconds = "5";

    /// <summary>
    /// Whether <paramref name="error"/> says the database is out of reach rather than that the request or the code is
    /// wrong: a failure to connect or a timeout (an NpgsqlException that is not a server error), or a server error of the
    /// classes that mean "not now" — connection exceptions (08), insufficient resources (53), operator intervention
    /// (57P: shutdown, crash recovery, cannot connect now), and a database that does not accept connections (55000 on
    /// connect, 3D000 while a database is being recreated). An access log that cannot be written counts too: the access it
    /// would have recorded was refused.
    /// </summary>
    public static bool IsStoreUnavailable(Exception error)
    {
        for (var current = error; current is not null; current = current.InnerException)
        {
            switch (current)
            {
                case PostgresException postgres:
                    return postgres.SqlState.StartsWith("08", StringComparison.Ordinal)
                        || postgres.SqlState.StartsWith("53", StringComparison.Ordinal)
                        || postgres.SqlState.StartsWith("57P", StringComparison.Ordinal)
                        || postgres.SqlState is PostgresErrorCodes.ObjectNotInPrerequisiteState or PostgresErrorCodes.InvalidCatalogName;
                case NpgsqlException:
                    return true;
                case TimeoutException:
                    return true;
                case Audit.AccessLogUnavailableException:
                    // The access could not be traced, so it did not happen: a store outage as far as the client knows.
                    return true;
            }
        }

        return false;
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Unhandled {ExceptionType} on a {Method} request (message withheld: it may quote personal data)\n{StackTrace}")]
    private static partial void Log(ILogger logger, string exceptionType, string method, string stackTrace);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The data store is unavailable ({ExceptionType}, SQLSTATE {SqlState}) on a {Method} request: answered 503")]
    private static partial void LogUnavailable(ILogger logger, string exceptionType, string sqlState, string method);
}
