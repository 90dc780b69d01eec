using Microsoft.Data.Sqlite;

namespace LearnerVault.Storage.Sqlite;

/// <summary>
/// The write connection of the document and activity-definition stores. One transaction at a time in this process
/// (a semaphore), and BEGIN IMMEDIATE against other connections and processes, so that a read-compare-write inside
/// <see cref="WriteAsync{T}"/> is atomic.
/// </summary>
internal sealed class SerialWriter : IDisposable
{
    private readonly SqliteConnection connection;
    private readonly SemaphoreSlim gate = new(1, 1);
    private int disposed;

    public SerialWriter(string dataPath, TimeProvider timeProvider)
    {
        connection = SqliteConnections.Open(dataPath, ConnectionRole.Writer);
        TimeProvider = timeProvider;
    }

    public TimeProvider TimeProvider { get; }

    /// <summary>Runs <paramref name="work"/> in an immediate transaction and commits it (rolls back if it throws).</summary>
    public async Task<T> WriteAsync<T>(Func<SqliteConnection, SqliteTransaction, T> work, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref disposed) != 0, this);
        await gate.WaitAsync(cancellationToken);
        try
        {
            using var transaction = connection.BeginTransaction(deferred: false);
            var result = work(connection, transaction);
            transaction.Commit();
            return result;
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>The tenant's number, registering the tenant (unnamed) when storage has not seen it yet.</summary>
    public static long EnsureTenant(SqliteConnection connection, SqliteTransaction transaction, Guid tenantId)
    {
        var id = SqliteValues.GuidBytes(tenantId);
        using (var insert = connection.CreateCommand())
        {
            insert.Transaction = transaction;
            insert.CommandText = "INSERT OR IGNORE INTO tenants (id) VALUES ($id);";
            insert.Parameters.AddWithValue("$id", id);
            insert.ExecuteNonQuery();
        }

        using var select = connection.CreateCommand();
        select.Transaction = transaction;
        select.CommandText = "SELECT no FROM tenants WHERE id = $id;";
        select.Parameters.AddWithValue("$id", id);
        return (long)select.ExecuteScalar()!;
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref disposed, 1) != 0)
        {
            return;
        }

        // Wait for a transaction in flight: closing under it would lose an acknowledged write's commit.
        gate.Wait();
        SqliteConnections.Close(connection);
        gate.Dispose();
    }
}
