using System.CommandLine;
using LearnerVault.Server.Administration;
using Spectre.Console;

namespace LearnerVault.Cli.Commands;

/// <summary><c>lvault clients revoke</c>: the client's requests are refused from then on.</summary>
internal static class ClientsRevokeCommand
{
    public static Command Create(CliSettings settings)
    {
        var installation = new InstallationOptions(settings);
        var key = new Option<string>("--key")
        {
            Description = "The key of the client to revoke.",
            HelpName = "KEY",
            Required = true,
        };
        var command = new Command("revoke", "Revoke a client: its key and secret stop working at once. The record stays, for the audit trail.")
        {
            key,
        };
        installation.AddTo(command);

        CommandRunner.SetAction(command, settings, async (context, ct) =>
        {
            await using var backend = installation.Open(context);
            var tenantId = await DataFolder.DefaultTenantAsync(backend, ct);
            var client = await ClientAdmin.RevokeAsync(backend.Clients, tenantId, context.GetValue(key) ?? string.Empty, context.Time, ct);
            context.Console.MarkupLine($"Revoked the client [bold]{Markup.Escape(client.Name)}[/] ({Markup.Escape(client.Key)}).");
            return 0;
        });
        return command;
    }
}
