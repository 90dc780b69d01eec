using Npgsql;

namespace LearnerVault.Storage.Postgres;

/// <summary>One schema's migration state: the versions this build knows, and those the database has recorded.</summary>
public sealed record SchemaState(string Schema, IReadOnlyList<int> Known, IReadOnlyList<int> Applied)
{
    /// <summary>Versions this build knows that the database has not recorded.</summary>
    public IReadOnlyList<int> Pending => [.. Known.Except(Applied)];

    /// <summary>Versions the database has recorded that this build does not know (a newer build migrated it).</summary>
    public IReadOnlyList<int> Unknown => [.. Applied.Except(Known)];

    public bool IsCurrent => Pending.Count == 0 && Unknown.Count == 0;
}

/// <summary>
/// Versioned migrations of the PostgreSQL backend: numbered SQL scripts embedded in this assembly
/// (Migrations/&lt;set&gt;/NNNN_name.sql), one set per schema, each recorded in the schema's <c>schema_version</c> table.
/// Applied only by an explicit <c>lvault migrate</c> (never by a server starting), all pending scripts of a set in one
/// transaction under an advisory lock, so two nodes migrating at once cannot interleave. Scripts use unqualified names:
/// the search path is the set's schema while they run.
/// </summary>
public static class PostgresMigrator
{
    public const string DataSet = "Data";
    public const string KeysSet = "Keys";

    /// <summary>The embedded scripts of <paramref name="set"/>, in ascending version order.</summary>
    internal static IReadOnlyList<MigrationScript> Load(string set) => MigrationScripts.Load(typeof(PostgresMigrator).Assembly, set);

    /// <summary>What the database has recorded for <paramref name="set"/> in <paramref name="schema"/>, without changing anything.</summary>
    public static async Task<SchemaState> InspectAsync(NpgsqlDataSource dataSource, string set, string schema, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        var known = Load(set).Select(m => m.Version).ToList();
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        var applied = await AppliedAsync(connection, null, schema, ct);
        return new SchemaState(schema, known, applied);
    }

    /// <summary>Applies the pending migrations of <paramref name="set"/> to <paramref name="schema"/> (created if
    /// needed); returns the names of the scripts applied (none when the schema was current).</summary>
    /// <exception cref="InvalidOperationException">The schema records a version this build does not know.</exception>
    public static async Task<IReadOnlyList<string>> MigrateAsync(NpgsqlDataSource dataSource, string set, string schema, TimeProvider time, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        ArgumentNullException.ThrowIfNull(time);
        var migrations = Load(set);
        await using var connection = await dataSource.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        var quoted = Quote(schema);
        await ExecuteAsync(connection, transaction, "SELECT pg_advisory_xact_lock(hashtext('learnervault.migrate.' || @schema));", ct, ("schema", schema));
        await ExecuteAsync(connection, transaction, $"CREATE SCHEMA IF NOT EXISTS {quoted};", ct);
        await ExecuteAsync(connection, transaction,
            $"CREATE TABLE IF NOT EXISTS {quoted}.schema_version (version integer PRIMARY KEY, name text NOT NULL, applied timestamptz NOT NULL);", ct);
        var applied = await AppliedAsync(connection, transaction, schema, ct);
        var unknown = applied.Except(migrations.Select(m => m.Version)).ToList();
        if (unknown.Count > 0)
        {
            throw new InvalidOperationException(
                $"the schema '{schema}' records migration {unknown.Max()}, which this build does not know: upgrade LearnerVault before using this database");
        }

        var done = new List<string>();
        await ExecuteAsync(connection, transaction, $"SET LOCAL search_path TO {quoted};", ct);
        foreach (var migration in migrations)
        {
            if (applied.Contains(migration.Version))
            {
                continue;
            }

            await ExecuteAsync(connection, transaction, migration.Sql, ct);
            await ExecuteAsync(connection, transaction,
                "INSERT INTO schema_version (version, name, applied) VALUES (@version, @name, @applied);", ct,
                ("version", migration.Version), ("name", migration.Name), ("applied", time.GetUtcNow()));
            done.Add(migration.Name);
        }

        await transaction.CommitAsync(ct);
        return done;
    }

    private static async Task<List<int>> AppliedAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, string schema, CancellationToken ct)
    {
        await using var exists = new NpgsqlCommand("SELECT to_regclass(@table) IS NOT NULL;", connection, transaction);
        exists.Parameters.AddWithValue("table", Quote(schema) + ".schema_version");
        if (await exists.ExecuteScalarAsync(ct) is not true)
        {
            return [];
        }

        await using var command = new NpgsqlCommand($"SELECT version FROM {Quote(schema)}.schema_version ORDER BY version;", connection, transaction);
        var versions = new List<int>();
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            versions.Add(reader.GetInt32(0));
        }

        return versions;
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, string sql, CancellationToken ct, params (string Name, object Value)[] parameters)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        await command.ExecuteNonQueryAsync(ct);
    }

    internal static string Quote(string identifier)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(identifier);
        return "\"" + identifier.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
    }
}
