namespace LearnerVault.Storage;

/// <summary>An xAPI client (an app's credentials). The secret itself is never stored, only its hash.</summary>
public sealed record ClientRecord(
    long Id,
    Guid TenantId,
    string Name,
    string Key,
    byte[] SecretHash,
    IReadOnlyList<string> Scopes,
    IReadOnlyList<string> Purposes,
    DateTimeOffset Created,
    DateTimeOffset? Revoked);

public sealed record TenantRecord(Guid Id, string Name, DateTimeOffset Created);

public interface IClientStore
{
    Task<TenantRecord> EnsureTenantAsync(Guid id, string name, CancellationToken cancellationToken = default);
    Task<IReadOnlyList<TenantRecord>> ListTenantsAsync(CancellationToken cancellationToken = default);
    /// <summary>Adds a client; <see cref="ClientRecord.Id"/> is ignored and the stored record (with its id) is returned.</summary>
    Task<ClientRecord> AddClientAsync(ClientRecord client, CancellationToken cancellationToken = default);
    Task<ClientRecord?> FindClientByKeyAsync(string key, CancellationToken cancellationToken = default);
    Task<IReadOnlyList<ClientRecord>> ListClientsAsync(Guid tenantId, CancellationToken cancellationToken = default);
    /// <summary>Revokes by key; false when no such active client.</summary>
    Task<bool> RevokeClientAsync(Guid tenantId, string key, DateTimeOffset when, CancellationToken cancellationToken = default);
}
