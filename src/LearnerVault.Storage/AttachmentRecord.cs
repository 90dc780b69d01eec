namespace LearnerVault.Storage;

/// <summary>
/// An attachment's content as the storage layer sees it: an opaque ciphertext under a keyed content address. The
/// store never sees the raw sha2, the content type or the content; encryption and pseudonymisation happen above it.
/// </summary>
/// <param name="HashKey">Keyed pseudonym of the attachment's sha2 (32 bytes): its content address within the tenant.</param>
/// <param name="KeyId">Id of the data key (in the key store) that encrypted <paramref name="Blob"/>: the tenant's own
/// key, never a learner's, because several learners' statements may share one attachment.</param>
/// <param name="Blob">AES-256-GCM envelope of the content type and the content.</param>
public sealed record AttachmentRecord(byte[] HashKey, long KeyId, byte[] Blob);

/// <summary>An attachment read back from the store.</summary>
/// <param name="References">How many stored statements reference this content: one copy, shared.</param>
public sealed record StoredAttachment(byte[] HashKey, long KeyId, byte[] Blob, long References);
