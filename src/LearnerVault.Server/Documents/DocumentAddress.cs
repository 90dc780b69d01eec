using LearnerVault.Storage;

namespace LearnerVault.Server.Documents;

/// <summary>
/// A document request's parameters, validated and normalised: the plaintext that <see cref="DocumentService"/> turns into
/// keyed terms. Never logged and never echoed in an error: the agent is a learner's identifier.
/// </summary>
/// <param name="ActivityId">The activity IRI (State, Activity Profile).</param>
/// <param name="AgentIfi">The agent's normalised IFI (State, Agent Profile).</param>
/// <param name="Registration">The State registration, if given.</param>
/// <param name="DocumentId">stateId or profileId; null for the multiple-document GET and State's delete-all.</param>
public sealed record DocumentAddress(DocumentKind Kind, string? ActivityId, string? AgentIfi, Guid? Registration, string? DocumentId);

/// <summary>A document decrypted for the response.</summary>
/// <param name="ETag">The entity tag's opaque value, unquoted: the SHA-1 of the content in lower-case hexadecimal.</param>
public sealed record OpenedDocument(string ContentType, byte[] Content, string ETag, DateTimeOffset Updated);

/// <summary>The ids of a context's documents and when the newest of them was updated (null when there are none).</summary>
public sealed record DocumentIdList(IReadOnlyList<string> Ids, DateTimeOffset? LastModified);

/// <summary>How a write ended, and the new entity tag when it was stored.</summary>
public sealed record DocumentWriteOutcome(DocumentOutcome Outcome, string? ETag);
