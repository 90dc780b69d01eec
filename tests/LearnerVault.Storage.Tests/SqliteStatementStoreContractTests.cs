using LearnerVault.Privacy;
using LearnerVault.Storage.Sqlite;

namespace LearnerVault.Storage.Tests;

/// <summary>The statement store contract against the SQLite backend, on real files in a folder this test owns.
/// Small tests never reach a merge, so this runs on the in-memory index of recent statements.</summary>
public class SqliteStatementStoreContractTests : StatementStoreContractTests
{
    private readonly TempFolder folder = new();
    private readonly MasterKey masterKey = MasterKey.FromBytes(KeyWrapping.NewKey());

    private protected virtual SqliteBackendOptions Options => new();

    protected override ValueTask<StatementStoreHandle> OpenAsync(TimeProvider timeProvider)
    {
        var backend = SqliteBackend.Open(folder.Path, masterKey, timeProvider, Options);
        return ValueTask.FromResult(new StatementStoreHandle(backend.Statements, backend.AccessLog, backend.DisposeAsync));
    }

    protected override ValueTask CleanUpAsync()
    {
        folder.Dispose();
        return ValueTask.CompletedTask;
    }
}

/// <summary>The same contract with a merge after every commit, so every read also goes through the merged segments
/// (and across many of them).</summary>
public sealed class SqliteMergedStatementStoreContractTests : SqliteStatementStoreContractTests
{
    private protected override SqliteBackendOptions Options => new() { MergeThreshold = 1 };
}

/// <summary>The same contract with merges in steps of one row: a merge starts after every commit and spans many of the
/// later groups, so reads, writes and terms inherited late also meet a merge under way.</summary>
public sealed class SqliteSteppedMergeStatementStoreContractTests : SqliteStatementStoreContractTests
{
    private protected override SqliteBackendOptions Options => new() { MergeThreshold = 1, MergeStep = 1 };
}
