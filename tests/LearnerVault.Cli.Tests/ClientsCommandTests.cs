using System.Runtime.Versioning;
using System.Text;
using System.Text.Json;

namespace LearnerVault.Cli.Tests;

public sealed class ClientsCommandTests : IDisposable
{
    private readonly TempFolder folder = new();

    public void Dispose() => folder.Dispose();

    [Fact]
    public async Task ClientsAdd_Json_PrintsExactlyOneObjectWithCredentials()
    {
        var data = await CliRunner.InitAsync(folder);

        var run = await CliRunner.RunAsync("clients", "add", "--data", data, "--name", "Moodle", "--scopes", "all", "--json");

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Empty(run.Stderr);
        using var document = JsonDocument.Parse(run.Stdout);
        Assert.Equal(JsonValueKind.Object, document.RootElement.ValueKind);
        var json = Json.Parse(run.Stdout);
        Assert.Equal(20, json["key"]!.GetValue<string>().Length);
        Assert.True(json["secret"]!.GetValue<string>().Length >= 43);
        Assert.Equal("Moodle", json["name"]!.GetValue<string>());
        Assert.Equal(["all"], Json.Strings(json["scopes"]));
        Assert.Equal(["instruction"], Json.Strings(json["purposes"]));
        Assert.True(Guid.TryParse(json["tenant"]!.GetValue<string>(), out _));
        Assert.Single(run.Stdout.TrimEnd('\n').Split('\n'));
    }

    [Fact]
    public async Task ClientsAdd_Json_SecretIsInNoFileOfTheDataFolder()
    {
        var data = await CliRunner.InitAsync(folder);

        var run = await CliRunner.RunAsync("clients", "add", "--data", data, "--name", "lms", "--scopes", "all", "--json");

        Assert.True(run.ExitCode == 0, run.ToString());
        var secret = Json.Parse(run.Stdout)["secret"]!.GetValue<string>();
        var files = Directory.EnumerateFiles(data, "*", SearchOption.AllDirectories).ToList();
        Assert.NotEmpty(files);
        foreach (var file in files)
        {
            var bytes = await File.ReadAllBytesAsync(file, TestContext.Current.CancellationToken);
            Assert.True(bytes.AsSpan().IndexOf(Encoding.UTF8.GetBytes(secret)) < 0, $"the secret is in {file}");
            Assert.True(bytes.AsSpan().IndexOf(Encoding.Unicode.GetBytes(secret)) < 0, $"the secret is in {file} (UTF-16)");
        }
    }

    [Fact]
    public async Task ClientsAdd_RepeatedAndCommaSeparatedScopes_StoresEachOnce()
    {
        var data = await CliRunner.InitAsync(folder);

        var run = await CliRunner.RunAsync(
            "clients", "add", "--data", data, "--name", "reader", "--scopes", "statements/read,state",
            "--scopes", "statements/read/mine", "--scopes", "state", "--purposes", "assessment,research", "--json");

        Assert.True(run.ExitCode == 0, run.ToString());
        var json = Json.Parse(run.Stdout);
        Assert.Equal(["statements/read", "state", "statements/read/mine"], Json.Strings(json["scopes"]));
        Assert.Equal(["assessment", "research"], Json.Strings(json["purposes"]));
    }

    [Fact]
    public async Task ClientsAdd_WithoutJson_ShowsCredentialsAndOnceOnlyWarning()
    {
        var data = await CliRunner.InitAsync(folder);

        var run = await CliRunner.RunAsync("clients", "add", "--data", data, "--name", "Kolibri", "--scopes", "statements/write");

        Assert.True(run.ExitCode == 0, run.ToString());
        var list = Json.Parse((await CliRunner.RunAsync("clients", "list", "--data", data, "--json")).Stdout).AsArray();
        var key = list.Single()!["key"]!.GetValue<string>();
        Assert.Contains(key, run.Stdout, StringComparison.Ordinal);
        Assert.Contains("secret", run.Stdout, StringComparison.Ordinal);
        Assert.Contains("shown only this once", run.Stdout, StringComparison.Ordinal);
        Assert.Contains("Kolibri", run.Stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("bogus")]
    [InlineData("statements")]
    [InlineData("ALL")]
    [InlineData("all,statements/delete")]
    public async Task ClientsAdd_UnknownScope_FailsWithOneLineErrorAndStoresNothing(string scope)
    {
        var data = await CliRunner.InitAsync(folder);

        var run = await CliRunner.RunAsync("clients", "add", "--data", data, "--name", "x", "--scopes", scope, "--json");

        CliRunner.AssertOneLineError(run, "unknown scope");
        Assert.Empty(run.Stdout);
        var list = await CliRunner.RunAsync("clients", "list", "--data", data, "--json");
        Assert.Empty(Json.Parse(list.Stdout).AsArray());
    }

    [Theory]
    [InlineData("marketing")]
    [InlineData("vendor:acme-ads")]
    [InlineData("vendor:adtech")]
    [InlineData("Behavioural-Advertising")]
    [InlineData("learner-profiling")]
    public async Task ClientsAdd_AdvertisingOrProfilingPurpose_IsRefused(string purpose)
    {
        var data = await CliRunner.InitAsync(folder);

        var run = await CliRunner.RunAsync("clients", "add", "--data", data, "--name", "x", "--scopes", "all", "--purposes", purpose);

        CliRunner.AssertOneLineError(run, "refused");
    }

    [Theory]
    [InlineData("teaching")]
    [InlineData("vendor:")]
    [InlineData("vendor:Acme Learning")]
    public async Task ClientsAdd_UnknownPurpose_FailsWithOneLineError(string purpose)
    {
        var data = await CliRunner.InitAsync(folder);

        var run = await CliRunner.RunAsync("clients", "add", "--data", data, "--name", "x", "--scopes", "all", "--purposes", purpose);

        CliRunner.AssertOneLineError(run, "purpose");
    }

    [Fact]
    public async Task ClientsAdd_NotInitialisedFolder_FailsWithOneLineErrorAndCreatesNothing()
    {
        var data = folder.Sub("never-initialised");

        var run = await CliRunner.RunAsync("clients", "add", "--data", data, "--name", "x", "--scopes", "all", "--json");

        CliRunner.AssertOneLineError(run, "lvault init");
        Assert.False(Directory.Exists(data));
    }

    [Fact]
    public async Task ClientsAdd_MissingMasterKey_FailsWithOneLineError()
    {
        var data = await CliRunner.InitAsync(folder);
        File.Delete(Path.Combine(data, "master.key"));

        var run = await CliRunner.RunAsync("clients", "add", "--data", data, "--name", "x", "--scopes", "all");

        CliRunner.AssertOneLineError(run, "LV_MASTER_KEY");
    }

    [Fact]
    [UnsupportedOSPlatform("windows")]
    public async Task ClientsAdd_MasterKeyReadableByOthers_FailsWithOneLineError()
    {
        if (OperatingSystem.IsWindows())
        {
            Assert.Skip("Unix permissions");
        }

        var data = await CliRunner.InitAsync(folder);
        File.SetUnixFileMode(Path.Combine(data, "master.key"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.OtherRead);

        var run = await CliRunner.RunAsync("clients", "add", "--data", data, "--name", "x", "--scopes", "all");

        CliRunner.AssertOneLineError(run, "0600");
    }

    [Fact]
    public async Task ClientsAdd_MissingName_FailsWithOneLineUsageError()
    {
        var data = await CliRunner.InitAsync(folder);

        var run = await CliRunner.RunAsync("clients", "add", "--data", data, "--scopes", "all");

        CliRunner.AssertOneLineError(run, "--name");
        Assert.Equal(Lvault.UsageError, run.ExitCode);
    }

    [Fact]
    public async Task ClientsList_AfterAdd_ShowsClientButNeverItsSecret()
    {
        var data = await CliRunner.InitAsync(folder);
        var added = Json.Parse((await CliRunner.RunAsync("clients", "add", "--data", data, "--name", "lms-one", "--scopes", "all", "--json")).Stdout);
        var secret = added["secret"]!.GetValue<string>();

        var table = await CliRunner.RunAsync("clients", "list", "--data", data);
        var json = await CliRunner.RunAsync("clients", "list", "--data", data, "--json");

        Assert.True(table.ExitCode == 0, table.ToString());
        Assert.True(json.ExitCode == 0, json.ToString());
        Assert.Contains(added["key"]!.GetValue<string>(), table.Stdout, StringComparison.Ordinal);
        Assert.Contains("lms-one", table.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain(secret, table.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain(secret, json.Stdout, StringComparison.Ordinal);
        var client = Assert.Single(Json.Parse(json.Stdout).AsArray())!;
        Assert.Null(client["secret"]);
        Assert.Equal(added["key"]!.GetValue<string>(), client["key"]!.GetValue<string>());
        Assert.Null(client["revoked"]);
    }

    [Fact]
    public async Task ClientsList_NoClients_PrintsEmptyArray()
    {
        var data = await CliRunner.InitAsync(folder);

        var run = await CliRunner.RunAsync("clients", "list", "--data", data, "--json");

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Empty(Json.Parse(run.Stdout).AsArray());
    }

    [Fact]
    public async Task ClientsRevoke_ActiveClient_MarksItRevoked()
    {
        var data = await CliRunner.InitAsync(folder);
        var key = await AddAsync(data, "to-revoke");
        var kept = await AddAsync(data, "to-keep");

        var run = await CliRunner.RunAsync("clients", "revoke", "--data", data, "--key", key);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("to-revoke", run.Stdout, StringComparison.Ordinal);
        var clients = Json.Parse((await CliRunner.RunAsync("clients", "list", "--data", data, "--json")).Stdout).AsArray();
        Assert.NotNull(clients.Single(c => c!["key"]!.GetValue<string>() == key)!["revoked"]);
        Assert.Null(clients.Single(c => c!["key"]!.GetValue<string>() == kept)!["revoked"]);
    }

    [Fact]
    public async Task ClientsRevoke_AlreadyRevoked_FailsWithOneLineError()
    {
        var data = await CliRunner.InitAsync(folder);
        var key = await AddAsync(data, "lms");
        Assert.Equal(0, (await CliRunner.RunAsync("clients", "revoke", "--data", data, "--key", key)).ExitCode);

        var run = await CliRunner.RunAsync("clients", "revoke", "--data", data, "--key", key);

        CliRunner.AssertOneLineError(run, "already revoked");
    }

    [Fact]
    public async Task ClientsRevoke_UnknownKey_FailsWithOneLineError()
    {
        var data = await CliRunner.InitAsync(folder);

        var run = await CliRunner.RunAsync("clients", "revoke", "--data", data, "--key", "NoSuchKey0000000000");

        CliRunner.AssertOneLineError(run, "no client");
    }

    private static async Task<string> AddAsync(string data, string name)
    {
        var run = await CliRunner.RunAsync("clients", "add", "--data", data, "--name", name, "--scopes", "all", "--json");
        Assert.True(run.ExitCode == 0, run.ToString());
        return Json.Parse(run.Stdout)["key"]!.GetValue<string>();
    }
}
