using LearnerVault.Storage.Sqlite;
using Microsoft.Data.Sqlite;

namespace LearnerVault.Storage.Tests;

/// <summary>The writer's directly bound inserts store exactly what a SqliteCommand would, and fail as one does.</summary>
public sealed class RawStatementTests : IDisposable
{
    private readonly TempFolder folder = new();
    private readonly SqliteConnection connection;

    public RawStatementTests()
    {
        connection = new SqliteConnection($"Data Source={Path.Combine(folder.Path, "raw.db")};Pooling=False");
        connection.Open();
        using var create = connection.CreateCommand();
        create.CommandText = "CREATE TABLE t (n INTEGER PRIMARY KEY, b BLOB, s TEXT, f INTEGER NOT NULL);";
        create.ExecuteNonQuery();
    }

    [Fact]
    public void Execute_EveryKindOfValue_ReadsBackAsBound()
    {
        var longText = string.Concat(Enumerable.Repeat("é€😀x", 300)); // past the stack buffer: 3,300 bytes of UTF-8
        using (var insert = new RawStatement(connection, "INSERT INTO t (n, b, s, f) VALUES (?1, ?2, ?3, ?4);"))
        {
            Insert(insert, 1, [1, 2, 3], "plain", true);
            Insert(insert, 2, null, null, false);
            Insert(insert, 3, [], "Ünïcödé 😀", true);
            Insert(insert, 4, new byte[5000], longText, false);
            Insert(insert, 5, [0], string.Empty, true);
        }

        Assert.Equal(["1|010203|plain|1", "2|(null)|(null)|0", "3||Ünïcödé 😀|1", $"4|{new string('0', 10000)}|{longText}|0", "5|00||1"], Rows());
        Assert.Equal(0L, Scalar("SELECT count(*) FROM t WHERE n = 5 AND s IS NULL;"));
        Assert.Equal(1L, Scalar("SELECT count(*) FROM t WHERE n = 3 AND b IS NOT NULL AND length(b) = 0;"));
    }

    [Fact]
    public void Execute_ConstraintFails_ThrowsLikeACommandAndTheStatementStaysUsable()
    {
        using var insert = new RawStatement(connection, "INSERT INTO t (n, b, s, f) VALUES (?1, ?2, ?3, ?4);");
        Insert(insert, 1, [1], "first", true);

        var error = Assert.Throws<SqliteException>(() => Insert(insert, 1, [2], "same key", true));
        Assert.Equal(19, error.SqliteErrorCode); // SQLITE_CONSTRAINT

        Insert(insert, 2, [3], "after the error", false);
        Assert.Equal(["1|01|first|1", "2|03|after the error|0"], Rows());
    }

    [Fact]
    public void ReadFirst_ReadsTheFirstRowOrNone_AndRunsAgainAfterReset()
    {
        using (var insert = new RawStatement(connection, "INSERT INTO t (n, b, s, f) VALUES (?1, ?2, ?3, ?4);"))
        {
            Insert(insert, 1, [1, 2], "a", true);
            Insert(insert, 2, [3], "b", false);
            Insert(insert, 3, null, "c", false);
        }

        using var select = new RawStatement(connection, "SELECT n, b FROM t WHERE f = ?1 ORDER BY n DESC LIMIT 1;");
        select.Bind(1, false);
        Assert.True(select.ReadFirst());
        Assert.Equal(3L, select.Int64(0));
        Assert.Empty(select.Blob(1)); // NULL reads as empty
        select.Reset();

        select.Bind(1, true);
        Assert.True(select.ReadFirst());
        Assert.Equal(1L, select.Int64(0));
        Assert.Equal([1, 2], select.Blob(1));
        select.Reset();

        select.Bind(1, 7);
        Assert.False(select.ReadFirst());
        select.Reset();

        // Reset ends the read: the table is writable again on the same connection.
        using var delete = new RawStatement(connection, "DELETE FROM t WHERE n = ?1;");
        delete.Bind(1, 1);
        delete.Execute();
        Assert.Equal(2L, Scalar("SELECT count(*) FROM t;"));
    }

    [Fact]
    public void New_TwoStatementsOrBadSql_Refused()
    {
        Assert.Throws<ArgumentException>(() => new RawStatement(connection, "INSERT INTO t (n, f) VALUES (1, 1); SELECT 1;"));
        Assert.Throws<SqliteException>(() => new RawStatement(connection, "INSERT INTO nowhere VALUES (1);"));
    }

    private static void Insert(RawStatement insert, long n, byte[]? blob, string? text, bool flag)
    {
        insert.Bind(1, n);
        insert.Bind(2, blob);
        insert.Bind(3, text);
        insert.Bind(4, flag);
        insert.Execute();
    }

    private long Scalar(string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return (long)command.ExecuteScalar()!;
    }

    private List<string> Rows()
    {
        using var select = connection.CreateCommand();
        select.CommandText = "SELECT n, b, s, f FROM t ORDER BY n;";
        using var reader = select.ExecuteReader();
        var rows = new List<string>();
        while (reader.Read())
        {
            var blob = reader.IsDBNull(1) ? "(null)" : Convert.ToHexString((byte[])reader.GetValue(1));
            var text = reader.IsDBNull(2) ? "(null)" : reader.GetString(2);
            rows.Add($"{reader.GetInt64(0)}|{blob}|{text}|{reader.GetInt64(3)}");
        }

        return rows;
    }

    public void Dispose()
    {
        connection.Dispose();
        folder.Dispose();
    }
}
