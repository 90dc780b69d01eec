using System.Collections.Concurrent;
using Microsoft.Data.Sqlite;

namespace LearnerVault.Storage.Sqlite;

/// <summary>
/// A small pool of WAL reader connections, each keeping its prepared statements. Reads never use the writer's
/// connection, so they neither wait for a group commit nor see its uncommitted rows.
/// </summary>
internal sealed class SqliteReaderPool : IDisposable
{
    private readonly string path;
    private readonly SemaphoreSlim gate;
    private readonly ConcurrentBag<PooledReader> idle = [];
    private readonly ConcurrentDictionary<PooledReader, byte> all = new();
    private volatile bool disposed;

    public SqliteReaderPool(string path, int size)
    {
        this.path = path;
        gate = new SemaphoreSlim(size, size);
    }

    public async ValueTask<Lease> RentAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        await gate.WaitAsync(cancellationToken);
        try
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            if (!idle.TryTake(out var reader))
            {
                reader = new PooledReader(SqliteConnections.Open(path, ConnectionRole.Reader));
                all.TryAdd(reader, 0);
            }

            return new Lease(this, reader);
        }
        catch
        {
            gate.Release();
            throw;
        }
    }

    private void Return(PooledReader reader)
    {
        if (disposed)
        {
            Close(reader);
        }
        else
        {
            idle.Add(reader);
        }

        gate.Release();
    }

    private void Close(PooledReader reader)
    {
        if (all.TryRemove(reader, out _))
        {
            reader.Dispose();
        }
    }

    public void Dispose()
    {
        if (disposed)
        {
            return;
        }

        disposed = true;
        while (idle.TryTake(out var reader))
        {
            Close(reader);
        }

        // Readers still leased are closed when returned; the semaphore stays so that those returns do not fail.
    }

    internal readonly struct Lease(SqliteReaderPool pool, PooledReader reader) : IDisposable
    {
        public PooledReader Reader => reader;

        public void Dispose() => pool.Return(reader);
    }
}

/// <summary>A reader connection and its prepared commands, keyed by SQL text.</summary>
internal sealed class PooledReader(SqliteConnection connection) : IDisposable
{
    private readonly Dictionary<string, SqliteCommand> commands = new(StringComparer.Ordinal);

    public SqliteConnection Connection => connection;

    /// <summary>The prepared command for <paramref name="sql"/>, created with the named parameters on first use.</summary>
    public SqliteCommand Command(string sql, params ReadOnlySpan<(string Name, SqliteType Type)> parameters)
    {
        if (!commands.TryGetValue(sql, out var command))
        {
            command = SqliteConnections.Prepare(connection, sql, parameters.ToArray());
            commands.Add(sql, command);
        }

        return command;
    }

    /// <summary>
    /// The prepared command for <paramref name="sql"/> with <paramref name="parameters"/> bound by name; each value's
    /// type is taken from the value, as <c>AddWithValue</c> does. For a constant SQL text only: every distinct text
    /// keeps a prepared statement for the connection's lifetime.
    /// </summary>
    public SqliteCommand Bound(string sql, ReadOnlySpan<(string Name, object? Value)> parameters)
    {
        var command = Command(sql);
        foreach (var (name, value) in parameters)
        {
            var index = command.Parameters.IndexOf(name);
            var parameter = index >= 0 ? command.Parameters[index] : command.Parameters.Add(new SqliteParameter { ParameterName = name });
            parameter.Value = value ?? DBNull.Value;
        }

        return command;
    }

    public void Dispose()
    {
        foreach (var command in commands.Values)
        {
            command.Dispose();
        }

        commands.Clear();
        SqliteConnections.Close(connection);
    }
}
