using System.Net;
using System.Text.Json.Nodes;
using LearnerVault.Privacy;
using LearnerVault.Privacy.Audit;
using LearnerVault.Server.Audit;
using LearnerVault.Server.Options;
using LearnerVault.Storage;
using LearnerVault.Storage.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace LearnerVault.Server.Tests.Audit;

/// <summary>The access log service over a real SQLite backend in a folder of its own.</summary>
public sealed class AccessLogServiceTests : IAsyncLifetime
{
    private readonly string folder = Path.Combine(Path.GetTempPath(), "lv-audit-" + Guid.NewGuid().ToString("N"));
    private readonly FakeTimeProvider time = new(new DateTimeOffset(2026, 3, 1, 8, 0, 0, TimeSpan.Zero));
    private readonly Guid tenant = Guid.NewGuid();
    private SqliteBackend? backend;

    private SqliteBackend Backend => backend ?? throw new InvalidOperationException("Not opened.");

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public ValueTask InitializeAsync()
    {
        backend = SqliteBackend.Open(folder, MasterKey.FromBytes(KeyWrapping.NewKey()), time);
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        await Backend.DisposeAsync();
        Directory.Delete(folder, recursive: true);
    }

    private AccessLog Service(int entries = 10, int minutes = 10) => new(
        Backend.AccessLog,
        Backend.Keys,
        new ServerOptions { TimeProvider = time, AuditCheckpointEntries = entries, AuditCheckpointInterval = TimeSpan.FromMinutes(minutes) },
        NullLogger<AccessLog>.Instance);

    private AccessLogEntry Entry(int i) => new(
        time.GetUtcNow(), $"client:key{i}", $"key{i}", "statements.read", "instruction", null, i, AccessDecision.Allow, "public-task");

    [Fact]
    public async Task Append_EveryTenEntries_WritesSignedCheckpointsAndVerifiesClean()
    {
        var log = Service(entries: 10);

        for (var i = 1; i <= 25; i++)
        {
            await log.AppendAsync(tenant, Entry(i), Ct);
        }

        var checkpoints = await Backend.AccessLog.ReadCheckpointsAsync(tenant, Ct);
        Assert.Equal([10L, 20], checkpoints.Select(c => c.Position));
        var verification = await log.VerifyAsync(tenant, Ct);
        Assert.True(verification.IsClean, verification.Fault?.Description);
        Assert.Equal(25, verification.Entries);
        Assert.Equal(2, verification.Checkpoints);
    }

    [Fact]
    public async Task Append_AfterTheInterval_WritesACheckpointEvenBelowTheCount()
    {
        var log = Service(entries: 1000, minutes: 10);
        await log.AppendAsync(tenant, [Entry(1), Entry(2)], Ct);
        Assert.Empty(await Backend.AccessLog.ReadCheckpointsAsync(tenant, Ct));

        time.Advance(TimeSpan.FromMinutes(10));
        await log.AppendAsync(tenant, Entry(3), Ct);

        Assert.Equal(3, Assert.Single(await Backend.AccessLog.ReadCheckpointsAsync(tenant, Ct)).Position);
    }

    [Fact]
    public async Task Append_AnotherProcessCheckpointedBefore_CountsFromTheLastStoredCheckpoint()
    {
        await Service(entries: 5).AppendAsync(tenant, [Entry(1), Entry(2), Entry(3), Entry(4), Entry(5), Entry(6)], Ct);
        var restarted = Service(entries: 5);

        await restarted.AppendAsync(tenant, [Entry(7), Entry(8), Entry(9), Entry(10)], Ct);
        Assert.Single(await Backend.AccessLog.ReadCheckpointsAsync(tenant, Ct));
        await restarted.AppendAsync(tenant, Entry(11), Ct);

        Assert.Equal([6L, 11], (await Backend.AccessLog.ReadCheckpointsAsync(tenant, Ct)).Select(c => c.Position));
    }

    [Fact]
    public async Task Checkpoint_Now_SignsTheHeadWithTheTenantsKey()
    {
        var log = Service();
        Assert.Null(await log.CheckpointAsync(tenant, Ct));
        await log.AppendAsync(tenant, [Entry(1), Entry(2)], Ct);

        var checkpoint = await log.CheckpointAsync(tenant, Ct);

        Assert.Equal(2, checkpoint!.Position);
        using var key = AccessLogSigning.ImportSigningKey(Backend.Keys.GetAuditSigningKey(tenant));
        Assert.True(AccessLogSigning.Verify(key, tenant, checkpoint));
    }

    [Theory]
    [InlineData("LV_AUDIT_CHECKPOINT_ENTRIES", "0")]
    [InlineData("LV_AUDIT_CHECKPOINT_MINUTES", "0")]
    [InlineData("LV_AUDIT_CHECKPOINT_MINUTES", "ten")]
    public void Options_BadCheckpointSetting_IsRefused(string variable, string value) =>
        Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() =>
            new ServerOptions().ApplyEnvironment(name => name == variable ? value : null).Validate());

    [Fact]
    public void Options_CheckpointSettingsFromEnvironment_AreApplied()
    {
        var options = new ServerOptions().ApplyEnvironment(name => name switch
        {
            "LV_AUDIT_CHECKPOINT_ENTRIES" => "50",
            "LV_AUDIT_CHECKPOINT_MINUTES" => "3",
            _ => null,
        });

        Assert.Equal(50, options.AuditCheckpointEntries);
        Assert.Equal(TimeSpan.FromMinutes(3), options.AuditCheckpointInterval);
        Assert.Equal(1000, new ServerOptions().AuditCheckpointEntries);
        Assert.Equal(TimeSpan.FromMinutes(10), new ServerOptions().AuditCheckpointInterval);
    }

    [Fact]
    public async Task Checkpointer_IdleTail_IsSignedOnceAndVerifies()
    {
        await Backend.Clients.EnsureTenantAsync(tenant, "school", Ct);
        var log = Service(entries: 10);
        var checkpointer = new AccessLogCheckpointer(log, Backend.Clients, new ServerOptions { TimeProvider = time }, NullLogger<AccessLogCheckpointer>.Instance);
        for (var i = 1; i <= 13; i++)
        {
            await log.AppendAsync(tenant, Entry(i), Ct);
        }

        var first = await checkpointer.RunOnceAsync(Ct);
        var second = await checkpointer.RunOnceAsync(Ct);

        Assert.Equal((1, 0), (first, second));
        Assert.Equal([10L, 13], (await Backend.AccessLog.ReadCheckpointsAsync(tenant, Ct)).Select(c => c.Position));
        Assert.True((await log.VerifyAsync(tenant, Ct)).IsClean);
    }

    [Fact]
    public async Task Checkpointer_EmptyOrCoveredLogs_WritesNothing()
    {
        await Backend.Clients.EnsureTenantAsync(tenant, "school", Ct);
        var log = Service(entries: 5);
        var checkpointer = new AccessLogCheckpointer(log, Backend.Clients, new ServerOptions { TimeProvider = time }, NullLogger<AccessLogCheckpointer>.Instance);
        Assert.Equal(0, await checkpointer.RunOnceAsync(Ct));
        for (var i = 1; i <= 5; i++)
        {
            await log.AppendAsync(tenant, Entry(i), Ct);
        }

        Assert.Equal(0, await checkpointer.RunOnceAsync(Ct));
    }
}

/// <summary>The access log as the server composes it (on the store LV_TEST_BACKEND names).</summary>
public sealed class AccessLogCompositionTests
{
    [Fact]
    public async Task Server_ResolvesTheAccessLog_AppendsAndVerifiesOnItsStore()
    {
        await using var server = await LearnerVaultAppFactory.StartAsync(options => options.AuditCheckpointEntries = 2);
        var log = server.Services.GetRequiredService<AccessLog>();
        var ct = TestContext.Current.CancellationToken;

        await log.AppendAsync(server.TenantId,
            [new AccessLogEntry(DateTimeOffset.UtcNow, "person:1", null, "statements.read", "instruction", null, 3, AccessDecision.Allow, "public-task"),
             new AccessLogEntry(DateTimeOffset.UtcNow, "client:k", "k", "statements.write", "instruction", [1, 2], 1, AccessDecision.Deny, "scope")], ct);

        var verification = await log.VerifyAsync(server.TenantId, ct);
        Assert.True(verification.IsClean, verification.Fault?.Description);
        Assert.Equal((2, 1), (verification.Entries, verification.Checkpoints));
    }

    [Fact]
    public async Task StatementWrites_AppendTheirEntriesWithTheWrite_AlsoWhenRefused_AndAreCheckpointed()
    {
        await using var server = await LearnerVaultAppFactory.StartAsync(options => options.AuditCheckpointEntries = 2);
        var ct = TestContext.Current.CancellationToken;
        using var writer = server.CreateClient(await server.AddClientAsync("log-writer", ["statements/write"]));
        var id = Guid.NewGuid();

        using var stored = await writer.PostAsync("statements", XapiJson.Content(new JsonArray(
            XapiJson.Statement(mbox: "mailto:alice@example.org", id: id), XapiJson.Statement(mbox: "mailto:bob@example.org", id: Guid.NewGuid()))), ct);
        using var conflicting = await writer.PostAsync("statements", XapiJson.Content(new JsonArray(
            XapiJson.Statement(mbox: "mailto:carol@example.org", id: id))), ct);

        Assert.Equal(HttpStatusCode.OK, stored.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, conflicting.StatusCode);
        // Two learners of the stored batch, and the refused one's decision: it was taken, so it is logged.
        var entries = await server.Services.GetRequiredService<IAccessLogStore>().ReadAsync(server.TenantId, 1, 100, ct);
        var writes = entries.Where(e => e.Entry.Action == "statements.write").ToList();
        Assert.Equal(3, writes.Count);
        Assert.All(writes, e => Assert.Equal(AccessDecision.Allow, e.Entry.Decision));
        var log = server.Services.GetRequiredService<AccessLog>();
        var verification = await log.VerifyAsync(server.TenantId, ct);
        Assert.True(verification.IsClean, verification.Fault?.Description);
        // Checkpointed by the statement write itself (every 2 entries here), without another append after it.
        var checkpoints = await server.Services.GetRequiredService<IAccessLogStore>().ReadCheckpointsAsync(server.TenantId, ct);
        Assert.Contains(checkpoints, c => c.Position == writes[1].Position);
    }
}
