using LearnerVault.Privacy.Audit;

namespace LearnerVault.Storage;

/// <summary>
/// One statement as the storage layer sees it: opaque ciphertext plus pseudonymous index terms.
/// The store never sees plaintext personal data; encryption and pseudonymisation happen above it.
/// </summary>
/// <param name="Id">The statement id (lower-case UUID semantics).</param>
/// <param name="KeyId">Id of the data key (in the key store) that encrypted <paramref name="Blob"/>.</param>
/// <param name="Blob">AES-256-GCM envelope of the statement JSON, without <c>stored</c> (the store assigns it).</param>
/// <param name="ContentHash">Keyed hash of the statement's comparison form: equal hash means "same statement" (no 409).</param>
/// <param name="Terms">Keyed index terms (see <see cref="IndexTerm"/>): the only searchable form of agents, verbs, activities, registrations.</param>
/// <param name="RefTarget">The id in the statement's StatementRef object, if any.</param>
/// <param name="IsVoiding">True when the verb is the voided verb and the object is a StatementRef.</param>
/// <param name="ClientId">The client (credential) that wrote the statement; drives <c>statements/read/mine</c>.</param>
/// <param name="HasTimestamp">False when the client sent no timestamp: the reader then reports stored as timestamp.</param>
public sealed record StatementRecord(
    Guid Id,
    long KeyId,
    byte[] Blob,
    byte[] ContentHash,
    IReadOnlyList<IndexTerm> Terms,
    Guid? RefTarget,
    bool IsVoiding,
    long ClientId,
    bool HasTimestamp)
{
    /// <summary>
    /// The attachment contents this statement carries (those sent as parts). Written in the same transaction as the
    /// statement: stored once per tenant and hash key however many statements share it, each new statement adding one
    /// reference (a key listed twice counts once). Empty for almost every statement.
    /// </summary>
    public IReadOnlyList<AttachmentRecord> Attachments { get; init; } = [];

    /// <summary>
    /// The pseudonym (tenant-keyed HMAC of the normalised IFI) of the learner whose data key encrypts <see cref="Blob"/>;
    /// null when the statement is about no identifiable learner (it is then under the tenant's key). Stored so that a
    /// read can apply that learner's consents and restrictions without decrypting anything.
    /// </summary>
    public byte[]? Learner { get; init; }

    /// <summary>True when the learner had obtained restriction of processing when the statement arrived: it is kept but
    /// must not be processed further (the access gate filters it out).</summary>
    public bool Restricted { get; init; }
}

/// <summary>Kinds of index term. The kind is folded into the keyed hash, so terms of different kinds never collide.</summary>
public enum TermKind : byte
{
    /// <summary>Agent or group that is the actor, or the object when the object is an agent/group (and group members).</summary>
    Agent = 1,
    /// <summary>Any agent anywhere in the statement (related_agents=true).</summary>
    RelatedAgent = 2,
    Verb = 3,
    /// <summary>The object activity.</summary>
    Activity = 4,
    /// <summary>Any activity anywhere in the statement (related_activities=true).</summary>
    RelatedActivity = 5,
    Registration = 6,
}

/// <summary>A 16-byte keyed hash of (kind, normalised value) under the tenant's index key.</summary>
public readonly record struct IndexTerm(TermKind Kind, byte[] Hash);

/// <summary>Outcome of one statement within a write batch.</summary>
public enum WriteOutcome
{
    Stored,
    /// <summary>A statement with the same id and the same content exists: nothing written, not an error.</summary>
    Duplicate,
}

/// <summary>Thrown when a batch contains an id already stored with different content. Nothing of the batch is written.</summary>
public sealed class StatementConflictException(Guid id)
    : Exception("A statement with this id already exists with different content.")
{
    public Guid StatementId { get; } = id;
}

/// <summary>A write that carried access-log entries: each statement's outcome, and the tenant's access-log head after the
/// entries (the one to sign a checkpoint of, when one is due).</summary>
public sealed record StatementWrite(IReadOnlyList<WriteOutcome> Outcomes, AccessLogHead AccessLogHead);

/// <summary>Thrown when the access-log entries of a statement write could not be appended: nothing of the batch was
/// stored (the write is refused for want of its trace).</summary>
public sealed class AccessLogAppendException : Exception
{
    private const string DefaultMessage = "The access-log entries of the write could not be appended; nothing was stored.";

    public AccessLogAppendException()
        : base(DefaultMessage)
    {
    }

    /// <summary>The append failed with <paramref name="innerException"/>.</summary>
    public AccessLogAppendException(Exception innerException)
        : base(DefaultMessage, innerException)
    {
    }

    public AccessLogAppendException(string message)
        : base(message)
    {
    }

    public AccessLogAppendException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>A statement read back from the store.</summary>
public sealed record StoredStatement(
    Guid Id,
    long Sequence,
    DateTimeOffset Stored,
    long KeyId,
    byte[] Blob,
    bool Voided,
    bool HasTimestamp,
    long ClientId)
{
    /// <summary>The learner pseudonym it was written with (<see cref="StatementRecord.Learner"/>); null for none.</summary>
    public byte[]? Learner { get; init; }

    /// <summary>Stored under restriction of processing (<see cref="StatementRecord.Restricted"/>).</summary>
    public bool Restricted { get; init; }
}

/// <summary>A filtered statement query. All terms must match (AND). Voided statements are never returned.</summary>
public sealed record StatementQuery
{
    public IReadOnlyList<IndexTerm> Terms { get; init; } = [];
    /// <summary>Exclusive lower bound on stored.</summary>
    public DateTimeOffset? Since { get; init; }
    /// <summary>Inclusive upper bound on stored.</summary>
    public DateTimeOffset? Until { get; init; }
    public int Limit { get; init; } = 100;
    public bool Ascending { get; init; }
    /// <summary>Continue after this sequence number (exclusive) in the query's direction.</summary>
    public long? After { get; init; }
    /// <summary>When set, only statements written by this client (statements/read/mine).</summary>
    public long? ClientId { get; init; }
}

/// <summary>A page of results, and the sequence to continue from when there is more.</summary>
public sealed record StatementPage(IReadOnlyList<StoredStatement> Statements, long? ContinueAfter);
