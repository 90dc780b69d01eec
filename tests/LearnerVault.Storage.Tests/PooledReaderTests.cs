using LearnerVault.Storage.Sqlite;
using Microsoft.Data.Sqlite;

namespace LearnerVault.Storage.Tests;

/// <summary>A reader's kept commands bind each call's values afresh, whatever their type.</summary>
public sealed class PooledReaderTests : IDisposable
{
    private readonly TempFolder folder = new();
    private readonly PooledReader reader;

    public PooledReaderTests()
    {
        var path = Path.Combine(folder.Path, "data.db");
        using (var setup = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            setup.Open();
            using var create = setup.CreateCommand();
            create.CommandText = """
                PRAGMA journal_mode = WAL;
                CREATE TABLE t (n INTEGER PRIMARY KEY, b BLOB, s TEXT);
                INSERT INTO t VALUES (1, x'0102', 'one'), (2, NULL, 'two'), (3, x'03', NULL);
                """;
            create.ExecuteNonQuery();
        }

        reader = new PooledReader(SqliteConnections.Open(path, ConnectionRole.Reader));
    }

    [Fact]
    public void Bound_SameTextTwice_OneCommandBoundWithEachCallsValues()
    {
        const string Sql = "SELECT n FROM t WHERE n >= $from AND (s = $s OR $s IS NULL) AND (b = $b OR $b IS NULL) ORDER BY n;";
        var first = reader.Bound(Sql, [("$from", 1L), ("$s", "two"), ("$b", null)]);
        Assert.Equal([2L], Rows(first));

        var second = reader.Bound(Sql, [("$from", 0), ("$s", null), ("$b", new byte[] { 1, 2 })]);
        Assert.Same(first, second);
        Assert.Equal([1L], Rows(second));

        Assert.Equal([1L, 2L, 3L], Rows(reader.Bound(Sql, [("$from", 1L), ("$s", null), ("$b", null)])));
    }

    private static List<long> Rows(SqliteCommand command)
    {
        using var rows = command.ExecuteReader();
        var list = new List<long>();
        while (rows.Read())
        {
            list.Add(rows.GetInt64(0));
        }

        return list;
    }

    public void Dispose()
    {
        reader.Dispose();
        folder.Dispose();
    }
}
