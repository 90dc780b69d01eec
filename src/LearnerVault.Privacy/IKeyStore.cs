namespace LearnerVault.Privacy;

/// <summary>An unwrapped data-encryption key (AES-256) and its id in the key store.</summary>
public sealed record DataKey(long Id, byte[] Key);

/// <summary>
/// The key store: lives apart from the data (its own file, schema or service), so that a data backup alone never
/// carries the means to read it. Keys are held wrapped: data keys under the tenant key-encryption key, the tenant
/// key-encryption key under the master key.
/// </summary>
public interface IKeyStore
{
    /// <summary>Creates the tenant's key-encryption key, pseudonym key and tenant data key if they do not exist.</summary>
    void EnsureTenant(Guid tenantId);

    /// <summary>The tenant's HMAC key for pseudonyms and index terms (32 bytes).</summary>
    byte[] GetPseudonymKey(Guid tenantId);

    /// <summary>The tenant's own data key, for statements that describe no identifiable learner.</summary>
    DataKey GetTenantDataKey(Guid tenantId);

    /// <summary>The learner's data key, created on first use. <paramref name="learnerPseudonym"/> is the keyed pseudonym, never an IFI.</summary>
    DataKey GetOrCreateLearnerKey(Guid tenantId, ReadOnlySpan<byte> learnerPseudonym);

    /// <summary>
    /// The data keys of several learners at once (in the order given), creating the missing ones together, so that
    /// a batch of statements from new learners costs one durable key-store write rather than one per learner.
    /// </summary>
    IReadOnlyList<DataKey> GetOrCreateLearnerKeys(Guid tenantId, IReadOnlyList<byte[]> learnerPseudonyms);

    /// <summary>The tenant's ECDSA P-256 private key (PKCS#8) that signs its access-log checkpoints, created with the
    /// tenant's other keys (or on first use, for a tenant created before the access log existed).</summary>
    byte[] GetAuditSigningKey(Guid tenantId);

    /// <summary>A data key by id, or null when it was destroyed (erasure) or never existed.</summary>
    DataKey? GetDataKey(Guid tenantId, long keyId);
}
