using System.Text.Json.Nodes;

namespace LearnerVault.Server.Endpoints;

/// <summary>A JSON body with its Content-Length; for HEAD the same headers and no body (xAPI Communication 1.1).</summary>
internal static class JsonResponse
{
    public static async Task WriteAsync(HttpContext context, JsonNode body)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(body.ToJsonString());
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "application/json; charset=utf-8";
        context.Response.ContentLength = bytes.Length;
        if (!HttpMethods.IsHead(context.Request.Method))
        {
            await context.Response.Body.WriteAsync(bytes, context.RequestAborted);
        }
    }
}
