using System.Globalization;
using Microsoft.Data.Sqlite;

namespace LearnerVault.Storage.Sqlite;

/// <summary>
/// Versioned migrations: numbered SQL scripts embedded in this assembly (Migrations/&lt;set&gt;/NNNN_name.sql), applied in
/// ascending order inside one transaction, each recorded in <c>schema_version</c>. Every script the file has not yet
/// recorded is applied, not only those above the highest recorded number: features are developed in parallel, so a
/// number may be absent from one build and arrive later (each script must therefore stand on its own). A file that
/// records a version this build does not know is refused rather than risked.
/// </summary>
internal static class SchemaMigrator
{
    public const string DataSet = "Data";
    public const string KeysSet = "Keys";

    /// <summary>The embedded scripts of <paramref name="set"/>, in ascending version order.</summary>
    public static IReadOnlyList<MigrationScript> Load(string set) => MigrationScripts.Load(typeof(SchemaMigrator).Assembly, set);

    /// <summary>Applies the pending migrations of <paramref name="set"/>; returns the schema version now in force.</summary>
    public static int Migrate(SqliteConnection connection, string set, TimeProvider timeProvider) =>
        Migrate(connection, Load(set), timeProvider);

    /// <summary>Applies those of <paramref name="migrations"/> (sorted by version) that the file has not recorded.</summary>
    internal static int Migrate(SqliteConnection connection, IReadOnlyList<MigrationScript> migrations, TimeProvider timeProvider)
    {
        using var transaction = connection.BeginTransaction(deferred: false);
        SqliteConnections.Execute(connection, """
            CREATE TABLE IF NOT EXISTS schema_version (
                version INTEGER PRIMARY KEY,
                name TEXT NOT NULL,
                applied INTEGER NOT NULL
            );
            """, transaction);

        var applied = AppliedVersions(connection, transaction);
        var known = migrations.Select(m => m.Version).ToHashSet();
        var unknown = applied.Where(v => !known.Contains(v)).ToList();
        if (unknown.Count > 0)
        {
            throw new InvalidOperationException(
                $"The database schema has migration {unknown.Max()}, which this build of LearnerVault does not know: it is newer. Use a newer build.");
        }

        foreach (var migration in migrations.Where(m => !applied.Contains(m.Version)))
        {
            SqliteConnections.Execute(connection, migration.Sql, transaction);
            using var record = connection.CreateCommand();
            record.Transaction = transaction;
            record.CommandText = "INSERT INTO schema_version (version, name, applied) VALUES ($version, $name, $applied);";
            record.Parameters.AddWithValue("$version", migration.Version);
            record.Parameters.AddWithValue("$name", migration.Name);
            record.Parameters.AddWithValue("$applied", SqliteValues.ToUnixMicroseconds(timeProvider.GetUtcNow()));
            record.ExecuteNonQuery();
        }

        var current = CurrentVersion(connection, transaction);
        transaction.Commit();
        return current;
    }

    private static HashSet<int> AppliedVersions(SqliteConnection connection, SqliteTransaction transaction)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "SELECT version FROM schema_version;";
        using var reader = command.ExecuteReader();
        var versions = new HashSet<int>();
        while (reader.Read())
        {
            versions.Add(reader.GetInt32(0));
        }

        return versions;
    }

    public static int CurrentVersion(SqliteConnection connection, SqliteTransaction? transaction = null)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "SELECT coalesce(max(version), 0) FROM schema_version;";
        return Convert.ToInt32(command.ExecuteScalar(), CultureInfo.InvariantCulture);
    }
}
