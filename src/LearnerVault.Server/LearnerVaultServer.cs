using LearnerVault.Server.Access;
using LearnerVault.Server.Accounts;
using LearnerVault.Server.Activities;
using LearnerVault.Server.Administration;
using LearnerVault.Server.Api;
using LearnerVault.Server.Audit;
using LearnerVault.Server.Auth;
using LearnerVault.Server.Documents;
using LearnerVault.Server.Endpoints;
using LearnerVault.Server.Endpoints.Api;
using LearnerVault.Server.Options;
using LearnerVault.Server.Pipeline;
using LearnerVault.Server.Statements;
using LearnerVault.Storage;

namespace LearnerVault.Server;

/// <summary>Composition of the HTTP server. The CLI's <c>serve</c> command and the tests both start it from here.</summary>
public static class LearnerVaultServer
{
    public static readonly string[] ExposedHeaders =
    [
        "ETag", "Last-Modified", "Location", "X-Experience-API-Version", "X-Experience-API-Consistent-Through", "Content-Type",
    ];

    public static WebApplication Build(ServerOptions options)
    {
        options.Validate();
        // No watching of appsettings files for changes: the watcher covers the content root recursively, and the data
        // folder (./data by default) lives there, so every WAL write woke it (measured: 4% of server CPU under ingest).
        // LearnerVault takes its settings from options and environment variables once, at start.
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = ["--hostBuilder:reloadConfigOnChange=false"] });
        builder.WebHost.UseUrls(options.Urls);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = options.MaxRequestBodyBytes;
            kestrel.Limits.MaxRequestHeadersTotalSize = 64 * 1024;
        });

        // Request lines carry agent filters (IFIs such as email addresses): the framework's request logging must
        // never see Information level, or personal data would reach the log.
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.Hosting", LogLevel.Information);
        builder.Logging.AddFilter(UnhandledErrors.FrameworkCategory, LogLevel.None);

        builder.Services.AddLearnerVault(options);
        builder.Services.AddCors();
        // Signs the heads of idle access logs (the CLI, which composes AddLearnerVault too, runs no background work).
        builder.Services.AddHostedService<AccessLogCheckpointer>();
        // Deletes authentication tokens a day after they expired or were revoked.
        builder.Services.AddSingleton<AuthTokenPurger>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<AuthTokenPurger>());
        builder.Services.AddOpenApi(ApiDocument.Name, ApiDocument.Configure);
        // Binding failures on /api throw, so that ApiPipeline answers them with a problem document instead of an empty 400.
        builder.Services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);

        var app = builder.Build();
        app.UseLearnerVault();
        return app;
    }

    /// <summary>The services every host (server, CLI) composes: options, storage, keys, the statement pipeline.</summary>
    public static IServiceCollection AddLearnerVault(this IServiceCollection services, ServerOptions options)
    {
        services.AddSingleton(options);
        services.AddSingleton(options.TimeProvider);
        // The store named by the options (SQLite files in the data folder, or PostgreSQL), with the master key of the
        // data folder or LV_MASTER_KEY.
        services.AddSingleton(_ => DataFolder.Open(options.DataDirectory, options.MasterKeyFile, options.Store, options.TimeProvider));
        services.AddSingleton(sp => sp.GetRequiredService<IStorageBackend>().Statements);
        services.AddSingleton(sp => sp.GetRequiredService<IStorageBackend>().Clients);
        services.AddSingleton(sp => sp.GetRequiredService<IStorageBackend>().Keys);
        services.AddSingleton<TenantCrypto>();
        services.AddSingleton<StatementService>();
        services.AddSingleton<IStatementIngest>(sp => sp.GetRequiredService<StatementService>());
        services.AddSingleton<ClientAuthenticator>();
        services.AddSingleton(sp => sp.GetRequiredService<IStorageBackend>().Documents);
        services.AddSingleton(sp => sp.GetRequiredService<IStorageBackend>().ActivityDefinitions);
        services.AddSingleton<DocumentService>();
        services.AddSingleton<ActivityDefinitionService>();
        // The access log the access gate writes to (every allow and deny), with its signed checkpoints, and its group
        // commit: disposed (drained) before the store it writes to, which was created first.
        services.AddSingleton(sp => sp.GetRequiredService<IStorageBackend>().AccessLog);
        services.AddSingleton<AccessLog>();
        services.AddSingleton<AccessLogWriter>();
        // The one gate of personal data: people, consents and policies from the privacy store, decisions logged.
        services.AddSingleton(sp => sp.GetRequiredService<IStorageBackend>().Privacy);
        services.AddSingleton<AccessGate>();
        services.AddSingleton<IAccessGate>(sp => sp.GetRequiredService<AccessGate>());
        // Local accounts of the admin API: login names hashed, profiles and TOTP secrets sealed with the tenant key.
        services.AddSingleton<AccountCrypto>();
        services.AddSingleton<AccountService>();
        return services;
    }

    /// <summary>
    /// Behind a TLS-terminating proxy (nginx, Caddy: docs/deployment.md) the scheme comes from the proxy's
    /// X-Forwarded-Proto, believed only from <see cref="ServerOptions.TrustedProxies"/>, so that session cookies are
    /// Secure. Nothing else is taken from forwarded headers.
    /// </summary>
    private static ForwardedHeadersOptions ForwardedHeaders(ServerOptions options)
    {
        var forwarded = new ForwardedHeadersOptions { ForwardedHeaders = Microsoft.AspNetCore.HttpOverrides.ForwardedHeaders.XForwardedProto, ForwardLimit = 1 };
        forwarded.KnownIPNetworks.Clear();
        forwarded.KnownProxies.Clear();
        foreach (var proxy in options.TrustedProxies)
        {
            if (ServerOptions.TryParseNetwork(proxy, out var network))
            {
                forwarded.KnownIPNetworks.Add(network);
            }
        }

        return forwarded;
    }

    public static WebApplication UseLearnerVault(this WebApplication app)
    {
        // Fail at start, not on the first request, when the data folder or the master key is wrong.
        _ = app.Services.GetRequiredService<IStorageBackend>();

        app.UseForwardedHeaders(ForwardedHeaders(app.Services.GetRequiredService<ServerOptions>()));
        app.UseExceptionHandler(error => error.Run(UnhandledErrors.HandleAsync));
        app.UseCors(cors => cors
            .AllowAnyOrigin()
            .AllowAnyHeader()
            .AllowAnyMethod()
            .WithExposedHeaders(ExposedHeaders)
            .SetPreflightMaxAge(TimeSpan.FromHours(1)));
        // Before routing: the 1.0.3 alternate request syntax rewrites the method, which routing must then see.
        app.UseMiddleware<XapiPipeline>();
        app.UseMiddleware<ApiPipeline>();
        app.UseRouting();

        app.MapAboutEndpoints();
        app.MapStatementsEndpoints();
        app.MapStateEndpoints();
        app.MapActivityProfileEndpoints();
        app.MapAgentProfileEndpoints();
        app.MapActivitiesEndpoints();
        app.MapAgentsEndpoints();
        app.MapHealthEndpoints();

        app.MapOpenApi(ApiDocument.Route);
        app.MapAuthEndpoints();
        app.MapMeEndpoints();
        app.MapPeopleEndpoints();
        app.MapLearnersEndpoints();
        app.MapClassesEndpoints();
        app.MapPolicyEndpoints();
        app.MapApiClientsEndpoints();
        app.MapAccessLogEndpoints();
        return app;
    }
}
