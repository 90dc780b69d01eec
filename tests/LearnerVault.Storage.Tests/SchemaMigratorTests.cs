using LearnerVault.Storage.Sqlite;
using Microsoft.Data.Sqlite;

namespace LearnerVault.Storage.Tests;

/// <summary>Numbered migrations developed in parallel: a number may be missing from one build and arrive in the next.</summary>
public sealed class SchemaMigratorTests : IDisposable
{
    private static readonly MigrationScript One = new(1, "0001_one", "CREATE TABLE one (x INTEGER);");
    private static readonly MigrationScript Two = new(2, "0002_two", "CREATE TABLE two (x INTEGER);");
    private static readonly MigrationScript Three = new(3, "0003_three", "CREATE TABLE three (x INTEGER);");

    private readonly TempFolder folder = new();
    private readonly ManualTimeProvider time = new(new DateTimeOffset(2026, 3, 1, 8, 0, 0, TimeSpan.Zero));

    public void Dispose() => folder.Dispose();

    private SqliteConnection Open() => SqliteConnections.Open(Path.Combine(folder.Path, "m.db"), ConnectionRole.Writer);

    private static List<long> Versions(SqliteConnection connection)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT version FROM schema_version ORDER BY version;";
        using var reader = command.ExecuteReader();
        var versions = new List<long>();
        while (reader.Read())
        {
            versions.Add(reader.GetInt64(0));
        }

        return versions;
    }

    [Fact]
    public void Migrate_NumberMissingThenAdded_AppliesTheLateScript()
    {
        using var connection = Open();

        Assert.Equal(3, SchemaMigrator.Migrate(connection, [One, Three], time));
        Assert.Equal(3, SchemaMigrator.Migrate(connection, [One, Two, Three], time));

        Assert.Equal([1L, 2L, 3L], Versions(connection));
        Assert.Equal(0L, SqliteConnections.ExecuteScalar(connection, "SELECT count(*) FROM two;"));
    }

    [Fact]
    public void Migrate_Again_AppliesNothingTwice()
    {
        using var connection = Open();
        SchemaMigrator.Migrate(connection, [One, Two], time);

        SchemaMigrator.Migrate(connection, [One, Two], time);

        Assert.Equal([1L, 2L], Versions(connection));
    }

    [Fact]
    public void Migrate_FileRecordsAScriptThisBuildLacks_Refuses()
    {
        using var connection = Open();
        SchemaMigrator.Migrate(connection, [One, Two, Three], time);

        var exception = Assert.Throws<InvalidOperationException>(() => SchemaMigrator.Migrate(connection, [One, Three], time));

        Assert.Contains("newer", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_DataSet_IncludesTheDocumentsMigration()
    {
        Assert.Contains(SchemaMigrator.Load(SchemaMigrator.DataSet), m => m.Name == "0003_documents");
    }
}
