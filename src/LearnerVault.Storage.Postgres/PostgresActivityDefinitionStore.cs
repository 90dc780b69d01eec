using Npgsql;

namespace LearnerVault.Storage.Postgres;

/// <summary>
/// Canonical activity definitions in the data schema. A write is one statement, so the compare-and-swap needs no lock
/// of its own: the first write is an <c>INSERT … ON CONFLICT DO NOTHING</c> (the primary key admits one), and an update
/// names the version it read, which a concurrent writer's committed update has already moved on (READ COMMITTED
/// re-checks the condition on the row it waited for).
/// </summary>
internal sealed class PostgresActivityDefinitionStore(NpgsqlDataSource data, TimeProvider time) : IActivityDefinitionStore
{
    public async Task<ActivityDefinitionRecord?> GetAsync(Guid tenantId, byte[] activity, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(activity);
        await using var command = data.CreateCommand(
            "SELECT key_id, blob, version, updated FROM activity_definitions WHERE tenant_id = @t AND activity = @a;");
        command.Parameters.AddWithValue("t", tenantId);
        command.Parameters.AddWithValue("a", activity);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken)
            ? new ActivityDefinitionRecord(
                reader.GetInt64(0), reader.GetFieldValue<byte[]>(1), reader.GetInt64(2), reader.GetFieldValue<DateTimeOffset>(3))
            : null;
    }

    public async Task<bool> TryWriteAsync(Guid tenantId, byte[] activity, long keyId, byte[] blob, long? expectedVersion, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(activity);
        ArgumentNullException.ThrowIfNull(blob);
        await using var command = data.CreateCommand(expectedVersion is null
            ? """
              INSERT INTO activity_definitions (tenant_id, activity, key_id, blob, version, updated)
              VALUES (@t, @a, @key, @blob, 1, @updated)
              ON CONFLICT (tenant_id, activity) DO NOTHING;
              """
            : """
              UPDATE activity_definitions SET key_id = @key, blob = @blob, version = version + 1, updated = @updated
              WHERE tenant_id = @t AND activity = @a AND version = @expected;
              """);
        command.Parameters.AddWithValue("t", tenantId);
        command.Parameters.AddWithValue("a", activity);
        command.Parameters.AddWithValue("key", keyId);
        command.Parameters.AddWithValue("blob", blob);
        command.Parameters.AddWithValue("updated", PostgresTimestamps.Floor(time.GetUtcNow()));
        if (expectedVersion is { } expected)
        {
            command.Parameters.AddWithValue("expected", expected);
        }

        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }
}
