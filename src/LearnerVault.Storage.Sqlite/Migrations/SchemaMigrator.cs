using System.Globalization;
using System.Reflection;
using Microsoft.Data.Sqlite;

namespace LearnerVault.Storage.Sqlite;

/// <summary>
/// Versioned migrations: numbered SQL scripts embedded in this assembly (Migrations/&lt;set&gt;/NNNN_name.sql), applied in
/// order inside one transaction, each recorded in <c>schema_version</c>. A file whose version is newer than this build
/// knows is refused rather than risked.
/// </summary>
internal static class SchemaMigrator
{
    public const string DataSet = "Data";
    public const string KeysSet = "Keys";

    internal sealed record Migration(int Version, string Name, string Sql);

    public static IReadOnlyList<Migration> Load(string set)
    {
        var assembly = typeof(SchemaMigrator).Assembly;
        var prefix = $"Migrations/{set}/";
        var migrations = new List<Migration>();
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

            migrations.Add(new Migration(version, name, Read(assembly, resource)));
        }

        migrations.Sort((a, b) => a.Version.CompareTo(b.Version));
        for (var i = 0; i < migrations.Count; i++)
        {
            if (migrations[i].Version != i + 1)
            {
                throw new InvalidOperationException($"Migrations of '{set}' must be numbered 1, 2, 3… without gaps.");
            }
        }

        return migrations;
    }

    /// <summary>Applies the pending migrations of <paramref name="set"/>; returns the schema version now in force.</summary>
    public static int Migrate(SqliteConnection connection, string set, TimeProvider timeProvider)
    {
        var migrations = Load(set);
        using var transaction = connection.BeginTransaction(deferred: false);
        SqliteConnections.Execute(connection, """
            CREATE TABLE IF NOT EXISTS schema_version (
                version INTEGER PRIMARY KEY,
                name TEXT NOT NULL,
                applied INTEGER NOT NULL
            );
            """, transaction);

        var current = CurrentVersion(connection, transaction);
        if (current > migrations.Count)
        {
            throw new InvalidOperationException(
                $"The database schema is version {current}, newer than this build of LearnerVault knows ({migrations.Count}). Use a newer build.");
        }

        foreach (var migration in migrations.Where(m => m.Version > current))
        {
            SqliteConnections.Execute(connection, migration.Sql, transaction);
            using var record = connection.CreateCommand();
            record.Transaction = transaction;
            record.CommandText = "INSERT INTO schema_version (version, name, applied) VALUES ($version, $name, $applied);";
            record.Parameters.AddWithValue("$version", migration.Version);
            record.Parameters.AddWithValue("$name", migration.Name);
            record.Parameters.AddWithValue("$applied", SqliteValues.ToUnixMicroseconds(timeProvider.GetUtcNow()));
            record.ExecuteNonQuery();
            current = migration.Version;
        }

        transaction.Commit();
        return current;
    }

    public static int CurrentVersion(SqliteConnection connection, SqliteTransaction? transaction = null)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "SELECT coalesce(max(version), 0) FROM schema_version;";
        return Convert.ToInt32(command.ExecuteScalar(), CultureInfo.InvariantCulture);
    }

    private static string Read(Assembly assembly, string resource)
    {
        using var stream = assembly.GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"Missing migration resource '{resource}'.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
