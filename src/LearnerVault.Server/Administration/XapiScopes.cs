namespace LearnerVault.Server.Administration;

/// <summary>The xAPI authorization scopes a client can hold (xAPI 2.0, Part Three, 4.2).</summary>
public static class XapiScopes
{
    public const string StatementsWrite = "statements/write";
    public const string StatementsRead = "statements/read";
    public const string StatementsReadMine = "statements/read/mine";
    public const string State = "state";
    public const string Profile = "profile";
    public const string Define = "define";
    public const string AllRead = "all/read";
    public const string All = "all";

    public static readonly IReadOnlyList<string> Valid =
        [StatementsWrite, StatementsRead, StatementsReadMine, State, Profile, Define, AllRead, All];

    public static bool IsValid(string scope) => Valid.Contains(scope, StringComparer.Ordinal);

    /// <summary>
    /// Splits comma-separated values, trims, drops duplicates (keeping first-seen order) and checks each against
    /// <see cref="Valid"/>. Scopes are case-sensitive, as in the specification.
    /// </summary>
    /// <exception cref="AdministrationException">No scope, or an unknown one.</exception>
    public static IReadOnlyList<string> Normalize(IEnumerable<string> scopes)
    {
        var result = new List<string>();
        foreach (var scope in SplitList(scopes))
        {
            if (!IsValid(scope))
            {
                throw new AdministrationException($"unknown scope '{scope}'; valid scopes: {string.Join(", ", Valid)}");
            }

            if (!result.Contains(scope, StringComparer.Ordinal))
            {
                result.Add(scope);
            }
        }

        if (result.Count == 0)
        {
            throw new AdministrationException($"at least one scope is required; valid scopes: {string.Join(", ", Valid)}");
        }

        return result;
    }

    /// <summary>Flattens values that may each hold a comma-separated list ("all,define") into trimmed, non-empty items.</summary>
    internal static IEnumerable<string> SplitList(IEnumerable<string> values) =>
        values.SelectMany(v => v.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries));
}
