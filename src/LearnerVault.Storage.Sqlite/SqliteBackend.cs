using LearnerVault.Privacy;

namespace LearnerVault.Storage.Sqlite;

/// <summary>
/// The embedded default: one data file (<see cref="DataFileName"/>) and, apart from it, the key store
/// (<see cref="KeyStoreFileName"/>) in the data folder. Opening creates and migrates both files.
/// </summary>
public sealed partial class SqliteBackend : IStorageBackend
{
    public const string DataFileName = "learnervault.db";
    public const string KeyStoreFileName = "keys.db";
    public const string MasterKeyFileName = "master.key";

    private readonly SqliteStatementStore statements;
    private readonly SqliteClientStore clients;
    private readonly SqliteKeyStore keys;
    private readonly SqliteReaderPool readers;
    private int disposed;

    private SqliteBackend(string dataDirectory, SqliteStatementStore statements, SqliteClientStore clients, SqliteKeyStore keys, SqliteReaderPool readers)
    {
        DataDirectory = dataDirectory;
        this.statements = statements;
        this.clients = clients;
        this.keys = keys;
        this.readers = readers;
        Statements = statements;
        Clients = clients;
        Keys = keys;
        KeyAdministration = keys;
    }

    public string Kind => "sqlite";

    public string Description => Path.Combine(DataDirectory, DataFileName);

    public IStatementStore Statements { get; }
    public IClientStore Clients { get; }
    public IKeyStore Keys { get; }

    /// <summary>Erasure and rotation of keys (the same key store as <see cref="Keys"/>).</summary>
    public IKeyAdministration KeyAdministration { get; }

    /// <summary>The folder holding the data file and the key store.</summary>
    public string DataDirectory { get; }

    /// <summary>
    /// Opens the backend in <paramref name="dataDirectory"/> (created if needed, owner-only on Unix): creates or
    /// migrates the data file and the key store file, and starts the statement writer.
    /// </summary>
    /// <exception cref="System.Security.Cryptography.CryptographicException">The master key is not the key store's.</exception>
    public static SqliteBackend Open(string dataDirectory, MasterKey masterKey, TimeProvider timeProvider) =>
        Open(dataDirectory, masterKey, timeProvider, new SqliteBackendOptions());

    internal static SqliteBackend Open(string dataDirectory, MasterKey masterKey, TimeProvider timeProvider, SqliteBackendOptions options)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(dataDirectory);
        ArgumentNullException.ThrowIfNull(masterKey);
        ArgumentNullException.ThrowIfNull(timeProvider);

        if (!Directory.Exists(dataDirectory))
        {
            if (OperatingSystem.IsWindows())
            {
                Directory.CreateDirectory(dataDirectory);
            }
            else
            {
                Directory.CreateDirectory(dataDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            }
        }

        var dataPath = Path.Combine(dataDirectory, DataFileName);
        var keys = SqliteKeyStore.Open(Path.Combine(dataDirectory, KeyStoreFileName), masterKey, timeProvider);
        Microsoft.Data.Sqlite.SqliteConnection? writerConnection = null;
        Microsoft.Data.Sqlite.SqliteConnection? adminConnection = null;
        SqliteReaderPool? readers = null;
        StatementWriter? writer = null;
        try
        {
            SqliteConnections.CreateFilePrivately(dataPath);
            writerConnection = SqliteConnections.Open(dataPath, ConnectionRole.Writer);
            SchemaMigrator.Migrate(writerConnection, SchemaMigrator.DataSet, timeProvider);
            adminConnection = SqliteConnections.Open(dataPath, ConnectionRole.Writer);
            // Client changes never checkpoint inside their commit either: the writer's checkpoint thread copies their pages.
            SqliteConnections.Execute(adminConnection, "PRAGMA wal_autocheckpoint = 0;");
            readers = new SqliteReaderPool(dataPath, options.Readers);
            var tenants = new TenantDirectory();
            var recent = RecentIndex.Load(writerConnection);
            writer = new StatementWriter(writerConnection, timeProvider, recent, options.MergeThreshold, options.MergeStep);
            // One tenant directory for every store: tenant numbers never change, so one cache serves all.
            // Every other store's writes go through the same writer: one transaction on the file at a time, group-committed.
            var storeWriter = new SerialWriter(writer, timeProvider);
            var statements = new SqliteStatementStore(writer, storeWriter, readers, tenants, recent);
            var clients = new SqliteClientStore(adminConnection, readers, timeProvider);
            var backend = new SqliteBackend(dataDirectory, statements, clients, keys, readers);
            backend.OpenDocuments(storeWriter, readers, tenants);
            backend.OpenAccessLog(storeWriter, readers, tenants);
            backend.OpenPrivacy(storeWriter, readers, tenants);
            return backend;
        }
        catch
        {
            // The writer owns its connection (and its threads): disposing it closes both; nothing was queued to it yet.
            if (writer is not null)
            {
                writer.DisposeAsync().AsTask().GetAwaiter().GetResult();
                writerConnection = null;
            }

            readers?.Dispose();
            adminConnection?.Dispose();
            writerConnection?.Dispose();
            keys.Dispose();
            throw;
        }
    }

    /// <summary>Drains the writes already accepted (they are durable when this completes), then closes both files.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref disposed, 1) != 0)
        {
            return;
        }

        try
        {
            await statements.DisposeAsync();
        }
        finally
        {
            clients.Dispose();
            readers.Dispose();
            keys.Dispose();
        }
    }
}

/// <summary>Tuning that only tests and benchmarks change.</summary>
internal sealed record SqliteBackendOptions
{
    /// <summary>Reader connections in the pool.</summary>
    public int Readers { get; init; } = Math.Max(4, Environment.ProcessorCount * 2);

    /// <summary>Recent statements that trigger a merge; null: adaptive (see <see cref="StatementWriter"/>).</summary>
    public int? MergeThreshold { get; init; }

    /// <summary>Merge rows per step; null: in proportion to each group's statements (see <see cref="StatementWriter"/>).</summary>
    public int? MergeStep { get; init; }
}
