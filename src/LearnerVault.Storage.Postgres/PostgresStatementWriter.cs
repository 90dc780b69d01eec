using System.Runtime.ExceptionServices;
using Npgsql;

namespace LearnerVault.Storage.Postgres;

/// <summary>
/// Group commit for the statement writes of one node. Writers of a tenant are serialised by its advisory lock, which
/// is held until COMMIT; if every caller committed on its own, each would wait for the previous one's WAL flush and pay
/// its own. Instead, per tenant, one loop at a time writes everything that arrived meanwhile in ONE transaction:
/// <list type="number">
/// <item>BEGIN, and the tenant's lock, once (in the first batch's first round trip);</item>
/// <item>for each caller's batch in arrival order: <c>SAVEPOINT batch</c>, read + plan + write exactly as a lone write
/// would (its reads see the group's earlier batches), <c>RELEASE SAVEPOINT batch</c>; if the batch fails (a conflict,
/// or an error of its own), <c>ROLLBACK TO SAVEPOINT batch</c> undoes it and that caller alone fails;</item>
/// <item>one COMMIT; only then are the callers' tasks completed (a task completes when its statements are durable). If
/// the transaction itself fails (COMMIT, the connection, a rollback to a savepoint), every caller of the group fails.</item>
/// </list>
/// Since the lock still spans the whole transaction, per tenant commit order = seq order = stored order, across nodes
/// too. Different tenants write in parallel (a loop each, while they have work). A group holds at most
/// <see cref="MaxCallersPerGroup"/> callers and about <see cref="MaxStatementsPerGroup"/> statements. A caller cancelled
/// before its batch is written is dropped (its task is cancelled at once); once written, it shares the group's outcome.
/// <see cref="DisposeAsync"/> refuses new writes and waits until every accepted one is done.
/// </summary>
internal sealed class PostgresStatementWriter : IAsyncDisposable
{
    /// <summary>Callers per transaction: each released savepoint that wrote keeps a subtransaction id until COMMIT, and
    /// PostgreSQL caches 64 per backend (beyond that, every snapshot elsewhere has to consult pg_subtrans).</summary>
    internal const int MaxCallersPerGroup = 64;

    /// <summary>Statements per transaction (a single larger batch still goes alone).</summary>
    internal const int MaxStatementsPerGroup = 5_000;

    /// <summary>Opens the caller's savepoint; the batch writer sends it after the tenant's lock and before any read.</summary>
    internal const string Savepoint = "SAVEPOINT batch";

    /// <summary>Ends the caller's savepoint; the batch writer sends it in its last round trip, after every change.</summary>
    internal const string Release = "RELEASE SAVEPOINT batch";

    /// <summary>
    /// Writes one caller's batch inside the group's open transaction, in the order: (if <paramref name="lockTenant"/>)
    /// the tenant's advisory lock, then <see cref="Savepoint"/>, then reads and writes, then <see cref="Release"/>.
    /// Throws (<see cref="StatementConflictException"/> or any error) with the savepoint still open, or the transaction
    /// aborted after it: the writer rolls it back.
    /// </summary>
    public delegate Task<IReadOnlyList<WriteOutcome>> BatchWriter(
        NpgsqlConnection connection, NpgsqlTransaction transaction, Guid tenantId, IReadOnlyList<StatementRecord> batch, bool lockTenant);

    private readonly NpgsqlDataSource data;
    private readonly BatchWriter writeBatch;
    private readonly TenantGroupCommit<Request> groups;
    private long groupsCommitted;

    public PostgresStatementWriter(NpgsqlDataSource data, BatchWriter writeBatch)
    {
        this.data = data;
        this.writeBatch = writeBatch;
        groups = new(nameof(PostgresStatementWriter), CommitGroupAsync, r => r.Batch.Count, MaxCallersPerGroup, MaxStatementsPerGroup);
    }

    /// <summary>Transactions committed so far (for tests: fewer than the writes means writes were grouped).</summary>
    internal long GroupsCommitted => Interlocked.Read(ref groupsCommitted);

    /// <summary>Queues the batch for the tenant's next group; completes once that group committed (or failed).</summary>
    public Task<IReadOnlyList<WriteOutcome>> WriteAsync(Guid tenantId, IReadOnlyList<StatementRecord> batch, CancellationToken cancellationToken)
    {
        var request = new Request(batch, cancellationToken);
        groups.Enqueue(tenantId, request);
        request.ListenForCancellation();
        return request.Completion.Task;
    }

    /// <summary>One transaction for the group; completes every caller's task, never throws.</summary>
    private async Task CommitGroupAsync(Guid tenantId, List<Request> group)
    {
        if (group.TrueForAll(r => r.IsCancelled))
        {
            return;
        }

        var results = new object?[group.Count];
        try
        {
            await using var connection = await data.OpenConnectionAsync(CancellationToken.None);
            await using var transaction = await connection.BeginTransactionAsync(CancellationToken.None);
            var locked = false;
            for (var i = 0; i < group.Count; i++)
            {
                if (!group[i].TryStart())
                {
                    continue; // cancelled while waiting: dropped, its task already cancelled
                }

                try
                {
                    results[i] = await writeBatch(connection, transaction, tenantId, group[i].Batch, lockTenant: !locked);
                }
                catch (Exception exception)
                {
                    if (!await TryRollbackToSavepointAsync(connection, transaction))
                    {
                        // The lock, the savepoint or the connection failed: the whole group fails with this batch.
                        ExceptionDispatchInfo.Throw(exception);
                    }

                    results[i] = exception;
                }

                // The lock was taken before the savepoint, which was either released or rolled back to: it is held.
                locked = true;
            }

            await transaction.CommitAsync(CancellationToken.None);
            Interlocked.Increment(ref groupsCommitted);
        }
        catch (Exception exception)
        {
            // Nothing of the group is committed.
            foreach (var request in group)
            {
                request.Fail(exception);
            }

            return;
        }

        for (var i = 0; i < group.Count; i++)
        {
            switch (results[i])
            {
                case IReadOnlyList<WriteOutcome> outcomes:
                    group[i].Succeed(outcomes);
                    break;
                case Exception exception:
                    group[i].Fail(exception);
                    break;
            }
        }
    }

    /// <summary>Undoes the failed batch and leaves the transaction usable; false if that is not possible.</summary>
    private static async Task<bool> TryRollbackToSavepointAsync(NpgsqlConnection connection, NpgsqlTransaction transaction)
    {
        try
        {
            await using var rollback = new NpgsqlCommand($"ROLLBACK TO SAVEPOINT batch; {Release};", connection, transaction);
            await rollback.ExecuteNonQueryAsync(CancellationToken.None);
            return true;
        }
        catch (Exception exception) when (exception is NpgsqlException or InvalidOperationException)
        {
            return false;
        }
    }

    /// <summary>Refuses new writes, then waits until every accepted write has committed or failed.</summary>
    public ValueTask DisposeAsync() => groups.DisposeAsync();

    /// <summary>A caller's batch: queued, then either started (written by a group) or cancelled, never both.</summary>
    private sealed class Request(IReadOnlyList<StatementRecord> batch, CancellationToken cancellationToken)
    {
        private const int Queued = 0;
        private const int Started = 1;
        private const int Cancelled = 2;

        private int state;
        private CancellationTokenRegistration registration;

        public IReadOnlyList<StatementRecord> Batch { get; } = batch;

        public TaskCompletionSource<IReadOnlyList<WriteOutcome>> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public bool IsCancelled => Volatile.Read(ref state) == Cancelled;

        public void ListenForCancellation()
        {
            if (cancellationToken.CanBeCanceled)
            {
                registration = cancellationToken.Register(static r => ((Request)r!).Cancel(), this);
            }
        }

        /// <summary>Claims the batch for writing; false if the caller was cancelled first.</summary>
        public bool TryStart() => Interlocked.CompareExchange(ref state, Started, Queued) is Queued or Started;

        public void Succeed(IReadOnlyList<WriteOutcome> outcomes)
        {
            registration.Dispose();
            Completion.TrySetResult(outcomes);
        }

        public void Fail(Exception exception)
        {
            registration.Dispose();
            Completion.TrySetException(exception);
        }

        private void Cancel()
        {
            if (Interlocked.CompareExchange(ref state, Cancelled, Queued) == Queued)
            {
                Completion.TrySetCanceled(cancellationToken);
            }
        }
    }
}
