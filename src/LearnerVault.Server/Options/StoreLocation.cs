using Npgsql;

namespace LearnerVault.Server.Options;

/// <summary>
/// Which storage backend holds the data: the embedded default (SQLite files in the data folder) or PostgreSQL. Written
/// as <c>--store</c> / <c>LV_STORE</c> says it: <c>sqlite</c> (or nothing) or <c>postgres:&lt;Npgsql connection string&gt;</c>.
/// </summary>
public sealed record StoreLocation
{
    public const string EnvironmentVariable = "LV_STORE";
    public const string SqliteKind = "sqlite";
    public const string PostgresKind = "postgres";

    private StoreLocation(string kind, string? connectionString)
    {
        Kind = kind;
        ConnectionString = connectionString;
    }

    /// <summary>The embedded default: the SQLite data file and key store file in the data folder.</summary>
    public static StoreLocation Sqlite { get; } = new(SqliteKind, null);

    public string Kind { get; }

    /// <summary>The Npgsql connection string, for PostgreSQL; null for SQLite.</summary>
    public string? ConnectionString { get; }

    public bool IsPostgres => Kind == PostgresKind;

    public static StoreLocation Postgres(string connectionString)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        return new StoreLocation(PostgresKind, connectionString);
    }

    /// <summary>Parses the <c>--store</c> form; null or blank is the embedded default.</summary>
    /// <exception cref="FormatException">Neither form, or a connection string Npgsql does not accept (the message never
    /// repeats the text, which may hold a password).</exception>
    public static StoreLocation Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text) || text.Trim().Equals(SqliteKind, StringComparison.OrdinalIgnoreCase))
        {
            return Sqlite;
        }

        var colon = text.IndexOf(':', StringComparison.Ordinal);
        var scheme = colon < 0 ? text.Trim() : text[..colon].Trim();
        if (!scheme.Equals("postgres", StringComparison.OrdinalIgnoreCase) && !scheme.Equals("postgresql", StringComparison.OrdinalIgnoreCase))
        {
            throw new FormatException("the store must be 'sqlite' or 'postgres:<Npgsql connection string>' (e.g. postgres:Host=db;Database=learnervault;Username=lv)");
        }

        var connectionString = colon < 0 ? string.Empty : text[(colon + 1)..].Trim();
        if (connectionString.Length == 0)
        {
            throw new FormatException("'postgres:' must be followed by an Npgsql connection string, e.g. postgres:Host=db;Database=learnervault;Username=lv");
        }

        try
        {
            var builder = new NpgsqlConnectionStringBuilder(connectionString);
            if (string.IsNullOrWhiteSpace(builder.Host))
            {
                throw new FormatException("the PostgreSQL connection string must name a Host");
            }
        }
        catch (ArgumentException ex)
        {
            // Npgsql's message names the bad keyword, never the value.
            throw new FormatException($"the PostgreSQL connection string is not valid: {ex.Message}", ex);
        }

        return Postgres(connectionString);
    }

    /// <summary>For messages and logs: the kind, and for PostgreSQL the connection string without its password.</summary>
    public override string ToString() =>
        IsPostgres ? $"postgres:{LearnerVault.Storage.Postgres.PostgresBackend.Describe(ConnectionString!)}" : SqliteKind;
}
