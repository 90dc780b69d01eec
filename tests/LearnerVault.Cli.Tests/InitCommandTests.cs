using System.Runtime.Versioning;

namespace LearnerVault.Cli.Tests;

public sealed class InitCommandTests : IDisposable
{
    private readonly TempFolder folder = new();

    public void Dispose() => folder.Dispose();

    [Fact]
    public async Task Init_FreshFolder_CreatesDataFileAndSeparateKeyStore()
    {
        var data = folder.Sub("data");

        var run = await CliRunner.RunAsync("init", "--data", data);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Empty(run.Stderr);
        Assert.True(File.Exists(Path.Combine(data, "learnervault.db")));
        var keyStores = Directory.EnumerateFileSystemEntries(data, "keys*").ToList();
        Assert.NotEmpty(keyStores);
        Assert.All(keyStores, k => Assert.NotEqual(Path.Combine(data, "learnervault.db"), k));
    }

    [Fact]
    [UnsupportedOSPlatform("windows")]
    public async Task Init_FreshFolder_WritesMasterKeyReadableByOwnerOnly()
    {
        if (OperatingSystem.IsWindows())
        {
            Assert.Skip("Unix permissions");
        }

        var data = folder.Sub("data");

        var run = await CliRunner.RunAsync("init", "--data", data);

        Assert.True(run.ExitCode == 0, run.ToString());
        var masterKey = Path.Combine(data, "master.key");
        Assert.True(File.Exists(masterKey));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(masterKey));
        Assert.Equal(32, Convert.FromBase64String(File.ReadAllText(masterKey)).Length);
        var folderMode = File.GetUnixFileMode(data);
        Assert.Equal(UnixFileMode.None, folderMode & (UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute));
    }

    [Fact]
    public async Task Init_RunTwice_KeepsMasterKeyAndTenant()
    {
        var data = await CliRunner.InitAsync(folder);
        var masterKey = await File.ReadAllBytesAsync(Path.Combine(data, "master.key"), TestContext.Current.CancellationToken);
        var first = await CliRunner.RunAsync("clients", "add", "--data", data, "--name", "lms", "--scopes", "all", "--json");

        var again = await CliRunner.RunAsync("init", "--data", data);

        Assert.True(again.ExitCode == 0, again.ToString());
        Assert.Contains("already initialised", again.Stdout, StringComparison.Ordinal);
        Assert.Equal(masterKey, await File.ReadAllBytesAsync(Path.Combine(data, "master.key"), TestContext.Current.CancellationToken));
        var list = await CliRunner.RunAsync("clients", "list", "--data", data, "--json");
        Assert.Contains(Json.Parse(first.Stdout)["key"]!.GetValue<string>(), list.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Init_DataFileWithoutKeyStore_RefusesWithOneLineError()
    {
        var data = await CliRunner.InitAsync(folder);
        File.Delete(Path.Combine(data, "keys.db"));

        var run = await CliRunner.RunAsync("init", "--data", data);

        CliRunner.AssertOneLineError(run, "keys.db");
        Assert.False(File.Exists(Path.Combine(data, "keys.db")));
    }

    [Fact]
    public async Task Init_KeyStoreWithoutMasterKey_RefusesWithOneLineError()
    {
        var data = await CliRunner.InitAsync(folder);
        File.Delete(Path.Combine(data, "master.key"));

        var run = await CliRunner.RunAsync("init", "--data", data);

        CliRunner.AssertOneLineError(run, "LV_MASTER_KEY");
        Assert.False(File.Exists(Path.Combine(data, "master.key")));
    }

    [Fact]
    public async Task Init_ExplicitMasterKeyFile_WritesKeyThereNotInDataFolder()
    {
        var data = folder.Sub("data");
        var keyFile = folder.Sub("master.key");

        var run = await CliRunner.RunAsync("init", "--data", data, "--master-key-file", keyFile);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.True(File.Exists(keyFile));
        Assert.False(File.Exists(Path.Combine(data, "master.key")));
        var list = await CliRunner.RunAsync("clients", "list", "--data", data, "--master-key-file", keyFile);
        Assert.True(list.ExitCode == 0, list.ToString());
    }
}
