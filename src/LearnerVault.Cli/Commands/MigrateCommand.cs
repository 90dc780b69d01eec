using System.CommandLine;
using LearnerVault.Server.Administration;
using Spectre.Console;

namespace LearnerVault.Cli.Commands;

/// <summary>
/// <c>lvault migrate</c>: creates or upgrades the store's schemas to this build's version. For PostgreSQL this is the
/// only way the schemas change (a server never migrates a shared database on its own: upgrade with one command, then
/// roll the nodes); the embedded default migrates itself whenever it opens, so there it only reports.
/// </summary>
internal static class MigrateCommand
{
    public static Command Create(CliSettings settings)
    {
        var installation = new InstallationOptions(settings);
        var json = CommonOptions.Json();
        var command = new Command("migrate", "Create or upgrade the store's schemas (PostgreSQL: the data schema and the key schema) to this version of LearnerVault. Safe to run again, and from several nodes at once.")
        {
            json,
        };
        installation.AddTo(command);

        CommandRunner.SetAction(command, settings, async (context, ct) =>
        {
            var location = installation.Location(context);
            var applied = await DataFolder.MigrateAsync(installation.DataDirectory(context), installation.MasterKeyFileOf(context), location, context.Time, ct);
            if (context.GetValue(json))
            {
                await JsonOutput.WriteAsync(context.Output, w =>
                {
                    w.WriteStartObject();
                    w.WriteString("store", location.Kind);
                    w.WriteStringArray("applied", applied);
                    w.WriteEndObject();
                });
            }
            else if (!location.IsPostgres)
            {
                context.Console.MarkupLine("The embedded store (SQLite) migrates itself when it opens: it is up to date.");
            }
            else if (applied.Count == 0)
            {
                context.Console.MarkupLine($"The store [bold]{Markup.Escape(location.ToString())}[/] is up to date; nothing applied.");
            }
            else
            {
                context.Console.MarkupLine($"Migrated [bold]{Markup.Escape(location.ToString())}[/]:");
                foreach (var name in applied)
                {
                    context.Console.MarkupLine($"  applied {Markup.Escape(name)}");
                }
            }

            return 0;
        });
        return command;
    }
}
