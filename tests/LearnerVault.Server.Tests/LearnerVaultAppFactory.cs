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
/// A real server on a loopback port over a store of its own: a real SQLite data folder, or (with
/// <c>LV_TEST_BACKEND=postgres</c>, see <see cref="TestBackend"/>) a fresh PostgreSQL database. Intent methods give
/// clients with chosen scopes; every request goes through Kestrel and the whole ASP.NET pipeline.
/// </summary>
public sealed class LearnerVaultAppFactory : IAsyncDisposable
{
    private WebApplication? app;

    private LearnerVaultAppFactory(string dataDirectory) => DataDirectory = dataDirectory;

    public string DataDirectory { get; }

    /// <summary>The store the server runs on.</summary>
    public StoreLocation Store { get; private set; } = StoreLocation.Sqlite;

    public Uri BaseAddress { get; private set; } = null!;

    public Guid TenantId { get; private set; }

    public (string Key, string Secret) Admin { get; private set; }

    public IServiceProvider Services => app!.Services;

    public static async Task<LearnerVaultAppFactory> StartAsync(Action<ServerOptions>? configure = null)
    {
        var factory = new LearnerVaultAppFactory(TempFolder.Create("lv-server"));
        await factory.StartCoreAsync(await TestBackend.CreateStoreAsync("server"), configure);
        return factory;
    }

    /// <summary>A server on a given store, whatever LV_TEST_BACKEND says; with <paramref name="dataDirectory"/>, on an
    /// existing data folder (its master key), e.g. to serve a copy of another installation.</summary>
    public static async Task<LearnerVaultAppFactory> StartAsync(StoreLocation store, string? dataDirectory = null, Action<ServerOptions>? configure = null)
    {
        var factory = new LearnerVaultAppFactory(dataDirectory ?? TempFolder.Create("lv-server"));
        await factory.StartCoreAsync(store, configure);
        return factory;
    }

    private async Task StartCoreAsync(StoreLocation store, Action<ServerOptions>? configure)
    {
        Store = store;
        var init = await DataFolder.InitializeAsync(DataDirectory, null, Store, TimeProvider.System, CancellationToken.None);
        TenantId = init.TenantId;
        var options = new ServerOptions { DataDirectory = DataDirectory, Urls = "http://127.0.0.1:0", Store = Store };
        configure?.Invoke(options);
        app = LearnerVaultServer.Build(options);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        BaseAddress = new Uri(address.Replace("[::]", "127.0.0.1", StringComparison.Ordinal) + "/");
        Admin = await AddClientAsync("admin", ["all"]);
    }

    /// <summary>Adds a client with the given scopes and returns its credentials.</summary>
    public Task<(string Key, string Secret)> AddClientAsync(string name, IReadOnlyList<string> scopes) =>
        AddClientAsync(name, scopes, [], TenantId);

    /// <summary>Adds a client of <paramref name="tenantId"/> declaring <paramref name="purposes"/> (none: instruction).</summary>
    public async Task<(string Key, string Secret)> AddClientAsync(
        string name, IReadOnlyList<string> scopes, IReadOnlyList<string> purposes, Guid tenantId)
    {
        var store = Services.GetRequiredService<IClientStore>();
        var (client, secret) = await ClientAdmin.AddAsync(store, tenantId, name, scopes, purposes, TimeProvider.System, CancellationToken.None);
        return (client.Key, secret);
    }

    /// <summary>Adds another tenant (with its keys) beside the default one.</summary>
    public async Task<Guid> AddTenantAsync(string name)
    {
        var backend = Services.GetRequiredService<IStorageBackend>();
        var tenantId = Guid.NewGuid();
        await backend.Clients.EnsureTenantAsync(tenantId, name, CancellationToken.None);
        backend.Keys.EnsureTenant(tenantId);
        return tenantId;
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

    /// <summary>
    /// Everything the store holds at rest, by name: the files of the data folder and, for PostgreSQL, every table of
    /// the data and key schemas in COPY binary form (the bytes a dump would carry).
    /// </summary>
    public async Task<IReadOnlyList<(string Name, byte[] Bytes)>> ReadStoredBytesAsync(CancellationToken ct)
    {
        var stored = new List<(string Name, byte[] Bytes)>();
        foreach (var file in Directory.EnumerateFiles(DataDirectory, "*", SearchOption.AllDirectories))
        {
            stored.Add((Path.GetFileName(file), await File.ReadAllBytesAsync(file, ct)));
        }

        if (Store.IsPostgres)
        {
            await using var connection = new Npgsql.NpgsqlConnection(Store.ConnectionString);
            await connection.OpenAsync(ct);
            var tables = new List<string>();
            await using (var list = new Npgsql.NpgsqlCommand(
                "SELECT format('%I.%I', schemaname, tablename) FROM pg_tables WHERE schemaname IN ('learnervault', 'learnervault_keys') ORDER BY 1;", connection))
            await using (var reader = await list.ExecuteReaderAsync(ct))
            {
                while (await reader.ReadAsync(ct))
                {
                    tables.Add(reader.GetString(0));
                }
            }

            foreach (var table in tables)
            {
                using var bytes = new MemoryStream();
                await using (var copy = await connection.BeginRawBinaryCopyAsync($"COPY {table} TO STDOUT (FORMAT binary)", ct))
                {
                    await copy.CopyToAsync(bytes, ct);
                }

                stored.Add((table, bytes.ToArray()));
            }
        }

        return stored;
    }

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

/// <summary>
/// Which backend the HTTP suite runs on: <c>LV_TEST_BACKEND</c> is <c>sqlite</c> (default) or <c>postgres</c>. test.sh
/// runs this whole project once for each, and counts the two runs separately.
/// </summary>
public static class TestBackend
{
    public const string Variable = "LV_TEST_BACKEND";

    public static bool IsPostgres
    {
        get
        {
            var value = Environment.GetEnvironmentVariable(Variable);
            return string.IsNullOrWhiteSpace(value) || value == StoreLocation.SqliteKind
                ? false
                : value == StoreLocation.PostgresKind
                    ? true
                    : throw new InvalidOperationException($"{Variable} must be 'sqlite' or 'postgres', not '{value}'.");
        }
    }

    /// <summary>A store of its own for one server: nothing to create for SQLite (the data folder is the store), a new
    /// migrated database for PostgreSQL.</summary>
    public static async Task<StoreLocation> CreateStoreAsync(string purpose) =>
        IsPostgres
            ? StoreLocation.Postgres((await LearnerVault.Tests.Shared.PostgresTestServer.CreateMigratedDatabaseAsync(purpose)).ConnectionString)
            : StoreLocation.Sqlite;

    /// <summary>A new, empty (not migrated) store: for tests that migrate it with the CLI.</summary>
    public static async Task<StoreLocation> CreateEmptyStoreAsync(string purpose) =>
        IsPostgres
            ? StoreLocation.Postgres(await LearnerVault.Tests.Shared.PostgresTestServer.CreateDatabaseAsync(purpose))
            : StoreLocation.Sqlite;
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
