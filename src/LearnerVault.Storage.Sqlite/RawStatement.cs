using System.Text;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace LearnerVault.Storage.Sqlite;

/// <summary>
/// A prepared statement driven through SQLitePCL directly, for the writer's per-row inserts. A SqliteCommand allocates a
/// binder object per parameter per execution, boxes every integer and copies every text into a new UTF-8 array: for a
/// statement row and its access-log rows that was about a tenth of all the bytes ingest allocated. Here a value goes
/// straight to sqlite3_bind_*, and text is encoded on the stack.
/// </summary>
/// <remarks>Single-threaded, like the connection it belongs to. Dispose before the connection closes.</remarks>
internal sealed class RawStatement : IDisposable
{
    private const int MaxStackText = 512;

    private readonly SqliteConnection connection;
    private readonly sqlite3_stmt statement;

    public RawStatement(SqliteConnection connection, string sql)
    {
        this.connection = connection;
        var rc = raw.sqlite3_prepare_v3(connection.Handle, sql, raw.SQLITE_PREPARE_PERSISTENT, out statement, out var tail);
        SqliteException.ThrowExceptionForRC(rc, connection.Handle);
        if (!string.IsNullOrWhiteSpace(tail))
        {
            statement.Dispose();
            throw new ArgumentException("One SQL statement only.", nameof(sql));
        }
    }

    public void Bind(int index, long value) => Check(raw.sqlite3_bind_int64(statement, index, value));

    public void Bind(int index, bool value) => Bind(index, value ? 1L : 0L);

    /// <summary>A blob (copied by SQLite); null binds NULL.</summary>
    public void Bind(int index, byte[]? value)
    {
        if (value is null)
        {
            Check(raw.sqlite3_bind_null(statement, index));
        }
        else if (value.Length == 0)
        {
            Check(raw.sqlite3_bind_zeroblob(statement, index, 0));
        }
        else
        {
            Check(raw.sqlite3_bind_blob(statement, index, value));
        }
    }

    /// <summary>A blob of exactly these bytes (copied by SQLite), for a buffer only partly in use.</summary>
    public void Bind(int index, ReadOnlySpan<byte> value) =>
        Check(value.IsEmpty ? raw.sqlite3_bind_zeroblob(statement, index, 0) : raw.sqlite3_bind_blob(statement, index, value));

    /// <summary>The index of the parameter named <paramref name="name"/> (with its prefix, e.g. <c>$rows</c>).</summary>
    public int ParameterIndex(string name)
    {
        var index = raw.sqlite3_bind_parameter_index(statement, name);
        return index > 0 ? index : throw new ArgumentException($"The statement has no parameter {name}.", nameof(name));
    }

    /// <summary>Text as UTF-8 (copied by SQLite); null binds NULL.</summary>
    public void Bind(int index, string? value)
    {
        if (value is null)
        {
            Check(raw.sqlite3_bind_null(statement, index));
            return;
        }

        var length = Encoding.UTF8.GetMaxByteCount(value.Length);
        Span<byte> buffer = length <= MaxStackText ? stackalloc byte[MaxStackText] : new byte[length];
        var written = Encoding.UTF8.GetBytes(value, buffer);
        Check(raw.sqlite3_bind_text(statement, index, buffer[..written]));
    }

    /// <summary>Runs the statement (one that returns no rows) and makes it ready for the next bindings.</summary>
    public void Execute()
    {
        var rc = raw.sqlite3_step(statement);
        raw.sqlite3_reset(statement);
        if (rc != raw.SQLITE_DONE)
        {
            SqliteException.ThrowExceptionForRC(rc == raw.SQLITE_ROW ? raw.SQLITE_MISUSE : rc, connection.Handle);
        }
    }

    /// <summary>
    /// Runs the statement (a query) to its first row: true when there is one, whose columns <see cref="Int64"/> and
    /// <see cref="Blob"/> then read. Call <see cref="Reset"/> once done with the row.
    /// </summary>
    public bool ReadFirst()
    {
        var rc = raw.sqlite3_step(statement);
        if (rc is not (raw.SQLITE_ROW or raw.SQLITE_DONE))
        {
            raw.sqlite3_reset(statement);
            SqliteException.ThrowExceptionForRC(rc, connection.Handle);
        }

        return rc == raw.SQLITE_ROW;
    }

    public long Int64(int column) => raw.sqlite3_column_int64(statement, column);

    /// <summary>A blob column, copied (NULL reads as empty).</summary>
    public byte[] Blob(int column) => raw.sqlite3_column_blob(statement, column).ToArray();

    /// <summary>Ends the current run, ready for the next bindings (the bindings stay).</summary>
    public void Reset() => raw.sqlite3_reset(statement);

    private void Check(int rc)
    {
        if (rc != raw.SQLITE_OK)
        {
            SqliteException.ThrowExceptionForRC(rc, connection.Handle);
        }
    }

    public void Dispose() => statement.Dispose();
}
