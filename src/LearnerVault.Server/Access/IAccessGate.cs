using LearnerVault.Privacy.Access;

namespace LearnerVault.Server.Access;

/// <summary>
/// The one gate every read and write of personal data passes: loads the learner's facts and the tenant's policy, calls
/// <see cref="AccessRules.Decide"/>, and appends the access-log entries (durable before the call returns, or for an allowed
/// statement write appended by the write itself, so nothing is disclosed or stored without its trace). The xAPI endpoints, the admin API, exports and the CLI all call it; there is
/// no second path.
/// </summary>
public interface IAccessGate
{
    /// <summary>
    /// Decides for a set of records (statements, documents) each about one learner, known by learner pseudonym, or about
    /// no identifiable learner (null). Decides once per distinct learner and appends one entry per learner with the
    /// number of that learner's records (allowed or withheld).
    /// </summary>
    /// <param name="learnerPseudonyms">One per record: the learner pseudonym the statement path computes
    /// (<c>TenantCrypto.LearnerPseudonym</c>), or null.</param>
    Task<GateOutcome> DecideRecordsAsync(
        Principal principal, AccessAction action, Purpose purpose, IReadOnlyList<byte[]?> learnerPseudonyms, CancellationToken cancellationToken) =>
        DecideRecordsAsync(principal, action, purpose, [.. learnerPseudonyms.Select(p => new GateRecord(p))], cancellationToken);

    /// <summary>
    /// As above, for records that may have been stored restricted (<see cref="GateRecord.StoredRestricted"/>): reading
    /// the content of such a record is denied (<see cref="DecisionCode.Restricted"/>) to everyone but the learner and
    /// their guardians, whatever the learner's facts say now, and the withheld records are logged as such.
    /// </summary>
    Task<GateOutcome> DecideRecordsAsync(
        Principal principal, AccessAction action, Purpose purpose, IReadOnlyList<GateRecord> records, CancellationToken cancellationToken);

    /// <summary>
    /// Decides for the records of a write as <see cref="DecideRecordsAsync(Principal, AccessAction, Purpose, IReadOnlyList{byte[]}, CancellationToken)"/>
    /// does, except where the entries go when every record is allowed: they are not appended here but returned
    /// (<see cref="GateWrite.Entries"/>), and the caller must hand them to the store write that stores the records
    /// (<c>IStatementStore.WriteAsync</c> with entries), which appends them no later than the records are stored and
    /// keeps them when the write is then refused; on SQLite in the write's own transaction, so that a write costs one
    /// durable commit instead of two. When any record is denied nothing may be written, and the entries are appended
    /// here, before the call returns.
    /// </summary>
    Task<GateWrite> DecideWriteAsync(
        Principal principal, AccessAction action, Purpose purpose, IReadOnlyList<byte[]?> learnerPseudonyms, CancellationToken cancellationToken);

    /// <summary>
    /// Decides for one learner of the identity vault, by id (admin API, CLI). A learner of another tenant is denied
    /// (<see cref="DecisionCode.CrossTenant"/>) and the attempt logged in both tenants' logs; an id that exists nowhere
    /// is reported as <see cref="LearnerLookup.NotFound"/> (nothing to log about nobody).
    /// </summary>
    Task<(LearnerLookup Lookup, AccessDecision? Decision)> DecideLearnerAsync(
        Principal principal, AccessAction action, Guid learnerId, Purpose purpose, long records, CancellationToken cancellationToken);

    /// <summary>
    /// Every pseudonym under which entries about learner <paramref name="learnerId"/> of <paramref name="tenantId"/> may
    /// be logged: each of their registered pseudonyms (records are logged under the pseudonym the record carries) and
    /// the keyed pseudonym of their id under the tenant's key (used when they are named by id and have no registered
    /// pseudonym, and in a tenant's log for a cross-tenant attempt on a learner it does not hold). What
    /// GET /api/me/access-log reads the log with.
    /// </summary>
    Task<IReadOnlyList<byte[]>> LearnerLogPseudonymsAsync(Guid tenantId, Guid learnerId, CancellationToken cancellationToken);
}

/// <summary>One record put to the gate: its learner's pseudonym (null for none) and whether it was stored restricted.</summary>
public readonly record struct GateRecord(byte[]? LearnerPseudonym, bool StoredRestricted = false);

/// <summary>The decisions for the records of a write, and the access-log entries recording them that the write must append
/// (empty when a record was denied: those entries are appended already).</summary>
public sealed record GateWrite(GateOutcome Outcome, IReadOnlyList<Privacy.Audit.AccessLogEntry> Entries);

/// <summary>Whether a learner id named in a request exists, and where.</summary>
public enum LearnerLookup
{
    Found,
    OtherTenant,
    NotFound,
}

/// <summary>The decisions for a set of records: one per record (in order), and for writes whether any was denied.</summary>
/// <param name="Decisions">For each record, the decision about its learner (records of one learner share one).</param>
public sealed record GateOutcome(IReadOnlyList<AccessDecision> Decisions)
{
    /// <summary>Whether every record may be processed.</summary>
    public bool AllAllowed => Decisions.All(d => d.Allowed);

    /// <summary>The first denial, if any.</summary>
    public AccessDecision? FirstDenial => Decisions.FirstOrDefault(d => !d.Allowed);
}
