using LearnerVault.Privacy;

namespace LearnerVault.Storage.Sqlite;

/// <summary>
/// The embedded default: one data file (<see cref="DataFileName"/>) and, apart from it, the key store
/// (<see cref="KeyStoreFileName"/>) in the data folder. Opening creates and migrates both files.
/// </summary>
public sealed partial class SqliteBackend : IAsyncDisposable
{
    public const string DataFileName = "learnervault.db";
    public const string KeyStoreFileName = "keys.db";
    public const string MasterKeyFileName = "master.key";

    public IStatementStore Statements { get; }
    public IClientStore Clients { get; }
    public IKeyStore Keys { get; }
}
