using System.Diagnostics;
using System.Threading.Channels;
using LearnerVault.Privacy.Audit;
using Microsoft.Data.Sqlite;

namespace LearnerVault.Storage.Sqlite;

/// <summary>
/// The single writer of the data file, with group commit: it takes every write waiting in its queue (up to a cap):
/// statement batches, and the writes of the document, activity-definition, access-log and privacy stores
/// (<see cref="SerialWriter"/>). It applies each inside its own SAVEPOINT within one transaction, commits once (one WAL
/// sync for the whole group), publishes the new statements to the <see cref="RecentIndex"/>, and only then completes
/// the callers' tasks. A write that fails is rolled back to its savepoint and fails alone; the others in the group
/// commit. A statement batch may bring the access-log entries of its decision: they go in a savepoint of their own just
/// before the batch's, so they commit with it and stay if the batch alone is rolled back.
/// <para>Once enough recent statements have gathered, it merges them into a new segment of the id and postings tables
/// (<see cref="SegmentMerge"/>), a step at a time: each group's transaction carries a share of the merge's rows in
/// proportion to its statements, the writer advances the merge in transactions of its own while its queue is empty,
/// and a last transaction publishes the segment. A merge in one piece held every write back for as long as it took
/// (about 0.4 s for 30,000 statements, during which the request threads ran out of work).</para>
/// </summary>
/// <remarks>One writer rather than a connection per store: SQLite lets one transaction write the file at a time, so
/// several write connections only took turns at the file lock, each with its own WAL sync, and a connection that found
/// the lock taken slept in SQLite's busy handler (1, 2, 5, 10… ms) instead of joining the next group.</remarks>
internal sealed class StatementWriter : IAsyncDisposable
{
    private const int MaxBatchesPerCommit = 1024;
    private const int MaxStatementsPerCommit = 8192;
    private const int QueueCapacity = 16_384;

    private readonly Channel<WriterItem> queue = Channel.CreateBounded<WriterItem>(
        new BoundedChannelOptions(QueueCapacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });

    private readonly SqliteConnection connection;
    private readonly TimeProvider timeProvider;
    private readonly RecentIndex recent;
    private readonly int? fixedMergeThreshold;
    private readonly int? fixedMergeStep;
    private readonly Thread thread;
    private readonly TaskCompletionSource stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);

    // Tenant numbers known to the writer, forgotten whenever a transaction rolls back as a whole: the tenant row may have
    // been inserted by that transaction (by this writer, or by another store's write in the same group).
    private readonly Dictionary<Guid, long> tenantNumbers = [];

    // Statements written by the open transaction, not yet published: earlier batches of the group and earlier
    // statements of the batch must be seen by the duplicate check.
    private readonly Dictionary<(long Tenant, Guid Id), RecentEntry> pending = [];
    private readonly List<(long Tenant, Guid Id)> batchKeys = [];
    private readonly List<RecentStatement> batchStatements = [];
    private readonly List<(long Tenant, long Seq, StoredTerm Term)> batchTerms = [];
    private readonly List<RecentStatement> groupStatements = [];
    private readonly List<(long Tenant, long Seq, StoredTerm Term)> groupTerms = [];

    private readonly SqliteCommand begin;
    private readonly SqliteCommand commit;
    private readonly SqliteCommand rollback;
    private readonly SqliteCommand savepoint;
    private readonly SqliteCommand release;
    private readonly SqliteCommand rollbackToSavepoint;
    private readonly SqliteCommand insertTenant;
    private readonly SqliteCommand selectTenant;
    private readonly SqliteCommand probe;
    private readonly SqliteCommand selectMergedTarget;
    private readonly SqliteCommand selectTargetBySeq;
    private readonly SqliteCommand selectContentHash;
    private readonly SqliteCommand selectReferrers;
    private readonly RawStatement insertStatement;

    // The other stores' prepared statements (writer thread only), by SQL text; finalized when the writer closes.
    private readonly Dictionary<string, RawStatement> prepared = new(StringComparer.Ordinal);
    private readonly SqliteCommand markVoided;
    private readonly SqliteCommand updateTerms;
    private readonly SqliteCommand selectSegment;
    private readonly SqliteCommand insertPosting;
    private readonly SqliteCommand upsertAttachment;
    private readonly SqliteCommand linkAttachment;
    private readonly SqliteCommand[] commands;
    private readonly WalCheckpointer checkpointer;

    private long lastStored;

    /// <summary>The smallest stored value the group being committed may hold; 0 when no group is in flight.</summary>
    private long inFlightFrom;
    private long mergedStatements;
    private int disposed;

    /// <summary>The merge under way, if any (writer thread only).</summary>
    private SegmentMerge? merge;

    /// <summary>After a failed merge, the number of recent statements at which to try again (0: no failure pending).
    /// A merge is only begun after a group, never after one of its own steps, so a failure that persists costs one
    /// attempt per tenth of a threshold of new statements, and cannot keep a closing writer busy.</summary>
    private int retryMergeAt;

    // Between two steps of a merge while nothing is queued, the writer rests as long as the step took, so that a merge
    // finishing after a burst of writes takes at most half a core from the readers; a write wakes it.
    private readonly AutoResetEvent arrived = new(false);
    private int resting;

    public StatementWriter(
        SqliteConnection connection, TimeProvider timeProvider, RecentIndex recent, int? fixedMergeThreshold = null, int? fixedMergeStep = null)
    {
        this.connection = connection;
        this.timeProvider = timeProvider;
        this.recent = recent;
        this.fixedMergeThreshold = fixedMergeThreshold;
        this.fixedMergeStep = fixedMergeStep;

        using (var max = connection.CreateCommand())
        {
            // Stored times keep increasing across restarts even if the clock went back meanwhile.
            max.CommandText = "SELECT coalesce(max(seq), 0), (SELECT coalesce(sum(size), 0) FROM segments) FROM statements;";
            using var reader = max.ExecuteReader();
            reader.Read();
            lastStored = reader.GetInt64(0);
            mergedStatements = reader.GetInt64(1);
        }

        const SqliteType Blob = SqliteType.Blob;
        const SqliteType Integer = SqliteType.Integer;
        begin = SqliteConnections.Prepare(connection, "BEGIN IMMEDIATE;");
        commit = SqliteConnections.Prepare(connection, "COMMIT;");
        rollback = SqliteConnections.Prepare(connection, "ROLLBACK;");
        savepoint = SqliteConnections.Prepare(connection, "SAVEPOINT batch;");
        release = SqliteConnections.Prepare(connection, "RELEASE batch;");
        rollbackToSavepoint = SqliteConnections.Prepare(connection, "ROLLBACK TO batch;");
        insertTenant = SqliteConnections.Prepare(connection, "INSERT OR IGNORE INTO tenants (id) VALUES ($id);", ("$id", Blob));
        selectTenant = SqliteConnections.Prepare(connection, "SELECT no FROM tenants WHERE id = $id;", ("$id", Blob));
        // For an id not among the recent statements, one round trip answers whether a merged statement has it
        // (kind 0) and which stored statements reference it (kind 1: to be voided by, and to inherit its terms).
        probe = SqliteConnections.Prepare(connection, """
            SELECT 0, s.seq, s.content_hash, NULL, NULL, NULL FROM statement_ids AS i CROSS JOIN statements AS s
            WHERE i.tenant_no = $t AND i.id = $id AND s.seq = i.seq
            UNION ALL
            SELECT 1, seq, NULL, id, is_voiding, terms FROM statements
            WHERE tenant_no = $t AND ref_target = $id AND ref_target IS NOT NULL;
            """, ("$t", Integer), ("$id", Blob));
        selectMergedTarget = SqliteConnections.Prepare(connection, """
            SELECT s.seq, s.is_voiding, s.terms FROM statement_ids AS i CROSS JOIN statements AS s
            WHERE i.tenant_no = $t AND i.id = $id AND s.seq = i.seq;
            """, ("$t", Integer), ("$id", Blob));
        selectTargetBySeq = SqliteConnections.Prepare(connection, "SELECT seq, is_voiding, terms FROM statements WHERE seq = $seq;", ("$seq", Integer));
        selectContentHash = SqliteConnections.Prepare(connection, "SELECT content_hash FROM statements WHERE seq = $seq;", ("$seq", Integer));
        selectReferrers = SqliteConnections.Prepare(connection, """
            SELECT seq, id, is_voiding, terms FROM statements
            WHERE tenant_no = $t AND ref_target = $id AND ref_target IS NOT NULL;
            """, ("$t", Integer), ("$id", Blob));
        // Bound by position: ?1 … ?14 in the order of the columns.
        insertStatement = new RawStatement(connection, """
            INSERT INTO statements (seq, tenant_no, id, key_id, client_id, blob, content_hash, terms, ref_target, is_voiding, voided, has_timestamp, learner, restricted)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14);
            """);
        markVoided = SqliteConnections.Prepare(connection, "UPDATE statements SET voided = 1 WHERE seq = $seq;", ("$seq", Integer));
        updateTerms = SqliteConnections.Prepare(connection, "UPDATE statements SET terms = $terms WHERE seq = $seq;", ("$terms", Blob), ("$seq", Integer));
        selectSegment = SqliteConnections.Prepare(connection, "SELECT id FROM segments WHERE first_seq <= $seq AND last_seq >= $seq;", ("$seq", Integer));
        insertPosting = SqliteConnections.Prepare(connection, """
            INSERT OR IGNORE INTO statement_terms (segment, tenant_no, term, seq) VALUES ($segment, $t, $term, $seq);
            INSERT INTO term_counts (tenant_no, term, n) VALUES ($t, $term, changes())
            ON CONFLICT (tenant_no, term) DO UPDATE SET n = n + excluded.n;
            """, ("$segment", Integer), ("$t", Integer), ("$term", Blob), ("$seq", Integer));
        // One copy per tenant and content address: a statement sharing stored content only adds a reference.
        upsertAttachment = SqliteConnections.Prepare(connection, """
            INSERT INTO attachments (tenant_no, hash_key, key_id, blob, refs) VALUES ($t, $hash, $key, $blob, 1)
            ON CONFLICT (tenant_no, hash_key) DO UPDATE SET refs = refs + 1
            RETURNING no;
            """, ("$t", Integer), ("$hash", Blob), ("$key", Integer), ("$blob", Blob));
        linkAttachment = SqliteConnections.Prepare(connection,
            "INSERT INTO statement_attachments (seq, attachment_no) VALUES ($seq, $no);", ("$seq", Integer), ("$no", Integer));
        commands =
        [
            begin, commit, rollback, savepoint, release, rollbackToSavepoint, insertTenant, selectTenant, probe,
            selectMergedTarget, selectTargetBySeq, selectContentHash, selectReferrers, markVoided, updateTerms,
            selectSegment, insertPosting, upsertAttachment, linkAttachment,
        ];

        // Checkpoints run beside the writer, never inside one of its commits.
        // After a restart the log file is cut back to 64 MiB rather than kept at the largest size it ever reached.
        SqliteConnections.Execute(connection, "PRAGMA wal_autocheckpoint = 0; PRAGMA journal_size_limit = 67108864;");
        checkpointer = new WalCheckpointer(connection.DataSource);

        thread = new Thread(Run) { IsBackground = true, Name = "LearnerVault statement writer" };
        thread.Start();
    }

    /// <summary>Recent statements held in memory before they are merged into a segment: about a tenth of those
    /// already merged (a merge rewrites the id index, so it must be amortised over enough statements), within bounds.</summary>
    /// <remarks>The upper bound is the memory budget's: the memory index costs about 400 bytes of managed heap per recent
    /// statement, gathered and freed in a sawtooth between merges. Measured at a million statements (batches of 100, 4
    /// clients): bound 200,000 (then 100,000 in effect), peak 273 – 278 MiB; 50,000, 256 MiB; 30,000, 242 – 245 MiB at the
    /// same throughput and less CPU. The price: more segments (about one per 30,000 statements past 300,000, each
    /// one more seek for a rare term's query) and, in far larger stores, merges that rewrite the id index's pages for
    /// fewer statements each.</remarks>
    private int MergeThreshold => fixedMergeThreshold ?? (int)Math.Clamp(mergedStatements / 10, 20_000, 30_000);

    /// <summary>The merge rows a group of <paramref name="statements"/> carries: enough that the merge is done by the time
    /// half a threshold's worth of new statements has come (so the memory index stays within about 1.5 thresholds), and
    /// at least <see cref="MinMergeStep"/> (a step has a fixed cost).</summary>
    private int MergeStep(int statements) =>
        fixedMergeStep ?? (int)Math.Clamp(merge!.Records * statements / Math.Max(1, MergeThreshold / 2), MinMergeStep, int.MaxValue);

    /// <summary>Merge rows per transaction of the merge's own, while the queue is empty: a few milliseconds of work, so
    /// a write that arrives meanwhile (a read's access-log entries, too) waits little more than it would for a commit.</summary>
    private int IdleMergeStep => fixedMergeStep ?? 2048;

    private const int MinMergeStep = 1024;

    public async Task<IReadOnlyList<WriteOutcome>> WriteAsync(Guid tenantId, IReadOnlyList<StatementRecord> batch, CancellationToken cancellationToken) =>
        (await WriteAsync(tenantId, batch, null, cancellationToken)).Outcomes;

    /// <summary>Writes a batch in the next group's transaction.</summary>
    /// <param name="accessLog">Run first, in a savepoint of its own (then the batch in another): the access-log append
    /// that records the decision to store the batch. Its entries commit with the batch, and stay when the batch is refused
    /// on a conflict; if it throws, the batch is not applied and the task fails with
    /// <see cref="AccessLogAppendException"/>.</param>
    public async Task<BatchResult> WriteAsync(
        Guid tenantId, IReadOnlyList<StatementRecord> batch, Func<SqliteConnection, AccessLogHead>? accessLog, CancellationToken cancellationToken)
    {
        // The terms are checked and converted here, on the caller's thread: the writer thread is the serial part.
        var terms = new StoredTermSet[batch.Count];
        for (var i = 0; i < batch.Count; i++)
        {
            terms[i] = StoredTermSet.From(batch[i].Terms);
        }

        var request = new BatchRequest(tenantId, batch, terms, accessLog, cancellationToken);
        await EnqueueAsync(request, cancellationToken);
        return await request.Completion.Task;
    }

    /// <summary>
    /// Runs <paramref name="work"/> on the writer thread, inside the transaction of the next group (in a savepoint of
    /// its own), and completes once that transaction has committed. If the work throws, what it wrote is rolled back
    /// and the exception is the task's; the rest of the group commits. The work must be synchronous and short, and
    /// must not wait for this writer.
    /// </summary>
    public async Task<T> RunAsync<T>(Func<SqliteConnection, T> work, CancellationToken cancellationToken)
    {
        var item = new WorkItem<T>(work, cancellationToken);
        await EnqueueAsync(item, cancellationToken);
        return await item.Completion.Task;
    }

    private async ValueTask EnqueueAsync(WriterItem item, CancellationToken cancellationToken)
    {
        try
        {
            await queue.Writer.WriteAsync(item, cancellationToken);
        }
        catch (ChannelClosedException)
        {
            throw new ObjectDisposedException(nameof(SqliteStatementStore), "The data file's writer is closed.");
        }

        // Read after the item is in the queue (the writer sets the flag, then looks at the queue): one of the two sees
        // the other.
        Interlocked.MemoryBarrier();
        if (Volatile.Read(ref resting) != 0)
        {
            arrived.Set();
        }
    }

    private void Run()
    {
        var reader = queue.Reader;
        var group = new List<WriterItem>();
        try
        {
            while (true)
            {
                group.Clear();
                var size = 0;
                var statements = 0;
                while (group.Count < MaxBatchesPerCommit && size < MaxStatementsPerCommit && reader.TryRead(out var request))
                {
                    if (request.CancellationToken.IsCancellationRequested)
                    {
                        request.Cancel();
                        continue;
                    }

                    group.Add(request);
                    size += request.Size;
                    statements += request is BatchRequest ? request.Size : 0;
                }

                if (group.Count > 0)
                {
                    CommitGroup(group, statements);
                    if (merge is null && recent.Count >= Math.Max(MergeThreshold, retryMergeAt))
                    {
                        StartMerge();
                    }
                }
                else if (merge is not null)
                {
                    // Nothing queued. Statement writes carry the merge forward; without them it goes on in transactions
                    // of its own, but only once the writer has been quiet for a while (also at once while closing, so
                    // that a graceful stop leaves the segment whole): the other stores' writes (reads' access-log
                    // entries, between one query and the next) would each wait for a step and its commit.
                    if (!Rest(reader, QuietBeforeMergingAlone))
                    {
                        var started = Stopwatch.GetTimestamp();
                        StepMergeAlone();
                        Rest(reader, Stopwatch.GetElapsedTime(started));
                    }
                }
                else if (WaitToRead(reader))
                {
                    continue;
                }
                else
                {
                    break;
                }

                if (merge is { RowsWritten: true })
                {
                    FinishMerge();
                }

                checkpointer.Nudge();
            }

            stopped.TrySetResult();
        }
        catch (Exception exception)
        {
            // Not expected: CommitGroup handles its own failures. Refuse new writes and fail whatever is still queued,
            // rather than leave callers (statement writes, and every other store's writes too) waiting for ever.
            queue.Writer.TryComplete(exception);
            foreach (var request in group)
            {
                request.Fail(exception);
            }

            while (reader.TryRead(out var request))
            {
                request.Fail(exception);
            }

            stopped.TrySetException(exception);
        }
    }

    /// <summary>Waits up to <paramref name="time"/> unless a write is queued or comes meanwhile, or the queue is closed.</summary>
    /// <returns>False when the time passed (or the writer is closing) with nothing queued.</returns>
    private bool Rest(ChannelReader<WriterItem> reader, TimeSpan time)
    {
        Interlocked.Exchange(ref resting, 1);
        var woken = reader.TryPeek(out _)
            || (!reader.Completion.IsCompleted && Volatile.Read(ref disposed) == 0 && arrived.WaitOne(time));
        Interlocked.Exchange(ref resting, 0);
        return woken || reader.TryPeek(out _);
    }

    private static readonly TimeSpan QuietBeforeMergingAlone = TimeSpan.FromMilliseconds(100);

    private static bool WaitToRead(ChannelReader<WriterItem> reader)
    {
        var wait = reader.WaitToReadAsync();
        if (wait.IsCompletedSuccessfully)
        {
            return wait.Result;
        }

        // Block on the kernel event rather than Task.Wait, which spins first: on a small machine the dedicated writer
        // thread would burn a core between commits (measured: ~8% of server CPU under single-statement load).
        var task = wait.AsTask();
        ((IAsyncResult)task).AsyncWaitHandle.WaitOne();
        return task.GetAwaiter().GetResult();
    }

    private void CommitGroup(List<WriterItem> group, int statements)
    {
        var results = new object?[group.Count];
        Volatile.Write(ref inFlightFrom, lastStored + 1);
        var stepped = false;
        try
        {
            begin.ExecuteNonQuery();
            if (merge is { RowsWritten: false } && statements > 0)
            {
                stepped = StepMergeInGroup(MergeStep(statements));
            }

            for (var i = 0; i < group.Count; i++)
            {
                if (group[i] is WorkItem work)
                {
                    results[i] = RunWork(work.Run);
                    continue;
                }

                var request = (BatchRequest)group[i];
                AccessLogHead? head = null;
                if (request.AccessLog is { } appendToLog)
                {
                    var logged = RunWork(appendToLog);
                    if (logged is Exception failure)
                    {
                        results[i] = new AccessLogAppendException(failure);
                        continue;
                    }

                    head = (AccessLogHead)logged!;
                }

                var tenantNo = EnsureTenant(request.TenantId);
                batchKeys.Clear();
                batchStatements.Clear();
                batchTerms.Clear();
                savepoint.ExecuteNonQuery();
                try
                {
                    results[i] = new BatchResult(Apply(tenantNo, request.Batch, request.Terms), head);
                    release.ExecuteNonQuery();
                    groupStatements.AddRange(batchStatements);
                    groupTerms.AddRange(batchTerms);
                }
                catch (Exception exception) when (exception is StatementConflictException or ArgumentException)
                {
                    rollbackToSavepoint.ExecuteNonQuery();
                    release.ExecuteNonQuery();
                    foreach (var key in batchKeys)
                    {
                        pending.Remove(key);
                    }

                    results[i] = exception;
                }
            }

            commit.ExecuteNonQuery();
            if (merge is not null)
            {
                if (stepped)
                {
                    merge.Committed();
                }

                // Terms inherited by statements of the merge's snapshot: it writes them when it finishes.
                foreach (var (tenant, seq, term) in groupTerms)
                {
                    if (seq <= merge.Through)
                    {
                        merge.AddLate(tenant, seq, term);
                    }
                }
            }

            // Published before any caller hears of success, so a read after the acknowledgement sees the statements.
            recent.Publish(groupStatements, groupTerms);
        }
        catch (Exception exception)
        {
            // A failure of the transaction itself (I/O, disk full, busy): nothing of the group is durable.
            TryRollback();
            tenantNumbers.Clear();
            foreach (var request in group)
            {
                request.Fail(exception);
            }

            return;
        }
        finally
        {
            Volatile.Write(ref inFlightFrom, 0);
            pending.Clear();
            groupStatements.Clear();
            groupTerms.Clear();
        }

        for (var i = 0; i < group.Count; i++)
        {
            if (results[i] is Exception exception)
            {
                group[i].Fail(exception);
            }
            else
            {
                group[i].Succeed(results[i]);
            }
        }
    }

    /// <summary>One store's write in its savepoint: its result, or the exception it threw once its writes are undone.</summary>
    private object? RunWork(Func<SqliteConnection, object?> work)
    {
        savepoint.ExecuteNonQuery();
        try
        {
            var result = work(connection);
            release.ExecuteNonQuery();
            return result;
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            // SQLite ends the whole transaction itself on some errors (I/O, disk full): then the group fails as one.
            if (connection.IsAutoCommit())
            {
                throw;
            }

            rollbackToSavepoint.ExecuteNonQuery();
            release.ExecuteNonQuery();
            // A tenant row the work inserted is gone again (and its number may be reused): look numbers up afresh.
            tenantNumbers.Clear();
            return exception;
        }
    }

    /// <summary>Writer thread only (inside a <see cref="RunAsync"/> work): <paramref name="sql"/> prepared once on the
    /// writer's connection, kept until the writer closes.</summary>
    public RawStatement Prepared(string sql)
    {
        ThrowIfOffWriterThread("Prepared statements of the writer are used on its thread only.");
        if (!prepared.TryGetValue(sql, out var statement))
        {
            prepared[sql] = statement = new RawStatement(connection, sql);
        }

        return statement;
    }

    private void TryRollback()
    {
        try
        {
            if (!connection.IsAutoCommit())
            {
                rollback.ExecuteNonQuery();
            }
        }
        catch (SqliteException)
        {
            // SQLite already rolled back (it does so itself on some I/O errors).
        }
    }

    /// <summary>Writer thread only (inside a <see cref="RunAsync"/> work): the tenant's row number, inserting its row
    /// when there is none (see <see cref="SerialWriter.EnsureTenant"/>).</summary>
    public long TenantNumber(Guid tenantId)
    {
        ThrowIfOffWriterThread("The writer's tenant numbers are used on its thread only.");
        return EnsureTenant(tenantId);
    }

    private void ThrowIfOffWriterThread(string message)
    {
        if (Environment.CurrentManagedThreadId != thread.ManagedThreadId)
        {
            throw new InvalidOperationException(message);
        }
    }

    private long EnsureTenant(Guid tenantId)
    {
        if (tenantNumbers.TryGetValue(tenantId, out var number))
        {
            return number;
        }

        var id = SqliteValues.GuidBytes(tenantId);
        insertTenant.Parameters[0].Value = id;
        insertTenant.ExecuteNonQuery();

        selectTenant.Parameters[0].Value = id;
        number = (long)selectTenant.ExecuteScalar()!;
        tenantNumbers[tenantId] = number;
        return number;
    }

    private WriteOutcome[] Apply(long tenantNo, IReadOnlyList<StatementRecord> batch, StoredTermSet[] batchTermSets)
    {
        var outcomes = new WriteOutcome[batch.Count];
        for (var i = 0; i < batch.Count; i++)
        {
            var statement = batch[i];
            var key = (tenantNo, statement.Id);
            var id = SqliteValues.GuidBytes(statement.Id);
            List<Referrer>? referrers = null;
            byte[]? existingHash = null;
            if (pending.TryGetValue(key, out var entry) || recent.TryGet(tenantNo, statement.Id, out entry))
            {
                // A repeated id (rare: a client sending a statement again): its content hash from the row.
                selectContentHash.Parameters[0].Value = entry.Seq;
                existingHash = (byte[])selectContentHash.ExecuteScalar()!;
            }
            else
            {
                existingHash = Probe(tenantNo, id, out referrers);
            }

            if (existingHash is not null)
            {
                if (existingHash.AsSpan().SequenceEqual(statement.ContentHash))
                {
                    outcomes[i] = WriteOutcome.Duplicate;
                    continue;
                }

                throw new StatementConflictException(statement.Id);
            }

            var terms = batchTermSets[i];

            byte[]? refTarget = null;
            if (statement.RefTarget is { } targetId)
            {
                refTarget = SqliteValues.GuidBytes(targetId);
                if (FindTarget(tenantNo, targetId, refTarget) is { } target)
                {
                    // Filters match a statement that references a matching one (xAPI Communication 2.1.3),
                    // recursively: the target's terms already include what it inherited.
                    terms.AddBlob(target.Terms);
                    if (statement.IsVoiding && !target.IsVoiding)
                    {
                        markVoided.Parameters[0].Value = target.Seq;
                        markVoided.ExecuteNonQuery();
                    }
                }
            }

            // A stored voiding statement that references this one voids it, unless this one is itself voiding.
            var voided = !statement.IsVoiding && referrers is not null && referrers.Exists(r => r.IsVoiding);

            var seq = NextStored();
            var termsBlob = terms.ToBlob();
            insertStatement.Bind(1, seq);
            insertStatement.Bind(2, tenantNo);
            insertStatement.Bind(3, id);
            insertStatement.Bind(4, statement.KeyId);
            insertStatement.Bind(5, statement.ClientId);
            insertStatement.Bind(6, statement.Blob);
            insertStatement.Bind(7, statement.ContentHash);
            insertStatement.Bind(8, termsBlob);
            insertStatement.Bind(9, refTarget);
            insertStatement.Bind(10, statement.IsVoiding);
            insertStatement.Bind(11, voided);
            insertStatement.Bind(12, statement.HasTimestamp);
            insertStatement.Bind(13, statement.Learner);
            insertStatement.Bind(14, statement.Restricted);
            insertStatement.Execute();
            if (statement.Attachments.Count > 0)
            {
                WriteAttachments(tenantNo, seq, statement.Attachments);
            }

            pending[key] = new RecentEntry(seq);
            batchKeys.Add(key);
            var postings = new List<StoredTerm>(terms.Count + 1);
            postings.AddRange(terms.Items);
            postings.Add(StoredTerm.ForClient(statement.ClientId));
            batchStatements.Add(new RecentStatement(tenantNo, statement.Id, seq, postings));

            if (referrers is not null && terms.Count > 0)
            {
                // ...and every stored statement that references this one inherits its terms.
                PropagateTerms(tenantNo, seq, terms, referrers);
            }

            outcomes[i] = WriteOutcome.Stored;
        }

        return outcomes;
    }

    /// <summary>Stores each distinct attachment content of a new statement (or adds a reference to the stored copy) and
    /// links it to the statement; the batch's savepoint undoes all of it if the batch fails.</summary>
    private void WriteAttachments(long tenantNo, long seq, IReadOnlyList<AttachmentRecord> attachments)
    {
        for (var i = 0; i < attachments.Count; i++)
        {
            var attachment = attachments[i];
            if (ListedBefore(attachments, i))
            {
                continue;
            }

            var p = upsertAttachment.Parameters;
            p[0].Value = tenantNo;
            p[1].Value = attachment.HashKey;
            p[2].Value = attachment.KeyId;
            p[3].Value = attachment.Blob;
            var no = (long)upsertAttachment.ExecuteScalar()!;
            linkAttachment.Parameters[0].Value = seq;
            linkAttachment.Parameters[1].Value = no;
            linkAttachment.ExecuteNonQuery();
        }
    }

    private static bool ListedBefore(IReadOnlyList<AttachmentRecord> attachments, int index)
    {
        for (var j = 0; j < index; j++)
        {
            if (attachments[j].HashKey.AsSpan().SequenceEqual(attachments[index].HashKey))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>A target stored after the statements that reference it: they (and, recursively, their referrers) gain
    /// its terms, so that filters match in whatever order the statements arrived.</summary>
    private void PropagateTerms(long tenantNo, long targetSeq, StoredTermSet targetTerms, List<Referrer> referrers)
    {
        var visited = new HashSet<long> { targetSeq };
        var queue = new Queue<(Referrer Referrer, IReadOnlyList<StoredTerm> Added)>();
        foreach (var referrer in referrers)
        {
            queue.Enqueue((referrer, targetTerms.Items));
        }

        while (queue.TryDequeue(out var item))
        {
            var (referrer, added) = item;
            if (!visited.Add(referrer.Seq))
            {
                continue;
            }

            var existing = StoredTermSet.FromBlob(referrer.Terms);
            var gained = added.Where(existing.Add).ToList();
            if (gained.Count == 0)
            {
                continue;
            }

            updateTerms.Parameters[0].Value = existing.ToBlob();
            updateTerms.Parameters[1].Value = referrer.Seq;
            updateTerms.ExecuteNonQuery();
            if (referrer.Seq > recent.Floor)
            {
                batchTerms.AddRange(gained.Select(term => (tenantNo, referrer.Seq, term)));
            }
            else
            {
                // Already merged: its postings live in the segment that holds it.
                selectSegment.Parameters[0].Value = referrer.Seq;
                var segment = (long)selectSegment.ExecuteScalar()!;
                foreach (var term in gained)
                {
                    var p = insertPosting.Parameters;
                    p[0].Value = segment;
                    p[1].Value = tenantNo;
                    p[2].Value = term.ToBytes();
                    p[3].Value = referrer.Seq;
                    insertPosting.ExecuteNonQuery();
                }
            }

            foreach (var next in SelectReferrers(tenantNo, referrer.Id))
            {
                queue.Enqueue((next, gained));
            }
        }
    }

    /// <summary>
    /// The time through which every statement is visible to readers: just before now when no write is in flight,
    /// else just before the first stored value the in-flight group may use.
    /// </summary>
    public DateTimeOffset ConsistentThrough()
    {
        // Read the clock before the in-flight marker: a group that starts after this read takes stored values at
        // or after this instant, so excluding the instant itself keeps the answer true.
        var now = SqliteValues.ToUnixMicroseconds(timeProvider.GetUtcNow());
        var from = Volatile.Read(ref inFlightFrom);
        // Under a burst, stored values may run a few microseconds ahead of the clock; when idle all are visible.
        var through = from == 0 ? Math.Max(now - 1, Volatile.Read(ref lastStored)) : Math.Min(now, from) - 1;
        return SqliteValues.FromUnixMicroseconds(through);
    }

    private long NextStored()
    {
        var now = SqliteValues.ToUnixMicroseconds(timeProvider.GetUtcNow());
        lastStored = Math.Max(now, lastStored + 1);
        return lastStored;
    }

    /// <summary>Content hash of a merged statement with this id (or null), and the statements referencing the id.</summary>
    private byte[]? Probe(long tenantNo, byte[] id, out List<Referrer>? referrers)
    {
        probe.Parameters[0].Value = tenantNo;
        probe.Parameters[1].Value = id;
        byte[]? existing = null;
        referrers = null;
        using var reader = probe.ExecuteReader();
        while (reader.Read())
        {
            if (reader.GetInt64(0) == 0)
            {
                existing = (byte[])reader.GetValue(2);
            }
            else
            {
                (referrers ??= []).Add(new Referrer(reader.GetInt64(1), (byte[])reader.GetValue(3), reader.GetInt64(4) != 0, (byte[])reader.GetValue(5)));
            }
        }

        return existing;
    }

    private Target? FindTarget(long tenantNo, Guid targetId, byte[] targetIdBytes)
    {
        SqliteCommand command;
        if (pending.TryGetValue((tenantNo, targetId), out var entry) || recent.TryGet(tenantNo, targetId, out entry))
        {
            command = selectTargetBySeq;
            command.Parameters[0].Value = entry.Seq;
        }
        else
        {
            command = selectMergedTarget;
            command.Parameters[0].Value = tenantNo;
            command.Parameters[1].Value = targetIdBytes;
        }

        using var reader = command.ExecuteReader();
        return reader.Read() ? new Target(reader.GetInt64(0), reader.GetInt64(1) != 0, (byte[])reader.GetValue(2)) : null;
    }

    private List<Referrer> SelectReferrers(long tenantNo, byte[] id)
    {
        selectReferrers.Parameters[0].Value = tenantNo;
        selectReferrers.Parameters[1].Value = id;
        var referrers = new List<Referrer>();
        using var reader = selectReferrers.ExecuteReader();
        while (reader.Read())
        {
            referrers.Add(new Referrer(reader.GetInt64(0), (byte[])reader.GetValue(1), reader.GetInt64(2) != 0, (byte[])reader.GetValue(3)));
        }

        return referrers;
    }

    /// <summary>Begins merging every recent statement into a new segment (<see cref="SegmentMerge"/>); writer thread,
    /// between transactions.</summary>
    private void StartMerge()
    {
        try
        {
            merge = SegmentMerge.Start(connection, recent, lastStored);
        }
        catch (SqliteException)
        {
            // Tried again after the next group. Writes are unaffected.
            merge = null;
        }
    }

    /// <summary>One step of the merge first in the group's transaction, in a savepoint of its own (<see cref="RunWork"/>):
    /// if it fails, the merge is dropped and the group goes on as if it had not been tried.</summary>
    private bool StepMergeInGroup(int budget)
    {
        object? failure;
        try
        {
            failure = RunWork(_ =>
            {
                merge!.Step(budget);
                return null;
            });
        }
        catch (Exception exception) when (exception is not OutOfMemoryException && connection.IsAutoCommit())
        {
            // SQLite ended the transaction itself (I/O, disk full): start the group's afresh.
            begin.ExecuteNonQuery();
            failure = exception;
        }

        if (failure is null)
        {
            return true;
        }

        AbandonMerge();
        return false;
    }

    private void StepMergeAlone()
    {
        if (RunMergeTransaction(current => current.Step(IdleMergeStep)))
        {
            merge!.Committed();
        }
    }

    /// <summary>Publishes the segment (late postings and the <c>segments</c> row in one transaction); then the memory index forgets
    /// the merged statements.</summary>
    private void FinishMerge()
    {
        if (!RunMergeTransaction(static current => current.Finish()))
        {
            return;
        }

        recent.Forget(merge!.Through);
        retryMergeAt = 0;
        mergedStatements += merge.Size;
        merge.Dispose();
        merge = null;
    }

    /// <summary>Runs some of the merge's work in a transaction of its own; if it fails, the merge is dropped.</summary>
    private bool RunMergeTransaction(Action<SegmentMerge> work)
    {
        try
        {
            begin.ExecuteNonQuery();
            work(merge!);
            commit.ExecuteNonQuery();
            return true;
        }
        catch (Exception exception) when (exception is SqliteException or ArgumentOutOfRangeException)
        {
            TryRollback();
            AbandonMerge();
            return false;
        }
    }

    /// <summary>A failed merge changes nothing readers see: the statements stay in memory, the rows written so far are
    /// written again by the next merge (after the next group).</summary>
    private void AbandonMerge()
    {
        merge?.Dispose();
        merge = null;
        retryMergeAt = recent.Count + Math.Max(1, MergeThreshold / 10);
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref disposed, 1) != 0)
        {
            return;
        }

        // Completing the queue lets the writer drain every batch already accepted (and finish a merge), then stop.
        queue.Writer.TryComplete();
        arrived.Set();
        try
        {
            await stopped.Task;
        }
        finally
        {
            foreach (var command in commands)
            {
                command.Dispose();
            }

            insertStatement.Dispose();
            foreach (var statement in prepared.Values)
            {
                statement.Dispose();
            }

            // arrived is left to its finalizer: a write accepted just before the close may still set it afterwards.
            merge?.Dispose();
            checkpointer.Dispose();
            try
            {
                // Leave a self-contained data file behind (WAL folded in), then close.
                SqliteConnections.Execute(connection, "PRAGMA wal_checkpoint(TRUNCATE);");
            }
            catch (SqliteException)
            {
                // A reader still open elsewhere can block the checkpoint; the WAL is replayed on next open.
            }

            SqliteConnections.Close(connection);
        }
    }

    /// <summary>A batch's outcomes, and the access-log head after its entries (null when it carried none).</summary>
    public sealed record BatchResult(IReadOnlyList<WriteOutcome> Outcomes, AccessLogHead? AccessLogHead);

    private sealed record Target(long Seq, bool IsVoiding, byte[] Terms);

    private sealed record Referrer(long Seq, byte[] Id, bool IsVoiding, byte[] Terms);

    /// <summary>What the writer's queue holds: a statement batch, or one store's write.</summary>
    private abstract class WriterItem(CancellationToken cancellationToken)
    {
        public CancellationToken CancellationToken { get; } = cancellationToken;

        /// <summary>Its weight against the group's cap (statements for a batch).</summary>
        public abstract int Size { get; }

        public abstract void Succeed(object? result);

        public abstract void Fail(Exception exception);

        public abstract void Cancel();
    }

    private sealed class BatchRequest(
        Guid tenantId, IReadOnlyList<StatementRecord> batch, StoredTermSet[] terms, Func<SqliteConnection, AccessLogHead>? accessLog, CancellationToken cancellationToken)
        : WriterItem(cancellationToken)
    {
        public Guid TenantId { get; } = tenantId;

        /// <summary>The access-log append to run before the batch, in the same transaction; null for none.</summary>
        public Func<SqliteConnection, object?>? AccessLog { get; } = accessLog;

        public IReadOnlyList<StatementRecord> Batch { get; } = batch;

        /// <summary>Each statement's own terms, converted by the caller; the writer adds inherited ones to them.</summary>
        public StoredTermSet[] Terms { get; } = terms;

        public TaskCompletionSource<BatchResult> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override int Size => Batch.Count;

        public override void Succeed(object? result) => Completion.TrySetResult((BatchResult)result!);

        public override void Fail(Exception exception) => Completion.TrySetException(exception);

        public override void Cancel() => Completion.TrySetCanceled(CancellationToken);
    }

    private abstract class WorkItem(CancellationToken cancellationToken) : WriterItem(cancellationToken)
    {
        public override int Size => 1;

        public abstract object? Run(SqliteConnection connection);
    }

    private sealed class WorkItem<T>(Func<SqliteConnection, T> work, CancellationToken cancellationToken) : WorkItem(cancellationToken)
    {
        public TaskCompletionSource<T> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override object? Run(SqliteConnection connection) => work(connection);

        public override void Succeed(object? result) => Completion.TrySetResult((T)result!);

        public override void Fail(Exception exception) => Completion.TrySetException(exception);

        public override void Cancel() => Completion.TrySetCanceled(CancellationToken);
    }
}

internal static class SqliteConnectionExtensions
{
    /// <summary>True when no transaction is open on the connection (sqlite3_get_autocommit).</summary>
    public static bool IsAutoCommit(this SqliteConnection connection) =>
        SQLitePCL.raw.sqlite3_get_autocommit(connection.Handle) != 0;
}
