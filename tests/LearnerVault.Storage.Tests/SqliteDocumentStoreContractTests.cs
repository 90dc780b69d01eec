using LearnerVault.Privacy;
using LearnerVault.Storage.Sqlite;

namespace LearnerVault.Storage.Tests;

/// <summary>The document store contract against the SQLite backend, on real files in a folder this test owns.</summary>
public sealed class SqliteDocumentStoreContractTests : DocumentStoreContractTests
{
    private readonly TempFolder folder = new();
    private readonly MasterKey masterKey = MasterKey.FromBytes(KeyWrapping.NewKey());

    protected override ValueTask<DocumentStoreHandle> OpenAsync(TimeProvider timeProvider)
    {
        var backend = SqliteBackend.Open(folder.Path, masterKey, timeProvider);
        return ValueTask.FromResult(new DocumentStoreHandle(backend.Documents, backend.ActivityDefinitions, backend.DisposeAsync));
    }

    protected override ValueTask CleanUpAsync()
    {
        folder.Dispose();
        return ValueTask.CompletedTask;
    }
}
