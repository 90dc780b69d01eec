using LearnerVault.Privacy;
using LearnerVault.Storage.Sqlite;

namespace LearnerVault.Storage.Tests;

/// <summary>The access log contract against the SQLite backend, on real files in a folder this test owns; a second
/// node is a second backend opened on the same folder (as a second process would).</summary>
public sealed class SqliteAccessLogStoreContractTests : AccessLogStoreContractTests
{
    private readonly TempFolder folder = new();
    private readonly MasterKey masterKey = MasterKey.FromBytes(KeyWrapping.NewKey());

    protected override ValueTask<AccessLogNode> OpenNodeAsync()
    {
        var backend = SqliteBackend.Open(folder.Path, masterKey, TimeProvider.System);
        return ValueTask.FromResult(new AccessLogNode(backend.AccessLog, backend.DisposeAsync));
    }

    protected override ValueTask CleanUpAsync()
    {
        folder.Dispose();
        return ValueTask.CompletedTask;
    }
}
