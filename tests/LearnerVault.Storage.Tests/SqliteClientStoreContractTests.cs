using LearnerVault.Privacy;
using LearnerVault.Storage.Sqlite;

namespace LearnerVault.Storage.Tests;

/// <summary>The client store contract against the SQLite backend, on real files in a folder this test owns.</summary>
public sealed class SqliteClientStoreContractTests : ClientStoreContractTests
{
    private readonly TempFolder folder = new();

    protected override ValueTask<ClientStoreHandle> OpenAsync(TimeProvider timeProvider)
    {
        var backend = SqliteBackend.Open(folder.Path, MasterKey.FromBytes(KeyWrapping.NewKey()), timeProvider);
        return ValueTask.FromResult(new ClientStoreHandle(
            backend.Clients,
            async (tenant, ct) => await backend.Statements.WriteAsync(tenant,
                [new StatementRecord(Guid.NewGuid(), 1, [1], [1], [], null, false, 1, true)], ct),
            backend.DisposeAsync));
    }

    protected override ValueTask CleanUpAsync()
    {
        folder.Dispose();
        return ValueTask.CompletedTask;
    }
}
