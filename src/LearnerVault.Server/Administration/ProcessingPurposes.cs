using System.Text.RegularExpressions;

namespace LearnerVault.Server.Administration;

/// <summary>The purposes a client may declare for the personal data it sends and reads.</summary>
public static partial class ProcessingPurposes
{
    public const string Instruction = "instruction";
    public const string Assessment = "assessment";
    public const string SchoolAdministration = "school-administration";
    public const string Research = "research";
    public const string PolicyStatistics = "policy-statistics";
    public const string VendorPrefix = "vendor:";

    public static readonly IReadOnlyList<string> BuiltIn =
        [Instruction, Assessment, SchoolAdministration, Research, PolicyStatistics];

    /// <summary>What a client declares when it declares nothing: the purpose learning data is collected for.</summary>
    public static readonly IReadOnlyList<string> Default = [Instruction];

    // Learner data must never be used to advertise to, market to or profile learners, many of whom are children.
    // A purpose that says so is refused outright rather than stored and left for the access decision to deny.
    // Matched against the words of the purpose (split on anything but letters and digits).
    private static readonly string[] RefusedWordStarts =
        ["advert", "marketing", "profiling", "targeting", "behavioural", "behavioral", "monetis", "monetiz"];

    private static readonly string[] RefusedWords = ["ad", "ads", "adtech"];

    /// <summary>
    /// Splits comma-separated values, trims, lower-cases, drops duplicates and checks each purpose: a built-in one or
    /// <c>vendor:&lt;name&gt;</c> (the vendor's own service to the school, named by a lower-case slug).
    /// Returns <see cref="Default"/> when none is given.
    /// </summary>
    /// <exception cref="AdministrationException">An unknown or refused purpose.</exception>
    public static IReadOnlyList<string> Normalize(IEnumerable<string> purposes)
    {
        var result = new List<string>();
        foreach (var raw in XapiScopes.SplitList(purposes))
        {
            var purpose = raw.ToLowerInvariant();
            Validate(purpose);
            if (!result.Contains(purpose, StringComparer.Ordinal))
            {
                result.Add(purpose);
            }
        }

        return result.Count == 0 ? Default : result;
    }

    private static void Validate(string purpose)
    {
        var words = TokenSeparator().Split(purpose);
        if (words.Any(w => RefusedWords.Contains(w, StringComparer.Ordinal)
                || RefusedWordStarts.Any(start => w.StartsWith(start, StringComparison.Ordinal))))
        {
            throw new AdministrationException(
                $"purpose '{purpose}' is refused: learner data is never processed for advertising, marketing or profiling");
        }

        if (BuiltIn.Contains(purpose, StringComparer.Ordinal))
        {
            return;
        }

        if (purpose.StartsWith(VendorPrefix, StringComparison.Ordinal))
        {
            if (VendorName().IsMatch(purpose[VendorPrefix.Length..]))
            {
                return;
            }

            throw new AdministrationException(
                $"purpose '{purpose}' is not valid: a vendor purpose is vendor:<name> with a name of lower-case letters, digits, '.' or '-' (at most 64)");
        }

        throw new AdministrationException(
            $"unknown purpose '{purpose}'; valid purposes: {string.Join(", ", BuiltIn)}, vendor:<name>");
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9.-]{0,63}$")]
    private static partial Regex VendorName();

    [GeneratedRegex("[^a-z0-9]+")]
    private static partial Regex TokenSeparator();
}
