using System.Text.Json;

namespace LearnerVault.Server.Pipeline;

/// <summary>
/// Error responses on the xAPI endpoints: the status the specification names and a short JSON body that
/// never carries a stack trace, a secret or a value from the request (it may be personal data).
/// </summary>
public static class XapiErrors
{
    public static async Task WriteAsync(HttpContext context, int status, string message)
    {
        if (context.Response.HasStarted)
        {
            return;
        }

        context.Response.StatusCode = status;
        if (status == StatusCodes.Status401Unauthorized)
        {
            context.Response.Headers.WWWAuthenticate = "Basic realm=\"LearnerVault xAPI\", charset=\"UTF-8\"";
        }

        if (HttpMethods.IsHead(context.Request.Method))
        {
            return;
        }

        context.Response.ContentType = "application/json; charset=utf-8";
        await using var writer = new Utf8JsonWriter(context.Response.Body);
        writer.WriteStartObject();
        writer.WriteString("error", ReasonPhrase(status));
        writer.WriteString("message", message);
        writer.WriteEndObject();
        await writer.FlushAsync(context.RequestAborted);
    }

    public static IResult Result(int status, string message) => new ErrorResult(status, message);

    private static string ReasonPhrase(int status) => Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(status);

    private sealed class ErrorResult(int status, string message) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext) => WriteAsync(httpContext, status, message);
    }
}

/// <summary>Thrown anywhere below an xAPI endpoint to answer with a given status; caught by the pipeline.</summary>
public sealed class XapiException(int status, string message) : Exception(message)
{
    public int Status { get; } = status;
}
