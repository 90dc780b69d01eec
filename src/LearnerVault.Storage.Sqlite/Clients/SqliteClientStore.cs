using System.Text.Json;
using Dapper;
using LearnerVault.Storage.People;
using Microsoft.Data.Sqlite;

namespace LearnerVault.Storage.Sqlite;

/// <summary>
/// Tenants and clients in the data file. Rare administrative writes use their own connection (serialised here, and
/// by SQLite's write lock against the statement writer); lookups use the shared reader pool.
/// </summary>
public sealed class SqliteClientStore : IClientStore, IDisposable
{
    private const string ClientColumns = """
        c.id AS Id, t.id AS TenantId, c.name AS Name, c.key AS Key, c.secret_hash AS SecretHash,
        c.scopes AS Scopes, c.purposes AS Purposes, c.created AS Created, c.revoked AS Revoked
        """;

    private readonly SqliteConnection connection;
    private readonly SqliteReaderPool readers;
    private readonly TimeProvider timeProvider;
    private readonly SemaphoreSlim writeLock = new(1, 1);

    internal SqliteClientStore(SqliteConnection connection, SqliteReaderPool readers, TimeProvider timeProvider)
    {
        this.connection = connection;
        this.readers = readers;
        this.timeProvider = timeProvider;
    }

    public async Task<TenantRecord> EnsureTenantAsync(Guid id, string name, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        await writeLock.WaitAsync(cancellationToken);
        try
        {
            var parameters = new
            {
                id = SqliteValues.GuidBytes(id),
                name,
                created = SqliteValues.ToUnixMicroseconds(timeProvider.GetUtcNow()),
            };
            // A tenant that storage has only seen through statements (name NULL) becomes registered here.
            connection.Execute("""
                INSERT INTO tenants (id, name, created) VALUES (@id, @name, @created)
                ON CONFLICT (id) DO UPDATE SET name = excluded.name, created = excluded.created WHERE tenants.name IS NULL;
                """, parameters);
            var row = connection.QuerySingle<TenantRow>("SELECT id AS Id, name AS Name, created AS Created FROM tenants WHERE id = @id;", parameters);
            return row.ToRecord();
        }
        finally
        {
            writeLock.Release();
        }
    }

    public async Task<IReadOnlyList<TenantRecord>> ListTenantsAsync(CancellationToken cancellationToken = default)
    {
        using var lease = await readers.RentAsync(cancellationToken);
        var rows = lease.Reader.Connection.Query<TenantRow>(
            "SELECT id AS Id, name AS Name, created AS Created FROM tenants WHERE name IS NOT NULL ORDER BY name, no;");
        return rows.Select(r => r.ToRecord()).ToList();
    }

    public async Task<ClientRecord> AddClientAsync(ClientRecord client, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        await writeLock.WaitAsync(cancellationToken);
        try
        {
            var tenantNo = connection.ExecuteScalar<long?>(
                "SELECT no FROM tenants WHERE id = @id AND name IS NOT NULL;", new { id = SqliteValues.GuidBytes(client.TenantId) })
                ?? throw new InvalidOperationException("The client's tenant does not exist; create it first.");
            long id;
            try
            {
                id = connection.ExecuteScalar<long>("""
                    INSERT INTO clients (tenant_no, name, key, secret_hash, scopes, purposes, created, revoked)
                    VALUES (@tenantNo, @name, @key, @secretHash, @scopes, @purposes, @created, @revoked)
                    RETURNING id;
                    """, new
                {
                    tenantNo,
                    name = client.Name,
                    key = client.Key,
                    secretHash = client.SecretHash,
                    scopes = JsonSerializer.Serialize(client.Scopes),
                    purposes = JsonSerializer.Serialize(client.Purposes),
                    created = SqliteValues.ToUnixMicroseconds(client.Created),
                    revoked = client.Revoked is { } revoked ? SqliteValues.ToUnixMicroseconds(revoked) : (long?)null,
                });
            }
            catch (SqliteException exception) when (exception.SqliteErrorCode == 19) // SQLITE_CONSTRAINT: the key is taken
            {
                throw new InvalidOperationException("A client with this key already exists.", exception);
            }

            return client with
            {
                Id = id,
                Created = SqliteValues.FromUnixMicroseconds(SqliteValues.ToUnixMicroseconds(client.Created)),
                Revoked = client.Revoked is { } r ? SqliteValues.FromUnixMicroseconds(SqliteValues.ToUnixMicroseconds(r)) : null,
            };
        }
        finally
        {
            writeLock.Release();
        }
    }

    public async Task<ClientRecord?> FindClientByKeyAsync(string key, CancellationToken cancellationToken = default)
    {
        using var lease = await readers.RentAsync(cancellationToken);
        var row = lease.Reader.Connection.QuerySingleOrDefault<ClientRow>(
            $"SELECT {ClientColumns} FROM clients AS c JOIN tenants AS t ON t.no = c.tenant_no WHERE c.key = @key;", new { key });
        return row?.ToRecord();
    }

    public async Task<IReadOnlyList<ClientRecord>> ListClientsAsync(Guid tenantId, CancellationToken cancellationToken = default)
    {
        using var lease = await readers.RentAsync(cancellationToken);
        var rows = lease.Reader.Connection.Query<ClientRow>(
            $"SELECT {ClientColumns} FROM clients AS c JOIN tenants AS t ON t.no = c.tenant_no WHERE t.id = @tenantId ORDER BY c.id;",
            new { tenantId = SqliteValues.GuidBytes(tenantId) });
        return rows.Select(r => r.ToRecord()).ToList();
    }

    public async Task<bool> RevokeClientAsync(Guid tenantId, string key, DateTimeOffset when, CancellationToken cancellationToken = default)
    {
        await writeLock.WaitAsync(cancellationToken);
        try
        {
            var changed = connection.Execute("""
                UPDATE clients SET revoked = @when
                WHERE key = @key AND revoked IS NULL AND tenant_no = (SELECT no FROM tenants WHERE id = @tenantId);
                """, new { key, tenantId = SqliteValues.GuidBytes(tenantId), when = SqliteValues.ToUnixMicroseconds(when) });
            return changed > 0;
        }
        finally
        {
            writeLock.Release();
        }
    }

    private int disposed;

    public void Dispose()
    {
        // Idempotent: the host's service container and the backend may both dispose the store.
        if (Interlocked.Exchange(ref disposed, 1) != 0)
        {
            return;
        }

        SqliteConnections.Close(connection);
        writeLock.Dispose();
    }

    private sealed class TenantRow
    {
        public byte[] Id { get; set; } = [];
        public string? Name { get; set; }
        public long? Created { get; set; }

        public TenantRecord ToRecord() => new(
            SqliteValues.ToGuid(Id),
            Name ?? string.Empty,
            SqliteValues.FromUnixMicroseconds(Created ?? 0));
    }

    private sealed class ClientRow
    {
        public long Id { get; set; }
        public byte[] TenantId { get; set; } = [];
        public string Name { get; set; } = string.Empty;
        public string Key { get; set; } = string.Empty;
        public byte[] SecretHash { get; set; } = [];
        public string Scopes { get; set; } = "[]";
        public string Purposes { get; set; } = "[]";
        public long Created { get; set; }
        public long? Revoked { get; set; }

        public ClientRecord ToRecord() => new(
            Id,
            SqliteValues.ToGuid(TenantId),
            Name,
            Key,
            SecretHash,
            PrivacyValues.FromJson(Scopes),
            PrivacyValues.FromJson(Purposes),
            SqliteValues.FromUnixMicroseconds(Created),
            Revoked is { } revoked ? SqliteValues.FromUnixMicroseconds(revoked) : null);
    }
}
