using Npgsql;

namespace LearnerVault.Server.Options;

/// <summary>
/// Which storage backend holds the data: the embedded default (SQLite files in the data folder) or PostgreSQL. Written
/// as <c>--store</c> / <c>LV_STORE</c> says it: <c>sqlite</c> (or nothing) or <c>postgres:&lt;Npgsql connection string&gt;</c>.
/// </summary>
public sealed record StoreLocation
{
    public const string EnvironmentVariable = "LV_STORE";
    public const string KeyStoreEnvironmentVariable = "LV_KEY_STORE";
    public const string SqliteKind = "sqlite";
    public const string PostgresKind = "postgres";

    private StoreLocation(string kind, string? connectionString, string? keyStoreConnectionString = null)
    {
        Kind = kind;
        ConnectionString = connectionString;
        KeyStoreConnectionString = keyStoreConnectionString;
    }

    /// <summary>The embedded default: the SQLite data file and key store file in the data folder.</summary>
    public static StoreLocation Sqlite { get; } = new(SqliteKind, null);

    public string Kind { get; }

    /// <summary>The Npgsql connection string, for PostgreSQL; null for SQLite.</summary>
    public string? ConnectionString { get; }

    /// <summary>PostgreSQL only: the key store's own connection string when it lives apart from the data (another
    /// database or another role); null: the data's connection string, in the key schema.</summary>
    public string? KeyStoreConnectionString { get; }

    public bool IsPostgres => Kind == PostgresKind;

    public static StoreLocation Postgres(string connectionString, string? keyStoreConnectionString = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(connectionString);
        return new StoreLocation(PostgresKind, connectionString, string.IsNullOrWhiteSpace(keyStoreConnectionString) ? null : keyStoreConnectionString);
    }

    /// <summary>The options of the PostgreSQL backend for this location.</summary>
    public LearnerVault.Storage.Postgres.PostgresStoreOptions ToPostgresOptions() => IsPostgres
        ? new() { ConnectionString = ConnectionString!, KeyStoreConnectionString = KeyStoreConnectionString }
        : throw new InvalidOperationException("Not a PostgreSQL store.");

    /// <summary>Parses the <c>--store</c> form (null or blank is the embedded default) and the optional
    /// <c>--key-store</c> connection string.</summary>
    /// <exception cref="FormatException">Neither form, or a connection string Npgsql does not accept (the message never
    /// repeats the text, which may hold a password).</exception>
    public static StoreLocation Parse(string? text, string? keyStore = null)
    {
        if (string.IsNullOrWhiteSpace(text) || text.Trim().Equals(SqliteKind, StringComparison.OrdinalIgnoreCase))
        {
            return string.IsNullOrWhiteSpace(keyStore)
                ? Sqlite
                : throw new FormatException("a separate key store (--key-store, LV_KEY_STORE) is for PostgreSQL: the embedded store keeps its keys in keys.db");
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

        Check(connectionString, "the PostgreSQL connection string");
        if (!string.IsNullOrWhiteSpace(keyStore))
        {
            Check(keyStore, "the key store's connection string (--key-store, LV_KEY_STORE)");
        }

        return Postgres(connectionString, keyStore);
    }

    private static void Check(string connectionString, string what)
    {
        try
        {
            var builder = new NpgsqlConnectionStringBuilder(connectionString);
            if (string.IsNullOrWhiteSpace(builder.Host))
            {
                throw new FormatException($"{what} must name a Host");
            }
        }
        catch (ArgumentException ex)
        {
            // Npgsql's message names the bad keyword, never the value.
            throw new FormatException($"{what} is not valid: {ex.Message}", ex);
        }
    }

    /// <summary>For messages and logs: the kind, and for PostgreSQL the connection string without its password.</summary>
    public override string ToString() =>
        !IsPostgres ? SqliteKind
        : KeyStoreConnectionString is null ? $"postgres:{LearnerVault.Storage.Postgres.PostgresBackend.Describe(ConnectionString!)}"
        : $"postgres:{LearnerVault.Storage.Postgres.PostgresBackend.Describe(ConnectionString!)} (key store: {LearnerVault.Storage.Postgres.PostgresBackend.Describe(KeyStoreConnectionString)})";
}
