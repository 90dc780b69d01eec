using LearnerVault.Privacy.Audit;

namespace LearnerVault.Storage;

/// <summary>
/// The access log of every tenant: entries hash-chained per tenant (see <see cref="AccessLogChain"/>), and the signed
/// checkpoints of the chain head. The store assigns positions and computes the chain under a per-tenant serialisation
/// that holds across processes, so that several nodes appending to one tenant make one unbroken chain. Entries are kept
/// as columns (a database administrator can read who accessed what, by pseudonym) with the chain hash beside them.
/// </summary>
public interface IAccessLogStore
{
    /// <summary>Appends <paramref name="entries"/> in order, at the next positions of the tenant's chain, in one
    /// transaction; returns the new head. Times are kept to the microsecond (<see cref="AccessLogChain.Truncate"/>).</summary>
    Task<AccessLogHead> AppendAsync(Guid tenantId, IReadOnlyList<AccessLogEntry> entries, CancellationToken cancellationToken = default);

    /// <summary>The tenant's current head (position 0 and the genesis value when the log is empty).</summary>
    Task<AccessLogHead> GetHeadAsync(Guid tenantId, CancellationToken cancellationToken = default);

    /// <summary>Stores a checkpoint; false (and nothing changes) when the tenant already has one at that position.</summary>
    Task<bool> AddCheckpointAsync(Guid tenantId, AccessLogCheckpoint checkpoint, CancellationToken cancellationToken = default);

    /// <summary>Up to <paramref name="limit"/> entries from position <paramref name="fromPosition"/> on, in position order.</summary>
    Task<IReadOnlyList<AccessLogRecord>> ReadAsync(Guid tenantId, long fromPosition, int limit, CancellationToken cancellationToken = default);

    /// <summary>The tenant's checkpoints, in position order.</summary>
    Task<IReadOnlyList<AccessLogCheckpoint>> ReadCheckpointsAsync(Guid tenantId, CancellationToken cancellationToken = default);

    /// <summary>The entries about one learner (by pseudonym), newest first, at most <paramref name="limit"/>.</summary>
    Task<IReadOnlyList<AccessLogRecord>> ReadLearnerAsync(Guid tenantId, byte[] learnerPseudonym, int limit, CancellationToken cancellationToken = default);
}
