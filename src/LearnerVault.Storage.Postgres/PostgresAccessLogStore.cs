using LearnerVault.Privacy.Audit;
using Npgsql;
using NpgsqlTypes;

namespace LearnerVault.Storage.Postgres;

/// <summary>
/// The access log in the data schema. An append takes a transaction-scoped advisory lock on the tenant, then reads the
/// head and inserts the new entries: appends to one tenant from any number of nodes queue on the lock, and each reads
/// (READ COMMITTED, a fresh snapshot per statement) the head its predecessor committed. The primary key on
/// (tenant_id, position) backs this up: two appends at one position cannot both commit. Within a node, concurrent appends
/// of a tenant are group-committed (<see cref="AppendAsync"/>).
/// </summary>
internal sealed class PostgresAccessLogStore : IAccessLogStore, IAsyncDisposable
{
    private const string Columns = "position, time, principal, client, action, purpose, learner, records, decision, reason, hash";

    /// <summary>Entries written in one transaction at most (a single larger append still goes alone).</summary>
    private const int MaxEntriesPerRound = 10_000;

    private readonly NpgsqlDataSource data;
    private readonly TenantGroupCommit<PendingAppend> rounds;

    public PostgresAccessLogStore(NpgsqlDataSource data)
    {
        this.data = data;
        rounds = new(nameof(PostgresAccessLogStore), CommitRoundAsync, p => p.Entries.Count, int.MaxValue, MaxEntriesPerRound);
    }

    /// <inheritdoc />
    /// <remarks>Group commit per tenant: appends that arrive while one is being written are written together in the next
    /// transaction (one lock, one head read, one round trip of inserts, one commit), and each caller hears its own head.
    /// Once queued, entries are written whatever happens to the caller; cancellation only abandons the wait.</remarks>
    public Task<AccessLogHead> AppendAsync(Guid tenantId, IReadOnlyList<AccessLogEntry> entries, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entries);
        foreach (var entry in entries)
        {
            // Refused here, alone, rather than failing the whole round it would join.
            ArgumentNullException.ThrowIfNull(entry);
        }

        cancellationToken.ThrowIfCancellationRequested();
        var pending = new PendingAppend(entries);
        rounds.Enqueue(tenantId, pending);
        return pending.Completion.Task.WaitAsync(cancellationToken);
    }

    /// <summary>One round (<see cref="AppendRoundAsync"/>); completes every caller's task, never throws.</summary>
    private async Task CommitRoundAsync(Guid tenantId, List<PendingAppend> round)
    {
        try
        {
            var heads = await AppendRoundAsync(tenantId, round);
            for (var i = 0; i < round.Count; i++)
            {
                round[i].Completion.TrySetResult(heads[i]);
            }
        }
        catch (Exception exception)
        {
            // Nothing of the round is committed.
            foreach (var pending in round)
            {
                pending.Completion.TrySetException(exception);
            }
        }
    }

    /// <summary>One transaction: the tenant's lock and head, then every append of the round chained in order.</summary>
    private async Task<AccessLogHead[]> AppendRoundAsync(Guid tenantId, List<PendingAppend> round)
    {
        await using var connection = await data.OpenConnectionAsync(CancellationToken.None);
        await using var transaction = await connection.BeginTransactionAsync(CancellationToken.None);
        AccessLogHead head;
        await using (var read = new NpgsqlBatch(connection, transaction))
        {
            foreach (var command in LockAndHeadCommands(tenantId))
            {
                read.BatchCommands.Add(command);
            }

            await using var reader = await read.ExecuteReaderAsync(CancellationToken.None);
            await reader.NextResultAsync(CancellationToken.None); // past the lock
            head = await ReadHeadAsync(reader, tenantId, CancellationToken.None);
        }

        var heads = new AccessLogHead[round.Count];
        await using (var write = new NpgsqlBatch(connection, transaction))
        {
            for (var i = 0; i < round.Count; i++)
            {
                if (round[i].Entries.Count > 0)
                {
                    (var insert, head) = InsertCommand(tenantId, round[i].Entries, head);
                    write.BatchCommands.Add(insert);
                }

                heads[i] = head;
            }

            if (write.BatchCommands.Count > 0)
            {
                await write.ExecuteNonQueryAsync(CancellationToken.None);
            }
        }

        await transaction.CommitAsync(CancellationToken.None);
        return heads;
    }

    /// <summary>Refuses new appends, then waits until every accepted one is written or failed.</summary>
    public ValueTask DisposeAsync() => rounds.DisposeAsync();

    private sealed class PendingAppend(IReadOnlyList<AccessLogEntry> entries)
    {
        public IReadOnlyList<AccessLogEntry> Entries { get; } = entries;

        public TaskCompletionSource<AccessLogHead> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <summary>Two commands, each with a result set: the tenant's append lock (held until the transaction ends), then
    /// the head the next entries chain on (read it with <see cref="ReadHeadAsync"/>).</summary>
    internal static NpgsqlBatchCommand[] LockAndHeadCommands(Guid tenantId) =>
    [
        new("SELECT pg_advisory_xact_lock(hashtextextended('learnervault.access_log.' || $1::text, 0));") { Parameters = { new() { Value = tenantId } } },
        new("SELECT position, hash FROM access_log WHERE tenant_id = $1 ORDER BY position DESC LIMIT 1;") { Parameters = { new() { Value = tenantId } } },
    ];

    /// <summary>The head from the current result set of <see cref="LockAndHeadCommands"/>' second command.</summary>
    internal static async Task<AccessLogHead> ReadHeadAsync(NpgsqlDataReader reader, Guid tenantId, CancellationToken ct) =>
        await reader.ReadAsync(ct)
            ? new AccessLogHead(reader.GetInt64(0), reader.GetFieldValue<byte[]>(1))
            : new AccessLogHead(0, AccessLogChain.Genesis(tenantId));

    /// <summary>The insert of <paramref name="entries"/>, chained on <paramref name="head"/>, for a transaction that holds
    /// the tenant's append lock; and the head after them. Returns no rows.</summary>
    /// <exception cref="ArgumentNullException">An entry is null (nothing is built).</exception>
    internal static (NpgsqlBatchCommand Insert, AccessLogHead Head) InsertCommand(Guid tenantId, IReadOnlyList<AccessLogEntry> entries, AccessLogHead head)
    {
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

        var insert = new NpgsqlBatchCommand($"""
            INSERT INTO access_log (tenant_id, {Columns})
            SELECT @t, e.position, e.time, e.principal, e.client, e.action, e.purpose, e.learner, e.records, e.decision, e.reason, e.hash
            FROM unnest(@positions, @times, @principals, @clients, @actions, @purposes, @learners, @records, @decisions, @reasons, @hashes)
                AS e (position, time, principal, client, action, purpose, learner, records, decision, reason, hash);
            """);
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
        return (insert, new AccessLogHead(position, hash));
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
