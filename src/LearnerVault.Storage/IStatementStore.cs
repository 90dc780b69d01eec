using LearnerVault.Privacy.Audit;

namespace LearnerVault.Storage;

/// <summary>
/// The statement storage contract. Both backends (SQLite, PostgreSQL) pass the same contract tests.
/// Writes are durable when the returned task completes: the caller may then acknowledge the client.
/// </summary>
public interface IStatementStore
{
    /// <summary>
    /// Writes a batch atomically: either every new statement is stored, or (on a conflicting id) none is and
    /// <see cref="StatementConflictException"/> is thrown. Assigns <c>stored</c> strictly increasing in batch order.
    /// A statement's attachments are written with it (a duplicate statement adds no reference; a failed batch stores none).
    /// A voiding statement marks its target voided unless the target is itself a voiding statement; a statement that
    /// arrives after its voiding statement is stored voided. A statement whose StatementRef target is stored inherits
    /// the target's index terms, so filters match referencing statements as the xAPI specification requires.
    /// </summary>
    Task<IReadOnlyList<WriteOutcome>> WriteAsync(Guid tenantId, IReadOnlyList<StatementRecord> batch, CancellationToken cancellationToken = default);

    /// <summary>
    /// Writes a batch as <see cref="WriteAsync(Guid, IReadOnlyList{StatementRecord}, CancellationToken)"/> does, together
    /// with the access-log entries that record the decision to store it (see <see cref="IAccessLogStore.AppendAsync"/>):
    /// no statement is stored without them. The entries are appended first, at the next positions of the tenant's
    /// chain, and stay appended when the batch is then refused (<see cref="StatementConflictException"/>: the decision
    /// was taken and is logged). If they cannot be appended, nothing of the batch is stored and
    /// <see cref="AccessLogAppendException"/> is thrown. SQLite appends them in the batch's own transaction (one commit
    /// for both); PostgreSQL commits them just before it.
    /// </summary>
    /// <returns>The batch's outcomes and the tenant's access-log head after the entries.</returns>
    Task<StatementWrite> WriteAsync(
        Guid tenantId, IReadOnlyList<StatementRecord> batch, IReadOnlyList<AccessLogEntry> accessLogEntries, CancellationToken cancellationToken = default);

    /// <summary>Reads one statement by id, voided or not. Null when absent.</summary>
    Task<StoredStatement?> GetAsync(Guid tenantId, Guid id, CancellationToken cancellationToken = default);

    Task<StatementPage> QueryAsync(Guid tenantId, StatementQuery query, CancellationToken cancellationToken = default);

    /// <summary>
    /// Reads attachment contents by hash key (see <see cref="StatementRecord.Attachments"/>): one result per distinct
    /// key that is stored for the tenant, in the order asked; keys not stored are left out.
    /// </summary>
    /// <param name="carriedBy">When given, only contents that one of these statements (by
    /// <see cref="StoredStatement.Sequence"/>) carried when it was written: a statement that merely names a sha2 never
    /// unlocks data that another statement brought.</param>
    Task<IReadOnlyList<StoredAttachment>> GetAttachmentsAsync(
        Guid tenantId, IReadOnlyList<byte[]> hashKeys, IReadOnlyList<long>? carriedBy = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// For X-Experience-API-Consistent-Through: a time such that every statement stored at or before it is visible to
    /// queries now (so "now" for an idle, strongly consistent store). Null when the store cannot say.
    /// </summary>
    Task<DateTimeOffset?> ConsistentThroughAsync(Guid tenantId, CancellationToken cancellationToken = default);
}
