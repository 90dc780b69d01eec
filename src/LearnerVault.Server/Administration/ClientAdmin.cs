using LearnerVault.Storage;

namespace LearnerVault.Server.Administration;

/// <summary>Creating, listing and revoking xAPI clients: what <c>lvault clients</c> and the server's first start share.</summary>
public static class ClientAdmin
{
    public const int MaxNameLength = 200;

    /// <summary>
    /// Creates a client with a new key and secret. The secret is returned once, to be shown once; only its hash is stored.
    /// Purposes default to <c>instruction</c> when none is given.
    /// </summary>
    /// <exception cref="AdministrationException">An empty or overlong name, or an invalid scope or purpose.</exception>
    public static async Task<(ClientRecord Client, string Secret)> AddAsync(
        IClientStore store,
        Guid tenantId,
        string name,
        IReadOnlyList<string> scopes,
        IReadOnlyList<string> purposes,
        TimeProvider time,
        CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(time);

        var trimmedName = (name ?? string.Empty).Trim();
        if (trimmedName.Length == 0)
        {
            throw new AdministrationException("a client needs a name (--name)");
        }

        if (trimmedName.Length > MaxNameLength || trimmedName.Any(char.IsControl))
        {
            throw new AdministrationException($"a client name is at most {MaxNameLength} characters, with no control characters");
        }

        var validScopes = XapiScopes.Normalize(scopes ?? []);
        var validPurposes = ProcessingPurposes.Normalize(purposes ?? []);

        // 119 random bits make a collision practically impossible; the check costs one lookup and makes it impossible.
        string key;
        do
        {
            key = ClientCredentials.GenerateKey();
        }
        while (await store.FindClientByKeyAsync(key, ct) is not null);

        var secret = ClientCredentials.GenerateSecret();
        var client = new ClientRecord(
            Id: 0,
            TenantId: tenantId,
            Name: trimmedName,
            Key: key,
            SecretHash: ClientCredentials.HashSecret(secret),
            Scopes: validScopes,
            Purposes: validPurposes,
            Created: time.GetUtcNow(),
            Revoked: null);

        var stored = await store.AddClientAsync(client, ct);
        return (stored, secret);
    }

    /// <summary>Revokes a client of the tenant by its key: from then on its requests get 401.</summary>
    /// <exception cref="AdministrationException">No client with that key in the tenant, or it was already revoked.</exception>
    public static async Task<ClientRecord> RevokeAsync(IClientStore store, Guid tenantId, string key, TimeProvider time, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(time);

        var trimmedKey = (key ?? string.Empty).Trim();
        if (trimmedKey.Length == 0)
        {
            throw new AdministrationException("give the key of the client to revoke (--key)");
        }

        var client = await store.FindClientByKeyAsync(trimmedKey, ct);
        if (client is null || client.TenantId != tenantId)
        {
            throw new AdministrationException($"no client with key '{trimmedKey}'");
        }

        if (client.Revoked is not null)
        {
            throw new AdministrationException($"the client with key '{trimmedKey}' was already revoked on {client.Revoked.Value.UtcDateTime:yyyy-MM-dd HH:mm:ss}Z");
        }

        var when = time.GetUtcNow();
        if (!await store.RevokeClientAsync(tenantId, trimmedKey, when, ct))
        {
            throw new AdministrationException($"the client with key '{trimmedKey}' is not active");
        }

        return client with { Revoked = when };
    }
}
