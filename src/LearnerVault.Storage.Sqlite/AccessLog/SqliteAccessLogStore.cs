using LearnerVault.Privacy.Audit;
using Microsoft.Data.Sqlite;

namespace LearnerVault.Storage.Sqlite;

/// <summary>
/// The access log in the data file. Appends run on the data file's single writer (<see cref="SerialWriter"/>), one at a
/// time in its transaction, and SQLite's write lock serialises them against other processes, so the head read inside
/// the append is the one the new entries chain on. Reads come from the reader pool.
/// </summary>
public sealed class SqliteAccessLogStore : IAccessLogStore
{
    private const string Columns = "position, time, principal, client, action, purpose, learner, records, decision, reason, hash";

    /// <summary>Bound by position: ?1 the tenant, then the columns in <see cref="Columns"/> order.</summary>
    private const string InsertSql = $"INSERT INTO access_log (tenant_no, {Columns}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12);";

    /// <summary>The chain's head: ?1 the tenant.</summary>
    private const string HeadSql = "SELECT position, hash FROM access_log WHERE tenant_no = ?1 ORDER BY position DESC LIMIT 1;";

    /// <summary>log2 of the entries per bucket of the learner index: the shift in migration 0008's index expression.</summary>
    internal const int LearnerBucketBits = 12;

    private const long FirstWindowBuckets = 4;
    private const long MaxWindowBuckets = 1 << 14;

    /// <summary>One window of buckets ($low..$high), newest first: a seek on (tenant, bucket, learner) per bucket. The
    /// bucket expression must match the index's for the planner to use it.</summary>
    internal static readonly string LearnerWindowSql = $"""
        WITH RECURSIVE bucket (n) AS (SELECT $high UNION ALL SELECT n - 1 FROM bucket WHERE n > $low)
        SELECT {Columns} FROM bucket CROSS JOIN access_log
        WHERE tenant_no = $t AND position >> {LearnerBucketBits} = bucket.n AND learner = $learner
        ORDER BY position DESC LIMIT $limit;
        """;

    private readonly SerialWriter writer;
    private readonly SqliteReaderPool readers;
    private readonly TenantDirectory tenants;

    internal SqliteAccessLogStore(SerialWriter writer, SqliteReaderPool readers, TenantDirectory tenants)
    {
        this.writer = writer;
        this.readers = readers;
        this.tenants = tenants;
    }

    public Task<AccessLogHead> AppendAsync(Guid tenantId, IReadOnlyList<AccessLogEntry> entries, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entries);
        return writer.WriteAsync(_ => Append(writer, tenantId, entries), cancellationToken);
    }

    /// <summary>Writer thread only (inside a write): appends the entries at the next positions of the tenant's chain and
    /// returns the new head. A statement write that carries entries runs it too, in its own transaction.</summary>
    internal static AccessLogHead Append(SerialWriter writer, Guid tenantId, IReadOnlyList<AccessLogEntry> entries)
    {
        var tenantNo = writer.EnsureTenant(tenantId);
        var head = Head(writer.Prepared(HeadSql), tenantId, tenantNo);
        if (entries.Count == 0)
        {
            return head;
        }

        // Prepared once on the writer's connection; values bound straight (a log entry per learner per request).
        var insert = writer.Prepared(InsertSql);
        insert.Bind(1, tenantNo);
        var (position, hash) = (head.Position, head.Hash);
        foreach (var entry in entries)
        {
            ArgumentNullException.ThrowIfNull(entry);
            position++;
            hash = AccessLogChain.Next(hash, position, entry);
            insert.Bind(2, position);
            insert.Bind(3, AccessLogChain.UnixMicroseconds(entry.Time));
            insert.Bind(4, entry.Principal);
            insert.Bind(5, entry.Client);
            insert.Bind(6, entry.Action);
            insert.Bind(7, entry.Purpose);
            insert.Bind(8, entry.LearnerPseudonym);
            insert.Bind(9, entry.Records);
            insert.Bind(10, (long)entry.Decision);
            insert.Bind(11, entry.Reason);
            insert.Bind(12, hash);
            insert.Execute();
        }

        return new AccessLogHead(position, hash);
    }

    public async Task<AccessLogHead> GetHeadAsync(Guid tenantId, CancellationToken cancellationToken = default)
    {
        using var lease = await readers.RentAsync(cancellationToken);
        return tenants.Find(lease.Reader, tenantId) is { } tenantNo
            ? Head(lease.Reader.Connection, tenantId, tenantNo)
            : new AccessLogHead(0, AccessLogChain.Genesis(tenantId));
    }

    public Task<bool> AddCheckpointAsync(Guid tenantId, AccessLogCheckpoint checkpoint, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        return writer.WriteAsync(connection =>
        {
            var tenantNo = writer.EnsureTenant(tenantId);
            using var insert = connection.CreateCommand();
            insert.CommandText = """
                INSERT INTO access_log_checkpoints (tenant_no, position, head, time, signature) VALUES ($t, $position, $head, $time, $signature)
                ON CONFLICT (tenant_no, position) DO NOTHING;
                """;
            insert.Parameters.AddWithValue("$t", tenantNo);
            insert.Parameters.AddWithValue("$position", checkpoint.Position);
            insert.Parameters.AddWithValue("$head", checkpoint.HeadHash);
            insert.Parameters.AddWithValue("$time", AccessLogChain.UnixMicroseconds(checkpoint.Time));
            insert.Parameters.AddWithValue("$signature", checkpoint.Signature);
            return insert.ExecuteNonQuery() == 1;
        }, cancellationToken);
    }

    public Task<IReadOnlyList<AccessLogRecord>> ReadAsync(Guid tenantId, long fromPosition, int limit, CancellationToken cancellationToken = default) =>
        ReadRecordsAsync(tenantId, $"SELECT {Columns} FROM access_log WHERE tenant_no = $t AND position >= $from ORDER BY position LIMIT $limit;",
            ("$from", fromPosition), limit, cancellationToken);

    /// <summary>
    /// A learner's newest entries. The learner index is bucketed by position (migration 0008: appends then touch the
    /// newest bucket's pages only), so the read walks the buckets from the newest down, seeking the learner in each, a
    /// window of buckets per query (growing fourfold, so a long log costs few queries), until it has enough entries.
    /// </summary>
    public async Task<IReadOnlyList<AccessLogRecord>> ReadLearnerAsync(Guid tenantId, byte[] learnerPseudonym, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(learnerPseudonym);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        using var lease = await readers.RentAsync(cancellationToken);
        if (tenants.Find(lease.Reader, tenantId) is not { } tenantNo)
        {
            return [];
        }

        var connection = lease.Reader.Connection;
        long newestBucket;
        using (var head = connection.CreateCommand())
        {
            head.CommandText = "SELECT coalesce(max(position), 0) FROM access_log WHERE tenant_no = $t;";
            head.Parameters.AddWithValue("$t", tenantNo);
            newestBucket = (long)head.ExecuteScalar()! >> LearnerBucketBits;
        }

        using var command = connection.CreateCommand();
        command.CommandText = LearnerWindowSql;
        command.Parameters.AddWithValue("$t", tenantNo);
        command.Parameters.AddWithValue("$learner", learnerPseudonym);
        var high = command.Parameters.Add("$high", SqliteType.Integer);
        var low = command.Parameters.Add("$low", SqliteType.Integer);
        var wanted = command.Parameters.Add("$limit", SqliteType.Integer);
        var records = new List<AccessLogRecord>();
        var (top, window) = (newestBucket, FirstWindowBuckets);
        while (top >= 0 && records.Count < limit)
        {
            cancellationToken.ThrowIfCancellationRequested();
            high.Value = top;
            low.Value = Math.Max(0, top - window + 1);
            wanted.Value = limit - records.Count;
            using (var reader = command.ExecuteReader())
            {
                while (reader.Read())
                {
                    records.Add(ReadRecord(reader));
                }
            }

            top -= window;
            window = Math.Min(window * 4, MaxWindowBuckets);
        }

        return records;
    }

    public async Task<IReadOnlyList<AccessLogCheckpoint>> ReadCheckpointsAsync(Guid tenantId, CancellationToken cancellationToken = default)
    {
        using var lease = await readers.RentAsync(cancellationToken);
        if (tenants.Find(lease.Reader, tenantId) is not { } tenantNo)
        {
            return [];
        }

        using var command = lease.Reader.Connection.CreateCommand();
        command.CommandText = "SELECT position, head, time, signature FROM access_log_checkpoints WHERE tenant_no = $t ORDER BY position;";
        command.Parameters.AddWithValue("$t", tenantNo);
        using var reader = command.ExecuteReader();
        var checkpoints = new List<AccessLogCheckpoint>();
        while (reader.Read())
        {
            checkpoints.Add(new AccessLogCheckpoint(
                reader.GetInt64(0), (byte[])reader.GetValue(1), SqliteValues.FromUnixMicroseconds(reader.GetInt64(2)), (byte[])reader.GetValue(3)));
        }

        return checkpoints;
    }

    private async Task<IReadOnlyList<AccessLogRecord>> ReadRecordsAsync(
        Guid tenantId, string sql, (string Name, object Value) parameter, int limit, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        using var lease = await readers.RentAsync(cancellationToken);
        if (tenants.Find(lease.Reader, tenantId) is not { } tenantNo)
        {
            return [];
        }

        using var command = lease.Reader.Connection.CreateCommand();
        command.CommandText = sql;
        command.Parameters.AddWithValue("$t", tenantNo);
        command.Parameters.AddWithValue(parameter.Name, parameter.Value);
        command.Parameters.AddWithValue("$limit", limit);
        using var reader = command.ExecuteReader();
        var records = new List<AccessLogRecord>();
        while (reader.Read())
        {
            records.Add(ReadRecord(reader));
        }

        return records;
    }

    private static AccessLogRecord ReadRecord(SqliteDataReader reader) => new(
        reader.GetInt64(0),
        new AccessLogEntry(
            SqliteValues.FromUnixMicroseconds(reader.GetInt64(1)),
            reader.GetString(2),
            reader.IsDBNull(3) ? null : reader.GetString(3),
            reader.GetString(4),
            reader.GetString(5),
            reader.IsDBNull(6) ? null : (byte[])reader.GetValue(6),
            reader.GetInt64(7),
            (AccessDecision)reader.GetInt64(8),
            reader.GetString(9)),
        (byte[])reader.GetValue(10));

    private static AccessLogHead Head(SqliteConnection connection, Guid tenantId, long tenantNo)
    {
        using var command = connection.CreateCommand();
        command.CommandText = HeadSql;
        command.Parameters.AddWithValue("?1", tenantNo);
        using var reader = command.ExecuteReader();
        return reader.Read()
            ? new AccessLogHead(reader.GetInt64(0), (byte[])reader.GetValue(1))
            : new AccessLogHead(0, AccessLogChain.Genesis(tenantId));
    }

    /// <summary>On the writer, with its statement prepared once.</summary>
    private static AccessLogHead Head(RawStatement head, Guid tenantId, long tenantNo)
    {
        head.Bind(1, tenantNo);
        try
        {
            return head.ReadFirst()
                ? new AccessLogHead(head.Int64(0), head.Blob(1))
                : new AccessLogHead(0, AccessLogChain.Genesis(tenantId));
        }
        finally
        {
            head.Reset();
        }
    }
}
