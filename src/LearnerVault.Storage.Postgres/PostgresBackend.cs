using LearnerVault.Privacy;
using LearnerVault.Storage.People;
using Npgsql;

namespace LearnerVault.Storage.Postgres;

/// <summary>Where the PostgreSQL backend keeps its data and its keys.</summary>
public sealed record PostgresStoreOptions
{
    public const string DefaultDataSchema = "learnervault";
    public const string DefaultKeySchema = "learnervault_keys";

    /// <summary>Npgsql connection string of the data (pooling and its limits are set here, e.g. <c>Maximum Pool Size</c>).</summary>
    public required string ConnectionString { get; init; }

    /// <summary>Connection string of the key store when it lives apart (another role, another database); null: the
    /// data connection string, with the key store in its own schema.</summary>
    public string? KeyStoreConnectionString { get; init; }

    public string DataSchema { get; init; } = DefaultDataSchema;

    public string KeySchema { get; init; } = DefaultKeySchema;
}

/// <summary>Thrown when the database's schemas are not at this build's version: <c>lvault migrate</c> must run first.</summary>
public sealed class StoreNotMigratedException(string message) : Exception(message);

/// <summary>
/// The production backend: the data in one PostgreSQL schema (<see cref="PostgresStoreOptions.DataSchema"/>) and the key
/// store in another (<see cref="PostgresStoreOptions.KeySchema"/>, optionally in another database or under another
/// role), so that a dump of the data schema alone never carries the means to read it. Several server processes may
/// share one database: every invariant that spans requests (statement order and visibility, document preconditions,
/// key creation) is enforced by the database, not by a process.
/// </summary>
public sealed class PostgresBackend : IStorageBackend
{
    private readonly NpgsqlDataSource data;
    private readonly NpgsqlDataSource keysSource;
    private readonly PostgresStatementStore statements;
    private readonly PostgresKeyStore keys;
    private int disposed;

    private PostgresBackend(string description, NpgsqlDataSource data, NpgsqlDataSource keysSource, PostgresStatementStore statements,
        PostgresClientStore clients, PostgresDocumentStore documents, PostgresActivityDefinitionStore definitions, PostgresKeyStore keys)
    {
        Description = description;
        this.data = data;
        this.keysSource = keysSource;
        this.statements = statements;
        this.keys = keys;
        Clients = clients;
        Documents = documents;
        ActivityDefinitions = definitions;
        AccessLog = statements.AccessLog;
        Privacy = new PostgresPrivacyStore(data);
    }

    public string Kind => "postgres";

    public string Description { get; }

    public IStatementStore Statements => statements;

    public IClientStore Clients { get; }

    public IDocumentStore Documents { get; }

    public IActivityDefinitionStore ActivityDefinitions { get; }

    public IAccessLogStore AccessLog { get; }

    public IPrivacyStore Privacy { get; }

    public IKeyStore Keys => keys;

    public IKeyAdministration KeyAdministration => keys;

    /// <summary>Opens a migrated database.</summary>
    /// <exception cref="StoreNotMigratedException">A schema is missing or not at this build's version.</exception>
    /// <exception cref="System.Security.Cryptography.CryptographicException">The master key is not the key store's.</exception>
    /// <exception cref="NpgsqlException">The database cannot be reached.</exception>
    public static PostgresBackend Open(PostgresStoreOptions options, MasterKey masterKey, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(masterKey);
        ArgumentNullException.ThrowIfNull(timeProvider);

        var data = CreateDataSource(options.ConnectionString, options.DataSchema);
        var keysSource = CreateDataSource(options.KeyStoreConnectionString ?? options.ConnectionString, options.KeySchema);
        PostgresStatementStore? statements = null;
        PostgresKeyStore? keys = null;
        try
        {
            RequireCurrent(PostgresMigrator.InspectAsync(data, PostgresMigrator.DataSet, options.DataSchema).GetAwaiter().GetResult());
            RequireCurrent(PostgresMigrator.InspectAsync(keysSource, PostgresMigrator.KeysSet, options.KeySchema).GetAwaiter().GetResult());
            keys = PostgresKeyStore.Open(keysSource, masterKey, timeProvider);
            statements = new PostgresStatementStore(data, timeProvider);
            return new PostgresBackend(
                Describe(options.ConnectionString),
                data,
                keysSource,
                statements,
                new PostgresClientStore(data, timeProvider),
                new PostgresDocumentStore(data, timeProvider),
                new PostgresActivityDefinitionStore(data, timeProvider),
                keys);
        }
        catch
        {
            keys?.Dispose();
            data.Dispose();
            keysSource.Dispose();
            throw;
        }
    }

    /// <summary>Creates or upgrades both schemas (data, then keys); returns the scripts applied, as "schema/NNNN_name".</summary>
    public static async Task<IReadOnlyList<string>> MigrateAsync(PostgresStoreOptions options, TimeProvider timeProvider, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        await using var data = CreateDataSource(options.ConnectionString, options.DataSchema);
        await using var keysSource = CreateDataSource(options.KeyStoreConnectionString ?? options.ConnectionString, options.KeySchema);
        var applied = new List<string>();
        foreach (var name in await PostgresMigrator.MigrateAsync(data, PostgresMigrator.DataSet, options.DataSchema, timeProvider, ct))
        {
            applied.Add($"{options.DataSchema}/{name}");
        }

        foreach (var name in await PostgresMigrator.MigrateAsync(keysSource, PostgresMigrator.KeysSet, options.KeySchema, timeProvider, ct))
        {
            applied.Add($"{options.KeySchema}/{name}");
        }

        return applied;
    }

    /// <summary>The migration state of both schemas, without changing anything.</summary>
    public static async Task<IReadOnlyList<SchemaState>> InspectAsync(PostgresStoreOptions options, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        await using var data = CreateDataSource(options.ConnectionString, options.DataSchema);
        await using var keysSource = CreateDataSource(options.KeyStoreConnectionString ?? options.ConnectionString, options.KeySchema);
        return
        [
            await PostgresMigrator.InspectAsync(data, PostgresMigrator.DataSet, options.DataSchema, ct),
            await PostgresMigrator.InspectAsync(keysSource, PostgresMigrator.KeysSet, options.KeySchema, ct),
        ];
    }

    /// <summary>The connection string with its password removed, for messages and logs.</summary>
    public static string Describe(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString) { Password = null };
        builder.Remove("Password");
        return builder.ConnectionString;
    }

    internal static NpgsqlDataSource CreateDataSource(string connectionString, string schema)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString)
        {
            SearchPath = schema,
        };
        if (string.IsNullOrEmpty(builder.ApplicationName))
        {
            builder.ApplicationName = "learnervault";
        }

        return new NpgsqlDataSourceBuilder(builder.ConnectionString).Build();
    }

    internal static void RequireCurrent(SchemaState state)
    {
        if (state.Unknown.Count > 0)
        {
            throw new StoreNotMigratedException(
                $"the schema '{state.Schema}' was migrated by a newer LearnerVault (migration {state.Unknown.Max()}): upgrade this node");
        }

        if (state.Pending.Count > 0)
        {
            throw new StoreNotMigratedException(state.Applied.Count == 0
                ? $"the schema '{state.Schema}' does not exist yet: run 'lvault migrate --store \"postgres:…\"' first"
                : $"the schema '{state.Schema}' is behind this build ({state.Pending.Count} migration(s) pending): run 'lvault migrate' first");
        }
    }

    /// <summary>Waits for writes in flight, then closes every connection.</summary>
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
            keys.Dispose();
            await data.DisposeAsync();
            await keysSource.DisposeAsync();
        }
    }
}
