using System.CommandLine;
using LearnerVault.Cli.Demo;
using LearnerVault.Server;
using LearnerVault.Server.Accounts;
using LearnerVault.Server.Administration;
using LearnerVault.Server.Options;
using LearnerVault.Server.Statements;
using LearnerVault.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Spectre.Console;

namespace LearnerVault.Cli.Commands;

/// <summary>
/// <c>lvault serve</c>: initialises the data folder if needed, creates a first client on first start, and runs the
/// server until Ctrl+C (or SIGTERM), which stops it gracefully.
/// </summary>
internal static class ServeCommand
{
    public const string UrlsVariable = "LV_URLS";
    public const string MaxBodyBytesVariable = "LV_MAX_BODY_BYTES";
    public const string MaxBatchVariable = "LV_MAX_BATCH";
    public const string MaxPageVariable = "LV_MAX_PAGE";
    public const string DefaultUrls = "http://127.0.0.1:8080";
    public const string FirstClientName = "default";

    public static Command Create(CliSettings settings)
    {
        var defaults = new ServerOptions();
        var installation = new InstallationOptions(settings);
        var urls = new Option<string>("--urls")
        {
            Description = $"Where to listen, ';'-separated. The xAPI endpoint is URL/xapi/. Env: {UrlsVariable}.",
            HelpName = "URL",
            DefaultValueFactory = _ => CommonOptions.NonEmpty(settings.GetEnvironment(UrlsVariable)) ?? DefaultUrls,
        };
        var demo = new Option<bool>("--demo")
        {
            Description = "Also store a few hundred synthetic learners (example.org) and a few thousand statements, once.",
        };
        var maxBodyBytes = new Option<long?>("--max-body-bytes")
        {
            Description = $"Largest accepted request body in bytes (default {defaults.MaxRequestBodyBytes}). Env: {MaxBodyBytesVariable}.",
            HelpName = "BYTES",
        };
        var maxBatch = new Option<int?>("--max-batch")
        {
            Description = $"Most statements in one POST (default {defaults.MaxBatchSize}). Env: {MaxBatchVariable}.",
            HelpName = "N",
        };
        var maxPage = new Option<int?>("--max-page")
        {
            Description = $"Default and largest page of a statement query (default {defaults.MaxPageSize}). Env: {MaxPageVariable}.",
            HelpName = "N",
        };

        var command = new Command("serve", "Run the LRS. On first start, initialises the data folder and prints the endpoint and a client key and secret.")
        {
            urls,
            demo,
            maxBodyBytes,
            maxBatch,
            maxPage,
        };
        installation.AddTo(command);

        CommandRunner.SetAction(command, settings, async (context, ct) =>
        {
            // Defaults, then the LV_* environment, then what the command line says.
            var options = new ServerOptions { TimeProvider = context.Time }.ApplyEnvironment(settings.GetEnvironment);
            options.DataDirectory = installation.DataDirectory(context);
            options.Urls = context.GetValue(urls)!;
            options.MasterKeyFile = installation.MasterKeyFileOf(context) ?? options.MasterKeyFile;
            options.Store = installation.Location(context);
            options.MaxRequestBodyBytes = context.GetValue(maxBodyBytes) ?? options.MaxRequestBodyBytes;
            options.MaxBatchSize = context.GetValue(maxBatch) ?? options.MaxBatchSize;
            options.MaxPageSize = context.GetValue(maxPage) ?? options.MaxPageSize;
            options.Validate();
            return await RunAsync(context, options, context.GetValue(demo), ct);
        });
        return command;
    }

    private static async Task<int> RunAsync(CommandContext context, ServerOptions options, bool demo, CancellationToken ct)
    {
        // The embedded default is created and migrated here; a PostgreSQL store must have been migrated ('lvault migrate').
        var init = await DataFolder.InitializeAsync(options.DataDirectory, options.MasterKeyFile, options.Store, context.Time, ct);

        (ClientRecord Client, string Secret)? firstClient = null;
        CreatedPerson? firstAdministrator = null;
        ClientRecord? demoClient = null;
        // The administrative work is done and the files closed before the server opens them for itself.
        await using (var backend = DataFolder.Open(options.DataDirectory, options.MasterKeyFile, options.Store, context.Time))
        {
            if ((await backend.Clients.ListClientsAsync(init.TenantId, ct)).Count == 0)
            {
                firstClient = await ClientAdmin.AddAsync(
                    backend.Clients, init.TenantId, FirstClientName, [XapiScopes.All], [], context.Time, ct);
            }

            // The embedded default is a school's first try: it comes with a school administrator to log in to /api with.
            // A PostgreSQL installation gets its people from 'lvault people add'.
            if (!options.Store.IsPostgres)
            {
                firstAdministrator = await PeopleAdmin.EnsureFirstAdministratorAsync(backend, options, init.TenantId, ct);
            }

            if (demo && !await DemoSeeder.IsSeededAsync(backend.Statements, init.TenantId, ct))
            {
                demoClient = await DemoSeeder.EnsureClientAsync(backend.Clients, init.TenantId, context.Time, ct);
            }
        }

        await using var app = LearnerVaultServer.Build(options);
        await app.StartAsync(ct);

        var endpoint = XapiEndpoint(app.Urls, options.Urls);
        var console = context.Console;
        console.MarkupLine($"[green]LearnerVault is running.[/] xAPI endpoint: [bold]{Markup.Escape(endpoint)}[/]");
        console.MarkupLine(options.Store.IsPostgres
            ? $"Store: [bold]{Markup.Escape(options.Store.ToString())}[/]"
            : $"Data folder: [bold]{Markup.Escape(Path.GetFullPath(options.DataDirectory))}[/]");
        if (firstClient is { } created)
        {
            console.MarkupLine("First start: a client with scope [bold]all[/] was created.");
            ClientsAddCommand.ShowCredentials(console, created.Client, created.Secret, endpoint);
        }
        else
        {
            console.MarkupLine("Clients: [bold]lvault clients list[/] shows them, [bold]lvault clients add[/] creates one.");
        }

        if (firstAdministrator is { } administrator)
        {
            console.MarkupLine("First start: a school administrator was created for the admin API.");
            PeopleAddCommand.ShowAccount(
                console, PeopleAdmin.FirstAdministratorLogin, administrator, init.TenantId, endpoint[..^"xapi/".Length] + "api/");
        }

        if (demoClient is not null)
        {
            console.MarkupLine($"Seeding the demo: {DemoData.LearnerCount} synthetic learners, {DemoData.StatementCount} statements…");
            using var scope = app.Services.CreateScope();
            var ingest = scope.ServiceProvider.GetRequiredService<IStatementIngest>();
            // Ctrl+C during seeding stops it too; the next 'serve --demo' stores the rest.
            using var seeding = CancellationTokenSource.CreateLinkedTokenSource(ct, app.Lifetime.ApplicationStopping);
            try
            {
                var stored = await DemoSeeder.SeedAsync(ingest, demoClient, context.Time, seeding.Token);
                console.MarkupLine($"[green]Demo data stored[/] ({stored} statements).");
            }
            catch (OperationCanceledException) when (app.Lifetime.ApplicationStopping.IsCancellationRequested)
            {
                console.MarkupLine("Demo seeding interrupted; 'serve --demo' completes it next time.");
            }
        }
        else if (demo)
        {
            console.MarkupLine("The demo data was stored on an earlier start; not seeding again.");
        }

        console.MarkupLine("Ready; stop it with Ctrl+C.");
        await app.WaitForShutdownAsync(ct);
        return 0;
    }

    /// <summary>The first address the server listens on, plus /xapi/.</summary>
    internal static string XapiEndpoint(ICollection<string> boundUrls, string configuredUrls)
    {
        var first = boundUrls.FirstOrDefault()
            ?? configuredUrls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault()
            ?? DefaultUrls;
        return first.TrimEnd('/') + "/xapi/";
    }
}
