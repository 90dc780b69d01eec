namespace LearnerVault.Cli.Tests;

public sealed class PeopleCommandTests : IDisposable
{
    private readonly TempFolder folder = new();

    public void Dispose() => folder.Dispose();

    [Fact]
    public async Task PeopleAdd_WithoutJson_ShowsThePasswordOnceAndStoresNeitherItNorTheLogin()
    {
        var data = await CliRunner.InitAsync(folder);

        var run = await CliRunner.RunAsync("people", "add", "--data", data, "--login", "head.teacher", "--role", "school-administrator");

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("shown only this once", run.Stdout, StringComparison.Ordinal);
        var password = System.Text.RegularExpressions.Regex.Match(run.Stdout, @"│ password\s+│ (\S+)").Groups[1].Value;
        Assert.True(password.Length >= 12, run.Stdout);
        foreach (var file in Directory.EnumerateFiles(data, "*", SearchOption.AllDirectories))
        {
            var bytes = await File.ReadAllBytesAsync(file, TestContext.Current.CancellationToken);
            Assert.True(bytes.AsSpan().IndexOf(System.Text.Encoding.UTF8.GetBytes(password)) < 0, $"the password is in {file}");
            Assert.True(bytes.AsSpan().IndexOf("head.teacher"u8) < 0, $"the login is in clear in {file}");
        }
    }

    [Fact]
    public async Task PeopleAdd_TakenLoginUnknownRoleOrLearnerRole_IsAOneLineError()
    {
        var data = await CliRunner.InitAsync(folder);
        Assert.Equal(0, (await CliRunner.RunAsync("people", "add", "--data", data, "--login", "ana", "--role", "teacher")).ExitCode);

        CliRunner.AssertOneLineError(await CliRunner.RunAsync("people", "add", "--data", data, "--login", "ANA", "--role", "teacher"), "already taken");
        CliRunner.AssertOneLineError(await CliRunner.RunAsync("people", "add", "--data", data, "--login", "bo", "--role", "pope"), "unknown role 'pope'");
        CliRunner.AssertOneLineError(await CliRunner.RunAsync("people", "add", "--data", data, "--login", "cy", "--role", "learner"), "learner");
        CliRunner.AssertOneLineError(await CliRunner.RunAsync("people", "add", "--data", data, "--role", "teacher"), "--login");
    }

    [Fact]
    public async Task PeopleAdd_UninitialisedFolder_IsAOneLineError()
    {
        CliRunner.AssertOneLineError(
            await CliRunner.RunAsync("people", "add", "--data", folder.Sub("nothing"), "--login", "x", "--role", "teacher"), "not initialised");
    }

    [Fact]
    public async Task PeopleAdd_Help_NamesTheOptions()
    {
        var run = await CliRunner.RunAsync("people", "add", "--help");

        Assert.Equal(0, run.ExitCode);
        Assert.Contains("--login", run.Stdout, StringComparison.Ordinal);
        Assert.Contains("--role", run.Stdout, StringComparison.Ordinal);
        Assert.Contains("--json", run.Stdout, StringComparison.Ordinal);
    }
}
