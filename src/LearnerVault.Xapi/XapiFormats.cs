using System.Buffers;
using System.Text;

namespace LearnerVault.Xapi;

/// <summary>
/// Syntax checks for the special string types of xAPI (UUID, IRI, mailto IRI, language tag, duration, version...).
/// Every check is a single forward scan over UTF-8 bytes: no regular expressions, so no backtracking and no
/// allocation. The string overloads exist for query parameters and tests.
/// </summary>
public static class XapiFormats
{
    private const int StackLimit = 256;

    /// <summary>A UUID in the standard 8-4-4-4-12 hexadecimal form (either case). Braces and URN forms are not.</summary>
    public static bool IsUuid(string? value) => value is not null && With(value, IsUuid);

    /// <summary>An absolute IRI (scheme ":" something) without characters that IRIs never contain.</summary>
    public static bool IsIri(string? value) => value is not null && With(value, IsIri);

    /// <summary>A "mailto:" IRI naming one e-mail address.</summary>
    public static bool IsMailtoIri(string? value) => value is not null && With(value, IsMailtoIri);

    /// <summary>A well-formed RFC 5646 language tag.</summary>
    public static bool IsLanguageTag(string? value) => value is not null && With(value, IsLanguageTag);

    /// <summary>An ISO 8601:2004 section 4.4.3.2 duration (e.g. PT4H35M59.14S or P4W).</summary>
    public static bool IsDuration(string? value) => value is not null && With(value, IsDuration);

    /// <summary>A Statement "version" the LRS accepts when served as <paramref name="version"/>: 1.0[.x], and 2.0[.x] in 2.0.</summary>
    public static bool IsStatementVersion(string? value, XapiVersion version) =>
        value is not null && value.Length <= 32 && IsStatementVersion(Encoding.UTF8.GetBytes(value), version);

    internal static bool IsUuid(ReadOnlySpan<byte> s)
    {
        if (s.Length != 36)
        {
            return false;
        }

        for (var i = 0; i < 36; i++)
        {
            var c = s[i];
            if (i is 8 or 13 or 18 or 23)
            {
                if (c != '-')
                {
                    return false;
                }
            }
            else if (!IsHex(c))
            {
                return false;
            }
        }

        return true;
    }

    internal static bool IsIri(ReadOnlySpan<byte> s)
    {
        // scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ), then ":" and a non-empty remainder.
        if (s.Length < 3 || !IsAsciiLetter(s[0]))
        {
            return false;
        }

        var colon = -1;
        for (var i = 1; i < s.Length; i++)
        {
            var c = s[i];
            if (c == ':')
            {
                colon = i;
                break;
            }

            if (!(IsAsciiLetter(c) || IsDigit(c) || c is (byte)'+' or (byte)'-' or (byte)'.'))
            {
                return false;
            }
        }

        if (colon < 0 || colon == s.Length - 1)
        {
            return false;
        }

        for (var i = colon + 1; i < s.Length; i++)
        {
            var c = s[i];
            if (c <= 0x20 || c == 0x7F || c is (byte)'<' or (byte)'>' or (byte)'"' or (byte)'{' or (byte)'}' or (byte)'|' or (byte)'\\' or (byte)'^' or (byte)'`')
            {
                return false;
            }

            // C1 control characters (U+0080..U+009F) are encoded as C2 80..C2 9F.
            if (c == 0xC2 && i + 1 < s.Length && s[i + 1] <= 0x9F)
            {
                return false;
            }
        }

        return true;
    }

    internal static bool IsMailtoIri(ReadOnlySpan<byte> s)
    {
        if (s.Length < 10 || !Ascii.EqualsIgnoreCase(s[..7], "mailto:"u8))
        {
            return false;
        }

        var address = s[7..];
        var at = address.IndexOf((byte)'@');
        if (at <= 0 || at == address.Length - 1 || address[(at + 1)..].Contains((byte)'@'))
        {
            return false;
        }

        var domain = address[(at + 1)..];
        if (domain[0] == '.' || domain[^1] == '.')
        {
            return false;
        }

        foreach (var c in address)
        {
            // One address: no whitespace or controls, no list separator, no header part, nothing an IRI cannot hold.
            if (c <= 0x20 || c == 0x7F || c is (byte)'<' or (byte)'>' or (byte)'"' or (byte)'\\' or (byte)',' or (byte)'?')
            {
                return false;
            }
        }

        return true;
    }

    internal static bool IsSha1Hex(ReadOnlySpan<byte> s) => s.Length == 40 && AllHex(s);

    /// <summary>SHA-224, SHA-256, SHA-384 or SHA-512 in hexadecimal.</summary>
    internal static bool IsSha2Hex(ReadOnlySpan<byte> s) => s.Length is 56 or 64 or 96 or 128 && AllHex(s);

    internal static bool IsStatementVersion(ReadOnlySpan<byte> s, XapiVersion version)
    {
        if (s.Length < 3)
        {
            return false;
        }

        var major = s[0];
        if (!(major == '1' || (major == '2' && version == XapiVersion.V2_0_0)) || s[1] != '.' || s[2] != '0')
        {
            return false;
        }

        if (s.Length == 3)
        {
            return true;
        }

        if (s[3] != '.' || s.Length == 4)
        {
            return false;
        }

        foreach (var c in s[4..])
        {
            if (!IsDigit(c))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>ISO 8601 duration, format of section 4.4.3.2 only: PnYnMnDTnHnMnS (any subset, in order) or PnW.</summary>
    internal static bool IsDuration(ReadOnlySpan<byte> s)
    {
        if (s.Length < 3 || s[0] != 'P')
        {
            return false;
        }

        var i = 1;
        var inTime = false;
        var components = 0;
        var lastOrder = 0;
        var sawFraction = false;
        while (i < s.Length)
        {
            if (sawFraction)
            {
                // Only the lowest-order (last) component may carry a decimal fraction.
                return false;
            }

            if (s[i] == 'T')
            {
                if (inTime || i == s.Length - 1)
                {
                    return false;
                }

                inTime = true;
                i++;
                continue;
            }

            var start = i;
            while (i < s.Length && IsDigit(s[i]))
            {
                i++;
            }

            if (i == start || i == s.Length)
            {
                return false;
            }

            if (s[i] is (byte)'.' or (byte)',')
            {
                i++;
                var fractionStart = i;
                while (i < s.Length && IsDigit(s[i]))
                {
                    i++;
                }

                if (i == fractionStart || i == s.Length)
                {
                    return false;
                }

                sawFraction = true;
            }

            var order = (s[i], inTime) switch
            {
                ((byte)'Y', false) => 1,
                ((byte)'M', false) => 2,
                ((byte)'W', false) => 3,
                ((byte)'D', false) => 4,
                ((byte)'H', true) => 5,
                ((byte)'M', true) => 6,
                ((byte)'S', true) => 7,
                _ => 0,
            };
            if (order <= lastOrder)
            {
                return false;
            }

            // Weeks cannot be combined with any other component ("P4W1D" is not valid).
            if ((order == 3 && components > 0) || (lastOrder == 3))
            {
                return false;
            }

            lastOrder = order;
            components++;
            i++;
        }

        return components > 0;
    }

    /// <summary>Well-formed RFC 5646 language tag (case-insensitive), including duplicate variant/singleton checks.</summary>
    internal static bool IsLanguageTag(ReadOnlySpan<byte> s) => LanguageTag.IsWellFormed(s);

    internal static bool IsHex(byte c) => (uint)(c - '0') <= 9 || (uint)((c | 0x20) - 'a') <= 5;

    internal static bool IsDigit(byte c) => (uint)(c - '0') <= 9;

    internal static bool IsAsciiLetter(byte c) => (uint)((c | 0x20) - 'a') <= 25;

    internal static bool AllHex(ReadOnlySpan<byte> s)
    {
        foreach (var c in s)
        {
            if (!IsHex(c))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Runs a UTF-8 check on a .NET string without allocating for short strings.</summary>
    internal static bool With(string value, Utf8Check check)
    {
        var max = Encoding.UTF8.GetMaxByteCount(value.Length);
        byte[]? rented = null;
        var buffer = max <= StackLimit ? stackalloc byte[StackLimit] : (rented = ArrayPool<byte>.Shared.Rent(max));
        try
        {
            var length = Encoding.UTF8.GetBytes(value, buffer);
            return check(buffer[..length]);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    internal delegate bool Utf8Check(ReadOnlySpan<byte> value);
}
