using System.Globalization;

namespace LearnerVault.Server.Statements;

/// <summary>since/until values: ISO 8601 date-times that name their offset, so the instant is unambiguous.</summary>
public static class QueryTimestamp
{
    private static readonly string[] Formats =
    [
        "yyyy-MM-dd'T'HH:mm:ssK", "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFK", "yyyy-MM-dd'T'HH:mmK",
    ];

    public static bool TryParse(string value, out DateTimeOffset time)
    {
        time = default;
        if (value.Length < 17 || !(value.EndsWith('Z') || value.EndsWith('z') || value[^6] is '+' or '-' || value[^5] is '+' or '-' || value[^3] is '+' or '-'))
        {
            return false;
        }

        var normalised = value.Replace('z', 'Z').Replace('t', 'T');
        if (DateTimeOffset.TryParseExact(normalised, Formats, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal, out time))
        {
            return true;
        }

        // Offsets written without a colon (+0100) or hours only (+01) are valid ISO 8601 too.
        var withColon = normalised.Length > 5 && normalised[^5] is '+' or '-' ? normalised[..^2] + ":" + normalised[^2..]
            : normalised.Length > 3 && normalised[^3] is '+' or '-' ? normalised + ":00"
            : null;
        return withColon is not null
            && DateTimeOffset.TryParseExact(withColon, Formats, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal, out time);
    }
}
