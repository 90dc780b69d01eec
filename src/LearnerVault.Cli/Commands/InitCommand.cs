using System.CommandLine;
using LearnerVault.Server.Administration;
using LearnerVault.Storage.Postgres;
using LearnerVault.Storage.Sqlite;
using Spectre.Console;

namespace LearnerVault.Cli.Commands;

/// <summary><c>lvault init</c>: lays out the data folder (data file, key store apart from it, master key, default tenant).</summary>
internal static class InitCommand
{
    public static Command Create(CliSettings settings)
    {
        var installation = new InstallationOptions(settings);
        var command = new Command("init", "Create the data folder: the data file, the key store in its own file, the master key file (0600) and the default tenant. With --store postgres:…, the master key file and the default tenant in the migrated database. Safe to run again.")
        {
        };
        installation.AddTo(command);

        CommandRunner.SetAction(command, settings, async (context, ct) =>
        {
            var directory = installation.DataDirectory(context);
            var result = await DataFolder.InitializeAsync(
                directory, installation.MasterKeyFileOf(context), installation.Location(context), context.Time, ct);
            Report(context.Console, result);
            return 0;
        });
        return command;
    }

    internal static void Report(IAnsiConsole console, InitResult result)
    {
        console.MarkupLine(result.Created
            ? $"[green]Initialised[/] the data folder [bold]{Markup.Escape(result.DataDirectory)}[/]"
            : $"The data folder [bold]{Markup.Escape(result.DataDirectory)}[/] is already initialised; nothing changed.");

        var grid = new Grid().AddColumn().AddColumn();
        if (result.Store.IsPostgres)
        {
            grid.AddRow(new Text("data"), new Text($"{result.Store} (schema {PostgresStoreOptions.DefaultDataSchema})"));
            grid.AddRow(new Text("key store"), new Text($"schema {PostgresStoreOptions.DefaultKeySchema}"));
        }
        else
        {
            grid.AddRow(new Text("data file"), new Text(Path.Combine(result.DataDirectory, SqliteBackend.DataFileName)));
            grid.AddRow(new Text("key store"), new Text(Path.Combine(result.DataDirectory, SqliteBackend.KeyStoreFileName)));
        }

        grid.AddRow(new Text("master key"), new Text(result.MasterKeyFile ?? "from LV_MASTER_KEY"));
        grid.AddRow(new Text("tenant"), new Text($"{result.TenantId:D} ({DataFolder.DefaultTenantName})"));
        console.Write(grid);

        if (result.Created)
        {
            console.MarkupLine(result.Store.IsPostgres
                ? "[yellow]Back up the data schema and the key schema separately[/], and keep the master key away from both backups."
                : "[yellow]Back up the data file and the key store separately[/], and keep the master key away from both backups.");
        }
    }
}
