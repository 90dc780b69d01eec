using System.Collections.Concurrent;
using System.Security.Cryptography;
using LearnerVault.Storage.Postgres;
using LearnerVault.Tests.Shared;
using Npgsql;

namespace LearnerVault.Storage.Tests;

/// <summary>
/// What only the PostgreSQL statement store has: several server processes ("nodes", each with its own data source and
/// clock) writing to one database. Statement order, paging and conflicts must hold across them.
/// </summary>
[Trait("Backend", "postgres")]
public sealed class PostgresStatementStoreTests : IAsyncLifetime
{
    private static readonly IndexTerm Verb = new(TermKind.Verb, RandomNumberGenerator.GetBytes(16));

    private readonly List<NpgsqlDataSource> sources = [];
    private readonly Guid tenant = Guid.NewGuid();
    private PostgresStoreOptions options = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => options = await PostgresTestServer.SharedDatabaseAsync();

    public async ValueTask DisposeAsync()
    {
        foreach (var source in sources)
        {
            await source.DisposeAsync();
        }
    }

    /// <summary>A node: its own connection pool and clock, as a separate server process would have.</summary>
    private PostgresStatementStore Node(TimeProvider? time = null)
    {
        var source = PostgresBackend.CreateDataSource(options.ConnectionString, options.DataSchema);
        sources.Add(source);
        return new PostgresStatementStore(source, time ?? TimeProvider.System);
    }

    private static StatementRecord Statement(Guid? id = null, IReadOnlyList<IndexTerm>? terms = null) =>
        new(id ?? Guid.NewGuid(), 7, RandomNumberGenerator.GetBytes(48), RandomNumberGenerator.GetBytes(32), terms ?? [Verb], null, false, 1, true);

    private static async Task<List<StoredStatement>> AllPagesAsync(IStatementStore store, Guid tenant, StatementQuery query)
    {
        var all = new List<StoredStatement>();
        var page = await store.QueryAsync(tenant, query, Ct);
        all.AddRange(page.Statements);
        while (page.ContinueAfter is { } after)
        {
            page = await store.QueryAsync(tenant, query with { After = after }, Ct);
            all.AddRange(page.Statements);
        }

        return all;
    }

    [Fact]
    public async Task TwoNodes_ConcurrentBatchesToOneTenant_EachStatementOnceInSequenceAndStoredOrder()
    {
        PostgresStatementStore[] nodes = [Node(), Node()];
        var written = new ConcurrentBag<Guid>();

        await Parallel.ForEachAsync(Enumerable.Range(0, 16), new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = Ct }, async (writer, ct) =>
        {
            var node = nodes[writer % 2];
            for (var i = 0; i < 15; i++)
            {
                var batch = Enumerable.Range(0, 1 + ((writer + i) % 4)).Select(_ => Statement()).ToArray();
                Assert.All(await node.WriteAsync(tenant, batch, ct), o => Assert.Equal(WriteOutcome.Stored, o));
                foreach (var statement in batch)
                {
                    written.Add(statement.Id);
                }
            }
        });

        foreach (var query in new[] { new StatementQuery { Limit = 23 }, new StatementQuery { Limit = 23, Terms = [Verb] } })
        {
            var found = await AllPagesAsync(nodes[1], tenant, query);
            Assert.Equal(written.Order(), found.Select(s => s.Id).Order());
            for (var i = 1; i < found.Count; i++)
            {
                Assert.True(found[i].Sequence < found[i - 1].Sequence);
                Assert.True(found[i].Stored < found[i - 1].Stored);
            }
        }
    }

    [Fact]
    public async Task TwoNodes_AscendingPagingWhileBothWrite_NeverSkipsAStatementThatCommitsLater()
    {
        PostgresStatementStore[] nodes = [Node(), Node()];
        var written = new ConcurrentBag<Guid>();
        using var writing = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var writers = Enumerable.Range(0, 8).Select(w => Task.Run(async () =>
        {
            for (var i = 0; i < 25; i++)
            {
                var batch = Enumerable.Range(0, 1 + (i % 3)).Select(_ => Statement()).ToArray();
                await nodes[w % 2].WriteAsync(tenant, batch, Ct);
                foreach (var statement in batch)
                {
                    written.Add(statement.Id);
                }
            }
        }, Ct)).ToList();
        var allWritten = Task.WhenAll(writers);

        // Page oldest first while the writers run, from the other node's connections, then to the end once they are done.
        var reader = Node();
        var seen = new List<StoredStatement>();
        long? after = null;
        while (true)
        {
            var done = allWritten.IsCompleted;
            var page = await reader.QueryAsync(tenant, new StatementQuery { Terms = [Verb], Ascending = true, Limit = 7, After = after }, Ct);
            seen.AddRange(page.Statements);
            after = page.Statements.Count > 0 ? page.Statements[^1].Sequence : after;
            if (page.ContinueAfter is null && done)
            {
                break;
            }
        }

        await allWritten;
        Assert.Equal(written.Order(), seen.Select(s => s.Id).Order());
        for (var i = 1; i < seen.Count; i++)
        {
            Assert.True(seen[i].Sequence > seen[i - 1].Sequence);
            Assert.True(seen[i].Stored > seen[i - 1].Stored);
        }
    }

    [Fact]
    public async Task TwoNodes_ClocksApart_StoredStillIncreasesWithSequence()
    {
        var ahead = new ManualTimeProvider(DateTimeOffset.UtcNow + TimeSpan.FromHours(1));
        var behind = new ManualTimeProvider(DateTimeOffset.UtcNow - TimeSpan.FromHours(1));
        PostgresStatementStore[] nodes = [Node(ahead), Node(behind)];

        for (var i = 0; i < 6; i++)
        {
            await nodes[i % 2].WriteAsync(tenant, [Statement(), Statement()], Ct);
        }

        var found = await AllPagesAsync(nodes[0], tenant, new StatementQuery { Ascending = true });
        Assert.Equal(12, found.Count);
        for (var i = 1; i < found.Count; i++)
        {
            Assert.True(found[i].Sequence > found[i - 1].Sequence);
            Assert.Equal(found[i - 1].Stored + TimeSpan.FromMicroseconds(1), found[i].Stored);
        }
    }

    [Fact]
    public async Task TwoNodes_ConcurrentConflictingBatches_RollBackEntirelyOthersCommit()
    {
        PostgresStatementStore[] nodes = [Node(), Node()];
        var existing = Statement();
        await nodes[0].WriteAsync(tenant, [existing], Ct);
        var good = new ConcurrentBag<Guid>();
        var rejected = new ConcurrentBag<Guid>();
        var rejectedAttachments = new ConcurrentBag<byte[]>();

        await Parallel.ForEachAsync(Enumerable.Range(0, 40), new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = Ct }, async (i, ct) =>
        {
            var node = nodes[i % 2];
            var fresh = Enumerable.Range(0, 3).Select(_ => Statement()).ToArray();
            if (i % 3 == 0)
            {
                var attachment = new AttachmentRecord(RandomNumberGenerator.GetBytes(32), 3, RandomNumberGenerator.GetBytes(64));
                var carrying = fresh[0] with { Attachments = [attachment] };
                var conflicting = Statement(existing.Id);
                var exception = await Assert.ThrowsAsync<StatementConflictException>(
                    () => node.WriteAsync(tenant, [carrying, fresh[1], conflicting, fresh[2]], ct));
                Assert.Equal(existing.Id, exception.StatementId);
                rejectedAttachments.Add(attachment.HashKey);
                foreach (var statement in fresh)
                {
                    rejected.Add(statement.Id);
                }
            }
            else
            {
                await node.WriteAsync(tenant, fresh, ct);
                foreach (var statement in fresh)
                {
                    good.Add(statement.Id);
                }
            }
        });

        foreach (var id in good)
        {
            Assert.NotNull(await nodes[1].GetAsync(tenant, id, Ct));
        }

        foreach (var id in rejected)
        {
            Assert.Null(await nodes[0].GetAsync(tenant, id, Ct));
        }

        Assert.Empty(await nodes[1].GetAttachmentsAsync(tenant, [.. rejectedAttachments], cancellationToken: Ct));
        var all = await AllPagesAsync(nodes[0], tenant, new StatementQuery { Limit = 50 });
        Assert.Equal(good.Append(existing.Id).Order(), all.Select(s => s.Id).Order());
        // Rolled-back batches leave no gap in the tenant's sequence.
        Assert.Equal(Enumerable.Range(1, all.Count).Select(i => (long)i).Reverse(), all.Select(s => s.Sequence));
    }

    [Fact]
    public async Task ConsistentThroughAsync_WhileAnotherNodeIsWriting_IsTheNewestCommittedStored()
    {
        var node = Node();
        await node.WriteAsync(tenant, [Statement()], Ct);
        var newest = (await node.QueryAsync(tenant, new StatementQuery { Limit = 1 }, Ct)).Statements[0].Stored;
        Assert.True(await node.ConsistentThroughAsync(tenant, Ct) >= newest);

        // Another node's write in flight: it holds the tenant's lock until it commits.
        var otherNode = PostgresBackend.CreateDataSource(options.ConnectionString, options.DataSchema);
        sources.Add(otherNode);
        await using var other = await otherNode.OpenConnectionAsync(Ct);
        await using var transaction = await other.BeginTransactionAsync(Ct);
        await using (var lockCommand = new NpgsqlCommand("SELECT pg_advisory_xact_lock($1, $2);", other, transaction))
        {
            lockCommand.Parameters.Add(new NpgsqlParameter<int> { TypedValue = PostgresStatementStore.LockNamespace });
            lockCommand.Parameters.Add(new NpgsqlParameter<int> { TypedValue = PostgresStatementStore.LockKey(tenant) });
            await lockCommand.ExecuteNonQueryAsync(Ct);
        }

        Assert.Equal(newest, await node.ConsistentThroughAsync(tenant, Ct));
        Assert.Null(await node.ConsistentThroughAsync(TenantWithSameLockAs(tenant), Ct));

        await transaction.RollbackAsync(Ct);
        var through = await node.ConsistentThroughAsync(tenant, Ct);
        Assert.NotNull(through);
        Assert.True(through > newest);
    }

    /// <summary>A tenant without statements whose lock key collides with <paramref name="tenant"/>'s (a folded
    /// 32-bit key: flipping the same bit in two of the four folded words keeps it).</summary>
    private static Guid TenantWithSameLockAs(Guid tenant)
    {
        var bytes = tenant.ToByteArray();
        bytes[0] ^= 1;
        bytes[4] ^= 1;
        var twin = new Guid(bytes);
        Assert.Equal(PostgresStatementStore.LockKey(tenant), PostgresStatementStore.LockKey(twin));
        return twin;
    }

    [Fact]
    public async Task GroupCommit_ConcurrentSingleStatementWriters_OnlyConflictingCallersFail()
    {
        var node = Node();
        var existing = Enumerable.Range(0, 8).Select(_ => Statement()).ToArray();
        await node.WriteAsync(tenant, existing, Ct);
        var groupsBefore = node.Writer.GroupsCommitted;

        // Every sixth caller conflicts (a fresh statement, then a stored id with other content): its whole batch must
        // be rolled back; every sixth from the third on repeats a stored statement (a duplicate, not a conflict).
        const int Callers = 48;
        var batches = Enumerable.Range(0, Callers).Select(i => i switch
        {
            _ when i % 6 == 0 => new[] { Statement(), Statement(existing[i % 8].Id) },
            _ when i % 6 == 3 => [existing[i % 8]],
            _ => [Statement()],
        }).ToArray();
        var writes = batches.Select(batch => node.WriteAsync(tenant, batch, Ct)).ToArray();

        var stored = existing.Select(s => s.Id).ToList();
        for (var i = 0; i < Callers; i++)
        {
            if (i % 6 == 0)
            {
                var exception = await Assert.ThrowsAsync<StatementConflictException>(() => writes[i]);
                Assert.Equal(existing[i % 8].Id, exception.StatementId);
            }
            else
            {
                var expected = i % 6 == 3 ? WriteOutcome.Duplicate : WriteOutcome.Stored;
                Assert.Equal([expected], await writes[i]);
                if (expected == WriteOutcome.Stored)
                {
                    stored.Add(batches[i][0].Id);
                }
            }
        }

        Assert.InRange(node.Writer.GroupsCommitted - groupsBefore, 1, Callers - 1);
        var found = await AllPagesAsync(Node(), tenant, new StatementQuery { Ascending = true, Limit = 13 });
        Assert.Equal(stored.Order(), found.Select(s => s.Id).Order());
        for (var i = 1; i < found.Count; i++)
        {
            Assert.True(found[i].Sequence > found[i - 1].Sequence);
            Assert.True(found[i].Stored > found[i - 1].Stored);
        }
    }

    [Fact]
    public async Task GroupCommit_EachCallerSeesItsStatementsOnceItsTaskCompletes()
    {
        PostgresStatementStore[] nodes = [Node(), Node()];
        var other = Node();
        await Parallel.ForEachAsync(Enumerable.Range(0, 24), new ParallelOptions { MaxDegreeOfParallelism = 24, CancellationToken = Ct }, async (writer, ct) =>
        {
            for (var i = 0; i < 6; i++)
            {
                var batch = Enumerable.Range(0, 1 + ((writer + i) % 3)).Select(_ => Statement()).ToArray();
                await nodes[writer % 2].WriteAsync(tenant, batch, ct);
                foreach (var statement in batch)
                {
                    Assert.NotNull(await nodes[writer % 2].GetAsync(tenant, statement.Id, ct));
                    Assert.NotNull(await other.GetAsync(tenant, statement.Id, ct));
                }
            }
        });
    }

    [Fact]
    public async Task GroupCommit_CallerCancelledWhileQueued_IsDropped_DisposeDrainsTheRest()
    {
        var node = Node();
        await using var blocker = await sources[0].OpenConnectionAsync(Ct);
        await using (var take = new NpgsqlCommand("SELECT pg_advisory_lock($1, $2);", blocker))
        {
            take.Parameters.AddWithValue(PostgresStatementStore.LockNamespace);
            take.Parameters.AddWithValue(PostgresStatementStore.LockKey(tenant));
            await take.ExecuteNonQueryAsync(Ct);
        }

        // The first group waits for the tenant's lock; the writes after it queue behind.
        var first = Statement();
        var firstWrite = node.WriteAsync(tenant, [first], Ct);
        await WaitForLockWaiterAsync(blocker);
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var dropped = Statement();
        var droppedWrite = node.WriteAsync(tenant, [dropped], cancel.Token);
        var queued = Statement();
        var queuedWrite = node.WriteAsync(tenant, [queued], Ct);
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => droppedWrite);

        var disposing = node.DisposeAsync().AsTask();
        await Assert.ThrowsAsync<ObjectDisposedException>(() => node.WriteAsync(tenant, [Statement()], Ct));
        Assert.False(disposing.IsCompleted);
        await using (var release = new NpgsqlCommand("SELECT pg_advisory_unlock_all();", blocker))
        {
            await release.ExecuteNonQueryAsync(Ct);
        }

        await disposing;
        Assert.True(firstWrite.IsCompletedSuccessfully);
        Assert.True(queuedWrite.IsCompletedSuccessfully);
        var reader = Node();
        Assert.NotNull(await reader.GetAsync(tenant, first.Id, Ct));
        Assert.NotNull(await reader.GetAsync(tenant, queued.Id, Ct));
        Assert.Null(await reader.GetAsync(tenant, dropped.Id, Ct));
    }

    private async Task WaitForLockWaiterAsync(NpgsqlConnection connection)
    {
        await using var waiting = new NpgsqlCommand(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND classid = $1::int4::oid AND objid = $2::int4::oid;",
            connection);
        waiting.Parameters.AddWithValue(PostgresStatementStore.LockNamespace);
        waiting.Parameters.AddWithValue(PostgresStatementStore.LockKey(tenant));
        while ((long)(await waiting.ExecuteScalarAsync(Ct))! == 0)
        {
            await Task.Delay(10, Ct);
        }
    }
}
