using LearnerVault.Privacy.Audit;
using Npgsql;
using NpgsqlTypes;

namespace LearnerVault.Storage.Postgres;

/// <summary>
/// The access log in the data schema. An append takes a transaction-scoped advisory lock on the tenant, then reads the
/// head and inserts the new entries: appends to one tenant from any number of nodes queue on the lock, and each reads
/// (READ COMMITTED, a fresh snapshot per statement) the head its predecessor committed. The primary key on
/// (tenant_id, position) backs this up: two appends at one position cannot both commit.
/// </summary>
internal sealed class PostgresAccessLogStore(NpgsqlDataSource data) : IAccessLogStore
{
    private const string Columns = "position, time, principal, client, action, purpose, learner, records, decision, reason, hash";

    public async Task<AccessLogHead> AppendAsync(Guid tenantId, IReadOnlyList<AccessLogEntry> entries, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entries);
        await using var connection = await data.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var lockTenant = new NpgsqlCommand(
            "SELECT pg_advisory_xact_lock(hashtextextended('learnervault.access_log.' || @t::text, 0));", connection, transaction))
        {
            lockTenant.Parameters.AddWithValue("t", tenantId);
            await lockTenant.ExecuteNonQueryAsync(cancellationToken);
        }

        var head = await HeadAsync(connection, transaction, tenantId, cancellationToken);
        if (entries.Count == 0)
        {
            return head;
        }

        var (position, hash) = (head.Position, head.Hash);
        var positions = new long[entries.Count];
        var times = new DateTimeOffset[entries.Count];
        var hashes = new byte[entries.Count][];
        for (var i = 0; i < entries.Count; i++)
        {
            ArgumentNullException.ThrowIfNull(entries[i]);
            position++;
            hash = AccessLogChain.Next(hash, position, entries[i]);
            positions[i] = position;
            times[i] = AccessLogChain.Truncate(entries[i].Time);
            hashes[i] = hash;
        }

        await using (var insert = new NpgsqlCommand($"""
            INSERT INTO access_log (tenant_id, {Columns})
            SELECT @t, e.position, e.time, e.principal, e.client, e.action, e.purpose, e.learner, e.records, e.decision, e.reason, e.hash
            FROM unnest(@positions, @times, @principals, @clients, @actions, @purposes, @learners, @records, @decisions, @reasons, @hashes)
                AS e (position, time, principal, client, action, purpose, learner, records, decision, reason, hash);
            """, connection, transaction))
        {
            insert.Parameters.AddWithValue("t", tenantId);
            insert.Parameters.AddWithValue("positions", positions);
            insert.Parameters.AddWithValue("times", times);
            insert.Parameters.AddWithValue("principals", entries.Select(e => e.Principal).ToArray());
            insert.Parameters.Add(new NpgsqlParameter("clients", NpgsqlDbType.Array | NpgsqlDbType.Text) { Value = entries.Select(e => e.Client).ToArray() });
            insert.Parameters.AddWithValue("actions", entries.Select(e => e.Action).ToArray());
            insert.Parameters.AddWithValue("purposes", entries.Select(e => e.Purpose).ToArray());
            insert.Parameters.Add(new NpgsqlParameter("learners", NpgsqlDbType.Array | NpgsqlDbType.Bytea) { Value = entries.Select(e => e.LearnerPseudonym).ToArray() });
            insert.Parameters.AddWithValue("records", entries.Select(e => e.Records).ToArray());
            insert.Parameters.AddWithValue("decisions", entries.Select(e => (short)e.Decision).ToArray());
            insert.Parameters.AddWithValue("reasons", entries.Select(e => e.Reason).ToArray());
            insert.Parameters.Add(new NpgsqlParameter("hashes", NpgsqlDbType.Array | NpgsqlDbType.Bytea) { Value = hashes });
            await insert.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        return new AccessLogHead(position, hash);
    }

    public async Task<AccessLogHead> GetHeadAsync(Guid tenantId, CancellationToken cancellationToken = default)
    {
        await using var connection = await data.OpenConnectionAsync(cancellationToken);
        return await HeadAsync(connection, null, tenantId, cancellationToken);
    }

    public async Task<bool> AddCheckpointAsync(Guid tenantId, AccessLogCheckpoint checkpoint, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        await using var command = data.CreateCommand("""
            INSERT INTO access_log_checkpoints (tenant_id, position, head, time, signature) VALUES (@t, @position, @head, @time, @signature)
            ON CONFLICT (tenant_id, position) DO NOTHING;
            """);
        command.Parameters.AddWithValue("t", tenantId);
        command.Parameters.AddWithValue("position", checkpoint.Position);
        command.Parameters.AddWithValue("head", checkpoint.HeadHash);
        command.Parameters.AddWithValue("time", AccessLogChain.Truncate(checkpoint.Time));
        command.Parameters.AddWithValue("signature", checkpoint.Signature);
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    public Task<IReadOnlyList<AccessLogRecord>> ReadAsync(Guid tenantId, long fromPosition, int limit, CancellationToken cancellationToken = default) =>
        ReadRecordsAsync($"SELECT {Columns} FROM access_log WHERE tenant_id = @t AND position >= @from ORDER BY position LIMIT @limit;",
            tenantId, ("from", fromPosition), limit, cancellationToken);

    public Task<IReadOnlyList<AccessLogRecord>> ReadLearnerAsync(Guid tenantId, byte[] learnerPseudonym, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(learnerPseudonym);
        return ReadRecordsAsync($"SELECT {Columns} FROM access_log WHERE tenant_id = @t AND learner = @learner ORDER BY position DESC LIMIT @limit;",
            tenantId, ("learner", learnerPseudonym), limit, cancellationToken);
    }

    public async Task<IReadOnlyList<AccessLogCheckpoint>> ReadCheckpointsAsync(Guid tenantId, CancellationToken cancellationToken = default)
    {
        await using var command = data.CreateCommand(
            "SELECT position, head, time, signature FROM access_log_checkpoints WHERE tenant_id = @t ORDER BY position;");
        command.Parameters.AddWithValue("t", tenantId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var checkpoints = new List<AccessLogCheckpoint>();
        while (await reader.ReadAsync(cancellationToken))
        {
            checkpoints.Add(new AccessLogCheckpoint(
                reader.GetInt64(0), reader.GetFieldValue<byte[]>(1), reader.GetFieldValue<DateTimeOffset>(2), reader.GetFieldValue<byte[]>(3)));
        }

        return checkpoints;
    }

    private async Task<IReadOnlyList<AccessLogRecord>> ReadRecordsAsync(
        string sql, Guid tenantId, (string Name, object Value) parameter, int limit, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        await using var command = data.CreateCommand(sql);
        command.Parameters.AddWithValue("t", tenantId);
        command.Parameters.AddWithValue(parameter.Name, parameter.Value);
        command.Parameters.AddWithValue("limit", limit);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var records = new List<AccessLogRecord>();
        while (await reader.ReadAsync(cancellationToken))
        {
            records.Add(new AccessLogRecord(
                reader.GetInt64(0),
                new AccessLogEntry(
                    reader.GetFieldValue<DateTimeOffset>(1),
                    reader.GetString(2),
                    reader.IsDBNull(3) ? null : reader.GetString(3),
                    reader.GetString(4),
                    reader.GetString(5),
                    reader.IsDBNull(6) ? null : reader.GetFieldValue<byte[]>(6),
                    reader.GetInt64(7),
                    (AccessDecision)reader.GetInt16(8),
                    reader.GetString(9)),
                reader.GetFieldValue<byte[]>(10)));
        }

        return records;
    }

    private static async Task<AccessLogHead> HeadAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, Guid tenantId, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(
            "SELECT position, hash FROM access_log WHERE tenant_id = @t ORDER BY position DESC LIMIT 1;", connection, transaction);
        command.Parameters.AddWithValue("t", tenantId);
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct)
            ? new AccessLogHead(reader.GetInt64(0), reader.GetFieldValue<byte[]>(1))
            : new AccessLogHead(0, AccessLogChain.Genesis(tenantId));
    }
}
