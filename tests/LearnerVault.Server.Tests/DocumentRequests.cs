using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace LearnerVault.Server.Tests;

/// <summary>Builds document-resource requests: query strings, bodies of a chosen media type, precondition headers.</summary>
public static class DocumentRequests
{
    public const string ActivityId = "http://example.org/activities/documents";

    public static string Agent(string mbox = "mailto:doc.learner@example.org") => JsonSerializer.Serialize(new { objectType = "Agent", mbox });

    /// <summary>A query string from name/value pairs; null values are left out.</summary>
    public static string Query(params (string Name, string? Value)[] parameters) =>
        string.Join("&", parameters.Where(p => p.Value is not null).Select(p => Uri.EscapeDataString(p.Name) + "=" + Uri.EscapeDataString(p.Value!)));

    public static string State(string? stateId, string? agent = null, string? activityId = ActivityId, Guid? registration = null, string? since = null) =>
        "activities/state?" + Query(("activityId", activityId), ("agent", agent ?? Agent()), ("stateId", stateId), ("registration", registration?.ToString()), ("since", since));

    public static HttpContent Body(string text, string mediaType = "application/json")
    {
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes(text));
        content.Headers.ContentType = MediaTypeHeaderValue.Parse(mediaType);
        return content;
    }

    public static HttpRequestMessage Request(HttpMethod method, string uri, HttpContent? body = null, string? ifMatch = null, string? ifNoneMatch = null)
    {
        var request = new HttpRequestMessage(method, uri) { Content = body };
        if (ifMatch is not null)
        {
            request.Headers.TryAddWithoutValidation("If-Match", ifMatch);
        }

        if (ifNoneMatch is not null)
        {
            request.Headers.TryAddWithoutValidation("If-None-Match", ifNoneMatch);
        }

        return request;
    }

    public static Task<HttpResponseMessage> PutDocumentAsync(this HttpClient http, string uri, HttpContent body, string? ifMatch = null, string? ifNoneMatch = null) =>
        http.SendAsync(Request(HttpMethod.Put, uri, body, ifMatch, ifNoneMatch), TestContext.Current.CancellationToken);

    public static Task<HttpResponseMessage> PostDocumentAsync(this HttpClient http, string uri, HttpContent body, string? ifMatch = null, string? ifNoneMatch = null) =>
        http.SendAsync(Request(HttpMethod.Post, uri, body, ifMatch, ifNoneMatch), TestContext.Current.CancellationToken);

    public static Task<HttpResponseMessage> DeleteDocumentAsync(this HttpClient http, string uri, string? ifMatch = null) =>
        http.SendAsync(Request(HttpMethod.Delete, uri, null, ifMatch), TestContext.Current.CancellationToken);

    public static async Task<string> TextAsync(this HttpResponseMessage response) =>
        await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);

    public static string ETag(this HttpResponseMessage response) => response.Headers.ETag?.ToString() ?? throw new InvalidOperationException("No ETag.");

    public static string NewId() => Guid.NewGuid().ToString();
}
