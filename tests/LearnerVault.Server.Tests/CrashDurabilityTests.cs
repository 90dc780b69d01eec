using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using LearnerVault.Server.Options;
using static LearnerVault.Server.Tests.XapiJson;

namespace LearnerVault.Server.Tests;

/// <summary>
/// The durability promise: a statement acknowledged to the client survives a kill of the server process (no
/// graceful stop), so after a restart every acknowledged statement is there.
/// </summary>
public sealed class CrashDurabilityTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Serve_KilledDuringAcknowledgedPosts_KeepsEveryAcknowledgedStatement()
    {
        var data = TempFolder.Create("lv-crash");
        var store = await TestBackend.CreateEmptyStoreAsync("crash");
        try
        {
            var (key, secret) = await LvaultProcess.AddClientAsync(data, Ct, store);
            var port = FreePort();
            var acknowledged = new ConcurrentBag<string>();

            using (var server = await LvaultProcess.StartServerAsync(data, port, Ct, store))
            {
                using var http = Client(port, key, secret);
                using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
                var writers = Enumerable.Range(0, 8).Select(w => Task.Run(async () =>
                {
                    var i = 0;
                    while (!stop.IsCancellationRequested)
                    {
                        var body = (i++ % 4 == 0)
                            ? new JsonArray(Statement(mbox: $"mailto:w{w}@example.org"), Statement(mbox: $"mailto:w{w}b@example.org"))
                            : (JsonNode)Statement(mbox: $"mailto:w{w}@example.org");
                        try
                        {
                            var response = await http.PostAsync("statements", Content(body), stop.Token);
                            if (response.StatusCode == HttpStatusCode.OK)
                            {
                                foreach (var id in (await response.ReadJsonAsync()).AsArray())
                                {
                                    acknowledged.Add(id!.GetValue<string>());
                                }
                            }
                        }
                        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException or IOException)
                        {
                            return;
                        }
                    }
                }, Ct)).ToArray();

                while (acknowledged.Count < 300)
                {
                    await Task.Delay(10, Ct);
                }

                server.Kill(entireProcessTree: true);
                await server.WaitForExitAsync(Ct);
                await stop.CancelAsync();
                await Task.WhenAll(writers);
            }

            Assert.True(acknowledged.Count >= 300);
            using (var restarted = await LvaultProcess.StartServerAsync(data, port, Ct, store))
            {
                using var http = Client(port, key, secret);
                foreach (var id in acknowledged)
                {
                    var response = await http.GetAsync($"statements?statementId={id}", Ct);
                    Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                }

                restarted.Kill(entireProcessTree: true);
                await restarted.WaitForExitAsync(Ct);
            }
        }
        finally
        {
            TempFolder.Delete(data);
        }
    }

    private static HttpClient Client(int port, string key, string secret)
    {
        var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/xapi/") };
        http.DefaultRequestHeaders.Authorization = LearnerVaultAppFactory.Basic(key, secret);
        http.DefaultRequestHeaders.Add("X-Experience-API-Version", "2.0.0");
        return http;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>Runs the real <c>lvault</c> command as a child process, as an administrator would.</summary>
public static class LvaultProcess
{
    private static string Dotnet => Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";

    private static string Lvault => Path.Combine(AppContext.BaseDirectory, "lvault.dll");

    public static Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(CancellationToken ct, params string[] args) =>
        RunAsync(null, ct, args);

    /// <summary>Runs lvault with <c>LV_STORE</c> naming <paramref name="store"/> (none: the embedded default).</summary>
    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(StoreLocation? store, CancellationToken ct, params string[] args)
    {
        using var process = Process.Start(Info(args, store))!;
        var stdout = process.StandardOutput.ReadToEndAsync(ct);
        var stderr = process.StandardError.ReadToEndAsync(ct);
        await process.WaitForExitAsync(ct);
        return (process.ExitCode, await stdout, await stderr);
    }

    /// <summary>Initialises the store (migrating it first when it is PostgreSQL, as an administrator must) and adds a client.</summary>
    public static async Task<(string Key, string Secret)> AddClientAsync(string data, CancellationToken ct, StoreLocation? store = null)
    {
        if (store is { IsPostgres: true })
        {
            var migrate = await RunAsync(store, ct, "migrate", "--data", data);
            Assert.True(migrate.ExitCode == 0, migrate.Stderr);
        }

        var init = await RunAsync(store, ct, "init", "--data", data);
        Assert.True(init.ExitCode == 0, init.Stderr);
        var (exit, stdout, stderr) = await RunAsync(store, ct, "clients", "add", "--data", data, "--name", "crash-test", "--scopes", "all", "--json");
        Assert.True(exit == 0, stderr);
        var json = JsonNode.Parse(stdout)!;
        return (json["key"]!.GetValue<string>(), json["secret"]!.GetValue<string>());
    }

    public static async Task<Process> StartServerAsync(string data, int port, CancellationToken ct, StoreLocation? store = null)
    {
        var process = Process.Start(Info(["serve", "--data", data, "--urls", $"http://127.0.0.1:{port}"], store))!;
        _ = process.StandardOutput.ReadToEndAsync(ct);
        _ = process.StandardError.ReadToEndAsync(ct);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/xapi/") };
        for (var attempt = 0; attempt < 600; attempt++)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"lvault serve exited with {process.ExitCode}.");
            }

            try
            {
                if ((await http.GetAsync("about", ct)).IsSuccessStatusCode)
                {
                    return process;
                }
            }
            catch (HttpRequestException)
            {
            }

            await Task.Delay(100, ct);
        }

        process.Kill(entireProcessTree: true);
        throw new TimeoutException("lvault serve did not start.");
    }

    private static ProcessStartInfo Info(IEnumerable<string> args, StoreLocation? store)
    {
        var info = new ProcessStartInfo(Dotnet)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(Lvault);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment.Remove("LV_MASTER_KEY");
        info.Environment.Remove(StoreLocation.EnvironmentVariable);
        if (store is { IsPostgres: true })
        {
            // The environment, not the command line: a connection string with a password stays out of process listings.
            info.Environment[StoreLocation.EnvironmentVariable] = "postgres:" + store.ConnectionString;
        }

        return info;
    }
}
