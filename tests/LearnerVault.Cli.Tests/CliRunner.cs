using System.Text;

namespace LearnerVault.Cli.Tests;

/// <summary>What one run of <c>lvault</c> did: its exit code and everything it wrote.</summary>
public sealed record CliRun(int ExitCode, string Stdout, string Stderr)
{
    public string[] StderrLines => Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    public override string ToString() => $"exit {ExitCode}\nstdout:\n{Stdout}\nstderr:\n{Stderr}";
}

/// <summary>Runs the real command tree in-process, with captured output and no process environment.</summary>
public static class CliRunner
{
    /// <summary>No LV_* variable leaks in from the machine running the tests.</summary>
    public static CliSettings Settings { get; } = new(TimeProvider.System, _ => null);

    public static Task<CliRun> RunAsync(params string[] args) => RunAsync(args, Settings, CancellationToken.None);

    public static async Task<CliRun> RunAsync(string[] args, CliSettings settings, CancellationToken ct, TextWriter? stdout = null)
    {
        var output = stdout ?? new StringWriter(new StringBuilder());
        var error = new StringWriter();
        var exitCode = await Lvault.RunAsync(args, output, error, settings, ct);
        return new CliRun(exitCode, output.ToString() ?? string.Empty, error.ToString());
    }

    /// <summary>Inits a fresh folder and returns its path.</summary>
    public static async Task<string> InitAsync(TempFolder folder)
    {
        var data = folder.Sub("data");
        var run = await RunAsync("init", "--data", data);
        Assert.True(run.ExitCode == 0, run.ToString());
        return data;
    }

    /// <summary>Asserts the scripting contract for a failure: non-zero exit, exactly one line on stderr starting "error: ".</summary>
    public static void AssertOneLineError(CliRun run, string? contains = null)
    {
        Assert.True(run.ExitCode != 0, run.ToString());
        var lines = run.StderrLines;
        Assert.True(lines.Length == 1, run.ToString());
        Assert.StartsWith("error: ", lines[0], StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", run.Stderr, StringComparison.Ordinal);
        if (contains is not null)
        {
            Assert.Contains(contains, lines[0], StringComparison.Ordinal);
        }
    }
}

/// <summary>A folder of the test's own under the temp directory, deleted afterwards.</summary>
public sealed class TempFolder : IDisposable
{
    public TempFolder()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "lv-cli-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string Sub(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
