using System.Diagnostics.CodeAnalysis;
using System.Text.RegularExpressions;

namespace LearnerVault.Privacy.Access;

/// <summary>
/// A purpose for which learner data is processed: one of the built-in purposes (<c>instruction</c>, <c>assessment</c>,
/// <c>school-administration</c>, <c>research</c>, <c>policy-statistics</c>) or a vendor's own service to the school,
/// <c>vendor:&lt;name&gt;</c>. This is the one definition of which purposes exist; the CLI and the admin API parse
/// through it.
/// </summary>
/// <remarks>
/// <para>A <see cref="Purpose"/> can only be obtained through <see cref="Parse"/>, <see cref="TryParse"/>,
/// <see cref="Vendor"/> or the built-in properties, all of which validate. A purpose that names advertising,
/// marketing, profiling, targeting or monetisation cannot be constructed at all, so it can never reach the access
/// decision, a client's declaration or a tenant's lawful-basis table.</para>
/// <para>Names are case-insensitive on input and always lower-case once parsed; two purposes are equal when their
/// names are.</para>
/// </remarks>
public sealed partial record Purpose
{
    public const string InstructionName = "instruction";
    public const string AssessmentName = "assessment";
    public const string SchoolAdministrationName = "school-administration";
    public const string ResearchName = "research";
    public const string PolicyStatisticsName = "policy-statistics";
    public const string VendorPrefix = "vendor:";

    // Learner data must never be used to advertise to, market to or profile learners, many of whom are children.
    // A purpose that says so is refused outright rather than stored and left for the access decision to deny.
    // Matched against the words of the purpose (split on anything but letters and digits).
    private static readonly string[] RefusedWordStarts =
        ["advert", "marketing", "profiling", "targeting", "behavioural", "behavioral", "monetis", "monetiz"];

    private static readonly string[] RefusedWords = ["ad", "ads", "adtech"];

    private Purpose(string name) => Name = name;

    /// <summary>Teaching the learner: what learning data is collected for. The default purpose of a client.</summary>
    public static Purpose Instruction { get; } = new(InstructionName);

    /// <summary>Assessing the learner's learning (formative or summative).</summary>
    public static Purpose Assessment { get; } = new(AssessmentName);

    /// <summary>Running the school: enrolment, timetabling, records the school keeps about its learners.</summary>
    public static Purpose SchoolAdministration { get; } = new(SchoolAdministrationName);

    /// <summary>Research on learning. Row-level data only with the learner's (or guardian's) consent.</summary>
    public static Purpose Research { get; } = new(ResearchName);

    /// <summary>Statistics for policy. Answered in aggregate by the differential-privacy engine, never row by row.</summary>
    public static Purpose PolicyStatistics { get; } = new(PolicyStatisticsName);

    /// <summary>The built-in purposes, in the order they are listed to administrators.</summary>
    public static IReadOnlyList<Purpose> BuiltIn { get; } =
        [Instruction, Assessment, SchoolAdministration, Research, PolicyStatistics];

    /// <summary>The names of <see cref="BuiltIn"/>.</summary>
    public static IReadOnlyList<string> BuiltInNames { get; } =
        [InstructionName, AssessmentName, SchoolAdministrationName, ResearchName, PolicyStatisticsName];

    /// <summary>The purpose's name as the CLI and the API spell it, e.g. <c>school-administration</c> or <c>vendor:kolibri</c>.</summary>
    public string Name { get; }

    /// <summary>Whether this is a <c>vendor:&lt;name&gt;</c> purpose.</summary>
    public bool IsVendor => Name.StartsWith(VendorPrefix, StringComparison.Ordinal);

    /// <summary>The vendor purpose <c>vendor:&lt;name&gt;</c>.</summary>
    /// <exception cref="InvalidPurposeException">The name is malformed or names a refused purpose.</exception>
    public static Purpose Vendor(string name) => Parse(VendorPrefix + name);

    /// <summary>Parses a purpose name (trimmed, case-insensitive).</summary>
    /// <exception cref="InvalidPurposeException">An unknown, malformed or refused purpose; the message says which.</exception>
    public static Purpose Parse(string text) =>
        TryParse(text, out var purpose, out var error) ? purpose : throw new InvalidPurposeException(error);

    /// <summary>
    /// Parses a purpose name (trimmed, case-insensitive): a built-in one or <c>vendor:&lt;name&gt;</c> with a name of
    /// lower-case letters, digits, '.' or '-' (at most 64). Any purpose with a word that names advertising,
    /// marketing, profiling, targeting, behavioural tracking or monetisation is refused.
    /// </summary>
    /// <param name="error">Why the text is not a purpose, one line for an administrator.</param>
    public static bool TryParse(
        string? text, [NotNullWhen(true)] out Purpose? purpose, [NotNullWhen(false)] out string? error)
    {
        purpose = null;
        var name = (text ?? string.Empty).Trim().ToLowerInvariant();
        var words = TokenSeparator().Split(name);
        if (words.Any(w => RefusedWords.Contains(w, StringComparer.Ordinal)
                || RefusedWordStarts.Any(start => w.StartsWith(start, StringComparison.Ordinal))))
        {
            error = $"purpose '{name}' is refused: learner data is never processed for advertising, marketing or profiling";
            return false;
        }

        var builtIn = BuiltIn.FirstOrDefault(p => p.Name == name);
        if (builtIn is not null)
        {
            purpose = builtIn;
            error = null;
            return true;
        }

        if (name.StartsWith(VendorPrefix, StringComparison.Ordinal))
        {
            if (VendorName().IsMatch(name[VendorPrefix.Length..]))
            {
                purpose = new Purpose(name);
                error = null;
                return true;
            }

            error = $"purpose '{name}' is not valid: a vendor purpose is vendor:<name> with a name of lower-case letters, digits, '.' or '-' (at most 64)";
            return false;
        }

        error = $"unknown purpose '{name}'; valid purposes: {string.Join(", ", BuiltInNames)}, vendor:<name>";
        return false;
    }

    /// <inheritdoc />
    public override string ToString() => Name;

    [GeneratedRegex("^[a-z0-9][a-z0-9.-]{0,63}$")]
    private static partial Regex VendorName();

    [GeneratedRegex("[^a-z0-9]+")]
    private static partial Regex TokenSeparator();
}

/// <summary>A text that is not a purpose: unknown, malformed, or one that is refused (advertising, profiling, …).</summary>
public sealed class InvalidPurposeException : Exception
{
    public InvalidPurposeException()
    {
    }

    public InvalidPurposeException(string message)
        : base(message)
    {
    }

    public InvalidPurposeException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
