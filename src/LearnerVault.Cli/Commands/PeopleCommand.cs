using System.CommandLine;
using LearnerVault.Server.Accounts;
using LearnerVault.Server.Administration;
using LearnerVault.Server.Options;
using Spectre.Console;

namespace LearnerVault.Cli.Commands;

/// <summary><c>lvault people</c>: people with accounts for the admin API.</summary>
internal static class PeopleCommand
{
    public static Command Create(CliSettings settings) =>
        new("people", "Manage people with accounts for the admin API (/api): school administrators, DPOs, teachers…")
        {
            PeopleAddCommand.Create(settings),
        };
}

/// <summary><c>lvault people add</c>: creates a person with a login and prints a generated password, once.</summary>
internal static class PeopleAddCommand
{
    public static Command Create(CliSettings settings)
    {
        var installation = new InstallationOptions(settings);
        var login = new Option<string>("--login")
        {
            Description = "The login name (stored only as a keyed hash; case does not matter).",
            HelpName = "NAME",
            Required = true,
        };
        var roles = new Option<string[]>("--role")
        {
            Description = "Roles, repeated or comma-separated: guardian, teacher, school-administrator, data-protection-officer (dpo), analyst, researcher.",
            HelpName = "ROLE",
            Required = true,
            AllowMultipleArgumentsPerToken = true,
        };
        roles.Aliases.Add("--roles");
        var name = new Option<string?>("--name")
        {
            Description = "A display name (stored encrypted).",
            HelpName = "TEXT",
        };
        var json = CommonOptions.Json();

        var command = new Command("add", "Create a person with a login and a generated password for the admin API. The password is shown once and stored only as a hash.")
        {
            login,
            roles,
            name,
            json,
        };
        installation.AddTo(command);

        CommandRunner.SetAction(command, settings, async (context, ct) =>
        {
            var options = new ServerOptions { TimeProvider = context.Time }.ApplyEnvironment(settings.GetEnvironment);
            await using var backend = installation.Open(context);
            var tenantId = await DataFolder.DefaultTenantAsync(backend, ct);
            var created = await PeopleAdmin.AddAsync(
                backend, options, tenantId, context.GetValue(login) ?? string.Empty, context.GetValue(roles) ?? [], context.GetValue(name), null, ct);

            if (context.GetValue(json))
            {
                await JsonOutput.WriteAsync(context.Output, w =>
                {
                    w.WriteStartObject();
                    w.WriteString("id", created.Person.Id.ToString("D"));
                    w.WriteString("login", AccountCrypto.NormaliseLogin(context.GetValue(login)!));
                    w.WriteString("password", created.GeneratedPassword);
                    w.WriteStringArray("roles", created.Person.Roles.Select(RoleNames.Name));
                    w.WriteString("tenant", tenantId.ToString("D"));
                    w.WriteEndObject();
                });
            }
            else
            {
                ShowAccount(context.Console, AccountCrypto.NormaliseLogin(context.GetValue(login)!), created, tenantId, apiUrl: null);
            }

            return 0;
        });
        return command;
    }

    /// <summary>The new account for a person to copy; shared with <c>serve</c>'s first start.</summary>
    internal static void ShowAccount(IAnsiConsole console, string login, CreatedPerson created, Guid tenantId, string? apiUrl)
    {
        var table = new Table().Border(TableBorder.Rounded).AddColumn("").AddColumn("");
        table.HideHeaders();
        if (apiUrl is not null)
        {
            table.AddRow(new Text("admin API"), new Text(apiUrl));
        }

        table.AddRow(new Text("login"), new Text(login, new Style(decoration: Decoration.Bold)));
        table.AddRow(new Text("password"), new Text(created.GeneratedPassword ?? "(as given)", new Style(decoration: Decoration.Bold)));
        table.AddRow(new Text("roles"), new Text(string.Join(", ", created.Person.Roles.Select(RoleNames.Name))));
        table.AddRow(new Text("tenant"), new Text(tenantId.ToString("D")));
        console.Write(table);
        console.MarkupLine("[yellow]The password is shown only this once[/]: store it now. LearnerVault keeps only its hash.");
        console.MarkupLine("Log in with POST /api/auth/login {\"login\", \"password\"}; the API is described at /api/openapi.json.");
    }
}
