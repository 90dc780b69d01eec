namespace LearnerVault.Storage;

/// <summary>
/// The storage contract of the xAPI document resources (State, Activity Profile, Agent Profile). Both backends pass the
/// same contract tests. The store sees only keyed terms and ciphertext: encryption and pseudonymisation happen above it.
/// Every write is durable when its task completes, and its precondition is evaluated in the same transaction as the
/// write, so that two writers holding the same entity tag can never both succeed.
/// </summary>
public interface IDocumentStore
{
    /// <summary>One document, or null when absent.</summary>
    Task<StoredDocument?> GetAsync(Guid tenantId, DocumentKey key, CancellationToken cancellationToken = default);

    /// <summary>
    /// The documents that <paramref name="filter"/> covers and that were updated after <paramref name="since"/>
    /// (exclusive), oldest update first.
    /// </summary>
    Task<IReadOnlyList<StoredDocumentId>> ListAsync(Guid tenantId, DocumentFilter filter, DateTimeOffset? since, CancellationToken cancellationToken = default);

    /// <summary>
    /// Creates or replaces a document if <paramref name="precondition"/> holds for the document as it is inside the write
    /// transaction; otherwise changes nothing and reports why. The store sets the update time: the current time, or one
    /// microsecond after the previous update of the same document when the clock has not moved past it.
    /// </summary>
    Task<DocumentWriteResult> PutAsync(Guid tenantId, DocumentKey key, DocumentContent content, DocumentPrecondition precondition, CancellationToken cancellationToken = default);

    /// <summary>Deletes one document if <paramref name="precondition"/> holds; <see cref="DocumentOutcome.NotFound"/> when there was none.</summary>
    Task<DocumentOutcome> DeleteAsync(Guid tenantId, DocumentKey key, DocumentPrecondition precondition, CancellationToken cancellationToken = default);

    /// <summary>Deletes every document that <paramref name="filter"/> covers (State "delete all"); returns how many.</summary>
    Task<int> DeleteAllAsync(Guid tenantId, DocumentFilter filter, CancellationToken cancellationToken = default);
}
