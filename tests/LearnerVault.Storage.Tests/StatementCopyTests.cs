using System.Security.Cryptography;
using LearnerVault.Privacy;
using LearnerVault.Storage.Postgres;
using LearnerVault.Storage.Sqlite;
using LearnerVault.Storage.Transfer;
using LearnerVault.Tests.Shared;

namespace LearnerVault.Storage.Tests;

/// <summary>A store copy from SQLite into PostgreSQL keeps what each statement says about its learner: the pseudonym
/// (or its absence) and the restriction flag, so that the access gate decides alike on the copy.</summary>
[Trait("Backend", "postgres")]
public sealed class StatementCopyTests : IDisposable
{
    private readonly TempFolder folder = new();
    private readonly MasterKey masterKey = PostgresTestServer.MasterKey;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task CopyAsync_StatementsWithLearnersAndRestrictions_ReadBackAlikeFromPostgres()
    {
        var tenant = Guid.NewGuid();
        var ann = RandomNumberGenerator.GetBytes(32);
        StatementRecord[] written =
        [
            Statement() with { Learner = ann },
            Statement(),
            Statement() with { Learner = RandomNumberGenerator.GetBytes(32), Restricted = true },
            Statement() with { Learner = ann, Restricted = true },
        ];
        await using (var sqlite = SqliteBackend.Open(folder.Path, masterKey, TimeProvider.System))
        {
            await sqlite.Clients.EnsureTenantAsync(tenant, "copy", Ct);
            await sqlite.Statements.WriteAsync(tenant, written, Ct);
        }

        var options = await PostgresTestServer.CreateMigratedDatabaseAsync("learnercopy");
        StoreSummary source;
        StoreSummary target;
        await using (var export = SqliteStoreExport.Open(folder.Path))
        await using (var import = await PostgresStoreTransfer.OpenAsync(options, Ct))
        {
            source = await StoreCopier.CopyAsync(export, import, progress: null, Ct);
            target = await StoreCopier.SummarizeAsync(import, Ct);
        }

        Assert.Equal(source.Digest, target.Digest);
        Assert.Equal(written.Length, target.Counts[TransferTable.Statements]);
        await using var postgres = PostgresBackend.Open(options, masterKey, TimeProvider.System);
        var listed = (await postgres.Statements.QueryAsync(tenant, new StatementQuery { Limit = 100 }, Ct)).Statements;
        foreach (var statement in written)
        {
            var byId = await postgres.Statements.GetAsync(tenant, statement.Id, Ct);
            foreach (var stored in new[] { byId!, listed.Single(s => s.Id == statement.Id) })
            {
                Assert.Equal(statement.Learner, stored.Learner);
                Assert.Equal(statement.Restricted, stored.Restricted);
            }
        }
    }

    public void Dispose() => folder.Dispose();

    private static StatementRecord Statement() =>
        new(Guid.NewGuid(), 7, RandomNumberGenerator.GetBytes(48), RandomNumberGenerator.GetBytes(32), [], null, false, 1, true);
}
