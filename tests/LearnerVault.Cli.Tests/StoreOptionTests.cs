using LearnerVault.Tests.Shared;

namespace LearnerVault.Cli.Tests;

/// <summary><c>--store</c> and <c>LV_STORE</c>: a store that cannot be used is one line of error, never a password.</summary>
public sealed class StoreOptionTests : IDisposable
{
    private readonly TempFolder folder = new();

    public void Dispose() => folder.Dispose();

    [Theory]
    [InlineData("mysql:Server=db")]
    [InlineData("postgres:")]
    [InlineData("postgres:Host=db;Password=hunter2-secret;Frobnicate=1")]
    [InlineData("postgres:Password=hunter2-secret")]
    public async Task Store_Unusable_OneLineErrorThatNeverRepeatsThePassword(string store)
    {
        var run = await CliRunner.RunAsync("clients", "list", "--data", folder.Sub("data"), "--store", store);

        CliRunner.AssertOneLineError(run, "--store: ");
        Assert.DoesNotContain("hunter2", run.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Store_FromEnvironment_IsUsedWhenTheOptionIsAbsent()
    {
        var settings = new CliSettings(TimeProvider.System, name => name == "LV_STORE" ? "postgres:Password=hunter2-secret" : null);

        var run = await CliRunner.RunAsync(["init", "--data", folder.Sub("data")], settings, CancellationToken.None);

        CliRunner.AssertOneLineError(run, "--store: the PostgreSQL connection string must name a Host");
        Assert.DoesNotContain("hunter2", run.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Migrate_Sqlite_SaysTheEmbeddedStoreMigratesItself()
    {
        var data = await CliRunner.InitAsync(folder);

        var run = await CliRunner.RunAsync("migrate", "--data", data);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("migrates itself", run.Stdout, StringComparison.Ordinal);
    }
}

/// <summary>The administrator's path on PostgreSQL: migrate (once, idempotent), init, clients, and the clear refusals.</summary>
[Trait("Backend", "postgres")]
public sealed class PostgresCommandsTests : IDisposable
{
    private readonly TempFolder folder = new();

    public void Dispose() => folder.Dispose();

    [Fact]
    public async Task Migrate_FreshDatabase_AppliesBothSchemasOnceThenNothing()
    {
        var store = "postgres:" + await PostgresTestServer.CreateDatabaseAsync("cli");

        var first = await CliRunner.RunAsync("migrate", "--data", folder.Sub("data"), "--store", store, "--json");
        var second = await CliRunner.RunAsync("migrate", "--data", folder.Sub("data"), "--store", store, "--json");

        Assert.True(first.ExitCode == 0, first.ToString());
        var applied = Json.Strings(Json.Parse(first.Stdout)["applied"]);
        Assert.Contains("learnervault/0001_tenants", applied);
        Assert.Contains("learnervault/0003_statements", applied);
        Assert.Contains("learnervault_keys/0001_initial", applied);
        Assert.Equal(applied.OrderBy(a => a.StartsWith("learnervault_keys", StringComparison.Ordinal)).ThenBy(a => a, StringComparer.Ordinal), applied);
        Assert.True(second.ExitCode == 0, second.ToString());
        Assert.Empty(Json.Strings(Json.Parse(second.Stdout)["applied"]));
    }

    [Fact]
    public async Task InitAndServe_UnmigratedDatabase_OneLineErrorNamingMigrate_AndNoMasterKeyLeftBehind()
    {
        var store = "postgres:" + await PostgresTestServer.CreateDatabaseAsync("cli");
        var data = folder.Sub("data");

        var init = await CliRunner.RunAsync("init", "--data", data, "--store", store);

        CliRunner.AssertOneLineError(init, "lvault migrate");
        Assert.DoesNotContain("Password", init.Stderr, StringComparison.OrdinalIgnoreCase);
        Assert.False(File.Exists(Path.Combine(data, "master.key")), "a master key made for a store that could not be opened stays behind");
        var list = await CliRunner.RunAsync("clients", "list", "--data", data, "--store", store);
        CliRunner.AssertOneLineError(list);
    }

    [Fact]
    public async Task MigrateInitClients_OnPostgres_WorkLikeTheEmbeddedStore()
    {
        var store = "postgres:" + await PostgresTestServer.CreateDatabaseAsync("cli");
        var data = folder.Sub("data");
        Assert.Equal(0, (await CliRunner.RunAsync("migrate", "--data", data, "--store", store)).ExitCode);

        var init = await CliRunner.RunAsync("init", "--data", data, "--store", store);
        var again = await CliRunner.RunAsync("init", "--data", data, "--store", store);
        var add = await CliRunner.RunAsync("clients", "add", "--data", data, "--store", store, "--name", "lms", "--scopes", "all", "--json");
        var list = await CliRunner.RunAsync("clients", "list", "--data", data, "--store", store, "--json");

        Assert.True(init.ExitCode == 0, init.ToString());
        Assert.Contains("Initialised", init.Stdout, StringComparison.Ordinal);
        Assert.Contains("learnervault_keys", init.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("Password", init.Stdout, StringComparison.OrdinalIgnoreCase);
        Assert.True(File.Exists(Path.Combine(data, "master.key")));
        Assert.False(File.Exists(Path.Combine(data, "learnervault.db")), "a PostgreSQL installation has no SQLite data file");
        Assert.Contains("already initialised", again.Stdout, StringComparison.Ordinal);
        Assert.True(add.ExitCode == 0, add.ToString());
        var key = Json.Parse(add.Stdout)["key"]!.GetValue<string>();
        Assert.Contains(key, list.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Init_WithAnotherInstallationsMasterKey_OneLineError()
    {
        var store = "postgres:" + await PostgresTestServer.CreateDatabaseAsync("cli");
        Assert.Equal(0, (await CliRunner.RunAsync("migrate", "--data", folder.Sub("a"), "--store", store)).ExitCode);
        Assert.Equal(0, (await CliRunner.RunAsync("init", "--data", folder.Sub("a"), "--store", store)).ExitCode);

        var other = await CliRunner.RunAsync("init", "--data", folder.Sub("b"), "--store", store);

        CliRunner.AssertOneLineError(other, "master key");
        Assert.False(File.Exists(Path.Combine(folder.Sub("b"), "master.key")));
    }
}
