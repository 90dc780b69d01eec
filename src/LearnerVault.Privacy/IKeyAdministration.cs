namespace LearnerVault.Privacy;

/// <summary>
/// Key store operations outside the ingest path: erasure and rotation. Kept apart from <see cref="IKeyStore"/> so that
/// the components that encrypt and decrypt never hold the means to destroy or rotate keys.
/// </summary>
public interface IKeyAdministration
{
    /// <summary>
    /// Destroys the learner's data key (erasure): every blob encrypted under it becomes unreadable, including copies
    /// and data backups made earlier. A later <see cref="IKeyStore.GetOrCreateLearnerKey"/> creates a new key with a
    /// new id. False when the learner had no key.
    /// </summary>
    bool DestroyLearnerKey(Guid tenantId, ReadOnlySpan<byte> learnerPseudonym);

    /// <summary>Replaces the tenant's key-encryption key and re-wraps all the tenant's keys under the new one. Data is
    /// not re-encrypted: the data keys themselves do not change.</summary>
    void RotateTenantKey(Guid tenantId);

    /// <summary>
    /// Re-wraps every tenant key-encryption key under <paramref name="newMasterKey"/>; from then on only the new master
    /// key opens the key store. Save the new master key durably before calling this, and retire the old one after.
    /// </summary>
    void RotateMasterKey(MasterKey newMasterKey);
}
