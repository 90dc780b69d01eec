using System.Text;

namespace LearnerVault.Xapi;

/// <summary>
/// RFC 5646 well-formedness, which is what xAPI requires of language map keys and context.language
/// ("the sequence of token lengths ... matches"). Tags are not checked against the IANA registry.
/// </summary>
internal static class LanguageTag
{
    // Irregular grandfathered tags do not follow the langtag production; the regular ones do.
    private static readonly string[] Irregular =
    [
        "en-GB-oed", "i-ami", "i-bnn", "i-default", "i-enochian", "i-hak", "i-klingon", "i-lux", "i-mingo",
        "i-navajo", "i-pwn", "i-tao", "i-tay", "i-tsu", "sgn-BE-FR", "sgn-BE-NL", "sgn-CH-DE",
    ];

    private enum Stage
    {
        Language,
        ExtLang,
        Script,
        Region,
        Variant,
        Extension,
    }

    public static bool IsWellFormed(ReadOnlySpan<byte> tag)
    {
        if (tag.Length is 0 or > 255)
        {
            return false;
        }

        foreach (var irregular in Irregular)
        {
            if (tag.Length == irregular.Length && Ascii.EqualsIgnoreCase(tag, irregular))
            {
                return true;
            }
        }

        // Duplicate variants and singletons make a tag invalid; tags are short, so a quadratic check is cheapest.
        Span<Range> variants = stackalloc Range[8];
        var variantCount = 0;
        Span<byte> singletons = stackalloc byte[36];
        var singletonCount = 0;

        var stage = Stage.Language;
        var extLangs = 0;
        var extensionNeedsSubtag = false;
        var position = 0;
        var first = true;
        while (position <= tag.Length)
        {
            var end = tag[position..].IndexOf((byte)'-');
            end = end < 0 ? tag.Length : position + end;
            var subtag = tag[position..end];
            if (subtag.Length is 0 or > 8 || !IsAlphanumeric(subtag))
            {
                return false;
            }

            if (first)
            {
                first = false;
                if (subtag.Length == 1 && (subtag[0] | 0x20) == 'x')
                {
                    return IsPrivateUseTail(tag, end);
                }

                if (!IsAlpha(subtag) || subtag.Length == 1)
                {
                    return false;
                }

                stage = subtag.Length <= 3 ? Stage.ExtLang : Stage.Script;
            }
            else if (extensionNeedsSubtag)
            {
                if (subtag.Length < 2)
                {
                    return false;
                }

                extensionNeedsSubtag = false;
            }
            else if (subtag.Length == 1)
            {
                if ((subtag[0] | 0x20) == 'x')
                {
                    return IsPrivateUseTail(tag, end);
                }

                var singleton = (byte)(subtag[0] | 0x20);
                if (singletons[..singletonCount].Contains(singleton) || singletonCount == singletons.Length)
                {
                    return false;
                }

                singletons[singletonCount++] = singleton;
                stage = Stage.Extension;
                extensionNeedsSubtag = true;
            }
            else if (stage == Stage.Extension)
            {
                // Further 2..8 character subtags of the current extension.
            }
            else if (stage == Stage.ExtLang && subtag.Length == 3 && IsAlpha(subtag) && extLangs < 3)
            {
                extLangs++;
            }
            else if (stage <= Stage.Script && subtag.Length == 4 && IsAlpha(subtag))
            {
                stage = Stage.Region;
            }
            else if (stage <= Stage.Region && ((subtag.Length == 2 && IsAlpha(subtag)) || (subtag.Length == 3 && IsDigits(subtag))))
            {
                stage = Stage.Variant;
            }
            else if (subtag.Length >= 5 || (subtag.Length == 4 && XapiFormats.IsDigit(subtag[0])))
            {
                for (var v = 0; v < variantCount; v++)
                {
                    if (Ascii.EqualsIgnoreCase(tag[variants[v]], subtag))
                    {
                        return false;
                    }
                }

                if (variantCount == variants.Length)
                {
                    return false;
                }

                variants[variantCount++] = new Range(position, end);
                stage = Stage.Variant;
            }
            else
            {
                return false;
            }

            position = end + 1;
        }

        return !extensionNeedsSubtag;
    }

    private static bool IsPrivateUseTail(ReadOnlySpan<byte> tag, int afterX)
    {
        // privateuse = "x" 1*("-" (1*8alphanum))
        if (afterX >= tag.Length)
        {
            return false;
        }

        var rest = tag[(afterX + 1)..];
        if (rest.IsEmpty)
        {
            return false;
        }

        foreach (var range in rest.Split((byte)'-'))
        {
            var part = rest[range];
            if (part.Length is 0 or > 8 || !IsAlphanumeric(part))
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsAlphanumeric(ReadOnlySpan<byte> s)
    {
        foreach (var c in s)
        {
            if (!XapiFormats.IsAsciiLetter(c) && !XapiFormats.IsDigit(c))
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsAlpha(ReadOnlySpan<byte> s)
    {
        foreach (var c in s)
        {
            if (!XapiFormats.IsAsciiLetter(c))
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsDigits(ReadOnlySpan<byte> s)
    {
        foreach (var c in s)
        {
            if (!XapiFormats.IsDigit(c))
            {
                return false;
            }
        }

        return true;
    }
}
