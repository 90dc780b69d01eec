using System.Globalization;
using System.Reflection;

namespace LearnerVault.Storage;

/// <summary>One numbered migration script: its version (the NNNN of NNNN_name.sql), its name without .sql, and its SQL.</summary>
internal sealed record MigrationScript(int Version, string Name, string Sql);

/// <summary>
/// The migration scripts a backend embeds in its assembly as <c>Migrations/&lt;set&gt;/NNNN_name.sql</c> (one set per
/// database or schema); each backend applies and records them in its own way.
/// </summary>
internal static class MigrationScripts
{
    /// <summary>The scripts of <paramref name="set"/> in <paramref name="assembly"/>, in ascending version order.</summary>
    /// <exception cref="InvalidOperationException">A script is not named NNNN_name.sql, or two share a number, or a
    /// number is not positive.</exception>
    public static IReadOnlyList<MigrationScript> Load(Assembly assembly, string set)
    {
        ArgumentNullException.ThrowIfNull(assembly);
        var prefix = $"Migrations/{set}/";
        var migrations = new List<MigrationScript>();
        foreach (var resource in assembly.GetManifestResourceNames())
        {
            if (!resource.StartsWith(prefix, StringComparison.Ordinal) || !resource.EndsWith(".sql", StringComparison.Ordinal))
            {
                continue;
            }

            var name = resource[prefix.Length..^".sql".Length];
            var underscore = name.IndexOf('_', StringComparison.Ordinal);
            if (underscore <= 0 || !int.TryParse(name.AsSpan(0, underscore), NumberStyles.None, CultureInfo.InvariantCulture, out var version))
            {
                throw new InvalidOperationException($"Migration resource '{resource}' is not named NNNN_name.sql.");
            }

            migrations.Add(new MigrationScript(version, name, Read(assembly, resource)));
        }

        migrations.Sort((a, b) => a.Version.CompareTo(b.Version));
        for (var i = 0; i < migrations.Count; i++)
        {
            if (migrations[i].Version < 1 || (i > 0 && migrations[i].Version == migrations[i - 1].Version))
            {
                throw new InvalidOperationException($"Migrations of '{set}' must have distinct positive numbers.");
            }
        }

        return migrations;
    }

    private static string Read(Assembly assembly, string resource)
    {
        using var stream = assembly.GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"Missing migration resource '{resource}'.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
