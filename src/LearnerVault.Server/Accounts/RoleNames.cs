using LearnerVault.Privacy.Access;

namespace LearnerVault.Server.Accounts;

/// <summary>How the admin API and the CLI spell roles: <c>learner</c>, <c>guardian</c>, <c>teacher</c>,
/// <c>school-administrator</c>, <c>data-protection-officer</c> (or <c>dpo</c>), <c>analyst</c>, <c>researcher</c>.</summary>
public static class RoleNames
{
    public static readonly IReadOnlyList<Role> PersonRoles =
        [Role.Learner, Role.Guardian, Role.Teacher, Role.SchoolAdministrator, Role.DataProtectionOfficer, Role.Analyst, Role.Researcher];

    public static string Name(Role role) => role switch
    {
        Role.Learner => "learner",
        Role.Guardian => "guardian",
        Role.Teacher => "teacher",
        Role.SchoolAdministrator => "school-administrator",
        Role.DataProtectionOfficer => "data-protection-officer",
        Role.Analyst => "analyst",
        Role.Researcher => "researcher",
        Role.ClientApp => "client-app",
        _ => throw new ArgumentOutOfRangeException(nameof(role)),
    };

    public static bool TryParse(string? text, out Role role)
    {
        var name = (text ?? string.Empty).Trim().ToLowerInvariant();
        if (name == "dpo")
        {
            name = "data-protection-officer";
        }

        foreach (var candidate in PersonRoles)
        {
            if (Name(candidate) == name)
            {
                role = candidate;
                return true;
            }
        }

        role = default;
        return false;
    }

    /// <summary>Parses a list of role names (comma-separated values allowed), without duplicates.</summary>
    /// <param name="error">Why the list is refused.</param>
    public static IReadOnlyList<Role>? Parse(IEnumerable<string>? names, out string? error)
    {
        var roles = new List<Role>();
        foreach (var name in (names ?? []).SelectMany(n => (n ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)))
        {
            if (!TryParse(name, out var role))
            {
                error = $"unknown role '{name}': use {string.Join(", ", PersonRoles.Select(Name))}";
                return null;
            }

            if (!roles.Contains(role))
            {
                roles.Add(role);
            }
        }

        error = roles.Count == 0 ? "a person needs at least one role" : null;
        return error is null ? roles : null;
    }
}
