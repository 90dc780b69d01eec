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
    /// A voiding statement marks its target voided unless the target is itself a voiding statement; a statement that
    /// arrives after its voiding statement is stored voided. A statement whose StatementRef target is stored inherits
    /// the target's index terms, so filters match referencing statements as the xAPI specification requires.
    /// </summary>
    Task<IReadOnlyList<WriteOutcome>> WriteAsync(Guid tenantId, IReadOnlyList<StatementRecord> batch, CancellationToken cancellationToken = default);

    /// <summary>Reads one statement by id, voided or not. Null when absent.</summary>
    Task<StoredStatement?> GetAsync(Guid tenantId, Guid id, CancellationToken cancellationToken = default);

    Task<StatementPage> QueryAsync(Guid tenantId, StatementQuery query, CancellationToken cancellationToken = default);

    /// <summary>
    /// For X-Experience-API-Consistent-Through: a time such that every statement stored at or before it is visible to
    /// queries now (so "now" for an idle, strongly consistent store). Null when the store cannot say.
    /// </summary>
    Task<DateTimeOffset?> ConsistentThroughAsync(Guid tenantId, CancellationToken cancellationToken = default);
}
