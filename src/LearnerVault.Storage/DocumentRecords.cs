namespace LearnerVault.Storage;

/// <summary>The three document resources of xAPI. The value is stored: never renumber.</summary>
public enum DocumentKind : byte
{
    State = 1,
    ActivityProfile = 2,
    AgentProfile = 3,
}

/// <summary>
/// The address of one document: its kind and the keyed terms of its parts (activity id, agent IFI, registration,
/// document id). A part the kind does not have (the agent of an activity profile, the registration of a state that was
/// stored without one) is an empty array, so "no registration" is a context of its own.
/// </summary>
public sealed record DocumentKey(DocumentKind Kind, byte[] Activity, byte[] Agent, byte[] Registration, byte[] Id)
{
    /// <summary>The filter that covers exactly this document's context (its registration included).</summary>
    public DocumentFilter Context => new(Kind, Activity, Agent, Registration);
}

/// <summary>
/// The documents of one context, for listing ids and for State's delete-all. <see cref="Registration"/> null covers every
/// registration (and none); an empty array covers only the documents stored without a registration.
/// </summary>
public sealed record DocumentFilter(DocumentKind Kind, byte[] Activity, byte[] Agent, byte[]? Registration);

/// <summary>What a write stores: opaque ciphertext and the keyed form of the new entity tag.</summary>
/// <param name="KeyId">The data key (in the key store) that encrypted both blobs.</param>
/// <param name="Blob">The envelope of the document (its media type and content).</param>
/// <param name="IdBlob">The envelope of the plaintext document id, which listing must return.</param>
/// <param name="ETag">Keyed tag of the document's entity tag; preconditions compare these bytes.</param>
public sealed record DocumentContent(long KeyId, byte[] Blob, byte[] IdBlob, byte[] ETag)
{
    /// <summary>
    /// Whether this write happened under restriction of processing (the access decision allowed it only to be kept).
    /// A restricted write marks the document restricted; a later unrestricted write (PUT or POST) does not clear the
    /// mark, because the content it replaces or merges into may still carry the restricted data and no one can tell.
    /// Once restricted, a document stays so until it is deleted.
    /// </summary>
    public bool Restricted { get; init; }
}

/// <summary>A document read back.</summary>
public sealed record StoredDocument(long KeyId, byte[] Blob, byte[] IdBlob, byte[] ETag, DateTimeOffset Updated)
{
    /// <summary>Whether any write of the document since it was created was restricted (see <see cref="DocumentContent.Restricted"/>).</summary>
    public bool Restricted { get; init; }
}

/// <summary>One entry of a listing: the document's full address (its registration and id terms, which the filter may
/// leave open) and enough to decrypt the id and report Last-Modified.</summary>
public sealed record StoredDocumentId(byte[] Registration, byte[] Id, long KeyId, byte[] IdBlob, DateTimeOffset Updated)
{
    /// <summary>Whether the document is restricted (see <see cref="DocumentContent.Restricted"/>): its id is withheld as its content is.</summary>
    public bool Restricted { get; init; }
}

public enum DocumentOutcome
{
    Created,
    Replaced,
    Deleted,
    NotFound,
    /// <summary>An If-Match or If-None-Match condition did not hold (HTTP 412).</summary>
    PreconditionFailed,
    /// <summary>The document exists and the write asked for none to exist without saying so by a header (HTTP 409).</summary>
    Conflict,
}

public sealed record DocumentWriteResult(DocumentOutcome Outcome, DateTimeOffset? Updated);

/// <summary>The entity tags of an If-Match or If-None-Match header: "*" or a list (in keyed form).</summary>
public sealed record EntityTagCondition(bool Any, IReadOnlyList<byte[]> Tags)
{
    public static EntityTagCondition Star { get; } = new(true, []);

    public static EntityTagCondition Of(params byte[][] tags) => new(false, tags);

    /// <summary>Whether the condition names the current document (which exists and carries <paramref name="current"/>).</summary>
    public bool Names(byte[] current) => Any || Tags.Any(t => t.AsSpan().SequenceEqual(current));
}

/// <summary>
/// When a write may happen, evaluated as RFC 9110 section 13.2.2 orders it: If-Match first, then If-None-Match; and
/// <see cref="ConflictIfExists"/> for xAPI's rule on a PUT that carries neither header.
/// </summary>
public sealed record DocumentPrecondition(EntityTagCondition? IfMatch = null, EntityTagCondition? IfNoneMatch = null, bool ConflictIfExists = false)
{
    public static DocumentPrecondition None { get; } = new();

    /// <summary>Only if the document is absent (If-None-Match: *).</summary>
    public static DocumentPrecondition Absent { get; } = new(IfNoneMatch: EntityTagCondition.Star);

    /// <summary>Only if the document still carries <paramref name="etag"/> (If-Match).</summary>
    public static DocumentPrecondition Unchanged(byte[] etag) => new(IfMatch: EntityTagCondition.Of(etag));

    /// <summary>Null when the write may go ahead; otherwise the outcome that refuses it.</summary>
    /// <param name="current">The stored document's keyed entity tag, or null when there is no document.</param>
    public DocumentOutcome? Check(byte[]? current)
    {
        if (IfMatch is { } ifMatch && (current is null || !ifMatch.Names(current)))
        {
            return DocumentOutcome.PreconditionFailed;
        }

        if (IfNoneMatch is { } ifNoneMatch && current is not null && ifNoneMatch.Names(current))
        {
            return DocumentOutcome.PreconditionFailed;
        }

        if (ConflictIfExists && current is not null)
        {
            return DocumentOutcome.Conflict;
        }

        return null;
    }
}
