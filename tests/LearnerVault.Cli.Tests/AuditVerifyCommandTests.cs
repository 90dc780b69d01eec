using System.Data.Common;
using LearnerVault.Privacy.Audit;
using LearnerVault.Server.Administration;
using LearnerVault.Server.Audit;
using LearnerVault.Server.Options;
using LearnerVault.Tests.Shared;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace LearnerVault.Cli.Tests;

/// <summary>
/// <c>lvault audit verify</c> against a real store that is tampered with directly in the database between the writes and
/// the check: 50 entries appended through the access log service with a signed checkpoint every 10, then one kind of
/// damage each.
/// </summary>
public abstract class AuditVerifyCommandTests : IDisposable
{
    private static readonly DateTimeOffset Start = new(2026, 3, 1, 8, 0, 0, TimeSpan.Zero);

    protected TempFolder Folder { get; } = new();

    /// <summary>The store options of the command line (empty for the embedded default).</summary>
    protected abstract Task<string[]> SetUpStoreAsync(string data);

    protected abstract StoreLocation Location { get; }

    protected abstract DbConnection OpenDatabase();

    public void Dispose()
    {
        Folder.Dispose();
        GC.SuppressFinalize(this);
    }

    private static AccessLogEntry Entry(int i) => new(
        Start.AddSeconds(i), $"client:key{i % 4}", $"key{i % 4}", i % 2 == 0 ? "statements.read" : "statements.write", "instruction",
        [(byte)i, 1, 2, 3], 100 + i, i % 7 == 0 ? AccessDecision.Deny : AccessDecision.Allow, i % 7 == 0 ? "purpose-not-lawful" : "public-task");

    /// <summary>An initialised installation whose default tenant has 50 entries and checkpoints at 10, 20, …, 50.</summary>
    protected async Task<(string[] Args, Guid Tenant)> InstallationAsync()
    {
        var data = Folder.Sub("data");
        var storeArgs = await SetUpStoreAsync(data);
        await using var backend = DataFolder.Open(data, null, Location, TimeProvider.System);
        var tenant = await DataFolder.DefaultTenantAsync(backend, TestContext.Current.CancellationToken);
        var log = new AccessLog(backend.AccessLog, backend.Keys,
            new ServerOptions { AuditCheckpointEntries = 10 }, NullLogger<AccessLog>.Instance);
        for (var i = 1; i <= 50; i++)
        {
            await log.AppendAsync(tenant, Entry(i), TestContext.Current.CancellationToken);
        }

        return ([.. new[] { "audit", "verify", "--data", data }, .. storeArgs], tenant);
    }

    private void Execute(string sql, params (string Name, object Value)[] parameters)
    {
        using var connection = OpenDatabase();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = name;
            parameter.Value = value;
            command.Parameters.Add(parameter);
        }

        command.ExecuteNonQuery();
    }

    private byte[] HashAt(long position)
    {
        using var connection = OpenDatabase();
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT hash FROM access_log WHERE position = {position};";
        return (byte[])command.ExecuteScalar()!;
    }

    /// <summary>Moves entries at or after <paramref name="from"/> by <paramref name="by"/> positions (through negative
    /// positions, so that the primary key never sees two rows at once in one place).</summary>
    private void Shift(long from, long by)
    {
        Execute($"UPDATE access_log SET position = -(position + {by}) WHERE position >= {from};");
        Execute("UPDATE access_log SET position = -position WHERE position < 0;");
    }

    private static void AssertBroken(CliRun run, Guid tenant, long position, string damage)
    {
        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.Contains($"audit log of tenant {tenant:D}: ", run.Stdout, StringComparison.Ordinal);
        Assert.Contains($"BROKEN at entry {position} ({damage})", run.Stdout, StringComparison.Ordinal);
        CliRunner.AssertOneLineError(run, $"broken at entry {position} ({damage})");
        Assert.DoesNotContain("purpose-not-lawful", run.Stdout + run.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_CleanChain_ExitsZeroAndSaysClean()
    {
        var (args, tenant) = await InstallationAsync();

        var run = await CliRunner.RunAsync(args);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal($"audit log of tenant {tenant:D}: 50 entries, 5 checkpoints: clean\n", run.Stdout);
        Assert.Empty(run.Stderr);
    }

    [Fact]
    public async Task Verify_Json_CleanChain_OneDocument()
    {
        var (args, tenant) = await InstallationAsync();

        var run = await CliRunner.RunAsync([.. args, "--json"]);

        Assert.True(run.ExitCode == 0, run.ToString());
        var json = Json.Parse(run.Stdout);
        Assert.True(json["clean"]!.GetValue<bool>());
        var only = Assert.Single(json["tenants"]!.AsArray())!;
        Assert.Equal(tenant.ToString("D"), only["tenant"]!.GetValue<string>());
        Assert.Equal(50, only["entries"]!.GetValue<long>());
        Assert.Equal(5, only["checkpoints"]!.GetValue<long>());
        Assert.Null(only["firstBadEntry"]);
    }

    [Theory]
    [InlineData("UPDATE access_log SET reason = 'public-tasl' WHERE position = 23;")]
    [InlineData("UPDATE access_log SET records = records + 1 WHERE position = 23;")]
    [InlineData("UPDATE access_log SET principal = 'client:key2' WHERE position = 23;")]
    public async Task Verify_OneByteOfOneEntryChanged_NamesThatEntryAsAltered(string tamper)
    {
        var (args, tenant) = await InstallationAsync();
        Execute(tamper);

        AssertBroken(await CliRunner.RunAsync(args), tenant, 23, "altered");
    }

    [Fact]
    public async Task Verify_Json_BrokenChain_NamesTheFirstBadEntry()
    {
        var (args, _) = await InstallationAsync();
        Execute("UPDATE access_log SET records = records + 1 WHERE position = 23;");

        var run = await CliRunner.RunAsync([.. args, "--json"]);

        Assert.Equal(1, run.ExitCode);
        var json = Json.Parse(run.Stdout);
        Assert.False(json["clean"]!.GetValue<bool>());
        var bad = json["tenants"]![0]!["firstBadEntry"]!;
        Assert.Equal(23, bad["position"]!.GetValue<long>());
        Assert.Equal("altered", bad["damage"]!.GetValue<string>());
        CliRunner.AssertOneLineError(run, "broken at entry 23 (altered)");
    }

    [Fact]
    public async Task Verify_EntryDeleted_NamesItAsDeleted()
    {
        var (args, tenant) = await InstallationAsync();
        Execute("DELETE FROM access_log WHERE position = 17;");

        AssertBroken(await CliRunner.RunAsync(args), tenant, 17, "deleted");
    }

    [Fact]
    public async Task Verify_EntryInsertedWithAValidHash_NamesTheInsertedEntry()
    {
        var (args, tenant) = await InstallationAsync();
        var forged = Entry(19) with { Principal = "client:forged" };
        var hash = AccessLogChain.Next(HashAt(19), 20, forged);
        Shift(20, 1);
        Execute("""
            INSERT INTO access_log SELECT tenant, 20, time, 'client:forged', client, action, purpose, learner, records, decision, reason, @hash
            FROM access_log WHERE position = 19;
            """.Replace("tenant,", TenantColumn + ",", StringComparison.Ordinal), ("@hash", hash));

        AssertBroken(await CliRunner.RunAsync(args), tenant, 20, "inserted");
    }

    [Fact]
    public async Task Verify_TwoEntriesSwapped_NamesTheFirstAsSwapped()
    {
        var (args, tenant) = await InstallationAsync();
        Execute("UPDATE access_log SET position = -1 WHERE position = 12;");
        Execute("UPDATE access_log SET position = 12 WHERE position = 37;");
        Execute("UPDATE access_log SET position = 37 WHERE position = -1;");

        var run = await CliRunner.RunAsync(args);

        AssertBroken(run, tenant, 12, "swapped");
        Assert.Contains("entries 12 and 37 were swapped", run.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Verify_TailTruncatedPastACheckpoint_NamesTheFirstMissingEntry()
    {
        var (args, tenant) = await InstallationAsync();
        Execute("DELETE FROM access_log WHERE position > 35;");

        AssertBroken(await CliRunner.RunAsync(args), tenant, 36, "truncated");
    }

    [Fact]
    public async Task Verify_CheckpointSignedByAnotherKey_IsRejected()
    {
        var (args, tenant) = await InstallationAsync();
        using var otherKey = AccessLogSigning.ImportSigningKey(AccessLogSigning.NewSigningKey());
        var forged = AccessLogSigning.Sign(otherKey, tenant, new AccessLogHead(30, HashAt(30)), Start);
        Execute("DELETE FROM access_log_checkpoints WHERE position = 30;");
        Execute($"INSERT INTO access_log_checkpoints SELECT {TenantColumn}, 30, @head, time, @signature FROM access_log_checkpoints WHERE position = 20;",
            ("@head", forged.HeadHash), ("@signature", forged.Signature));

        AssertBroken(await CliRunner.RunAsync(args), tenant, 30, "checkpoint-signature-invalid");
    }

    [Fact]
    public async Task Verify_HistoryRewrittenAndRehashed_CheckpointShowsIt()
    {
        var (args, tenant) = await InstallationAsync();
        // The strongest tamperer without the signing key: changes entry 14 and re-hashes every entry after it.
        Execute("UPDATE access_log SET decision = 1, reason = 'public-task' WHERE position = 14;");
        var hash = HashAt(13);
        for (var p = 14; p <= 50; p++)
        {
            var entry = p == 14 ? Entry(14) with { Decision = AccessDecision.Allow, Reason = "public-task" } : Entry(p);
            hash = AccessLogChain.Next(hash, p, entry);
            Execute($"UPDATE access_log SET hash = @hash WHERE position = {p};", ("@hash", hash));
        }

        AssertBroken(await CliRunner.RunAsync(args), tenant, 11, "rewritten");
    }

    /// <summary><c>lvault audit checkpoint --json</c> written to a file outside the store, as an auditor would keep it.</summary>
    private async Task<string> PublishAsync(string[] verifyArgs)
    {
        var run = await CliRunner.RunAsync(["audit", "checkpoint", .. verifyArgs[2..], "--json"]);
        Assert.True(run.ExitCode == 0, run.ToString());
        var file = Path.Combine(Directory.CreateDirectory(Folder.Sub("published")).FullName, "checkpoints.json");
        await File.WriteAllTextAsync(file, run.Stdout, TestContext.Current.CancellationToken);
        return file;
    }

    /// <summary>Someone with write access to the store AND the signing key: throws the log away and appends a new history
    /// of the same length with entry 23 changed, checkpointed as the server would.</summary>
    private async Task RewriteWithTheSigningKeyAsync(Guid tenant)
    {
        Execute("DELETE FROM access_log;");
        Execute("DELETE FROM access_log_checkpoints;");
        await using var backend = DataFolder.Open(Folder.Sub("data"), null, Location, TimeProvider.System);
        var log = new AccessLog(backend.AccessLog, backend.Keys, new ServerOptions { AuditCheckpointEntries = 10 }, NullLogger<AccessLog>.Instance);
        for (var i = 1; i <= 50; i++)
        {
            var entry = i == 23 ? Entry(i) with { Principal = "client:innocent" } : Entry(i);
            await log.AppendAsync(tenant, entry, TestContext.Current.CancellationToken);
        }
    }

    [Fact]
    public async Task Checkpoint_Json_PublishesTheHeadWithItsPublicKey()
    {
        var (args, tenant) = await InstallationAsync();

        var run = await CliRunner.RunAsync(["audit", "checkpoint", .. args[2..], "--json"]);

        Assert.True(run.ExitCode == 0, run.ToString());
        var only = Assert.Single(Json.Parse(run.Stdout)["checkpoints"]!.AsArray())!;
        Assert.Equal(tenant.ToString("D"), only["tenant"]!.GetValue<string>());
        Assert.Equal(50, only["position"]!.GetValue<long>());
        Assert.Equal(Convert.ToHexStringLower(HashAt(50)), only["headHash"]!.GetValue<string>());
        using var key = System.Security.Cryptography.ECDsa.Create();
        key.ImportSubjectPublicKeyInfo(Convert.FromBase64String(only["publicKey"]!.GetValue<string>()), out _);
        var checkpoint = new AccessLogCheckpoint(50, HashAt(50), DateTimeOffset.Parse(only["time"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture),
            Convert.FromBase64String(only["signature"]!.GetValue<string>()));
        Assert.True(AccessLogSigning.Verify(key, tenant, checkpoint));
    }

    [Fact]
    public async Task Checkpoint_IdleTail_SignsTheHeadNow()
    {
        var (args, _) = await InstallationAsync();
        Execute("DELETE FROM access_log_checkpoints WHERE position = 50;");

        var run = await CliRunner.RunAsync(["audit", "checkpoint", .. args[2..]]);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("checkpoint at entry 50,", run.Stdout, StringComparison.Ordinal);
        var verify = await CliRunner.RunAsync(args);
        Assert.Contains("50 entries, 5 checkpoints: clean", verify.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task VerifyPublished_UntouchedLog_IsClean()
    {
        var (args, tenant) = await InstallationAsync();
        var published = await PublishAsync(args);

        var run = await CliRunner.RunAsync([.. args, "--published", published]);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal($"audit log of tenant {tenant:D}: 50 entries, 5 checkpoints: clean\n", run.Stdout);
    }

    [Fact]
    public async Task VerifyPublished_LogRewrittenWithTheSigningKey_IsCaughtOnlyAgainstThePublishedHead()
    {
        var (args, tenant) = await InstallationAsync();
        var published = await PublishAsync(args);
        await RewriteWithTheSigningKeyAsync(tenant);

        var unaided = await CliRunner.RunAsync(args);
        var run = await CliRunner.RunAsync([.. args, "--published", published]);

        // The stored checkpoints were re-signed with the real key: only the published head shows the rewrite.
        Assert.True(unaided.ExitCode == 0, unaided.ToString());
        AssertBroken(run, tenant, 41, "rewritten");
    }

    [Fact]
    public async Task VerifyPublished_TailAndItsCheckpointRemoved_NamesTheFirstMissingEntry()
    {
        var (args, tenant) = await InstallationAsync();
        var published = await PublishAsync(args);
        Execute("DELETE FROM access_log WHERE position > 45;");
        Execute("DELETE FROM access_log_checkpoints WHERE position = 50;");

        var unaided = await CliRunner.RunAsync(args);
        var run = await CliRunner.RunAsync([.. args, "--published", published]);

        Assert.True(unaided.ExitCode == 0, unaided.ToString());
        AssertBroken(run, tenant, 46, "truncated");
    }

    [Fact]
    public async Task VerifyPublished_FileEditedAfterPublishing_OneLineError()
    {
        var (args, _) = await InstallationAsync();
        var published = await PublishAsync(args);
        var text = await File.ReadAllTextAsync(published, TestContext.Current.CancellationToken);
        await File.WriteAllTextAsync(published, text.Replace("\"position\":50", "\"position\":49", StringComparison.Ordinal), TestContext.Current.CancellationToken);

        var run = await CliRunner.RunAsync([.. args, "--published", published]);

        Assert.Equal(1, run.ExitCode);
        CliRunner.AssertOneLineError(run, "the file was changed after publishing");
    }

    /// <summary>The tenant column of the access log tables (the embedded store keys by a tenant number).</summary>
    protected abstract string TenantColumn { get; }
}

/// <summary>On the embedded store's data file, edited with Microsoft.Data.Sqlite.</summary>
public sealed class SqliteAuditVerifyCommandTests : AuditVerifyCommandTests
{
    private string? data;

    protected override StoreLocation Location => StoreLocation.Sqlite;

    protected override string TenantColumn => "tenant_no";

    protected override async Task<string[]> SetUpStoreAsync(string data)
    {
        var run = await CliRunner.RunAsync("init", "--data", data);
        Assert.True(run.ExitCode == 0, run.ToString());
        this.data = data;
        return [];
    }

    [Fact]
    [Trait("Backend", "postgres")]
    public async Task StoreCopy_ToPostgres_CarriesTheLogWhichVerifiesClean()
    {
        var (args, tenant) = await InstallationAsync();
        var target = await PostgresTestServer.CreateDatabaseAsync("auditcopy");
        Assert.Equal(0, (await CliRunner.RunAsync("migrate", "--store", "postgres:" + target)).ExitCode);

        var copy = await CliRunner.RunAsync("store", "copy", "--from", data!, "--to", target, "--json");

        Assert.True(copy.ExitCode == 0, copy.ToString());
        var rows = Json.Parse(copy.Stdout)["rows"]!;
        Assert.Equal(50, rows["access log"]!.GetValue<long>());
        Assert.Equal(5, rows["access log checkpoints"]!.GetValue<long>());
        var run = await CliRunner.RunAsync([.. args, "--store", "postgres:" + target]);
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal($"audit log of tenant {tenant:D}: 50 entries, 5 checkpoints: clean\n", run.Stdout);
    }

    protected override DbConnection OpenDatabase()
    {
        var connection = new SqliteConnection($"Data Source={Path.Combine(data!, "learnervault.db")};Pooling=False");
        connection.Open();
        return connection;
    }
}

/// <summary>On a PostgreSQL database of its own, edited with Npgsql in the data schema.</summary>
[Trait("Backend", "postgres")]
public sealed class PostgresAuditVerifyCommandTests : AuditVerifyCommandTests
{
    private string? connectionString;

    protected override StoreLocation Location => StoreLocation.Postgres(connectionString!);

    protected override string TenantColumn => "tenant_id";

    protected override async Task<string[]> SetUpStoreAsync(string data)
    {
        connectionString = await PostgresTestServer.CreateDatabaseAsync("audit");
        string[] store = ["--store", "postgres:" + connectionString];
        foreach (var command in new[] { "migrate", "init" })
        {
            var run = await CliRunner.RunAsync([command, "--data", data, .. store]);
            Assert.True(run.ExitCode == 0, run.ToString());
        }

        return store;
    }

    protected override DbConnection OpenDatabase()
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString) { SearchPath = "learnervault" };
        var connection = new NpgsqlConnection(builder.ConnectionString);
        connection.Open();
        return connection;
    }
}
