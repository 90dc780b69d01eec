namespace LearnerVault.Storage;

/// <summary>
/// The canonical definitions of activities (the Activities resource), one row per tenant and keyed activity-id term,
/// held as ciphertext like everything else. Writes are compare-and-swap on a version so that concurrent merges of the
/// same activity cannot lose each other's languages.
/// </summary>
public interface IActivityDefinitionStore
{
    /// <summary>The stored definition of an activity, or null when none was recorded.</summary>
    Task<ActivityDefinitionRecord?> GetAsync(Guid tenantId, byte[] activity, CancellationToken cancellationToken = default);

    /// <summary>
    /// Stores a definition if the stored version is still <paramref name="expectedVersion"/> (null: none stored yet).
    /// False, with nothing changed, when another writer came first.
    /// </summary>
    Task<bool> TryWriteAsync(Guid tenantId, byte[] activity, long keyId, byte[] blob, long? expectedVersion, CancellationToken cancellationToken = default);
}

/// <summary>A stored definition: the envelope of its JSON, the key that encrypted it, and its version (1 on first write).</summary>
public sealed record ActivityDefinitionRecord(long KeyId, byte[] Blob, long Version, DateTimeOffset Updated);
