using System.Net;
using LearnerVault.Cli;
using LearnerVault.Server.Options;
using LearnerVault.Tests.Shared;
using Npgsql;
using static LearnerVault.Server.Tests.XapiJson;

namespace LearnerVault.Server.Tests;

/// <summary>
/// The key store in a database of its own (<c>--key-store</c> / <c>LV_KEY_STORE</c>): the data database then holds no
/// key at all, the key database nothing but keys, and the server works across the two.
/// </summary>
[Trait("Backend", "postgres")]
public sealed class KeyStoreApartTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Serve_KeyStoreInItsOwnDatabase_DataDatabaseHoldsNoKeyAndKeyDatabaseNoData()
    {
        var dataDb = await PostgresTestServer.CreateDatabaseAsync("apart_data");
        var keysDb = await PostgresTestServer.CreateDatabaseAsync("apart_keys");
        var settings = new CliSettings(TimeProvider.System, name => name switch
        {
            "LV_STORE" => "postgres:" + dataDb,
            "LV_KEY_STORE" => keysDb,
            _ => null,
        });
        var migrate = new StringWriter();
        var errors = new StringWriter();
        Assert.True(await Lvault.RunAsync(["migrate", "--data", TempFolder.Create("lv-apart")], migrate, errors, settings, Ct) == 0, errors.ToString());

        await using (var app = await LearnerVaultAppFactory.StartAsync(StoreLocation.Postgres(dataDb, keysDb)))
        {
            using var http = app.CreateClient();
            var mbox = $"mailto:apart.{Guid.NewGuid():N}@example.org";
            var ids = await (await http.PostAsync("statements", Content(new System.Text.Json.Nodes.JsonArray(Statement(mbox: mbox), Statement(mbox: mbox))), Ct)).ReadJsonAsync();
            var read = await http.GetAsync($"statements?statementId={ids[0]!.GetValue<string>()}", Ct);
            Assert.Equal(HttpStatusCode.OK, read.StatusCode);
            Assert.Contains(mbox, await read.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        }

        Assert.Equal(0, await CountAsync(dataDb, "SELECT count(*) FROM pg_tables WHERE schemaname = 'learnervault_keys';"));
        Assert.Equal(2, await CountAsync(dataDb, "SELECT count(*) FROM learnervault.statements;"));
        Assert.Equal(0, await CountAsync(keysDb, "SELECT count(*) FROM pg_tables WHERE schemaname = 'learnervault';"));
        Assert.True(await CountAsync(keysDb, "SELECT count(*) FROM learnervault_keys.keys;") >= 4);
    }

    private static async Task<long> CountAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(Ct);
        await using var command = new NpgsqlCommand(sql, connection);
        return (long)(await command.ExecuteScalarAsync(Ct))!;
    }
}
