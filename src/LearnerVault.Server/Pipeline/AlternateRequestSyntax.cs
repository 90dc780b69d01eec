using System.Text;
using LearnerVault.Xapi;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Primitives;

namespace LearnerVault.Server.Pipeline;

/// <summary>
/// The xAPI 1.0.3 alternate request syntax (Communication 1.3): a POST with a single <c>method</c> query
/// parameter and a form body carrying headers, parameters and <c>content</c>. The request is rewritten in
/// place so that every later step sees an ordinary request. xAPI 2.0 removed the syntax, so a 2.0 request
/// that uses it is refused.
/// </summary>
public static class AlternateRequestSyntax
{
    private static readonly HashSet<string> HeaderFields = new(StringComparer.OrdinalIgnoreCase)
    {
        "Authorization", "X-Experience-API-Version", "Content-Type", "Content-Length", "If-Match", "If-None-Match",
    };

    private static readonly HashSet<string> Methods = new(StringComparer.Ordinal) { "GET", "PUT", "POST", "DELETE", "HEAD" };

    /// <returns>Null when the request was handled (or is not alternate); otherwise the error to answer.</returns>
    public static async Task<(int Status, string Message)?> TryRewriteAsync(HttpContext context)
    {
        var request = context.Request;
        if (!request.Query.ContainsKey("method"))
        {
            return null;
        }

        if (!HttpMethods.IsPost(request.Method))
        {
            return (400, "The alternate request syntax must be issued as a POST.");
        }

        if (request.Query.Count != 1)
        {
            return (400, "The alternate request syntax allows no query parameter other than method.");
        }

        var method = request.Query["method"].ToString().ToUpperInvariant();
        if (!Methods.Contains(method))
        {
            return (400, "The method parameter names an unsupported HTTP method.");
        }

        if (!request.HasFormContentType || !(request.ContentType ?? string.Empty).StartsWith("application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase))
        {
            return (400, "The alternate request syntax requires an application/x-www-form-urlencoded body.");
        }

        IFormCollection form;
        try
        {
            form = await request.ReadFormAsync(context.RequestAborted);
        }
        catch (InvalidDataException)
        {
            return (400, "The form body could not be read.");
        }

        var query = new Dictionary<string, StringValues>(StringComparer.Ordinal);
        string? content = null;
        foreach (var (name, value) in form)
        {
            if (name == "content")
            {
                content = value.ToString();
            }
            else if (HeaderFields.Contains(name))
            {
                if (!name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase))
                {
                    request.Headers[name] = value;
                }
            }
            else
            {
                query[name] = value;
            }
        }

        if (XapiVersions.TryNegotiate(request.Headers[XapiVersions.HeaderName], out var version) && version == XapiVersion.V2_0_0)
        {
            return (400, "xAPI 2.0 does not allow the alternate request syntax.");
        }

        if (method is "PUT" or "POST" && content is null)
        {
            return (400, "The alternate request syntax needs a content form parameter for PUT and POST.");
        }

        if (!form.ContainsKey("Content-Type") || method is "GET" or "DELETE" or "HEAD")
        {
            request.ContentType = method is "PUT" or "POST" ? "application/json" : null;
        }

        request.Method = method;
        request.QueryString = QueryString.Create(query);
        request.Query = new QueryCollection(query);
        var body = Encoding.UTF8.GetBytes(content ?? string.Empty);
        request.Body = new MemoryStream(body);
        request.ContentLength = body.Length;
        context.Features.Set<IFormFeature>(new FormFeature(FormCollection.Empty));
        return null;
    }
}
