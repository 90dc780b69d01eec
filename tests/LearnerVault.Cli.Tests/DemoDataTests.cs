using System.Text.Json;
using LearnerVault.Cli.Demo;
using LearnerVault.Server.Statements;
using LearnerVault.Storage;
using LearnerVault.Xapi;

namespace LearnerVault.Cli.Tests;

public sealed class DemoDataTests
{
    private static readonly DateTimeOffset Anchor = new(2026, 11, 28, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Generate_Default_GivesThousandsOfStatementsForHundredsOfLearners()
    {
        var statements = DemoData.Generate(Anchor);

        Assert.Equal(DemoData.StatementCount, statements.Count);
        var learners = statements.Select(s => s.GetProperty("actor").GetRawText()).Distinct().Count();
        Assert.InRange(learners, 200, DemoData.LearnerCount);
        Assert.Equal(statements.Count, statements.Select(s => s.GetProperty("id").GetGuid()).Distinct().Count());
    }

    [Fact]
    public void Generate_Default_UsesOnlyExampleOrgIdentities()
    {
        foreach (var statement in DemoData.Generate(Anchor))
        {
            var actor = statement.GetProperty("actor");
            if (actor.TryGetProperty("mbox", out var mbox))
            {
                Assert.EndsWith("@example.org", mbox.GetString(), StringComparison.Ordinal);
            }
            else
            {
                Assert.Equal("https://lms.example.org", actor.GetProperty("account").GetProperty("homePage").GetString());
            }
        }
    }

    [Fact]
    public void Generate_Default_TimestampsAreOrderedAndWithinSixtyDaysBeforeAnchor()
    {
        var timestamps = DemoData.Generate(Anchor).Select(s => s.GetProperty("timestamp").GetDateTimeOffset()).ToList();

        Assert.Equal(timestamps.Order(), timestamps);
        Assert.All(timestamps, t => Assert.InRange(t, Anchor.AddDays(-61), Anchor));
    }

    [Fact]
    public void Generate_DifferentAnchors_KeepsTheSameIds()
    {
        var first = DemoData.Generate(Anchor).Select(s => s.GetProperty("id").GetGuid());
        var second = DemoData.Generate(Anchor.AddDays(17)).Select(s => s.GetProperty("id").GetGuid());

        Assert.Equal(first, second);
    }

    [Fact]
    public void Generate_Default_HasVariedVerbsResultsAndRegistrations()
    {
        var statements = DemoData.Generate(Anchor);

        var verbs = statements.Select(s => s.GetProperty("verb").GetProperty("id").GetString()).Distinct().ToList();
        Assert.True(verbs.Count >= 6, string.Join(", ", verbs));
        Assert.Contains(statements, s => s.TryGetProperty("result", out var r) && r.TryGetProperty("response", out _));
        Assert.Contains(statements, s => s.TryGetProperty("result", out var r) && r.TryGetProperty("score", out _));
        Assert.All(statements, s => Assert.True(Guid.TryParse(s.GetProperty("context").GetProperty("registration").GetString(), out _)));
        Assert.All(statements, s => Assert.False(s.TryGetProperty("version", out _)));
    }

    [Fact]
    public async Task SeedAsync_FreshStore_IngestsEveryStatementInBatchesAsVersion2()
    {
        var ingest = new RecordingIngest();

        var stored = await DemoSeeder.SeedAsync(ingest, Client, TimeProvider.System, TestContext.Current.CancellationToken);

        Assert.Equal(DemoData.StatementCount, stored);
        Assert.Equal(DemoData.StatementCount, ingest.Batches.Sum(b => b.Count));
        Assert.All(ingest.Batches, b => Assert.InRange(b.Count, 1, DemoSeeder.BatchSize));
        Assert.All(ingest.Versions, v => Assert.Equal(XapiVersion.V2_0_0, v));
        Assert.Equal(DemoData.LastStatementId(DemoData.Generate(Anchor)), ingest.Batches[^1][^1].GetProperty("id").GetGuid());
    }

    [Fact]
    public async Task SeedAsync_BatchAlreadyStored_SkipsItAndGoesOn()
    {
        var ingest = new RecordingIngest { ConflictOnBatch = 0 };

        var stored = await DemoSeeder.SeedAsync(ingest, Client, TimeProvider.System, TestContext.Current.CancellationToken);

        Assert.Equal(DemoData.StatementCount - DemoSeeder.BatchSize, stored);
    }

    private static ClientRecord Client => new(1, Guid.NewGuid(), DemoSeeder.ClientName, "k", new byte[32], ["statements/write"], ["instruction"], Anchor, null);

    private sealed class RecordingIngest : IStatementIngest
    {
        public List<IReadOnlyList<JsonElement>> Batches { get; } = [];

        public List<XapiVersion> Versions { get; } = [];

        public int? ConflictOnBatch { get; init; }

        public Task<IReadOnlyList<Guid>> IngestAsync(ClientRecord client, IReadOnlyList<JsonElement> statements, XapiVersion version, CancellationToken cancellationToken = default)
        {
            var index = Batches.Count;
            Batches.Add(statements);
            Versions.Add(version);
            if (index == ConflictOnBatch)
            {
                throw new StatementRejectedException(409, "conflict");
            }

            return Task.FromResult<IReadOnlyList<Guid>>(statements.Select(s => s.GetProperty("id").GetGuid()).ToList());
        }
    }
}
