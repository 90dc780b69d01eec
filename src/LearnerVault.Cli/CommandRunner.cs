using System.CommandLine;
using LearnerVault.Server.Administration;
using Spectre.Console;

namespace LearnerVault.Cli;

/// <summary>What a command's action receives: its parse result, writers, a console for people, and the settings.</summary>
internal sealed class CommandContext(ParseResult parseResult, CliSettings settings)
{
    private IAnsiConsole? console;

    public ParseResult ParseResult { get; } = parseResult;

    public CliSettings Settings { get; } = settings;

    public TimeProvider Time => Settings.Time;

    public TextWriter Output => ParseResult.InvocationConfiguration.Output;

    public TextWriter Error => ParseResult.InvocationConfiguration.Error;

    /// <summary>Human-readable output (tables, panels) on <see cref="Output"/>; plain text when it is not a terminal.</summary>
    public IAnsiConsole Console => console ??= CreateConsole(Output);

    private static IAnsiConsole CreateConsole(TextWriter output)
    {
        // Piped or captured output gets plain text: no colour codes in logs and scripts, and a width that never wraps
        // a key or secret mid-token. A terminal gets colours and its own width.
        var terminal = ReferenceEquals(output, System.Console.Out) && !System.Console.IsOutputRedirected;
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(output),
            Interactive = InteractionSupport.No,
            Ansi = terminal ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = terminal ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
        });
        if (!terminal)
        {
            console.Profile.Width = 200;
        }

        return console;
    }

    public T? GetValue<T>(Option<T> option) => ParseResult.GetValue(option);
}

/// <summary>Runs a command's body and turns every failure into the one-line error of the scripting contract.</summary>
internal static class CommandRunner
{
    public const int Failure = 1;
    public const int Cancelled = 130;

    public static void SetAction(Command command, CliSettings settings, Func<CommandContext, CancellationToken, Task<int>> body) =>
        command.SetAction((parseResult, ct) => RunAsync(new CommandContext(parseResult, settings), body, ct));

    public static async Task<int> RunAsync(CommandContext context, Func<CommandContext, CancellationToken, Task<int>> body, CancellationToken ct)
    {
        try
        {
            return await body(context, ct);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            await context.Error.WriteLineAsync(ErrorLine("cancelled"));
            return Cancelled;
        }
        catch (AdministrationException ex)
        {
            await context.Error.WriteLineAsync(ErrorLine(ex.Message));
            return Failure;
        }
        catch (Exception ex)
        {
            // Never a stack trace: administrators script these commands and read the first line.
            await context.Error.WriteLineAsync(ErrorLine(ex.Message));
            return Failure;
        }
    }

    /// <summary>"error: " and the message on a single line.</summary>
    public static string ErrorLine(string message)
    {
        var oneLine = string.Join(' ', message.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        return "error: " + (oneLine.Length == 0 ? "failed" : oneLine);
    }
}
