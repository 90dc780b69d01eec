namespace LearnerVault.Privacy.Audit;

/// <summary>What the access gate decided.</summary>
public enum AccessDecision : byte
{
    Deny = 0,
    Allow = 1,
}

/// <summary>
/// One access to personal data, as the access log records it: who (principal, and the client app when there is one),
/// did what, for which purpose, to which learner (by keyed pseudonym only, never an identifier), to how many records,
/// and what the gate decided and why. Its place in the chain (position, hash) is the store's to assign.
/// </summary>
/// <param name="Time">When; the log keeps whole microseconds (UTC), and so does the chain's encoding.</param>
/// <param name="Principal">Who asked, e.g. <c>client:&lt;key&gt;</c> or <c>person:&lt;id&gt;</c>.</param>
/// <param name="Client">The client app's key, when the access came through one.</param>
/// <param name="Action">What was done, e.g. <c>statements.read</c>.</param>
/// <param name="Purpose">The purpose declared for it, e.g. <c>instruction</c>.</param>
/// <param name="LearnerPseudonym">The tenant-keyed pseudonym of the learner (the one the indexes use), or null when the
/// access concerns no one learner.</param>
/// <param name="Records">How many records were disclosed or written.</param>
/// <param name="Reason">Why the gate decided so (a rule's name, not personal data).</param>
public sealed record AccessLogEntry(
    DateTimeOffset Time,
    string Principal,
    string? Client,
    string Action,
    string Purpose,
    byte[]? LearnerPseudonym,
    long Records,
    AccessDecision Decision,
    string Reason);

/// <summary>An entry as stored: its position in the tenant's chain (from 1) and the chain hash stored with it.</summary>
public sealed record AccessLogRecord(long Position, AccessLogEntry Entry, byte[] Hash);

/// <summary>A signed checkpoint of a tenant's chain: the head hash at <paramref name="Position"/>, signed at
/// <paramref name="Time"/> with the tenant's audit signing key (ECDSA P-256, IEEE P1363 signature).</summary>
public sealed record AccessLogCheckpoint(long Position, byte[] HeadHash, DateTimeOffset Time, byte[] Signature);

/// <summary>The head of a tenant's chain: the last position (0 when empty) and its hash (the genesis value when empty).</summary>
public sealed record AccessLogHead(long Position, byte[] Hash);
