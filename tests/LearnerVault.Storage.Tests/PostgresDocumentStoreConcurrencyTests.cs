using System.Buffers.Binary;
using System.Text;
using LearnerVault.Storage.Postgres;
using LearnerVault.Tests.Shared;

namespace LearnerVault.Storage.Tests;

/// <summary>
/// Two server processes ("nodes") writing the same documents: each has its own connection pool, so nothing in a
/// process can serialise them and only the database's locking stands between two writers holding the same entity tag.
/// </summary>
[Trait("Backend", "postgres")]
public sealed class PostgresDocumentStoreConcurrencyTests : IAsyncLifetime
{
    private const int Rounds = 40;
    private const int WritersPerNode = 4;

    private static readonly DateTimeOffset Start = new(2026, 3, 1, 8, 0, 0, TimeSpan.Zero);

    private readonly Guid tenant = Guid.NewGuid();
    private readonly ManualTimeProvider time = new(Start);
    private Npgsql.NpgsqlDataSource? sourceA;
    private Npgsql.NpgsqlDataSource? sourceB;
    private IDocumentStore[] nodes = [];

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        var options = await PostgresTestServer.SharedDatabaseAsync();
        sourceA = PostgresBackend.CreateDataSource(options.ConnectionString, options.DataSchema);
        sourceB = PostgresBackend.CreateDataSource(options.ConnectionString, options.DataSchema);
        // The clock never moves: every update time must still be distinct and increasing across both nodes.
        nodes = [new PostgresDocumentStore(sourceA, time), new PostgresDocumentStore(sourceB, time)];
    }

    public async ValueTask DisposeAsync()
    {
        if (sourceA is not null)
        {
            await sourceA.DisposeAsync();
        }

        if (sourceB is not null)
        {
            await sourceB.DisposeAsync();
        }
    }

    private static DocumentKey Key(string id) =>
        new(DocumentKind.State, Encoding.UTF8.GetBytes("act"), Encoding.UTF8.GetBytes("agent"), [], Encoding.UTF8.GetBytes(id));

    private static DocumentContent Content(string text) =>
        new(1, Encoding.UTF8.GetBytes(text), Encoding.UTF8.GetBytes("id"), Encoding.UTF8.GetBytes("etag:" + text));

    /// <summary>Runs one writer per (node, slot) at once, released together, and returns their results in writer order.</summary>
    private async Task<DocumentWriteResult[]> RaceAsync(Func<IDocumentStore, int, Task<DocumentWriteResult>> write)
    {
        using var go = new ManualResetEventSlim();
        var writers = Enumerable.Range(0, nodes.Length * WritersPerNode).Select(i => Task.Run(async () =>
        {
            go.Wait(Ct);
            return await write(nodes[i % nodes.Length], i);
        }, Ct)).ToArray();
        go.Set();
        return await Task.WhenAll(writers);
    }

    [Fact]
    public async Task Put_IfNoneMatchStarFromTwoNodes_ExactlyOneCreatesEachTime()
    {
        for (var round = 0; round < Rounds; round++)
        {
            var key = Key("create-" + round);

            var results = await RaceAsync((store, i) => store.PutAsync(tenant, key, Content($"r{round}-w{i}"), DocumentPrecondition.Absent, Ct));

            var winner = Assert.Single(Enumerable.Range(0, results.Length), i => results[i].Outcome == DocumentOutcome.Created);
            Assert.All(results.Where((_, i) => i != winner), r => Assert.Equal(DocumentOutcome.PreconditionFailed, r.Outcome));
            var stored = await nodes[(round + 1) % nodes.Length].GetAsync(tenant, key, Ct);
            Assert.Equal($"r{round}-w{winner}", Encoding.UTF8.GetString(stored!.Blob));
        }
    }

    [Fact]
    public async Task Put_IfMatchFromTwoNodes_ExactlyOneReplacesEachTime()
    {
        var key = Key("update");
        await nodes[0].PutAsync(tenant, key, Content("start"), DocumentPrecondition.None, Ct);
        var current = "start";
        var previousUpdate = Start;

        for (var round = 0; round < Rounds; round++)
        {
            var expected = DocumentPrecondition.Unchanged(Content(current).ETag);

            var results = await RaceAsync((store, i) => store.PutAsync(tenant, key, Content($"r{round}-w{i}"), expected, Ct));

            var winner = Assert.Single(Enumerable.Range(0, results.Length), i => results[i].Outcome == DocumentOutcome.Replaced);
            Assert.All(results.Where((_, i) => i != winner), r => Assert.Equal(DocumentOutcome.PreconditionFailed, r.Outcome));
            current = $"r{round}-w{winner}";
            var stored = await nodes[round % nodes.Length].GetAsync(tenant, key, Ct);
            Assert.Equal(current, Encoding.UTF8.GetString(stored!.Blob));
            Assert.Equal(previousUpdate.AddTicks(10), stored.Updated);
            previousUpdate = stored.Updated;
        }
    }

    [Fact]
    public async Task ReadModifyWriteFromTwoNodes_NoUpdateIsLost()
    {
        const int IncrementsPerWriter = 15;
        var key = Key("counter");
        var attempts = 0;

        // Every writer adds one to a counter by read, If-Match write, retry on 412 (or on a create lost to another node).
        await RaceAsync(async (store, _) =>
        {
            for (var done = 0; done < IncrementsPerWriter;)
            {
                Interlocked.Increment(ref attempts);
                var read = await store.GetAsync(tenant, key, Ct);
                var value = read is null ? 0 : BinaryPrimitives.ReadInt64BigEndian(read.Blob);
                var next = new byte[8];
                BinaryPrimitives.WriteInt64BigEndian(next, value + 1);
                var precondition = read is null ? DocumentPrecondition.Absent : DocumentPrecondition.Unchanged(read.ETag);
                var result = await store.PutAsync(tenant, key, new DocumentContent(1, next, [1], Guid.NewGuid().ToByteArray()), precondition, Ct);
                if (result.Outcome is DocumentOutcome.Created or DocumentOutcome.Replaced)
                {
                    done++;
                }
            }

            return new DocumentWriteResult(DocumentOutcome.Replaced, null);
        });

        const int Total = 2 * WritersPerNode * IncrementsPerWriter;
        var final = await nodes[0].GetAsync(tenant, key, Ct);
        Assert.Equal(Total, BinaryPrimitives.ReadInt64BigEndian(final!.Blob));
        Assert.Equal(Start.AddTicks(10 * (Total - 1)), final.Updated);
        Assert.True(attempts > Total, "the writers never contended, so the test proved nothing");
    }
}
