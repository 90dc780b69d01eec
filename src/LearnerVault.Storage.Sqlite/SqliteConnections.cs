using Microsoft.Data.Sqlite;

namespace LearnerVault.Storage.Sqlite;

/// <summary>What a connection is used for; decides its pragmas.</summary>
internal enum ConnectionRole
{
    /// <summary>The one connection that writes statements (group commit), or a key store / admin connection.</summary>
    Writer,
    /// <summary>A pooled WAL reader: never writes.</summary>
    Reader,
}

/// <summary>Opens connections with the pragmas every LearnerVault SQLite file relies on.</summary>
internal static class SqliteConnections
{
    /// <summary>How long a connection waits for another's write lock before failing with SQLITE_BUSY.</summary>
    public const int BusyTimeoutMilliseconds = 10_000;

    public static SqliteConnection Open(string path, ConnectionRole role, bool secureDelete = false)
    {
        var builder = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            // The backend keeps its own long-lived connections (and their prepared statements); disposing must close the file.
            Pooling = false,
            DefaultTimeout = BusyTimeoutMilliseconds / 1000,
        };

        var connection = new SqliteConnection(builder.ConnectionString);
        try
        {
            connection.Open();
            // WAL: readers never block the writer. synchronous=FULL: the WAL is synced at every commit, so an
            // acknowledged write survives a process kill and a power loss.
            var journalMode = ExecuteScalar(connection, "PRAGMA journal_mode = WAL;");
            if (!string.Equals(journalMode as string, "wal", StringComparison.OrdinalIgnoreCase))
            {
                throw new InvalidOperationException($"SQLite refused WAL mode for {Path.GetFileName(path)} (got '{journalMode}').");
            }

            // Page caches are counted in the server's resident memory (budget: 250 MiB for the whole process), so they
            // stay modest; the operating system's page cache serves the rest. No mmap for the same reason: mapped
            // file pages count as resident too.
            // The one writer keeps the pages that every group touches (the statements table's tail, the segments being
            // merged); a reader's hot pages are few (segments, term counts, the top of the indexes). Writer cache
            // measured at a million statements (batches of 100, 4 clients, two alternating pairs): 24 MiB peaked at
            // 236 – 238 MiB against 242 – 244 MiB with 32 MiB, at 9,304 – 9,493 against 8,552 – 8,997 statements/s;
            // 16 MiB cost throughput (docs/benchmarks.md).
            var cacheKib = role == ConnectionRole.Writer ? 24_576 : 4_096;
            Execute(connection, $"""
                PRAGMA synchronous = FULL;
                PRAGMA foreign_keys = ON;
                PRAGMA busy_timeout = {BusyTimeoutMilliseconds};
                PRAGMA temp_store = MEMORY;
                PRAGMA cache_size = -{cacheKib};
                PRAGMA mmap_size = 0;
                PRAGMA analysis_limit = 1000;
                PRAGMA secure_delete = {(secureDelete ? "ON" : "OFF")};
                """);
            if (role == ConnectionRole.Reader)
            {
                Execute(connection, "PRAGMA query_only = ON;");
            }
            else
            {
                // Checkpoint less often than the default 1000 pages: a page written by many commits (postings of
                // common terms, the tail of the statements table) is then copied into the file once, not each time.
                Execute(connection, "PRAGMA wal_autocheckpoint = 8192;");
            }

            return connection;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary>Lets SQLite refresh the planner statistics it needs (cheap, bounded by analysis_limit), then closes.</summary>
    public static void Close(SqliteConnection connection)
    {
        try
        {
            Execute(connection, "PRAGMA optimize;");
        }
        catch (SqliteException)
        {
            // Statistics are an optimisation; never fail a shutdown for them.
        }

        connection.Dispose();
    }

    /// <summary>Creates the file (owner-only on Unix) before SQLite does, so the file and its -wal/-shm companions,
    /// which SQLite creates with the main file's permissions, are never readable by others.</summary>
    public static void CreateFilePrivately(string path)
    {
        if (File.Exists(path) || OperatingSystem.IsWindows())
        {
            return;
        }

        var options = new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.Write,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        };
        try
        {
            using var _ = new FileStream(path, options);
        }
        catch (IOException) when (File.Exists(path))
        {
            // Created concurrently: fine.
        }
    }

    public static void Execute(SqliteConnection connection, string sql, SqliteTransaction? transaction = null)
    {
        using var command = connection.CreateCommand();
#pragma warning disable CA2100 // Only constant SQL (and numbers formatted by this class) reaches here.
        command.CommandText = sql;
#pragma warning restore CA2100
        command.Transaction = transaction;
        command.ExecuteNonQuery();
    }

    public static object? ExecuteScalar(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
#pragma warning disable CA2100 // Only constant SQL reaches here.
        command.CommandText = sql;
#pragma warning restore CA2100
        return command.ExecuteScalar();
    }

    /// <summary>Creates a command that is prepared once and reused: only parameter values change between runs.</summary>
    public static SqliteCommand Prepare(SqliteConnection connection, string sql, params (string Name, SqliteType Type)[] parameters)
    {
        var command = connection.CreateCommand();
#pragma warning disable CA2100 // SQL text is built from constant fragments only; values are always parameters.
        command.CommandText = sql;
#pragma warning restore CA2100
        foreach (var (name, type) in parameters)
        {
            command.Parameters.Add(name, type);
        }

        command.Prepare();
        return command;
    }
}
