using LearnerVault.Privacy.Access;

namespace LearnerVault.Server.Administration;

/// <summary>
/// The purposes a client may declare, as the CLI and the admin API accept them. Which purposes exist (and which are
/// refused: advertising, marketing, profiling) is defined once, by <see cref="Purpose"/>; this class adds list
/// handling and the default.
/// </summary>
public static class ProcessingPurposes
{
    public const string Instruction = Purpose.InstructionName;
    public const string Assessment = Purpose.AssessmentName;
    public const string SchoolAdministration = Purpose.SchoolAdministrationName;
    public const string Research = Purpose.ResearchName;
    public const string PolicyStatistics = Purpose.PolicyStatisticsName;
    public const string VendorPrefix = Purpose.VendorPrefix;

    public static readonly IReadOnlyList<string> BuiltIn = Purpose.BuiltInNames;

    /// <summary>What a client declares when it declares nothing: the purpose learning data is collected for.</summary>
    public static readonly IReadOnlyList<string> Default = [Instruction];

    /// <summary>
    /// Splits comma-separated values, trims, lower-cases, drops duplicates and checks each purpose with
    /// <see cref="Purpose.TryParse"/>. Returns <see cref="Default"/> when none is given.
    /// </summary>
    /// <exception cref="AdministrationException">An unknown or refused purpose.</exception>
    public static IReadOnlyList<string> Normalize(IEnumerable<string> purposes)
    {
        var result = new List<string>();
        foreach (var raw in XapiScopes.SplitList(purposes))
        {
            if (!Purpose.TryParse(raw, out var purpose, out var error))
            {
                throw new AdministrationException(error);
            }

            if (!result.Contains(purpose.Name, StringComparer.Ordinal))
            {
                result.Add(purpose.Name);
            }
        }

        return result.Count == 0 ? Default : result;
    }
}
