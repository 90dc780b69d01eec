using Npgsql;
using NpgsqlTypes;

namespace LearnerVault.Storage.Postgres;

/// <summary>
/// Tenants and clients in the data schema. Every operation is one statement, so the database alone arbitrates between
/// server processes: a tenant is created with <c>INSERT … ON CONFLICT DO NOTHING</c> (the first writer's record wins, a
/// second process waits for it and then reads it), a taken client key is the unique constraint's verdict, and an
/// unknown tenant the foreign key's.
/// </summary>
internal sealed class PostgresClientStore(NpgsqlDataSource data, TimeProvider time) : IClientStore
{
    private const string ClientColumns = "id, tenant_id, name, key, secret_hash, scopes, purposes, created, revoked";

    public async Task<TenantRecord> EnsureTenantAsync(Guid id, string name, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        await using var connection = await data.OpenConnectionAsync(cancellationToken);
        await using (var insert = new NpgsqlCommand(
            "INSERT INTO tenants (tenant_id, name, created) VALUES (@id, @name, @created) ON CONFLICT (tenant_id) DO NOTHING;", connection))
        {
            insert.Parameters.AddWithValue("id", id);
            insert.Parameters.AddWithValue("name", name);
            insert.Parameters.AddWithValue("created", PostgresTimestamps.Floor(time.GetUtcNow()));
            await insert.ExecuteNonQueryAsync(cancellationToken);
        }

        // A separate statement on purpose: under READ COMMITTED it takes a new snapshot, which sees the row of a
        // concurrent creator that the insert above waited for (a single statement's snapshot would not).
        await using var select = new NpgsqlCommand("SELECT tenant_id, name, created FROM tenants WHERE tenant_id = @id;", connection);
        select.Parameters.AddWithValue("id", id);
        await using var reader = await select.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            throw new InvalidOperationException("The tenant was not found after it was created.");
        }

        return ReadTenant(reader);
    }

    /// <summary>By name (bytewise, as SQLite's BINARY collation orders it, whatever the database's collation), then by
    /// creation.</summary>
    public async Task<IReadOnlyList<TenantRecord>> ListTenantsAsync(CancellationToken cancellationToken = default)
    {
        await using var command = data.CreateCommand(
            "SELECT tenant_id, name, created FROM tenants ORDER BY name COLLATE \"C\", created, tenant_id;");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var tenants = new List<TenantRecord>();
        while (await reader.ReadAsync(cancellationToken))
        {
            tenants.Add(ReadTenant(reader));
        }

        return tenants;
    }

    public async Task<ClientRecord> AddClientAsync(ClientRecord client, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(client.Key, nameof(client.Key));
        ArgumentNullException.ThrowIfNull(client.SecretHash, nameof(client.SecretHash));
        var created = PostgresTimestamps.Floor(client.Created);
        var revoked = client.Revoked is { } r ? PostgresTimestamps.Floor(r) : (DateTimeOffset?)null;
        await using var command = data.CreateCommand("""
            INSERT INTO clients (tenant_id, name, key, secret_hash, scopes, purposes, created, revoked)
            VALUES (@tenant, @name, @key, @secretHash, @scopes, @purposes, @created, @revoked)
            RETURNING id;
            """);
        command.Parameters.AddWithValue("tenant", client.TenantId);
        command.Parameters.AddWithValue("name", client.Name);
        command.Parameters.AddWithValue("key", client.Key);
        command.Parameters.AddWithValue("secretHash", client.SecretHash);
        command.Parameters.AddWithValue("scopes", client.Scopes.ToArray());
        command.Parameters.AddWithValue("purposes", client.Purposes.ToArray());
        command.Parameters.AddWithValue("created", created);
        command.Parameters.Add(new NpgsqlParameter("revoked", NpgsqlDbType.TimestampTz) { Value = revoked is { } v ? v : DBNull.Value });
        long id;
        try
        {
            id = (long)(await command.ExecuteScalarAsync(cancellationToken))!;
        }
        catch (PostgresException exception) when (exception.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            throw new InvalidOperationException("A client with this key already exists.", exception);
        }
        catch (PostgresException exception) when (exception.SqlState == PostgresErrorCodes.ForeignKeyViolation)
        {
            throw new InvalidOperationException("The client's tenant does not exist; create it first.", exception);
        }

        return client with { Id = id, Created = created, Revoked = revoked };
    }

    public async Task<ClientRecord?> FindClientByKeyAsync(string key, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        await using var command = data.CreateCommand($"SELECT {ClientColumns} FROM clients WHERE key = @key;");
        command.Parameters.AddWithValue("key", key);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? ReadClient(reader) : null;
    }

    public async Task<IReadOnlyList<ClientRecord>> ListClientsAsync(Guid tenantId, CancellationToken cancellationToken = default)
    {
        await using var command = data.CreateCommand($"SELECT {ClientColumns} FROM clients WHERE tenant_id = @tenant ORDER BY id;");
        command.Parameters.AddWithValue("tenant", tenantId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var clients = new List<ClientRecord>();
        while (await reader.ReadAsync(cancellationToken))
        {
            clients.Add(ReadClient(reader));
        }

        return clients;
    }

    public async Task<bool> RevokeClientAsync(Guid tenantId, string key, DateTimeOffset when, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(key);
        await using var command = data.CreateCommand(
            "UPDATE clients SET revoked = @when WHERE tenant_id = @tenant AND key = @key AND revoked IS NULL;");
        command.Parameters.AddWithValue("when", PostgresTimestamps.Floor(when));
        command.Parameters.AddWithValue("tenant", tenantId);
        command.Parameters.AddWithValue("key", key);
        return await command.ExecuteNonQueryAsync(cancellationToken) > 0;
    }

    private static TenantRecord ReadTenant(NpgsqlDataReader reader) =>
        new(reader.GetGuid(0), reader.GetString(1), reader.GetFieldValue<DateTimeOffset>(2));

    private static ClientRecord ReadClient(NpgsqlDataReader reader) => new(
        reader.GetInt64(0),
        reader.GetGuid(1),
        reader.GetString(2),
        reader.GetString(3),
        reader.GetFieldValue<byte[]>(4),
        reader.GetFieldValue<string[]>(5),
        reader.GetFieldValue<string[]>(6),
        reader.GetFieldValue<DateTimeOffset>(7),
        reader.IsDBNull(8) ? null : reader.GetFieldValue<DateTimeOffset>(8));
}
