using System.CommandLine;

namespace LearnerVault.Cli.Commands;

/// <summary><c>lvault clients</c>: the xAPI clients (apps) of the default tenant and their credentials.</summary>
internal static class ClientsCommand
{
    public static Command Create(CliSettings settings) =>
        new("clients", "Manage xAPI clients: their key and secret, scopes and declared purposes.")
        {
            ClientsAddCommand.Create(settings),
            ClientsListCommand.Create(settings),
            ClientsRevokeCommand.Create(settings),
        };
}
