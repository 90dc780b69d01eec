using System.Security.Cryptography;

namespace LearnerVault.Server.Documents;

/// <summary>The entity tags of an If-Match or If-None-Match header: "*", or opaque values (weak ones marked).</summary>
public sealed record EntityTagList(bool Any, IReadOnlyList<(string Opaque, bool Weak)> Tags)
{
    /// <summary>Parses a header; null when the header is absent or empty. Unquoted tokens, which some clients send, are
    /// taken as the opaque value itself rather than refused.</summary>
    public static EntityTagList? Parse(string? header)
    {
        if (string.IsNullOrWhiteSpace(header))
        {
            return null;
        }

        if (header.Trim() == "*")
        {
            return new EntityTagList(true, []);
        }

        var tags = new List<(string, bool)>();
        foreach (var part in SplitTags(header))
        {
            var token = part.Trim();
            var weak = token.StartsWith("W/", StringComparison.Ordinal);
            if (weak)
            {
                token = token[2..];
            }

            if (token.Length >= 2 && token[0] == '"' && token[^1] == '"')
            {
                token = token[1..^1];
            }

            if (token.Length > 0)
            {
                tags.Add((token, weak));
            }
        }

        return new EntityTagList(false, tags);
    }

    /// <summary>Commas separate tags, but only outside quotes.</summary>
    private static IEnumerable<string> SplitTags(string header)
    {
        var start = 0;
        var quoted = false;
        for (var i = 0; i < header.Length; i++)
        {
            if (header[i] == '"')
            {
                quoted = !quoted;
            }
            else if (header[i] == ',' && !quoted)
            {
                yield return header[start..i];
                start = i + 1;
            }
        }

        yield return header[start..];
    }
}

/// <summary>The preconditions a request carries (RFC 9110 section 13.1).</summary>
public sealed record RequestPreconditions(EntityTagList? IfMatch, EntityTagList? IfNoneMatch)
{
    public static RequestPreconditions None { get; } = new(null, null);

    public bool Any => IfMatch is not null || IfNoneMatch is not null;

    public static RequestPreconditions From(HttpRequest request) =>
        new(EntityTagList.Parse(request.Headers.IfMatch.ToString()), EntityTagList.Parse(request.Headers.IfNoneMatch.ToString()));
}

public static class DocumentETag
{
    /// <summary>
    /// The SHA-1 of the content in lower-case hexadecimal: xAPI 1.0.3 (Communication 3.1) requires exactly this for a GET
    /// without transfer encoding, and 2.0 allows it. It is sent to the client only; at rest only a keyed form is kept.
    /// </summary>
    public static string Compute(ReadOnlySpan<byte> content)
    {
#pragma warning disable CA5350 // Required by the xAPI specification; not used for security.
        return Convert.ToHexStringLower(SHA1.HashData(content));
#pragma warning restore CA5350
    }

    public static string Quote(string opaque) => "\"" + opaque + "\"";
}
