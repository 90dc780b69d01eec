using System.CommandLine;
using System.CommandLine.Invocation;
using LearnerVault.Cli.Commands;

namespace LearnerVault.Cli;

/// <summary>The <c>lvault</c> command line: its command tree and the one way it is run.</summary>
public static class Lvault
{
    /// <summary>Exit code for a command line that does not parse (unknown option, missing value).</summary>
    public const int UsageError = 2;

    public static RootCommand CreateRootCommand(CliSettings? settings = null)
    {
        settings ??= CliSettings.Default;
        var root = new RootCommand("LearnerVault: a privacy-first xAPI Learning Record Store.")
        {
            InitCommand.Create(settings),
            ServeCommand.Create(settings),
            ClientsCommand.Create(settings),
            PeopleCommand.Create(settings),
            MigrateCommand.Create(settings),
            StoreCommand.Create(settings),
            AuditCommand.Create(settings),
        };
        // Help says "lvault" however it is started: the apphost, 'dotnet lvault.dll', 'dotnet run' or a test host.
        root.HelpName = "lvault";
        return root;
    }

    /// <summary>
    /// Parses and runs <paramref name="args"/>. Output goes to <paramref name="output"/>, errors to <paramref name="error"/>
    /// (the console's by default). Every failure, a command line that does not parse included, is one line on the error
    /// writer, <c>error: …</c>, and a non-zero exit code.
    /// </summary>
    public static async Task<int> RunAsync(
        string[] args,
        TextWriter? output = null,
        TextWriter? error = null,
        CliSettings? settings = null,
        CancellationToken cancellationToken = default)
    {
        output ??= Console.Out;
        error ??= Console.Error;

        var parseResult = CreateRootCommand(settings).Parse(args);
        if (parseResult.Action is ParseErrorAction && parseResult.Errors.Count > 0)
        {
            // The specific complaint (an unknown word, a missing value) before the generic "no command given".
            var messages = parseResult.Errors
                .Select(e => e.Message)
                .Distinct(StringComparer.Ordinal)
                .OrderBy(m => m.StartsWith("Required command", StringComparison.Ordinal));
            await error.WriteLineAsync(CommandRunner.ErrorLine($"{string.Join("; ", messages)} (see 'lvault --help')"));
            return UsageError;
        }

        var configuration = new InvocationConfiguration
        {
            Output = output,
            Error = error,
            // Commands report their own failures in one line; the default handler would print a stack trace.
            EnableDefaultExceptionHandler = false,
            // Ctrl+C is left to the commands: 'serve' hands it to the web host, which stops gracefully.
            ProcessTerminationTimeout = null,
        };
        return await parseResult.InvokeAsync(configuration, cancellationToken);
    }
}
