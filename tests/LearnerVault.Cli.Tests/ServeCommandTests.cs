using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using LearnerVault.Cli.Commands;

namespace LearnerVault.Cli.Tests;

/// <summary><c>lvault serve</c> run in-process on a free loopback port, stopped through its cancellation token.</summary>
public sealed partial class ServeCommandTests : IDisposable
{
    private readonly TempFolder folder = new();

    public void Dispose() => folder.Dispose();

    [Fact]
    public async Task Serve_FirstStart_InitialisesFolderAndPrintsCredentialsThatWork()
    {
        var data = folder.Sub("data");

        await using (var server = await RunningServer.StartAsync(data))
        {
            var output = server.Output;
            Assert.Contains("/xapi/", server.Endpoint.AbsolutePath, StringComparison.Ordinal);
            var (key, secret) = Credentials(output);

            using var http = Client(server.Endpoint, key, secret);
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("about", TestContext.Current.CancellationToken)).StatusCode);
            var statements = await http.GetAsync("statements?limit=1", TestContext.Current.CancellationToken);
            Assert.Equal(HttpStatusCode.OK, statements.StatusCode);

            using var wrong = Client(server.Endpoint, key, secret + "x");
            Assert.Equal(HttpStatusCode.Unauthorized, (await wrong.GetAsync("statements?limit=1", TestContext.Current.CancellationToken)).StatusCode);
        }

        Assert.True(File.Exists(Path.Combine(data, "learnervault.db")));
        Assert.True(File.Exists(Path.Combine(data, "keys.db")));
        var list = Json.Parse((await CliRunner.RunAsync("clients", "list", "--data", data, "--json")).Stdout).AsArray();
        var client = Assert.Single(list)!;
        Assert.Equal(ServeCommand.FirstClientName, client["name"]!.GetValue<string>());
        Assert.Equal(["all"], Json.Strings(client["scopes"]));
    }

    [Fact]
    public async Task Serve_FirstStart_PrintedSecretIsInNoFile()
    {
        var data = folder.Sub("data");
        string secret;
        await using (var server = await RunningServer.StartAsync(data))
        {
            secret = Credentials(server.Output).Secret;
        }

        foreach (var file in Directory.EnumerateFiles(data, "*", SearchOption.AllDirectories))
        {
            var bytes = await File.ReadAllBytesAsync(file, TestContext.Current.CancellationToken);
            Assert.True(bytes.AsSpan().IndexOf(Encoding.UTF8.GetBytes(secret)) < 0, $"the secret is in {file}");
        }
    }

    [Fact]
    public async Task Serve_FirstStart_PrintsASchoolAdministratorWhoCanLogIn()
    {
        var data = folder.Sub("data");

        await using var server = await RunningServer.StartAsync(data);

        var login = LoginRow().Match(server.Output);
        var password = PasswordRow().Match(server.Output);
        Assert.True(login.Success && password.Success, server.Output);
        Assert.Equal("admin", login.Groups[1].Value);
        using var response = await LoginAsync(server.Endpoint, "admin", password.Groups[1].Value);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("school-administrator", await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken), StringComparison.Ordinal);
    }

    [Fact]
    public async Task PeopleAdd_PrintedPassword_LogsInToTheAdminApi()
    {
        var data = await CliRunner.InitAsync(folder);
        var added = await CliRunner.RunAsync("people", "add", "--data", data, "--login", "Ms.DPO", "--role", "dpo,teacher", "--name", "Ms DPO", "--json");
        Assert.True(added.ExitCode == 0, added.ToString());
        var json = Json.Parse(added.Stdout);
        Assert.Equal("ms.dpo", json["login"]!.GetValue<string>());
        Assert.Equal(["data-protection-officer", "teacher"], Json.Strings(json["roles"]));

        await using var server = await RunningServer.StartAsync(data);

        using var response = await LoginAsync(server.Endpoint, "ms.dpo", json["password"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        // Somebody was already there: no first administrator.
        Assert.False(LoginRow().IsMatch(server.Output), server.Output);
    }

    private static async Task<HttpResponseMessage> LoginAsync(Uri xapiEndpoint, string login, string password)
    {
        using var http = new HttpClient { BaseAddress = new Uri(xapiEndpoint, "/") };
        var body = JsonSerializer.Serialize(new { login, password });
        return await http.PostAsync("api/auth/login", new StringContent(body, Encoding.UTF8, "application/json"), TestContext.Current.CancellationToken);
    }

    [Fact]
    public async Task Serve_SecondStart_CreatesNoClientAndPrintsNoSecret()
    {
        var data = folder.Sub("data");
        await using (await RunningServer.StartAsync(data))
        {
        }

        await using (var again = await RunningServer.StartAsync(data))
        {
            Assert.DoesNotContain("secret", again.Output, StringComparison.Ordinal);
            Assert.Contains("lvault clients list", again.Output, StringComparison.Ordinal);
        }

        var list = Json.Parse((await CliRunner.RunAsync("clients", "list", "--data", data, "--json")).Stdout).AsArray();
        Assert.Single(list);
    }

    [Fact]
    public async Task Serve_Demo_SeedsStatementsOnceThatTheFirstClientCanQuery()
    {
        var data = folder.Sub("data");
        await using (var server = await RunningServer.StartAsync(data, "--demo"))
        {
            Assert.Contains("Demo data stored", server.Output, StringComparison.Ordinal);
            var (key, secret) = Credentials(server.Output);
            using var http = Client(server.Endpoint, key, secret);

            var response = await http.GetAsync("statements?limit=50", TestContext.Current.CancellationToken);

            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            using var page = JsonDocument.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
            Assert.Equal(50, page.RootElement.GetProperty("statements").GetArrayLength());
            Assert.False(string.IsNullOrEmpty(page.RootElement.GetProperty("more").GetString()));
        }

        await using (var again = await RunningServer.StartAsync(data, "--demo"))
        {
            Assert.DoesNotContain("Demo data stored", again.Output, StringComparison.Ordinal);
            Assert.Contains("not seeding again", again.Output, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData(new[] { "http://127.0.0.1:5000" }, "ignored", "http://127.0.0.1:5000/xapi/")]
    [InlineData(new string[0], "http://127.0.0.1:8080/;http://[::1]:8080", "http://127.0.0.1:8080/xapi/")]
    [InlineData(new string[0], "", "http://127.0.0.1:8080/xapi/")]
    public void XapiEndpoint_BoundOrConfiguredUrls_IsFirstUrlPlusXapi(string[] bound, string configured, string expected)
    {
        Assert.Equal(expected, ServeCommand.XapiEndpoint(bound, configured));
    }

    private static (string Key, string Secret) Credentials(string output)
    {
        var key = KeyRow().Match(output);
        var secret = SecretRow().Match(output);
        Assert.True(key.Success && secret.Success, output);
        return (key.Groups[1].Value, secret.Groups[1].Value);
    }

    private static HttpClient Client(Uri endpoint, string key, string secret)
    {
        var http = new HttpClient { BaseAddress = endpoint };
        http.DefaultRequestHeaders.Add("X-Experience-API-Version", "2.0.0");
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue(
            "Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{key}:{secret}")));
        return http;
    }

    [GeneratedRegex(@"│ key\s+│ (\S+)")]
    private static partial Regex KeyRow();

    [GeneratedRegex(@"│ secret\s+│ (\S+)")]
    private static partial Regex SecretRow();

    [GeneratedRegex(@"│ login\s+│ (\S+)")]
    private static partial Regex LoginRow();

    [GeneratedRegex(@"│ password\s+│ (\S+)")]
    private static partial Regex PasswordRow();

    /// <summary>A serve command running in this process until disposed.</summary>
    private sealed partial class RunningServer : IAsyncDisposable
    {
        private readonly CancellationTokenSource stop = new();
        private readonly StringWriter output = new();
        private readonly TextWriter synchronizedOutput;
        private Task<CliRun>? run;

        private RunningServer() => synchronizedOutput = TextWriter.Synchronized(output);

        public string Output
        {
            get
            {
                lock (synchronizedOutput)
                {
                    return output.ToString();
                }
            }
        }

        public Uri Endpoint { get; private set; } = null!;

        public static async Task<RunningServer> StartAsync(string data, params string[] extra)
        {
            var server = new RunningServer();
            string[] args = ["serve", "--data", data, "--urls", "http://127.0.0.1:0", .. extra];
            server.run = Task.Run(() => CliRunner.RunAsync(args, CliRunner.Settings, server.stop.Token, server.synchronizedOutput));

            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (!server.Output.Contains("stop it with Ctrl+C", StringComparison.Ordinal))
            {
                if (server.run.IsCompleted)
                {
                    Assert.Fail($"serve stopped early: {await server.run}");
                }

                Assert.True(DateTime.UtcNow < deadline, $"serve did not start:\n{server.Output}");
                await Task.Delay(50);
            }

            var endpoint = EndpointLine().Match(server.Output);
            Assert.True(endpoint.Success, server.Output);
            server.Endpoint = new Uri(endpoint.Groups[1].Value);
            return server;
        }

        public async ValueTask DisposeAsync()
        {
            await stop.CancelAsync();
            var result = await run! with { Stdout = Output };
            Assert.True(result.ExitCode == 0, result.ToString());
            stop.Dispose();
        }

        [GeneratedRegex(@"xAPI endpoint: (\S+/xapi/)")]
        private static partial Regex EndpointLine();
    }
}
