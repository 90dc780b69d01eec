namespace LearnerVault.Cli.Tests;

public sealed class HelpAndErrorsTests
{
    public static TheoryData<string[]> Commands => new()
    {
        Array.Empty<string>(),
        new[] { "init" },
        new[] { "serve" },
        new[] { "clients" },
        new[] { "clients", "add" },
        new[] { "clients", "list" },
        new[] { "clients", "revoke" },
    };

    [Theory]
    [MemberData(nameof(Commands))]
    public async Task Help_EachCommand_PrintsUsageAndExitsZero(string[] command)
    {
        var run = await CliRunner.RunAsync([.. command, "--help"]);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("Usage:", run.Stdout, StringComparison.Ordinal);
        Assert.Contains(("lvault " + string.Join(' ', command)).TrimEnd(), run.Stdout, StringComparison.Ordinal);
        Assert.Empty(run.Stderr);
    }

    [Fact]
    public async Task Help_ServeCommand_DocumentsContractOptionsAndDefaults()
    {
        var run = await CliRunner.RunAsync("serve", "--help");

        Assert.Contains("--data", run.Stdout, StringComparison.Ordinal);
        Assert.Contains("--urls", run.Stdout, StringComparison.Ordinal);
        Assert.Contains("--demo", run.Stdout, StringComparison.Ordinal);
        Assert.Contains("./data", run.Stdout, StringComparison.Ordinal);
        Assert.Contains("http://127.0.0.1:8080", run.Stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("frobnicate")]
    [InlineData("clients", "delete")]
    [InlineData("init", "--no-such-option")]
    [InlineData("clients")]
    [InlineData("clients", "revoke")]
    public async Task Run_InvalidCommandLine_FailsWithOneLineUsageError(params string[] args)
    {
        var run = await CliRunner.RunAsync(args);

        CliRunner.AssertOneLineError(run);
        Assert.Equal(Lvault.UsageError, run.ExitCode);
        Assert.Empty(run.Stdout);
    }

    [Fact]
    public async Task Serve_InvalidLimit_FailsWithOneLineErrorBeforeTouchingDisk()
    {
        using var folder = new TempFolder();
        var data = folder.Sub("data");

        var run = await CliRunner.RunAsync("serve", "--data", data, "--max-batch", "0");

        CliRunner.AssertOneLineError(run, "LV_MAX_BATCH");
        Assert.False(Directory.Exists(data));
    }

    [Fact]
    public async Task Serve_EnvironmentLimitNotANumber_FailsWithOneLineError()
    {
        using var folder = new TempFolder();
        var settings = CliRunner.Settings with { GetEnvironment = name => name == "LV_MAX_PAGE" ? "lots" : null };

        var run = await CliRunner.RunAsync(["serve", "--data", folder.Sub("data")], settings, CancellationToken.None);

        CliRunner.AssertOneLineError(run, "LV_MAX_PAGE");
    }

    [Fact]
    public void ErrorLine_MultiLineMessage_IsOneLine()
    {
        var line = CommandRunner.ErrorLine("first\r\nsecond\nthird");

        Assert.Equal("error: first second third", line);
    }
}
