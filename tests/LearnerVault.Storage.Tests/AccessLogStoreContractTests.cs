using System.Security.Cryptography;
using LearnerVault.Privacy.Audit;

namespace LearnerVault.Storage.Tests;

/// <summary>One opened backend ("node") whose access log is under test, and how to close it.</summary>
public sealed class AccessLogNode(IAccessLogStore store, Func<ValueTask> close) : IAsyncDisposable
{
    public IAccessLogStore Store { get; } = store;

    public ValueTask DisposeAsync() => close();
}

/// <summary>
/// The behaviour every <see cref="IAccessLogStore"/> backend must have. A backend's test class says how to open a node
/// on storage it owns or shares (every test writes under a tenant id of its own); opening several nodes at once must
/// give several independent writers on the same storage.
/// </summary>
public abstract class AccessLogStoreContractTests : StoreContractLifetime<AccessLogNode>
{
    private static readonly DateTimeOffset Start = new(2026, 3, 1, 8, 0, 0, TimeSpan.Zero);

    protected Guid Tenant { get; } = Guid.NewGuid();

    protected IAccessLogStore Store => Handle.Store;

    protected abstract ValueTask<AccessLogNode> OpenNodeAsync();

    protected sealed override ValueTask<AccessLogNode> OpenHandleAsync() => OpenNodeAsync();

    private static AccessLogEntry Entry(int i, byte[]? learner = null) => new(
        Start.AddSeconds(i).AddTicks(7), $"client:key{i}", i % 2 == 0 ? null : $"key{i}", "statements.read", "instruction",
        learner, i, i % 3 == 0 ? AccessDecision.Deny : AccessDecision.Allow, i % 3 == 0 ? "purpose-not-lawful" : "");

    private async Task<IReadOnlyList<AccessLogRecord>> ReadAllAsync(IAccessLogStore store) =>
        await store.ReadAsync(Tenant, 1, 1_000_000, Ct);

    [Fact]
    public async Task GetHead_EmptyLog_IsPositionZeroAndGenesis()
    {
        var head = await Store.GetHeadAsync(Tenant, Ct);

        Assert.Equal(0, head.Position);
        Assert.Equal(AccessLogChain.Genesis(Tenant), head.Hash);
        Assert.Empty(await ReadAllAsync(Store));
        Assert.Empty(await Store.ReadCheckpointsAsync(Tenant, Ct));
    }

    [Fact]
    public async Task Append_Batches_AssignsConsecutivePositionsAndChains()
    {
        var learner = RandomNumberGenerator.GetBytes(32);
        var first = await Store.AppendAsync(Tenant, [Entry(1, learner), Entry(2)], Ct);
        var second = await Store.AppendAsync(Tenant, [Entry(3), Entry(4, learner), Entry(5)], Ct);

        Assert.Equal(2, first.Position);
        Assert.Equal(5, second.Position);
        var records = await ReadAllAsync(Store);
        Assert.Equal([1L, 2, 3, 4, 5], records.Select(r => r.Position));
        var hash = AccessLogChain.Genesis(Tenant);
        for (var i = 0; i < records.Count; i++)
        {
            var expected = Entry(i + 1, i is 0 or 3 ? learner : null);
            Assert.Equal(AccessLogChain.Truncate(expected.Time), records[i].Entry.Time);
            Assert.Equal(expected.Principal, records[i].Entry.Principal);
            Assert.Equal(expected.Client, records[i].Entry.Client);
            Assert.Equal(expected.LearnerPseudonym, records[i].Entry.LearnerPseudonym);
            Assert.Equal(expected.Records, records[i].Entry.Records);
            Assert.Equal(expected.Decision, records[i].Entry.Decision);
            Assert.Equal(expected.Reason, records[i].Entry.Reason);
            hash = AccessLogChain.Next(hash, i + 1, expected);
            Assert.Equal(hash, records[i].Hash);
        }

        Assert.Equal(hash, second.Hash);
        Assert.Equal(second, await Store.GetHeadAsync(Tenant, Ct), new HeadComparer());
    }

    [Fact]
    public async Task Append_EmptyBatch_ReturnsTheHeadUnchanged()
    {
        var head = await Store.AppendAsync(Tenant, [Entry(1)], Ct);

        Assert.Equal(head, await Store.AppendAsync(Tenant, [], Ct), new HeadComparer());
    }

    [Fact]
    public async Task Read_FromPositionWithLimit_ReturnsThatPage()
    {
        await Store.AppendAsync(Tenant, [.. Enumerable.Range(1, 10).Select(i => Entry(i))], Ct);

        var page = await Store.ReadAsync(Tenant, 4, 3, Ct);

        Assert.Equal([4L, 5, 6], page.Select(r => r.Position));
    }

    [Fact]
    public async Task Tenants_HaveSeparateChains()
    {
        var other = Guid.NewGuid();
        await Store.AppendAsync(Tenant, [Entry(1), Entry(2)], Ct);

        var head = await Store.AppendAsync(other, [Entry(3)], Ct);

        Assert.Equal(1, head.Position);
        Assert.Equal(AccessLogChain.Next(AccessLogChain.Genesis(other), 1, Entry(3)), head.Hash);
        Assert.Equal(2, (await ReadAllAsync(Store)).Count);
    }

    [Fact]
    public async Task AddCheckpoint_SamePositionTwice_KeepsTheFirst()
    {
        var head = await Store.AppendAsync(Tenant, [Entry(1), Entry(2)], Ct);
        using var key = AccessLogSigning.ImportSigningKey(AccessLogSigning.NewSigningKey());
        var checkpoint = AccessLogSigning.Sign(key, Tenant, head, Start.AddTicks(3));

        Assert.True(await Store.AddCheckpointAsync(Tenant, checkpoint, Ct));
        Assert.False(await Store.AddCheckpointAsync(Tenant, AccessLogSigning.Sign(key, Tenant, head, Start.AddHours(1)), Ct));

        var stored = Assert.Single(await Store.ReadCheckpointsAsync(Tenant, Ct));
        Assert.Equal(checkpoint.Position, stored.Position);
        Assert.Equal(checkpoint.HeadHash, stored.HeadHash);
        Assert.Equal(checkpoint.Time, stored.Time);
        Assert.Equal(checkpoint.Signature, stored.Signature);
        Assert.True(AccessLogSigning.Verify(key, Tenant, stored));
        Assert.True(AccessLogVerifier.Verify(Tenant, await ReadAllAsync(Store), [stored], key).IsClean);
    }

    [Fact]
    public async Task ReadLearner_ReturnsThatLearnersEntriesNewestFirst()
    {
        var learner = RandomNumberGenerator.GetBytes(32);
        await Store.AppendAsync(Tenant, [Entry(1, learner), Entry(2, RandomNumberGenerator.GetBytes(32)), Entry(3), Entry(4, learner), Entry(5, learner)], Ct);

        var mine = await Store.ReadLearnerAsync(Tenant, learner, 2, Ct);

        Assert.Equal([5L, 4], mine.Select(r => r.Position));
        Assert.Empty(await Store.ReadLearnerAsync(Guid.NewGuid(), learner, 10, Ct));
    }

    /// <summary>A long log: a learner's entries far apart (the SQLite index buckets positions by 4,096, and its read walks
    /// windows of buckets) still come back all, newest first, however the limit cuts them.</summary>
    [Fact]
    public async Task ReadLearner_AcrossALongLog_FindsEntriesFarBackNewestFirst()
    {
        var learner = RandomNumberGenerator.GetBytes(32);
        var others = Enumerable.Range(0, 50).Select(_ => RandomNumberGenerator.GetBytes(32)).ToArray();
        long[] mine = [3, 4096, 4097, 9000, 16_385, 20_000];
        for (var from = 1; from <= 20_000; from += 1000)
        {
            var batch = Enumerable.Range(from, 1000)
                .Select(position => Entry(position, mine.Contains(position) ? learner : position % 7 == 0 ? null : others[position % others.Length]))
                .ToList();
            await Store.AppendAsync(Tenant, batch, Ct);
        }

        Assert.Equal(mine.Reverse(), (await Store.ReadLearnerAsync(Tenant, learner, 100, Ct)).Select(r => r.Position));
        Assert.Equal([20_000L, 16_385, 9000], (await Store.ReadLearnerAsync(Tenant, learner, 3, Ct)).Select(r => r.Position));
        Assert.Equal([20_000L], (await Store.ReadLearnerAsync(Tenant, learner, 1, Ct)).Select(r => r.Position));
        var first = Assert.Single(await Store.ReadLearnerAsync(Tenant, learner, 100, Ct), r => r.Position == 3);
        Assert.Equal(learner, first.Entry.LearnerPseudonym);
        Assert.Empty(await Store.ReadLearnerAsync(Tenant, RandomNumberGenerator.GetBytes(32), 10, Ct));
        var other = await Store.ReadLearnerAsync(Tenant, others[1], 1000, Ct);
        Assert.Equal(Enumerable.Range(1, 20_000).Where(p => p % 50 == 1 && p % 7 != 0 && !mine.Contains(p)).Reverse().Select(p => (long)p), other.Select(r => r.Position));
    }

    [Fact]
    public async Task Append_TwoNodesAtOnce_MakeOneUnbrokenChain()
    {
        await using var nodeA = await OpenNodeAsync();
        await using var nodeB = await OpenNodeAsync();
        var nodes = new[] { nodeA.Store, nodeB.Store, Store };

        await Parallel.ForAsync(0, 60, new ParallelOptions { MaxDegreeOfParallelism = 6, CancellationToken = Ct }, async (i, ct) =>
            await nodes[i % nodes.Length].AppendAsync(Tenant, [Entry(i), Entry(1000 + i)], ct));

        var records = await ReadAllAsync(Store);
        Assert.Equal(120, records.Count);
        using var key = AccessLogSigning.ImportSigningKey(AccessLogSigning.NewSigningKey());
        var verification = AccessLogVerifier.Verify(Tenant, records, [], key);
        Assert.True(verification.IsClean, verification.Fault?.Description);
        Assert.Equal(120, (await nodeB.Store.GetHeadAsync(Tenant, Ct)).Position);
    }

    [Fact]
    public async Task Append_ManyAtOnceOnOneNode_EachHearsTheHeadAfterItsOwnEntries()
    {
        // Appends that meet in one round (or one group commit) are chained in some order, and each caller's head is the
        // position and hash of its own last entry.
        var appends = Enumerable.Range(0, 40).Select(i => Store.AppendAsync(Tenant, i % 5 == 0 ? [] : [Entry(i), Entry(2000 + i)], Ct)).ToList();
        var heads = await Task.WhenAll(appends);

        var records = await ReadAllAsync(Store);
        Assert.Equal(64, records.Count);
        for (var i = 0; i < heads.Length; i++)
        {
            if (i % 5 == 0)
            {
                continue;
            }

            var last = records[(int)heads[i].Position - 1];
            Assert.Equal(heads[i].Hash, last.Hash);
            Assert.Equal((Entry(2000 + i).Principal, Entry(i).Principal), (last.Entry.Principal, records[(int)heads[i].Position - 2].Entry.Principal));
        }

        using var key = AccessLogSigning.ImportSigningKey(AccessLogSigning.NewSigningKey());
        Assert.True(AccessLogVerifier.Verify(Tenant, records, [], key).IsClean);
    }

    private sealed class HeadComparer : IEqualityComparer<AccessLogHead>
    {
        public bool Equals(AccessLogHead? x, AccessLogHead? y) =>
            x is not null && y is not null && x.Position == y.Position && x.Hash.AsSpan().SequenceEqual(y.Hash);

        public int GetHashCode(AccessLogHead obj) => obj.Position.GetHashCode();
    }
}
