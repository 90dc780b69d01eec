using LearnerVault.Privacy;

namespace LearnerVault.Storage.Keys;

/// <summary>
/// The part of <see cref="IKeyStore"/> that every backend's key store answers the same way: the tenant's keys from
/// the backend's (cached, created-if-needed) tenant key lookup, and one learner's key as a batch of one.
/// </summary>
/// <remarks>Public only because a public key store derives from it; backends outside this solution cannot implement
/// <see cref="GetTenantKeys"/>, which is internal.</remarks>
public abstract class KeyStoreBase : IKeyStore
{
    public void EnsureTenant(Guid tenantId) => GetTenantKeys(tenantId);

    /// <remarks>Creates the tenant's keys if needed.</remarks>
    public byte[] GetPseudonymKey(Guid tenantId) => GetTenantKeys(tenantId).PseudonymKey;

    /// <remarks>Creates the tenant's keys if needed.</remarks>
    public DataKey GetTenantDataKey(Guid tenantId) => GetTenantKeys(tenantId).TenantDataKey;

    /// <remarks>Creates the tenant's keys if needed. A copy: the caller may clear it.</remarks>
    public byte[] GetAuditSigningKey(Guid tenantId) => GetTenantKeys(tenantId).AuditSigningKey.ToArray();

    public DataKey GetOrCreateLearnerKey(Guid tenantId, ReadOnlySpan<byte> learnerPseudonym)
    {
        if (learnerPseudonym.IsEmpty)
        {
            throw new ArgumentException("A learner pseudonym is required.", nameof(learnerPseudonym));
        }

        return GetOrCreateLearnerKeys(tenantId, [learnerPseudonym.ToArray()])[0];
    }

    public abstract IReadOnlyList<DataKey> GetOrCreateLearnerKeys(Guid tenantId, IReadOnlyList<byte[]> learnerPseudonyms);

    public abstract DataKey? GetDataKey(Guid tenantId, long keyId);

    /// <summary>The tenant's unwrapped keys (KEK, pseudonym key, tenant data key), created if the tenant has none yet.</summary>
    internal abstract TenantKeys GetTenantKeys(Guid tenantId);
}
