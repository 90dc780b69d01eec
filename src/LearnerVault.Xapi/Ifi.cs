using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace LearnerVault.Xapi;

/// <summary>
/// Normalised inverse functional identifiers: the one string form of an Agent or identified Group used for
/// matching, pseudonyms and query parameters. "mbox:mailto:local@domain" (scheme and domain lower-cased, the local
/// part kept: it may be case-sensitive), "mbox_sha1sum:&lt;lowercase hex&gt;", "openid:&lt;uri&gt;",
/// "account:&lt;homePage&gt;|&lt;name&gt;" (a "|" inside homePage is written %7C so the form stays unambiguous).
/// </summary>
public static class Ifi
{
    private const string MboxPrefix = "mbox:";
    private const string Sha1Prefix = "mbox_sha1sum:";

    /// <summary>The normalised IFI of an Agent/Group JSON object, or null when it has none (e.g. an anonymous Group).</summary>
    public static string? Normalise(JsonElement agentOrGroup)
    {
        if (agentOrGroup.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        if (agentOrGroup.TryGetProperty("mbox"u8, out var mbox) && mbox.ValueKind == JsonValueKind.String)
        {
            return FromMbox(mbox.GetString()!);
        }

        if (agentOrGroup.TryGetProperty("mbox_sha1sum"u8, out var sha1) && sha1.ValueKind == JsonValueKind.String)
        {
            return FromSha1(sha1.GetString()!);
        }

        if (agentOrGroup.TryGetProperty("openid"u8, out var openid) && openid.ValueKind == JsonValueKind.String)
        {
            return "openid:" + openid.GetString();
        }

        if (agentOrGroup.TryGetProperty("account"u8, out var account) && account.ValueKind == JsonValueKind.Object
            && account.TryGetProperty("homePage"u8, out var homePage) && homePage.ValueKind == JsonValueKind.String
            && account.TryGetProperty("name"u8, out var name) && name.ValueKind == JsonValueKind.String)
        {
            return FromAccount(homePage.GetString()!, name.GetString()!);
        }

        return null;
    }

    /// <summary>The normalised IFI of an Agent/Group JSON node, or null when it has none.</summary>
    public static string? Normalise(JsonNode? agentOrGroup)
    {
        if (agentOrGroup is not JsonObject agent)
        {
            return null;
        }

        if (StringOf(agent["mbox"]) is { } mbox)
        {
            return FromMbox(mbox);
        }

        if (StringOf(agent["mbox_sha1sum"]) is { } sha1)
        {
            return FromSha1(sha1);
        }

        if (StringOf(agent["openid"]) is { } openid)
        {
            return "openid:" + openid;
        }

        if (agent["account"] is JsonObject account && StringOf(account["homePage"]) is { } homePage && StringOf(account["name"]) is { } name)
        {
            return FromAccount(homePage, name);
        }

        return null;
    }

    /// <summary>"mailto:" and the domain are case-insensitive; the local part is kept as sent.</summary>
    internal static string NormaliseMbox(string mbox)
    {
        var at = mbox.LastIndexOf('@');
        var colon = mbox.IndexOf(':', StringComparison.Ordinal);
        if (colon < 0)
        {
            return mbox;
        }

        var scheme = mbox[..(colon + 1)].ToLowerInvariant();
        return at < 0
            ? scheme + mbox[(colon + 1)..]
            : scheme + mbox[(colon + 1)..(at + 1)] + mbox[(at + 1)..].ToLowerInvariant();
    }

    internal static string? StringOf(JsonNode? node) =>
        node is JsonValue value && value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : null;

    /// <summary>Whether <paramref name="node"/> is the string <paramref name="utf8"/>, without allocating when it is backed by parsed JSON.</summary>
    internal static bool StringEquals(JsonNode? node, ReadOnlySpan<byte> utf8)
    {
        if (node is not JsonValue value)
        {
            return false;
        }

        if (value.TryGetValue<JsonElement>(out var element))
        {
            return element.ValueKind == JsonValueKind.String && element.ValueEquals(utf8);
        }

        return value.GetValueKind() == JsonValueKind.String && Encoding.UTF8.GetString(utf8) == value.GetValue<string>();
    }

    /// <summary>"mbox:" + <see cref="NormaliseMbox"/>, built in one allocation.</summary>
    private static string FromMbox(string mbox)
    {
        var colon = mbox.IndexOf(':', StringComparison.Ordinal);
        var at = mbox.LastIndexOf('@');
        if (colon < 0 || (at >= 0 && at < colon))
        {
            return "mbox:" + NormaliseMbox(mbox);
        }

        return string.Create(MboxPrefix.Length + mbox.Length, (mbox, colon, at), static (destination, state) =>
        {
            var (text, colon, at) = state;
            MboxPrefix.CopyTo(destination);
            var normalised = destination[MboxPrefix.Length..];
            text.AsSpan(0, colon + 1).ToLowerInvariant(normalised);
            if (at < 0)
            {
                text.AsSpan(colon + 1).CopyTo(normalised[(colon + 1)..]);
            }
            else
            {
                text.AsSpan(colon + 1, at - colon).CopyTo(normalised[(colon + 1)..]);
                text.AsSpan(at + 1).ToLowerInvariant(normalised[(at + 1)..]);
            }
        });
    }

    private static string FromSha1(string sha1) =>
        string.Create(Sha1Prefix.Length + sha1.Length, sha1, static (destination, text) =>
        {
            Sha1Prefix.CopyTo(destination);
            text.AsSpan().ToLowerInvariant(destination[Sha1Prefix.Length..]);
        });

    private static string FromAccount(string homePage, string name) =>
        "account:" + homePage.Replace("|", "%7C", StringComparison.Ordinal) + "|" + name;
}
