using LearnerVault.Privacy;
using LearnerVault.Storage.Sqlite;

namespace LearnerVault.Storage.Tests;

/// <summary>The privacy store contract against the SQLite backend, on real files in a folder this test owns.</summary>
public sealed class SqlitePrivacyStoreContractTests : PrivacyStoreContractTests
{
    private readonly TempFolder folder = new();
    private readonly MasterKey masterKey = MasterKey.FromBytes(KeyWrapping.NewKey());

    protected override ValueTask<PrivacyStoreHandle> OpenAsync()
    {
        var backend = SqliteBackend.Open(folder.Path, masterKey, TimeProvider.System);
        return ValueTask.FromResult(new PrivacyStoreHandle(backend.Privacy, backend.DisposeAsync));
    }

    protected override ValueTask CleanUpAsync()
    {
        folder.Dispose();
        return ValueTask.CompletedTask;
    }
}
