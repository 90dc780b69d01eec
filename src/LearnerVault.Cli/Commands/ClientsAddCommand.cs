using System.CommandLine;
using LearnerVault.Server.Administration;
using LearnerVault.Storage;
using Spectre.Console;

namespace LearnerVault.Cli.Commands;

/// <summary><c>lvault clients add</c>: creates a client and shows its secret, once.</summary>
internal static class ClientsAddCommand
{
    public static Command Create(CliSettings settings)
    {
        var installation = new InstallationOptions(settings);
        var name = new Option<string>("--name")
        {
            Description = "A name for people: the app or LMS that will use these credentials.",
            HelpName = "NAME",
            Required = true,
        };
        var scopes = new Option<string[]>("--scopes")
        {
            Description = $"xAPI scopes, repeated or comma-separated: {string.Join(", ", XapiScopes.Valid)}.",
            HelpName = "SCOPE",
            Required = true,
            AllowMultipleArgumentsPerToken = true,
        };
        var purposes = new Option<string[]>("--purposes")
        {
            Description = $"Declared purposes, repeated or comma-separated: {string.Join(", ", ProcessingPurposes.BuiltIn)}, vendor:<name>. Default: {ProcessingPurposes.Instruction}.",
            HelpName = "PURPOSE",
            AllowMultipleArgumentsPerToken = true,
        };
        var json = CommonOptions.Json();

        var command = new Command("add", "Create a client with a new key and secret. The secret is shown once and stored only as a hash.")
        {
            name,
            scopes,
            purposes,
            json,
        };
        installation.AddTo(command);

        CommandRunner.SetAction(command, settings, async (context, ct) =>
        {
            await using var backend = installation.Open(context);
            var tenantId = await DataFolder.DefaultTenantAsync(backend, ct);
            var (client, secret) = await ClientAdmin.AddAsync(
                backend.Clients,
                tenantId,
                context.GetValue(name) ?? string.Empty,
                context.GetValue(scopes) ?? [],
                context.GetValue(purposes) ?? [],
                context.Time,
                ct);

            if (context.GetValue(json))
            {
                await JsonOutput.WriteAsync(context.Output, w =>
                {
                    w.WriteStartObject();
                    w.WriteString("key", client.Key);
                    w.WriteString("secret", secret);
                    w.WriteString("name", client.Name);
                    w.WriteStringArray("scopes", client.Scopes);
                    w.WriteStringArray("purposes", client.Purposes);
                    w.WriteString("tenant", client.TenantId.ToString("D"));
                    w.WriteEndObject();
                });
            }
            else
            {
                ShowCredentials(context.Console, client, secret, endpoint: null);
            }

            return 0;
        });
        return command;
    }

    /// <summary>The new credentials for a person to copy; shared with <c>serve</c>'s first start.</summary>
    internal static void ShowCredentials(IAnsiConsole console, ClientRecord client, string secret, string? endpoint)
    {
        var table = new Table().Border(TableBorder.Rounded).AddColumn("").AddColumn("");
        table.HideHeaders();
        if (endpoint is not null)
        {
            table.AddRow(new Text("endpoint"), new Text(endpoint));
        }

        table.AddRow(new Text("name"), new Text(client.Name));
        table.AddRow(new Text("key"), new Text(client.Key, new Style(decoration: Decoration.Bold)));
        table.AddRow(new Text("secret"), new Text(secret, new Style(decoration: Decoration.Bold)));
        table.AddRow(new Text("scopes"), new Text(string.Join(", ", client.Scopes)));
        table.AddRow(new Text("purposes"), new Text(string.Join(", ", client.Purposes)));
        table.AddRow(new Text("tenant"), new Text(client.TenantId.ToString("D")));
        console.Write(table);
        console.MarkupLine("[yellow]The secret is shown only this once[/]: store it now. LearnerVault keeps only its hash.");
        console.MarkupLine("Clients authenticate with HTTP Basic: the key as user name, the secret as password.");
    }
}
