using System.CommandLine;
using LearnerVault.Server.Administration;
using Spectre.Console;

namespace LearnerVault.Cli.Commands;

/// <summary><c>lvault clients list</c>: every client of the default tenant. Never a secret: none is stored.</summary>
internal static class ClientsListCommand
{
    public static Command Create(CliSettings settings)
    {
        var installation = new InstallationOptions(settings);
        var json = CommonOptions.Json();
        var command = new Command("list", "List the clients: key, name, scopes, purposes, created and revoked times.")
        {
            json,
        };
        installation.AddTo(command);

        CommandRunner.SetAction(command, settings, async (context, ct) =>
        {
            await using var backend = installation.Open(context);
            var tenantId = await DataFolder.DefaultTenantAsync(backend, ct);
            var clients = await backend.Clients.ListClientsAsync(tenantId, ct);

            if (context.GetValue(json))
            {
                await JsonOutput.WriteAsync(context.Output, w =>
                {
                    w.WriteStartArray();
                    foreach (var client in clients)
                    {
                        w.WriteStartObject();
                        w.WriteString("key", client.Key);
                        w.WriteString("name", client.Name);
                        w.WriteStringArray("scopes", client.Scopes);
                        w.WriteStringArray("purposes", client.Purposes);
                        w.WriteString("tenant", client.TenantId.ToString("D"));
                        w.WriteString("created", client.Created);
                        if (client.Revoked is { } revoked)
                        {
                            w.WriteString("revoked", revoked);
                        }
                        else
                        {
                            w.WriteNull("revoked");
                        }

                        w.WriteEndObject();
                    }

                    w.WriteEndArray();
                });
                return 0;
            }

            if (clients.Count == 0)
            {
                context.Console.MarkupLine("No clients yet. Create one with [bold]lvault clients add --name NAME --scopes all[/].");
                return 0;
            }

            var table = new Table().Border(TableBorder.Rounded)
                .AddColumn(new TableColumn("key").NoWrap())
                .AddColumn("name")
                .AddColumn(new TableColumn("scopes").NoWrap())
                .AddColumn(new TableColumn("purposes").NoWrap())
                .AddColumn(new TableColumn("created (UTC)").NoWrap())
                .AddColumn(new TableColumn("status").NoWrap());
            foreach (var client in clients)
            {
                table.AddRow(
                    new Text(client.Key),
                    new Text(client.Name),
                    new Text(string.Join('\n', client.Scopes)),
                    new Text(string.Join('\n', client.Purposes)),
                    new Text(client.Created.UtcDateTime.ToString("yyyy-MM-dd HH:mm")),
                    client.Revoked is { } revoked
                        ? new Markup($"[red]revoked {revoked.UtcDateTime:yyyy-MM-dd HH:mm}[/]")
                        : new Markup("[green]active[/]"));
            }

            context.Console.Write(table);
            return 0;
        });
        return command;
    }
}
