using Npgsql;

namespace LearnerVault.Storage.Postgres;

// PLACEHOLDER: replaced by the client/document store work.
internal sealed class PostgresClientStore(NpgsqlDataSource data, TimeProvider time) : IClientStore
{
    private readonly NpgsqlDataSource data = data;
    private readonly TimeProvider time = time;

    public Task<TenantRecord> EnsureTenantAsync(Guid id, string name, CancellationToken cancellationToken = default) => throw new NotImplementedException();

    public Task<IReadOnlyList<TenantRecord>> ListTenantsAsync(CancellationToken cancellationToken = default) => throw new NotImplementedException();

    public Task<ClientRecord> AddClientAsync(ClientRecord client, CancellationToken cancellationToken = default) => throw new NotImplementedException();

    public Task<ClientRecord?> FindClientByKeyAsync(string key, CancellationToken cancellationToken = default) => throw new NotImplementedException();

    public Task<IReadOnlyList<ClientRecord>> ListClientsAsync(Guid tenantId, CancellationToken cancellationToken = default) => throw new NotImplementedException();

    public Task<bool> RevokeClientAsync(Guid tenantId, string key, DateTimeOffset when, CancellationToken cancellationToken = default) => throw new NotImplementedException();
}
