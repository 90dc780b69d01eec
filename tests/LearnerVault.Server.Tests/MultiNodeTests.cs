using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using LearnerVault.Server.Options;
using LearnerVault.Tests.Shared;
using static LearnerVault.Server.Tests.XapiJson;

namespace LearnerVault.Server.Tests;

/// <summary>
/// Two real <c>lvault serve</c> processes on one PostgreSQL database behave as one LRS: each node has a data folder of
/// its own holding nothing but a copy of the same master key, so they share only the database and the key. Writes
/// through both nodes, reads and <c>more</c> paging through either, preconditions on documents raced across them.
/// Always PostgreSQL, whatever <c>LV_TEST_BACKEND</c> says (the embedded store is one process's).
/// </summary>
[Trait("Backend", "postgres")]
public sealed class MultiNodeTests
{
    private const string MorePrefix = "/xapi/statements?more=";
    private static readonly string[] Mboxes = ["mailto:ada@example.org", "mailto:bo@example.org", "mailto:cy@example.org"];
    private static readonly string[] Verbs = ["http://example.org/verbs/attempted", "http://example.org/verbs/completed"];

    private static readonly HttpStatusCode[] Outcomes = [HttpStatusCode.NoContent, HttpStatusCode.PreconditionFailed];

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ConcurrentBatchesThroughBothNodes_QueriedThroughEither_ReturnEveryStatementOnceNewestFirst()
    {
        await using var nodes = await Nodes.StartAsync();
        var posted = new Dictionary<string, (string Mbox, string Verb)>();

        // 4 writers per node, 5 batches of 20 to 50 statements each, a few agents and verbs; ids chosen by the client.
        var writers = nodes.Clients.SelectMany((http, node) => Enumerable.Range(0, 4).Select(w => Task.Run(async () =>
        {
            var mine = new List<(string Id, string Mbox, string Verb)>();
            for (var b = 0; b < 5; b++)
            {
                var size = 20 + ((node * 4 + w) * 7 + b * 11) % 31;
                var batch = Enumerable.Range(0, size).Select(i => (Id: Guid.NewGuid().ToString(), Mbox: Mboxes[(i + w) % Mboxes.Length], Verb: Verbs[(i + b) % Verbs.Length])).ToList();
                var response = await http.PostAsync(
                    "statements",
                    Content(new JsonArray([.. batch.Select(s => (JsonNode)Statement(mbox: s.Mbox, verb: s.Verb, id: Guid.Parse(s.Id)))])),
                    Ct);
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                Assert.Equal(batch.Select(s => s.Id), (await response.ReadJsonAsync()).AsArray().Select(n => n!.GetValue<string>()));
                mine.AddRange(batch);
            }

            return mine;
        }, Ct))).ToArray();
        foreach (var (id, mbox, verb) in (await Task.WhenAll(writers)).SelectMany(w => w))
        {
            posted.Add(id, (mbox, verb));
        }

        Assert.InRange(posted.Count, 8 * 5 * 20, 8 * 5 * 50);

        // Everything, paged 37 at a time, starting on either node and following `more` on the other one each time.
        foreach (var start in new[] { 0, 1 })
        {
            var all = await PageAsync(nodes.Clients, "statements?limit=37", start);
            AssertNewestFirst(all);
            AssertExactlyOnce(posted.Keys, all);
        }

        // Filtered by agent and verb, again alternating the nodes.
        foreach (var mbox in Mboxes)
        {
            foreach (var verb in Verbs)
            {
                var expected = posted.Where(p => p.Value == (mbox, verb)).Select(p => p.Key).ToList();
                Assert.NotEmpty(expected);
                var url = $"statements?limit=37&agent={Uri.EscapeDataString(Agent(mbox))}&verb={Uri.EscapeDataString(verb)}";
                var filtered = await PageAsync(nodes.Clients, url, Array.IndexOf(Mboxes, mbox) % 2);
                AssertNewestFirst(filtered);
                AssertExactlyOnce(expected, filtered);
            }
        }

        // Pages of the server's largest size through each node alone give the same sequence as the alternating pages of 37.
        var reference = (await PageAsync(nodes.Clients, "statements?limit=37", 0)).Select(s => s.Id).ToList();
        foreach (var http in nodes.Clients)
        {
            Assert.Equal(reference, (await PageAsync([http], "statements?limit=0", 0)).Select(s => s.Id));
        }
    }

    [Fact]
    public async Task MorePaging_WhileTheOtherNodeWrites_ReturnsEveryEarlierStatementOnce()
    {
        await using var nodes = await Nodes.StartAsync();
        var (a, b) = (nodes.Clients[0], nodes.Clients[1]);
        var verb = "http://example.org/verbs/paged";
        var before = new List<string>();
        for (var i = 0; i < 8; i++)
        {
            before.AddRange(await PostBatchAsync(i % 2 == 0 ? a : b, 40, verb));
        }

        // Newest first: statements stored after paging began are above the first page, so the pages hold exactly the
        // statements that existed when it began, each once. After the first page, a writer keeps posting through B
        // while A reads, and one more batch goes through B between any two pages.
        var during = new System.Collections.Concurrent.ConcurrentBag<string>();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        Task[] writers = [];
        var descending = await PageAsync([a], $"statements?limit=37&verb={Uri.EscapeDataString(verb)}", 0, async () =>
        {
            if (writers.Length == 0)
            {
                writers = [.. Enumerable.Range(0, 1).Select(_ => Task.Run(async () =>
                {
                    while (!stop.IsCancellationRequested)
                    {
                        foreach (var id in await PostBatchAsync(b, 20, verb))
                        {
                            during.Add(id);
                        }
                    }
                }, Ct))];
            }

            foreach (var id in await PostBatchAsync(b, 25, verb))
            {
                during.Add(id);
            }
        });
        await stop.CancelAsync();
        await Task.WhenAll(writers);
        Assert.True(during.Count >= 8 * 25);
        AssertNewestFirst(descending);
        AssertExactlyOnce(before, descending);

        // Oldest first: the pages hold every statement that existed when paging began, each once, then every one written
        // meanwhile (each is stored after the last one seen, and read by a later page).
        var existing = before.Concat(during).ToList();
        var later = new List<string>();
        var ascending = await PageAsync([a], $"statements?limit=37&ascending=true&verb={Uri.EscapeDataString(verb)}", 0, async () => later.AddRange(await PostBatchAsync(b, 10, verb)));
        Assert.NotEmpty(later);
        AssertOldestFirst(ascending);
        AssertExactlyOnce(existing, ascending[..existing.Count]);
        AssertExactlyOnce(later, ascending[existing.Count..]);

        // Nothing lost through either node once the writes are over.
        foreach (var start in new[] { 0, 1 })
        {
            AssertExactlyOnce(existing.Concat(later), await PageAsync(nodes.Clients, $"statements?limit=37&verb={Uri.EscapeDataString(verb)}", start));
        }
    }

    [Fact]
    public async Task StateDocument_IfMatchPutsRacedAcrossNodes_ExactlyOneWinsEachRoundAndNoUpdateIsLost()
    {
        await using var nodes = await Nodes.StartAsync();
        var a = nodes.Clients[0];
        var uri = DocumentRequests.State("counter");
        Assert.Equal(HttpStatusCode.NoContent, (await a.PutDocumentAsync(uri, DocumentRequests.Body("{\"counter\":0}"), ifNoneMatch: "*")).StatusCode);

        const int rounds = 30;
        var wins = new int[2];
        for (var round = 1; round <= rounds; round++)
        {
            var reads = await Task.WhenAll(nodes.Clients.Select(http => http.GetAsync(uri, Ct)));
            var etag = reads[0].ETag();
            Assert.Equal(etag, reads[1].ETag());
            var counter = (await reads[1].ReadJsonAsync())["counter"]!.GetValue<int>();
            Assert.Equal(round - 1, counter);

            var puts = await Task.WhenAll(nodes.Clients.Select((http, node) =>
                http.PutDocumentAsync(uri, DocumentRequests.Body($"{{\"counter\":{counter + 1},\"by\":{node}}}"), ifMatch: etag)));
            Assert.Equal(Outcomes, puts.Select(p => p.StatusCode).Order());
            wins[Array.FindIndex(puts, p => p.StatusCode == HttpStatusCode.NoContent)]++;
        }

        Assert.Equal(rounds, wins.Sum());
        foreach (var http in nodes.Clients)
        {
            Assert.Equal(rounds, (await (await http.GetAsync(uri, Ct)).ReadJsonAsync())["counter"]!.GetValue<int>());
        }

        // Creates raced across the nodes: one wins, the other is refused, and the winner's document is the one kept.
        for (var round = 0; round < 20; round++)
        {
            var created = DocumentRequests.State($"created-{round}");
            var puts = await Task.WhenAll(nodes.Clients.Select((http, node) =>
                http.PutDocumentAsync(created, DocumentRequests.Body($"{{\"by\":{node}}}"), ifNoneMatch: "*")));
            Assert.Equal(Outcomes, puts.Select(p => p.StatusCode).Order());
            var winner = Array.FindIndex(puts, p => p.StatusCode == HttpStatusCode.NoContent);
            foreach (var http in nodes.Clients)
            {
                Assert.Equal(winner, (await (await http.GetAsync(created, Ct)).ReadJsonAsync())["by"]!.GetValue<int>());
            }
        }
    }

    [Fact]
    public async Task StatementStoredThroughOneNode_IsReadableThroughTheOther_AndVoidingThroughItHidesItThroughTheFirst()
    {
        await using var nodes = await Nodes.StartAsync();
        var (a, b) = (nodes.Clients[0], nodes.Clients[1]);
        var verb = "http://example.org/verbs/voidable";
        var id = Guid.NewGuid();
        var kept = Guid.NewGuid();
        Assert.Equal(HttpStatusCode.OK, (await a.PostAsync("statements", Content(new JsonArray(Statement(verb: verb, id: id), Statement(verb: verb, id: kept))), Ct)).StatusCode);

        var read = await b.GetAsync($"statements?statementId={id}", Ct);
        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        Assert.Equal(id.ToString(), (await read.ReadJsonAsync())["id"]!.GetValue<string>());

        var voiding = await b.PostAsync("statements", Content(Voiding(id)), Ct);
        Assert.Equal(HttpStatusCode.OK, voiding.StatusCode);
        var voidingId = (await voiding.ReadJsonAsync()).AsArray().Single()!.GetValue<string>();

        Assert.Equal(HttpStatusCode.NotFound, (await a.GetAsync($"statements?statementId={id}", Ct)).StatusCode);
        var voided = await a.GetAsync($"statements?voidedStatementId={id}", Ct);
        Assert.Equal(HttpStatusCode.OK, voided.StatusCode);
        Assert.Equal(id.ToString(), (await voided.ReadJsonAsync())["id"]!.GetValue<string>());

        // Queries through the first node leave the voided statement out; the voiding statement, whose target matches
        // the verb filter, is in (xAPI: a statement targeting another matches when its target does).
        AssertExactlyOnce([voidingId, kept.ToString()], await PageAsync([a], $"statements?verb={Uri.EscapeDataString(verb)}", 0));
        AssertExactlyOnce([voidingId, kept.ToString()], await PageAsync([a], "statements", 0));
    }

    [Fact]
    public async Task SameStatementIdRacedAcrossNodes_OneContentWinsAndTheLosingBatchStoresNothing()
    {
        await using var nodes = await Nodes.StartAsync();
        var conflicts = new[] { HttpStatusCode.OK, HttpStatusCode.Conflict };
        var stored = new List<string>();
        for (var round = 0; round < 15; round++)
        {
            // Batches sharing one id with different content: one is stored whole, the other refused whole.
            var shared = Guid.NewGuid();
            var others = new[] { Guid.NewGuid(), Guid.NewGuid() };
            var posts = await Task.WhenAll(nodes.Clients.Select((http, node) => http.PostAsync(
                "statements",
                Content(new JsonArray(Statement(mbox: Mboxes[node], id: others[node]), Statement(mbox: Mboxes[node], id: shared))),
                Ct)));
            Assert.Equal(conflicts, posts.Select(p => p.StatusCode).Order());
            var winner = Array.FindIndex(posts, p => p.StatusCode == HttpStatusCode.OK);
            stored.AddRange([shared.ToString(), others[winner].ToString()]);
            foreach (var http in nodes.Clients)
            {
                var kept = await (await http.GetAsync($"statements?statementId={shared}", Ct)).ReadJsonAsync();
                Assert.Equal(Mboxes[winner], kept["actor"]!["mbox"]!.GetValue<string>());
                Assert.Equal(HttpStatusCode.OK, (await http.GetAsync($"statements?statementId={others[winner]}", Ct)).StatusCode);
                Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync($"statements?statementId={others[1 - winner]}", Ct)).StatusCode);
            }

            // The same statement through both nodes: no conflict, stored once.
            var same = Guid.NewGuid();
            var puts = await Task.WhenAll(nodes.Clients.Select(http => http.PutAsync($"statements?statementId={same}", Content(Statement(id: same)), Ct)));
            Assert.All(puts, p => Assert.Equal(HttpStatusCode.NoContent, p.StatusCode));
            stored.Add(same.ToString());
        }

        AssertExactlyOnce(stored, await PageAsync(nodes.Clients, "statements?limit=37", 1));
    }

    private static async Task<List<string>> PostBatchAsync(HttpClient http, int count, string verb)
    {
        var batch = new JsonArray([.. Enumerable.Range(0, count).Select(i => (JsonNode)Statement(mbox: Mboxes[i % Mboxes.Length], verb: verb))]);
        var response = await http.PostAsync("statements", Content(batch), Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return [.. (await response.ReadJsonAsync()).AsArray().Select(n => n!.GetValue<string>())];
    }

    /// <summary>Reads every page of a query, the first through <paramref name="clients"/>[start] and each `more` through
    /// the next client in turn; <paramref name="betweenPages"/> runs after each page but the last.</summary>
    private static async Task<List<(string Id, DateTimeOffset Stored)>> PageAsync(
        IReadOnlyList<HttpClient> clients, string url, int start, Func<Task>? betweenPages = null)
    {
        var seen = new List<(string, DateTimeOffset)>();
        for (var turn = start; ; turn++)
        {
            var response = await clients[turn % clients.Count].GetAsync(url, Ct);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var page = await response.ReadJsonAsync();
            seen.AddRange(page["statements"]!.AsArray().Select(s => (s!["id"]!.GetValue<string>(), DateTimeOffset.Parse(s["stored"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture))));
            var more = page["more"]!.GetValue<string>();
            if (more.Length == 0)
            {
                return seen;
            }

            // An absolute path: resolved against each node's own address, so a token from one node is followed on another.
            Assert.StartsWith(MorePrefix, more, StringComparison.Ordinal);
            url = more;
            if (betweenPages is not null)
            {
                await betweenPages();
            }
        }
    }

    private static void AssertExactlyOnce(IEnumerable<string> expected, List<(string Id, DateTimeOffset Stored)> seen)
    {
        var ids = seen.Select(s => s.Id).ToList();
        Assert.Equal(ids.Count, ids.Distinct().Count());
        Assert.Equal(expected.Order(StringComparer.Ordinal), ids.Order(StringComparer.Ordinal));
    }

    private static void AssertNewestFirst(List<(string Id, DateTimeOffset Stored)> seen)
    {
        for (var i = 1; i < seen.Count; i++)
        {
            Assert.True(seen[i - 1].Stored >= seen[i].Stored, $"{seen[i - 1].Id} stored {seen[i - 1].Stored:O} before {seen[i].Id} stored {seen[i].Stored:O}");
        }
    }

    private static void AssertOldestFirst(List<(string Id, DateTimeOffset Stored)> seen)
    {
        for (var i = 1; i < seen.Count; i++)
        {
            Assert.True(seen[i - 1].Stored <= seen[i].Stored, $"{seen[i - 1].Id} stored {seen[i - 1].Stored:O} after {seen[i].Id} stored {seen[i].Stored:O}");
        }
    }

    /// <summary>Two <c>lvault serve</c> processes on one new PostgreSQL database, each with a data folder of its own
    /// holding a copy of the same master key, and a client of each (same key and secret).</summary>
    private sealed class Nodes : IAsyncDisposable
    {
        private readonly List<string> folders = [];
        private readonly List<Process> processes = [];

        public List<HttpClient> Clients { get; } = [];

        public static async Task<Nodes> StartAsync()
        {
            var nodes = new Nodes();
            try
            {
                var store = StoreLocation.Postgres(await PostgresTestServer.CreateDatabaseAsync("nodes"));
                var first = TempFolder.Create("lv-node-a");
                nodes.folders.Add(first);
                var (key, secret) = await LvaultProcess.AddClientAsync(first, Ct, store);

                var second = TempFolder.Create("lv-node-b");
                nodes.folders.Add(second);
                var files = Directory.GetFiles(first);
                Assert.Equal(["master.key"], files.Select(Path.GetFileName));
                File.Copy(files[0], Path.Combine(second, "master.key"));

                var ports = new[] { FreePort(), FreePort() };
                var starting = new[] { first, second }.Select((folder, i) => LvaultProcess.StartServerAsync(folder, ports[i], Ct, store)).ToArray();
                try
                {
                    await Task.WhenAll(starting);
                }
                finally
                {
                    // Both are stopped on the way out, even when only one of them started.
                    foreach (var started in starting.Where(t => t.IsCompletedSuccessfully))
                    {
                        nodes.processes.Add(await started);
                    }
                }

                foreach (var port in ports)
                {
                    var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/xapi/") };
                    http.DefaultRequestHeaders.Authorization = LearnerVaultAppFactory.Basic(key, secret);
                    http.DefaultRequestHeaders.Add("X-Experience-API-Version", "2.0.0");
                    nodes.Clients.Add(http);
                }

                return nodes;
            }
            catch
            {
                await nodes.DisposeAsync();
                throw;
            }
        }

        public async ValueTask DisposeAsync()
        {
            foreach (var http in Clients)
            {
                http.Dispose();
            }

            foreach (var process in processes)
            {
                try
                {
                    process.Kill(entireProcessTree: true);
                    await process.WaitForExitAsync(CancellationToken.None);
                }
                catch (InvalidOperationException)
                {
                }
                finally
                {
                    process.Dispose();
                }
            }

            foreach (var folder in folders)
            {
                TempFolder.Delete(folder);
            }
        }

        private static int FreePort()
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            return ((IPEndPoint)listener.LocalEndpoint).Port;
        }
    }
}
