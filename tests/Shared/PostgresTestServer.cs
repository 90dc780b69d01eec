using LearnerVault.Privacy;
using LearnerVault.Storage.Postgres;
using Npgsql;

namespace LearnerVault.Tests.Shared;

/// <summary>
/// The PostgreSQL server the tests run against: <c>LV_TEST_POSTGRES</c> holds the connection string of a server on which
/// the user may create databases. <c>./test.sh</c> starts a throwaway PostgreSQL 15 cluster on a loopback port and sets
/// it; without it the PostgreSQL tests fail with a message that says so (never a silent skip).
/// </summary>
public static class PostgresTestServer
{
    public const string Variable = "LV_TEST_POSTGRES";

    private static readonly Lazy<Task<PostgresStoreOptions>> Shared = new(() => CreateMigratedDatabaseAsync("shared"));

    /// <summary>The master key of every database these tests create (a key store is sealed to one master key).</summary>
    public static MasterKey MasterKey { get; } = MasterKey.FromBytes(KeyWrapping.NewKey());

    /// <summary>The connection string of the server (its maintenance database).</summary>
    public static string ServerConnectionString
    {
        get
        {
            var value = Environment.GetEnvironmentVariable(Variable);
            return string.IsNullOrWhiteSpace(value)
                ? throw new InvalidOperationException(
                    $"{Variable} is not set, so there is no PostgreSQL to test against. Run ./test.sh, which starts a throwaway " +
                    $"PostgreSQL 15 cluster (tests/tools/pg-cluster.sh) and sets it, or set {Variable} to the connection string " +
                    "of a server where this user may create databases.")
                : value;
        }
    }

    /// <summary>One migrated database shared by the tests of this process (tests separate themselves by tenant id).</summary>
    public static Task<PostgresStoreOptions> SharedDatabaseAsync() => Shared.Value;

    /// <summary>A new, empty database of its own (not migrated): for tests of migration, copying or several nodes.</summary>
    public static async Task<string> CreateDatabaseAsync(string purpose)
    {
        // Database names are at most 63 bytes; purpose is a short [a-z0-9_] word.
        var name = $"lvtest_{purpose}_{Guid.NewGuid():N}".ToLowerInvariant();
        name = name.Length > 63 ? name[..63] : name;
        await using var connection = new NpgsqlConnection(ServerConnectionString);
        await connection.OpenAsync();
        await using (var command = new NpgsqlCommand($"CREATE DATABASE \"{name}\";", connection))
        {
            await command.ExecuteNonQueryAsync();
        }

        return new NpgsqlConnectionStringBuilder(ServerConnectionString) { Database = name }.ConnectionString;
    }

    /// <summary>A new database with both schemas migrated.</summary>
    public static async Task<PostgresStoreOptions> CreateMigratedDatabaseAsync(string purpose)
    {
        var options = new PostgresStoreOptions { ConnectionString = await CreateDatabaseAsync(purpose) };
        await PostgresBackend.MigrateAsync(options, TimeProvider.System);
        return options;
    }
}
