using System.Net.Http.Headers;
using System.Text;

using LearnerVault.Server.Administration;
using LearnerVault.Server.Options;
using LearnerVault.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace LearnerVault.Server.Tests;

/// <summary>
/// A real server on a loopback port over a real SQLite data folder of its own. Intent methods give clients
/// with chosen scopes; every request goes through Kestrel and the whole ASP.NET pipeline.
/// </summary>
public sealed class LearnerVaultAppFactory : IAsyncDisposable
{
    private WebApplication? app;

    private LearnerVaultAppFactory(string dataDirectory) => DataDirectory = dataDirectory;

    public string DataDirectory { get; }

    public Uri BaseAddress { get; private set; } = null!;

    public Guid TenantId { get; private set; }

    public (string Key, string Secret) Admin { get; private set; }

    public IServiceProvider Services => app!.Services;

    public static async Task<LearnerVaultAppFactory> StartAsync(Action<ServerOptions>? configure = null)
    {
        var factory = new LearnerVaultAppFactory(TempFolder.Create("lv-server"));
        await factory.StartCoreAsync(configure);
        return factory;
    }

    private async Task StartCoreAsync(Action<ServerOptions>? configure)
    {
        var init = await DataFolder.InitializeAsync(DataDirectory, null, TimeProvider.System, CancellationToken.None);
        TenantId = init.TenantId;
        var options = new ServerOptions { DataDirectory = DataDirectory, Urls = "http://127.0.0.1:0" };
        configure?.Invoke(options);
        app = LearnerVaultServer.Build(options);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        BaseAddress = new Uri(address.Replace("[::]", "127.0.0.1", StringComparison.Ordinal) + "/");
        Admin = await AddClientAsync("admin", ["all"]);
    }

    /// <summary>Adds a client with the given scopes and returns its credentials.</summary>
    public async Task<(string Key, string Secret)> AddClientAsync(string name, IReadOnlyList<string> scopes)
    {
        var store = Services.GetRequiredService<IClientStore>();
        var (client, secret) = await ClientAdmin.AddAsync(store, TenantId, name, scopes, [], TimeProvider.System, CancellationToken.None);
        return (client.Key, secret);
    }

    /// <summary>An HTTP client for the xAPI endpoint with the admin's credentials and the given version header.</summary>
    public HttpClient CreateClient(string? version = "2.0.0") => CreateClient(Admin, version);

    public HttpClient CreateClient((string Key, string Secret) credentials, string? version = "2.0.0")
    {
        var http = new HttpClient { BaseAddress = new Uri(BaseAddress, "xapi/") };
        http.DefaultRequestHeaders.Authorization = Basic(credentials.Key, credentials.Secret);
        if (version is not null)
        {
            http.DefaultRequestHeaders.Add("X-Experience-API-Version", version);
        }

        return http;
    }

    public static AuthenticationHeaderValue Basic(string key, string secret) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(key + ":" + secret)));

    /// <summary>Stops the server (gracefully) and keeps the data folder, e.g. to read its files.</summary>
    public async Task StopAsync()
    {
        if (app is not null)
        {
            await app.StopAsync();
            await app.DisposeAsync();
            app = null;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        TempFolder.Delete(DataDirectory);
    }
}

public static class TempFolder
{
    public static string Create(string prefix)
    {
        var path = Path.Combine(Path.GetTempPath(), prefix + "-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(path);
        return path;
    }

    public static void Delete(string path)
    {
        try
        {
            if (Directory.Exists(path))
            {
                Directory.Delete(path, recursive: true);
            }
        }
        catch (IOException)
        {
        }
    }
}
