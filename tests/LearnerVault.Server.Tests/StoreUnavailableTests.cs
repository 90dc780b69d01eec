using System.Net;
using LearnerVault.Server.Options;
using LearnerVault.Tests.Shared;
using Npgsql;
using static LearnerVault.Server.Tests.XapiJson;

namespace LearnerVault.Server.Tests;

/// <summary>
/// When PostgreSQL goes away (failover, maintenance, out of connections) a request is answered 503 with Retry-After,
/// never a 500, and the server recovers by itself once the database is back.
/// </summary>
[Trait("Backend", "postgres")]
public sealed class StoreUnavailableTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Requests_DatabaseRefusesConnections_Answer503WithRetryAfterAndRecover()
    {
        var options = await PostgresTestServer.CreateMigratedDatabaseAsync("outage");
        var database = new NpgsqlConnectionStringBuilder(options.ConnectionString).Database!;
        await using var app = await LearnerVaultAppFactory.StartAsync(StoreLocation.Postgres(options.ConnectionString));
        using var http = app.CreateClient();
        Assert.Equal(HttpStatusCode.OK, (await http.PostAsync("statements", Content(Statement()), Ct)).StatusCode);

        await AdministerAsync($"ALTER DATABASE \"{database}\" WITH ALLOW_CONNECTIONS false;");
        await AdministerAsync($"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{database}' AND pid <> pg_backend_pid();");
        try
        {
            foreach (var request in new Func<Task<HttpResponseMessage>>[]
            {
                () => http.PostAsync("statements", Content(Statement()), Ct),
                () => http.GetAsync("statements?limit=5", Ct),
                () => http.PostAsync("statements", Content(Statement()), Ct),
            })
            {
                var response = await request();
                Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
                Assert.Equal(TimeSpan.FromSeconds(5), response.Headers.RetryAfter?.Delta);
                Assert.Contains("unavailable", await response.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
            }

            // A load balancer takes the node out of rotation meanwhile; it is still alive.
            using var probe = new HttpClient { BaseAddress = app.BaseAddress };
            Assert.Equal(HttpStatusCode.ServiceUnavailable, (await probe.GetAsync("health/ready", Ct)).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await probe.GetAsync("health/live", Ct)).StatusCode);
        }
        finally
        {
            await AdministerAsync($"ALTER DATABASE \"{database}\" WITH ALLOW_CONNECTIONS true;");
        }

        // Back without a restart: the pool drops the dead connections and opens new ones.
        Assert.Equal(HttpStatusCode.OK, (await http.PostAsync("statements", Content(Statement()), Ct)).StatusCode);
        using (var probe = new HttpClient { BaseAddress = app.BaseAddress })
        {
            Assert.Equal(HttpStatusCode.OK, (await probe.GetAsync("health/ready", Ct)).StatusCode);
        }

        var page = await (await http.GetAsync("statements?limit=10", Ct)).ReadJsonAsync();
        Assert.Equal(2, page["statements"]!.AsArray().Count);
    }

    private static async Task AdministerAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(PostgresTestServer.ServerConnectionString);
        await connection.OpenAsync(Ct);
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(Ct);
    }
}
