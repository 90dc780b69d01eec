using System.Buffers.Binary;
using System.Text;
using LearnerVault.Privacy.Audit;
using Npgsql;
using NpgsqlTypes;

namespace LearnerVault.Storage.Postgres;

/// <summary>
/// Statements in PostgreSQL, shared by every server process using the database. Concurrent writes of a tenant are
/// gathered into one transaction (group commit, <see cref="PostgresStatementWriter"/>): it takes the tenant's
/// transaction-scoped advisory lock once, then writes each caller's batch in its own savepoint, in two round trips
/// whatever the batch size: (1) read, under the lock, the tenant's newest seq and stored time and every stored statement
/// the batch touches (earlier batches of the group included); (2) plan the batch in memory
/// (<see cref="StatementWritePlan"/>) and send all its rows as array parameters (<c>unnest</c>) in one
/// <see cref="NpgsqlBatch"/>; and commits once. Because writers of a tenant hold its lock from before they number their
/// statements until they commit, per tenant commit order = seq order = stored order, so paging by seq never skips a
/// statement that commits later, and since/until (ranges on stored) are ranges on seq.
/// </summary>
internal sealed class PostgresStatementStore(NpgsqlDataSource data, TimeProvider time) : IStatementStore, IAsyncDisposable
{
    /// <summary>First key of the two-key advisory locks of statement writers (distinct from other users of advisory
    /// locks); the second is a 32-bit fold of the tenant id. Two tenants that collide only share a lock.</summary>
    internal const int LockNamespace = 0x4C565354; // "LVST"

    /// <summary>Postings counted per term (at most) to pick the term that drives a multi-term query.</summary>
    private const int SelectivityCap = 4096;

    private const string PageColumns = "s.seq, s.id, s.stored, s.key_id, s.blob, s.has_timestamp, s.client_id, s.learner, s.restricted";

    private readonly NpgsqlDataSource data = data;
    private readonly TimeProvider time = time;
    private readonly PostgresStatementWriter writer = new(data, (connection, transaction, tenantId, batch, lockTenant) =>
        WriteBatchAsync(connection, transaction, tenantId, batch, lockTenant, time));

    private readonly PostgresAccessLogStore accessLog = new(data);

    /// <summary>The node's access log, which statement writes append their entries to (grouped with every other append
    /// of the node).</summary>
    internal PostgresAccessLogStore AccessLog => accessLog;

    /// <summary>The node's group-commit writer (for tests).</summary>
    internal PostgresStatementWriter Writer => writer;

    // ---- writes --------------------------------------------------------------------------------------------------

    /// <inheritdoc />
    /// <remarks>The batch joins the tenant's next group commit (<see cref="PostgresStatementWriter"/>). Cancellation is
    /// honoured until the batch is written; after that the task completes with the group's outcome.</remarks>
    public Task<IReadOnlyList<WriteOutcome>> WriteAsync(Guid tenantId, IReadOnlyList<StatementRecord> batch, CancellationToken cancellationToken = default)
    {
        StoreArguments.Check(batch);
        return WriteCheckedAsync(tenantId, batch, cancellationToken);
    }

    /// <inheritdoc />
    /// <remarks>Two transactions, each group-committed across concurrent writes: the entries are committed (in the node's
    /// next access-log round, under the log's tenant lock) before the batch joins the next statement group. The two run
    /// side by side for different requests. Appending the entries inside the statement group instead (one transaction,
    /// but the log's lock, head read and inserts on the group's serial path) was tried: single-statement POSTs from 16
    /// clients fell from 456 to 422/s; this way they stay at 447/s.</remarks>
    public async Task<StatementWrite> WriteAsync(
        Guid tenantId, IReadOnlyList<StatementRecord> batch, IReadOnlyList<AccessLogEntry> accessLogEntries, CancellationToken cancellationToken = default)
    {
        StoreArguments.Check(batch);
        ArgumentNullException.ThrowIfNull(accessLogEntries);
        AccessLogHead head;
        try
        {
            head = await accessLog.AppendAsync(tenantId, accessLogEntries, cancellationToken);
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            throw new AccessLogAppendException(exception);
        }

        return new StatementWrite(await WriteCheckedAsync(tenantId, batch, cancellationToken), head);
    }

    /// <summary>A batch whose arguments were checked (<see cref="StoreArguments.Check(IReadOnlyList{StatementRecord})"/>)
    /// joins the tenant's next group.</summary>
    private Task<IReadOnlyList<WriteOutcome>> WriteCheckedAsync(Guid tenantId, IReadOnlyList<StatementRecord> batch, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return batch.Count == 0 ? Task.FromResult<IReadOnlyList<WriteOutcome>>([]) : writer.WriteAsync(tenantId, batch, cancellationToken);
    }

    /// <summary>One caller's batch within a group's transaction, in two round trips: (1) [the tenant's lock,] the
    /// savepoint and the reads; (2) the rows of the plan and the release of the savepoint.</summary>
    private static async Task<IReadOnlyList<WriteOutcome>> WriteBatchAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, Guid tenantId, IReadOnlyList<StatementRecord> batch, bool lockTenant, TimeProvider time)
    {
        var plan = await ReadUnderLockAsync(connection, transaction, tenantId, batch, lockTenant, CancellationToken.None);
        var outcomes = plan.Apply(batch, time.GetUtcNow());
        await using var write = BuildWrite(connection, transaction, tenantId, plan);
        write.BatchCommands.Add(new NpgsqlBatchCommand(PostgresStatementWriter.Release));
        await write.ExecuteNonQueryAsync(CancellationToken.None);
        return outcomes;
    }

    /// <summary>Round trip 1: the tenant's lock (once per group), the batch's savepoint, the tenant's newest statement,
    /// and the stored statements the batch touches (its ids, their targets, and all that reference a batch id,
    /// transitively).</summary>
    private static async Task<StatementWritePlan> ReadUnderLockAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, Guid tenantId, IReadOnlyList<StatementRecord> batch, bool lockTenant, CancellationToken ct)
    {
        var ids = batch.Select(s => s.Id).Distinct().ToArray();
        var touched = ids.Concat(batch.Where(s => s.RefTarget is not null).Select(s => s.RefTarget!.Value)).Distinct().ToArray();

        await using var read = new NpgsqlBatch(connection, transaction);
        if (lockTenant)
        {
            // Before the savepoint, so that rolling a batch back keeps the lock.
            read.BatchCommands.Add(Command("SELECT pg_advisory_xact_lock($1, $2);", LockNamespace, LockKey(tenantId)));
        }

        read.BatchCommands.Add(new NpgsqlBatchCommand(PostgresStatementWriter.Savepoint));
        read.BatchCommands.Add(Command("SELECT seq, stored FROM statements WHERE tenant_id = $1 ORDER BY seq DESC LIMIT 1;", tenantId));
        read.BatchCommands.Add(Command("""
            WITH RECURSIVE referrers (seq, id) AS (
                SELECT s.seq, s.id FROM statements AS s WHERE s.tenant_id = $1 AND s.ref_target = ANY ($2)
                UNION
                SELECT s.seq, s.id FROM referrers AS r JOIN statements AS s ON s.tenant_id = $1 AND s.ref_target = r.id
            )
            SELECT s.seq, s.id, s.content_hash, s.ref_target, s.is_voiding, s.voided, s.terms
            FROM statements AS s WHERE s.tenant_id = $1 AND s.id = ANY ($3)
            UNION ALL
            SELECT s.seq, s.id, s.content_hash, s.ref_target, s.is_voiding, s.voided, s.terms
            FROM referrers AS r JOIN statements AS s ON s.tenant_id = $1 AND s.seq = r.seq;
            """, tenantId, ids, touched));

        await using var reader = await read.ExecuteReaderAsync(ct);
        if (lockTenant)
        {
            await reader.NextResultAsync(ct); // past the lock (the savepoint returns no result set)
        }

        long lastSeq = 0;
        DateTimeOffset? lastStored = null;
        if (await reader.ReadAsync(ct))
        {
            lastSeq = reader.GetInt64(0);
            lastStored = reader.GetFieldValue<DateTimeOffset>(1);
        }

        var plan = new StatementWritePlan(lastSeq, lastStored);
        await reader.NextResultAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            plan.AddStored(
                reader.GetInt64(0),
                reader.GetGuid(1),
                reader.GetFieldValue<byte[]>(2),
                reader.IsDBNull(3) ? null : reader.GetGuid(3),
                reader.GetBoolean(4),
                reader.GetBoolean(5),
                reader.GetFieldValue<byte[]>(6));
        }

        return plan;
    }

    /// <summary>Round trip 2: every row of the plan, as arrays (one command per table, whatever the batch size).</summary>
    private static NpgsqlBatch BuildWrite(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid tenantId, StatementWritePlan plan)
    {
        var write = new NpgsqlBatch(connection, transaction);
        var inserted = plan.Inserted;
        if (inserted.Count > 0)
        {
            var n = inserted.Count;
            var seqs = new long[n];
            var ids = new Guid[n];
            var stored = new DateTime[n];
            var keyIds = new long[n];
            var clientIds = new long[n];
            var blobs = new byte[n][];
            var hashes = new byte[n][];
            var terms = new byte[n][];
            var refTargets = new Guid?[n];
            var isVoiding = new bool[n];
            var voided = new bool[n];
            var hasTimestamp = new bool[n];
            var learners = new byte[]?[n];
            var restricted = new bool[n];
            var postingTerms = new List<byte[]>();
            var postingSeqs = new List<long>();
            for (var i = 0; i < n; i++)
            {
                var node = inserted[i];
                var record = node.Record!;
                seqs[i] = node.Seq;
                ids[i] = node.Id;
                stored[i] = node.Stored;
                keyIds[i] = record.KeyId;
                clientIds[i] = record.ClientId;
                blobs[i] = record.Blob;
                hashes[i] = record.ContentHash;
                terms[i] = node.Terms.ToBlob();
                refTargets[i] = node.RefTarget;
                isVoiding[i] = node.IsVoiding;
                voided[i] = node.Voided;
                hasTimestamp[i] = record.HasTimestamp;
                learners[i] = record.Learner;
                restricted[i] = record.Restricted;
                foreach (var term in node.Terms.Items)
                {
                    postingTerms.Add(term.ToBytes());
                    postingSeqs.Add(node.Seq);
                }

                postingTerms.Add(StoredTerm.ForClient(record.ClientId).ToBytes());
                postingSeqs.Add(node.Seq);
            }

            write.BatchCommands.Add(Command("""
                INSERT INTO statements (tenant_id, seq, id, stored, key_id, client_id, blob, content_hash, terms, ref_target, is_voiding, voided, has_timestamp,
                                        learner, restricted)
                SELECT $1, u.*
                FROM unnest($2::bigint[], $3::uuid[], $4::timestamptz[], $5::bigint[], $6::bigint[], $7::bytea[], $8::bytea[], $9::bytea[],
                            $10::uuid[], $11::boolean[], $12::boolean[], $13::boolean[], $14::bytea[], $15::boolean[]) AS u;
                """, tenantId, seqs, ids, stored, keyIds, clientIds, blobs, hashes, terms, refTargets, isVoiding, voided, hasTimestamp, learners, restricted));

            foreach (var node in plan.TermsChanged)
            {
                foreach (var term in node.Gained)
                {
                    postingTerms.Add(term.ToBytes());
                    postingSeqs.Add(node.Seq);
                }
            }

            write.BatchCommands.Add(Command("""
                INSERT INTO statement_terms (tenant_id, term, seq)
                SELECT $1, u.term, u.seq FROM unnest($2::bytea[], $3::bigint[]) AS u (term, seq)
                ON CONFLICT DO NOTHING;
                """, tenantId, postingTerms.ToArray(), postingSeqs.ToArray()));
            AddAttachments(write, tenantId, inserted);
        }

        if (plan.NewlyVoided.Count > 0)
        {
            write.BatchCommands.Add(Command(
                "UPDATE statements SET voided = true WHERE tenant_id = $1 AND seq = ANY ($2);", tenantId, plan.NewlyVoided.ToArray()));
        }

        if (plan.TermsChanged.Count > 0)
        {
            write.BatchCommands.Add(Command("""
                UPDATE statements AS s SET terms = u.terms
                FROM unnest($2::bigint[], $3::bytea[]) AS u (seq, terms)
                WHERE s.tenant_id = $1 AND s.seq = u.seq;
                """, tenantId, plan.TermsChanged.Select(r => r.Seq).ToArray(), plan.TermsChanged.Select(r => r.Terms.ToBlob()).ToArray()));
        }

        return write;
    }

    /// <summary>Each distinct content of the new statements is stored once (or gains references on the stored copy:
    /// one per new statement carrying it, a key listed twice in one statement counting once), and linked to the
    /// statements that carried it. The first carrier's envelope is the one kept.</summary>
    private static void AddAttachments(NpgsqlBatch write, Guid tenantId, List<StatementWritePlan.Node> inserted)
    {
        var contents = new Dictionary<string, (AttachmentRecord First, long References)>(StringComparer.Ordinal);
        var order = new List<string>();
        var linkSeqs = new List<long>();
        var linkKeys = new List<byte[]>();
        foreach (var node in inserted)
        {
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var attachment in node.Record!.Attachments)
            {
                var key = Convert.ToHexString(attachment.HashKey);
                if (!seen.Add(key))
                {
                    continue;
                }

                linkSeqs.Add(node.Seq);
                linkKeys.Add(attachment.HashKey);
                if (contents.TryGetValue(key, out var content))
                {
                    contents[key] = (content.First, content.References + 1);
                }
                else
                {
                    contents[key] = (attachment, 1);
                    order.Add(key);
                }
            }
        }

        if (order.Count == 0)
        {
            return;
        }

        var firsts = order.ConvertAll(k => contents[k]);
        write.BatchCommands.Add(Command("""
            INSERT INTO attachments (tenant_id, hash_key, key_id, blob, refs)
            SELECT $1, u.* FROM unnest($2::bytea[], $3::bigint[], $4::bytea[], $5::bigint[]) AS u
            ON CONFLICT (tenant_id, hash_key) DO UPDATE SET refs = attachments.refs + excluded.refs;
            """,
            tenantId,
            firsts.Select(c => c.First.HashKey).ToArray(),
            firsts.Select(c => c.First.KeyId).ToArray(),
            firsts.Select(c => c.First.Blob).ToArray(),
            firsts.Select(c => c.References).ToArray()));
        write.BatchCommands.Add(Command("""
            INSERT INTO statement_attachments (tenant_id, seq, hash_key)
            SELECT $1, u.* FROM unnest($2::bigint[], $3::bytea[]) AS u;
            """, tenantId, linkSeqs.ToArray(), linkKeys.ToArray()));
    }

    // ---- reads ---------------------------------------------------------------------------------------------------

    public async Task<StoredStatement?> GetAsync(Guid tenantId, Guid id, CancellationToken cancellationToken = default)
    {
        await using var command = data.CreateCommand("""
            SELECT seq, stored, key_id, blob, voided, has_timestamp, client_id, learner, restricted FROM statements WHERE tenant_id = $1 AND id = $2;
            """);
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }

        return new StoredStatement(
            id,
            reader.GetInt64(0),
            reader.GetFieldValue<DateTimeOffset>(1),
            reader.GetInt64(2),
            reader.GetFieldValue<byte[]>(3),
            reader.GetBoolean(4),
            reader.GetBoolean(5),
            reader.GetInt64(6))
        {
            Learner = reader.IsDBNull(7) ? null : reader.GetFieldValue<byte[]>(7),
            Restricted = reader.GetBoolean(8),
        };
    }

    /// <inheritdoc />
    /// <remarks>
    /// Without terms: the tenant's primary key in seq order. With terms: the postings of the driving term in seq order
    /// (index range scan on (tenant_id, term, seq), stopping at the limit), each other term probed by primary key
    /// (EXISTS), then the statement by primary key. The driving term is the one with the fewest postings in the
    /// bounds, counted up to <see cref="SelectivityCap"/> each (one round trip, index-only), ties going to the kind
    /// that is usually the most selective.
    /// </remarks>
    public async Task<StatementPage> QueryAsync(Guid tenantId, StatementQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(query.Limit);
        var terms = StoredTermSet.ForQuery(query);

        // Bounds on seq: lo exclusive, hi inclusive; since/until become seq bounds in SQL (see Bounds).
        var lo = 0L;
        var hi = long.MaxValue;
        if (query.After is { } after)
        {
            if (query.Ascending)
            {
                lo = Math.Max(lo, after);
            }
            else
            {
                hi = after > lo ? Math.Min(hi, after - 1) : lo;
            }
        }

        if (lo >= hi)
        {
            return new StatementPage([], null);
        }

        await using var connection = await data.OpenConnectionAsync(cancellationToken);
        var ordered = terms.Count > 1
            ? await OrderBySelectivityAsync(connection, tenantId, terms.Items, lo, hi, query, cancellationToken)
            : terms.Items.ToList();

        var direction = query.Ascending ? "ASC" : "DESC";
        await using var command = connection.CreateCommand();
        var parameters = command.Parameters;
        parameters.Add(new NpgsqlParameter<Guid>("t", tenantId));
        parameters.Add(new NpgsqlParameter<long>("lo", lo));
        parameters.Add(new NpgsqlParameter<long>("hi", hi));
        parameters.Add(new NpgsqlParameter<long>("limit", query.Limit + 1L));
        if (ordered.Count == 0)
        {
            command.CommandText = $"""
                SELECT {PageColumns} FROM statements AS s
                WHERE s.tenant_id = @t AND s.seq > @lo AND s.seq <= @hi {Bounds("s", query, parameters)} AND NOT s.voided
                ORDER BY s.seq {direction}
                LIMIT @limit;
                """;
        }
        else
        {
            parameters.Add(new NpgsqlParameter<byte[]>("d", ordered[0].ToBytes()));
            var others = new StringBuilder();
            for (var i = 1; i < ordered.Count; i++)
            {
                parameters.Add(new NpgsqlParameter<byte[]>($"x{i}", ordered[i].ToBytes()));
                others.Append($"""

                      AND EXISTS (SELECT 1 FROM statement_terms AS x{i} WHERE x{i}.tenant_id = @t AND x{i}.term = @x{i} AND x{i}.seq = d.seq)
                    """);
            }

            command.CommandText = $"""
                SELECT {PageColumns}
                FROM statement_terms AS d JOIN statements AS s ON s.tenant_id = @t AND s.seq = d.seq
                WHERE d.tenant_id = @t AND d.term = @d AND d.seq > @lo AND d.seq <= @hi {Bounds("d", query, parameters)}{others}
                  AND NOT s.voided
                ORDER BY d.seq {direction}
                LIMIT @limit;
                """;
        }

        var statements = new List<StoredStatement>(Math.Min(query.Limit + 1, 1024));
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                statements.Add(new StoredStatement(
                    reader.GetGuid(1),
                    reader.GetInt64(0),
                    reader.GetFieldValue<DateTimeOffset>(2),
                    reader.GetInt64(3),
                    reader.GetFieldValue<byte[]>(4),
                    Voided: false,
                    reader.GetBoolean(5),
                    reader.GetInt64(6))
                {
                    Learner = reader.IsDBNull(7) ? null : reader.GetFieldValue<byte[]>(7),
                    Restricted = reader.GetBoolean(8),
                });
            }
        }

        long? continueAfter = null;
        if (statements.Count > query.Limit)
        {
            statements.RemoveAt(statements.Count - 1);
            continueAfter = statements[^1].Sequence;
        }

        return new StatementPage(statements, continueAfter);
    }

    /// <summary>
    /// since/until as bounds on <paramref name="alias"/>.seq: stored strictly increases with seq within a tenant, so
    /// "stored &gt; since" is "seq &gt; the last seq stored at or before since" (and likewise for until), each found
    /// once by the (tenant_id, stored) index. Bounds are floored to the microsecond, the precision of stored.
    /// </summary>
    private static string Bounds(string alias, StatementQuery query, NpgsqlParameterCollection parameters)
    {
        var sql = "";
        if (query.Since is { } since)
        {
            parameters.Add(new NpgsqlParameter<DateTime>("since", FloorMicroseconds(since)));
            sql += $"AND {alias}.seq > coalesce((SELECT b.seq FROM statements AS b WHERE b.tenant_id = @t AND b.stored <= @since ORDER BY b.stored DESC LIMIT 1), 0) ";
        }

        if (query.Until is { } until)
        {
            parameters.Add(new NpgsqlParameter<DateTime>("until", FloorMicroseconds(until)));
            sql += $"AND {alias}.seq <= coalesce((SELECT b.seq FROM statements AS b WHERE b.tenant_id = @t AND b.stored <= @until ORDER BY b.stored DESC LIMIT 1), 0) ";
        }

        return sql;
    }

    private static DateTime FloorMicroseconds(DateTimeOffset value)
    {
        var ticks = Math.Max(value.UtcTicks, DateTime.UnixEpoch.Ticks);
        return new DateTime(ticks - (ticks % 10), DateTimeKind.Utc);
    }

    /// <summary>The terms, the one with the fewest postings in the bounds first (counted up to a cap).</summary>
    private static async Task<List<StoredTerm>> OrderBySelectivityAsync(
        NpgsqlConnection connection, Guid tenantId, IReadOnlyList<StoredTerm> terms, long lo, long hi, StatementQuery query, CancellationToken ct)
    {
        await using var command = connection.CreateCommand();
        var parameters = command.Parameters;
        parameters.Add(new NpgsqlParameter<Guid>("t", tenantId));
        parameters.Add(new NpgsqlParameter<long>("lo", lo));
        parameters.Add(new NpgsqlParameter<long>("hi", hi));
        parameters.Add(new NpgsqlParameter<long>("cap", SelectivityCap));
        var bounds = Bounds("p", query, parameters);
        var columns = new List<string>(terms.Count);
        for (var i = 0; i < terms.Count; i++)
        {
            parameters.Add(new NpgsqlParameter<byte[]>($"s{i}", terms[i].ToBytes()));
            columns.Add($"""
                (SELECT count(*) FROM (SELECT 1 FROM statement_terms AS p
                 WHERE p.tenant_id = @t AND p.term = @s{i} AND p.seq > @lo AND p.seq <= @hi {bounds}LIMIT @cap) AS c)
                """);
        }

        command.CommandText = $"SELECT {string.Join(", ", columns)};";
        var counts = new long[terms.Count];
        await using (var reader = await command.ExecuteReaderAsync(ct))
        {
            await reader.ReadAsync(ct);
            for (var i = 0; i < terms.Count; i++)
            {
                counts[i] = reader.GetInt64(i);
            }
        }

        return [.. Enumerable.Range(0, terms.Count).OrderBy(i => counts[i]).ThenBy(i => terms[i].SelectivityRank).Select(i => terms[i])];
    }

    public async Task<IReadOnlyList<StoredAttachment>> GetAttachmentsAsync(
        Guid tenantId, IReadOnlyList<byte[]> hashKeys, IReadOnlyList<long>? carriedBy = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(hashKeys);
        foreach (var hashKey in hashKeys)
        {
            ArgumentNullException.ThrowIfNull(hashKey, nameof(hashKeys));
        }

        if (hashKeys.Count == 0 || carriedBy is { Count: 0 })
        {
            return [];
        }

        await using var command = data.CreateCommand(carriedBy is null
            ? "SELECT a.hash_key, a.key_id, a.blob, a.refs FROM attachments AS a WHERE a.tenant_id = $1 AND a.hash_key = ANY ($2);"
            : """
              SELECT a.hash_key, a.key_id, a.blob, a.refs FROM attachments AS a
              WHERE a.tenant_id = $1 AND a.hash_key = ANY ($2)
                AND EXISTS (SELECT 1 FROM statement_attachments AS sa
                            WHERE sa.tenant_id = $1 AND sa.seq = ANY ($3) AND sa.hash_key = a.hash_key);
              """);
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        command.Parameters.Add(new NpgsqlParameter<byte[][]> { TypedValue = [.. hashKeys] });
        if (carriedBy is not null)
        {
            command.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = [.. carriedBy] });
        }

        var stored = new Dictionary<string, StoredAttachment>(StringComparer.Ordinal);
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                var hashKey = reader.GetFieldValue<byte[]>(0);
                stored[Convert.ToHexString(hashKey)] = new StoredAttachment(hashKey, reader.GetInt64(1), reader.GetFieldValue<byte[]>(2), reader.GetInt64(3));
            }
        }

        var found = new List<StoredAttachment>(stored.Count);
        foreach (var hashKey in hashKeys)
        {
            if (stored.Remove(Convert.ToHexString(hashKey), out var attachment))
            {
                found.Add(attachment);
            }
        }

        return found;
    }

    /// <summary>
    /// When no writer of the tenant holds its lock (a shared try-lock succeeds at once), just before now, or the newest
    /// stored time if stored runs ahead of the clock: a writer that starts later stores after both. Otherwise the stored
    /// time of the tenant's newest committed statement (every earlier one committed before it, by the lock), or null
    /// when it has none yet. One statement, so the shared lock is released when it ends.
    /// </summary>
    /// <remarks>"Now" is this node's clock: a node whose clock is behind may later store a statement at or before a
    /// time another node already reported, so the answer is only as good as the agreement of the nodes' clocks (NTP).
    /// Stored order itself never depends on the clocks.</remarks>
    public async Task<DateTimeOffset?> ConsistentThroughAsync(Guid tenantId, CancellationToken cancellationToken = default)
    {
        await using var command = data.CreateCommand("""
            SELECT pg_try_advisory_xact_lock_shared($1, $2),
                   (SELECT stored FROM statements WHERE tenant_id = $3 ORDER BY seq DESC LIMIT 1);
            """);
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = LockNamespace });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = LockKey(tenantId) });
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = tenantId });
        var now = time.GetUtcNow();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        DateTimeOffset? newest = reader.IsDBNull(1) ? null : reader.GetFieldValue<DateTimeOffset>(1);
        if (!reader.GetBoolean(0))
        {
            return newest;
        }

        var justBefore = new DateTimeOffset(FloorMicroseconds(now).AddTicks(-10));
        return newest is { } last && last > justBefore ? last : justBefore;
    }

    /// <summary>Refuses new writes and waits for those accepted to commit (or fail).</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            await writer.DisposeAsync();
        }
        finally
        {
            await accessLog.DisposeAsync();
        }
    }

    // ---- helpers -------------------------------------------------------------------------------------------------

    /// <summary>The tenant id folded to the second key of its advisory lock.</summary>
    internal static int LockKey(Guid tenantId)
    {
        Span<byte> bytes = stackalloc byte[16];
        tenantId.TryWriteBytes(bytes);
        return BinaryPrimitives.ReadInt32LittleEndian(bytes) ^ BinaryPrimitives.ReadInt32LittleEndian(bytes[4..])
            ^ BinaryPrimitives.ReadInt32LittleEndian(bytes[8..]) ^ BinaryPrimitives.ReadInt32LittleEndian(bytes[12..]);
    }

    /// <summary>A batch command with positional parameters ($1, $2, …) typed by their values.</summary>
    private static NpgsqlBatchCommand Command(string sql, params object[] values)
    {
        var command = new NpgsqlBatchCommand(sql);
        foreach (var value in values)
        {
            command.Parameters.Add(value switch
            {
                Guid?[] nullableGuids => new NpgsqlParameter { Value = nullableGuids, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Uuid },
                _ => new NpgsqlParameter { Value = value },
            });
        }

        return command;
    }
}
