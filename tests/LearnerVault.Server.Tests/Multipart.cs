using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;

namespace LearnerVault.Server.Tests;

/// <summary>Builds multipart/mixed statement requests byte by byte (so tests can break them on purpose) and reads
/// multipart responses back.</summary>
public static class Multipart
{
    public const string Boundary = "lv-test-boundary-314159";

    /// <summary>One part: its header lines and its raw data.</summary>
    public sealed record Part(IReadOnlyList<string> Headers, byte[] Body)
    {
        public static Part Json(JsonNode statements) =>
            new(["Content-Type: application/json"], Encoding.UTF8.GetBytes(statements.ToJsonString()));

        public static Part Attachment(byte[] data, string contentType = "text/plain", string? sha2 = null) =>
            new([$"Content-Type: {contentType}", "Content-Transfer-Encoding: binary", $"X-Experience-API-Hash: {sha2 ?? Sha256(data)}"], data);
    }

    public static string Sha256(byte[] data) => Convert.ToHexStringLower(SHA256.HashData(data));

    /// <summary>An attachment object for a statement, describing <paramref name="data"/>.</summary>
    public static JsonObject AttachmentObject(byte[] data, string contentType = "text/plain", string usageType = "http://example.org/attachment-usage/essay", string? fileUrl = null)
    {
        var attachment = new JsonObject
        {
            ["usageType"] = usageType,
            ["display"] = new JsonObject { ["en-US"] = "An essay" },
            ["contentType"] = contentType,
            ["length"] = data.Length,
            ["sha2"] = Sha256(data),
        };
        if (fileUrl is not null)
        {
            attachment["fileUrl"] = fileUrl;
        }

        return attachment;
    }

    public static byte[] Body(IEnumerable<Part> parts, string boundary = Boundary, bool close = true)
    {
        using var body = new MemoryStream();
        foreach (var part in parts)
        {
            Write(body, $"--{boundary}\r\n");
            foreach (var header in part.Headers)
            {
                Write(body, header + "\r\n");
            }

            Write(body, "\r\n");
            body.Write(part.Body);
            Write(body, "\r\n");
        }

        if (close)
        {
            Write(body, $"--{boundary}--\r\n");
        }

        return body.ToArray();
    }

    public static ByteArrayContent Content(byte[] body, string contentType = "multipart/mixed; boundary=" + Boundary)
    {
        var content = new ByteArrayContent(body);
        // Without validation: some tests send a Content-Type that is wrong on purpose.
        content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        return content;
    }

    public static ByteArrayContent Content(params Part[] parts) => Content(Body(parts));

    /// <summary>The parts of a multipart response: each part's headers and data.</summary>
    public static async Task<List<(Dictionary<string, string> Headers, byte[] Body)>> ReadAsync(HttpResponseMessage response)
    {
        var contentType = Microsoft.Net.Http.Headers.MediaTypeHeaderValue.Parse(response.Content.Headers.ContentType!.ToString());
        Assert.Equal("multipart/mixed", contentType.MediaType.ToString());
        var reader = new MultipartReader(HeaderUtilities.RemoveQuotes(contentType.Boundary).ToString(), await response.Content.ReadAsStreamAsync());
        var parts = new List<(Dictionary<string, string>, byte[])>();
        while (await reader.ReadNextSectionAsync() is { } section)
        {
            using var data = new MemoryStream();
            await section.Body.CopyToAsync(data);
            parts.Add((section.Headers!.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase), data.ToArray()));
        }

        return parts;
    }

    private static void Write(Stream stream, string text) => stream.Write(Encoding.UTF8.GetBytes(text));
}
