using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using LearnerVault.Privacy;
using LearnerVault.Privacy.Access;
using LearnerVault.Server.Access;
using LearnerVault.Server.Pipeline;
using LearnerVault.Server.Statements;
using LearnerVault.Storage;
using Microsoft.Net.Http.Headers;

namespace LearnerVault.Server.Documents;

/// <summary>
/// The document resources between HTTP and storage: keyed terms for every part of an address, envelope encryption of
/// the content (under the learner's data key for State and Agent Profile, the tenant's for Activity Profile) and of the
/// document id, keyed entity tags at rest, and POST's JSON merge as a compare-and-swap loop. State and Agent Profile
/// documents are about the agent the request names: every read and write of them is put to the <see cref="IAccessGate"/>
/// first (documents.read / documents.write for that learner's pseudonym); a denied read looks like no document, a denied
/// write is a 403. Activity Profile documents are about no learner. A write the gate allows only to be kept (the learner
/// restricted processing or objected) marks the document restricted for good (<see cref="DocumentContent.Restricted"/>),
/// and reads put that to the gate, which withholds the document from everyone but the learner and their guardians even
/// after the restriction is lifted, as it does for statements stored restricted.
/// </summary>
public sealed class DocumentService(IDocumentStore store, IKeyStore keys, TenantCrypto crypto, IAccessGate gate)
{
    /// <summary>Each failed attempt means another write succeeded, so the loop always makes progress overall; the bound
    /// only stops one unlucky request from spinning for ever under sustained contention.</summary>
    private const int MaxMergeAttempts = 100;

    private const byte PlaintextVersion = 1;

    private static readonly JsonDocumentOptions JsonOptions = new() { MaxDepth = 64, AllowDuplicateProperties = false };

    /// <summary>One document, opened, if the client may read it: absent, denied by the access gate, stored restricted or
    /// erased all answer null alike, so a 404 never tells which.</summary>
    public async Task<OpenedDocument?> GetAsync(ClientAccess access, DocumentAddress address, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(access);
        var tenantId = access.Client.TenantId;
        var key = Key(tenantId, address);
        // The row before the decision (nothing is decrypted before it): whether it was stored restricted is an input.
        var stored = await store.GetAsync(tenantId, key, cancellationToken);
        var decisions = await DecideAsync(access, AccessAction.DocumentsRead, address, [stored?.Restricted == true], cancellationToken);
        if (decisions is [{ Allowed: false }])
        {
            return null;
        }

        return stored is null ? null : Open(tenantId, key, stored);
    }

    /// <summary>Whether a document is stored at the address (readable or not); part of a write, decided as one.</summary>
    public async Task<bool> ExistsAsync(ClientAccess access, DocumentAddress address, CancellationToken cancellationToken)
    {
        await DemandWriteAsync(access, address, cancellationToken);
        var tenantId = access.Client.TenantId;
        return await store.GetAsync(tenantId, Key(tenantId, address), cancellationToken) is not null;
    }

    /// <summary>
    /// The ids of a context's documents the client may read. Each listed document is put to the gate as one record (so
    /// the log counts them, and a document stored restricted is withheld, and logged so, on its own); an empty listing is
    /// decided as one record for the context, so that even "nothing here" is only told to whom the gate allows.
    /// </summary>
    /// <param name="anyRegistration">State without a registration parameter: the ids of every registration (and none).</param>
    public async Task<DocumentIdList> ListAsync(ClientAccess access, DocumentAddress context, bool anyRegistration, DateTimeOffset? since, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(access);
        var tenantId = access.Client.TenantId;
        var filter = Filter(tenantId, context, anyRegistration);
        var entries = await store.ListAsync(tenantId, filter, since, cancellationToken);
        var decisions = await DecideAsync(
            access, AccessAction.DocumentsRead, context, entries.Count == 0 ? [false] : [.. entries.Select(e => e.Restricted)], cancellationToken);
        if (entries.Count == 0 || (decisions is not null && decisions.All(d => !d.Allowed)))
        {
            return new DocumentIdList([], null); // as for an agent with no documents: nothing told
        }

        var ids = new List<string>(entries.Count);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        DateTimeOffset? newest = null;
        for (var i = 0; i < entries.Count; i++)
        {
            var entry = entries[i];
            if (decisions is not null && !decisions[i].Allowed)
            {
                continue; // stored restricted: its id (and update time) stay with the learner
            }

            if (keys.GetDataKey(tenantId, entry.KeyId) is not { } dataKey)
            {
                continue; // the learner was erased
            }

            var key = new DocumentKey(filter.Kind, filter.Activity, filter.Agent, entry.Registration, entry.Id);
            var id = Encoding.UTF8.GetString(EnvelopeCipher.Decrypt(dataKey.Key, entry.IdBlob, AssociatedData(tenantId, key, "id")));
            if (seen.Add(id))
            {
                ids.Add(id);
            }

            newest = newest is null || entry.Updated > newest ? entry.Updated : newest;
        }

        return new DocumentIdList(ids, newest);
    }

    /// <param name="conflictIfExists">xAPI's rule for a PUT without If-Match or If-None-Match: 409 when the document exists.</param>
    public async Task<DocumentWriteOutcome> PutAsync(
        ClientAccess access, DocumentAddress address, string contentType, byte[] content, RequestPreconditions conditions, bool conflictIfExists, CancellationToken cancellationToken)
    {
        var restricted = await DemandWriteAsync(access, address, cancellationToken);
        var tenantId = access.Client.TenantId;
        var key = Key(tenantId, address);
        var precondition = Translate(tenantId, key, conditions) with { ConflictIfExists = conflictIfExists && !conditions.Any };
        var (sealedContent, etag) = Seal(tenantId, address, key, contentType, content, restricted);
        var result = await store.PutAsync(tenantId, key, sealedContent, precondition, cancellationToken);
        return new DocumentWriteOutcome(result.Outcome, Stored(result.Outcome) ? etag : null);
    }

    /// <summary>
    /// POST: stores the document when there is none (as PUT would), otherwise merges the posted JSON object's top-level
    /// properties into the stored JSON object (xAPI Communication 2.2). The client's preconditions are checked against the
    /// document each attempt reads, and the write only lands if that document is still the one read.
    /// </summary>
    /// <exception cref="XapiException">400 when either document is not a JSON object.</exception>
    public async Task<DocumentWriteOutcome> PostAsync(
        ClientAccess access, DocumentAddress address, string contentType, byte[] content, RequestPreconditions conditions, CancellationToken cancellationToken)
    {
        var restricted = await DemandWriteAsync(access, address, cancellationToken);
        var tenantId = access.Client.TenantId;
        var postedIsJson = IsJson(contentType);
        var posted = postedIsJson
            ? ParseObject(content) ?? throw new XapiException(400, "The posted document is application/json but not a JSON object.")
            : null;

        var key = Key(tenantId, address);
        var clientCondition = Translate(tenantId, key, conditions);
        for (var attempt = 0; attempt < MaxMergeAttempts; attempt++)
        {
            var stored = await store.GetAsync(tenantId, key, cancellationToken);
            if (clientCondition.Check(stored?.ETag) is { } refused)
            {
                return new DocumentWriteOutcome(refused, null);
            }

            var current = stored is null ? null : Open(tenantId, key, stored);
            var (newType, newContent) = current is null
                ? (contentType, content)
                : Merge(current, posted);
            var (sealedContent, etag) = Seal(tenantId, address, key, newType, newContent, restricted);
            var expected = stored is null ? DocumentPrecondition.Absent : DocumentPrecondition.Unchanged(stored.ETag);
            var result = await store.PutAsync(tenantId, key, sealedContent, expected, cancellationToken);
            if (result.Outcome != DocumentOutcome.PreconditionFailed)
            {
                return new DocumentWriteOutcome(result.Outcome, Stored(result.Outcome) ? etag : null);
            }
        }

        throw new XapiException(409, "The document was changed by other requests throughout this one; retry it.");
    }

    public async Task<DocumentOutcome> DeleteAsync(ClientAccess access, DocumentAddress address, RequestPreconditions conditions, CancellationToken cancellationToken)
    {
        await DemandWriteAsync(access, address, cancellationToken);
        var tenantId = access.Client.TenantId;
        var key = Key(tenantId, address);
        return await store.DeleteAsync(tenantId, key, Translate(tenantId, key, conditions), cancellationToken);
    }

    /// <summary>State's delete without stateId: every document of the context, of every registration unless one is given.</summary>
    public async Task<int> DeleteAllAsync(ClientAccess access, DocumentAddress context, CancellationToken cancellationToken)
    {
        await DemandWriteAsync(access, context, cancellationToken);
        var tenantId = access.Client.TenantId;
        return await store.DeleteAllAsync(tenantId, Filter(tenantId, context, anyRegistration: context.Registration is null), cancellationToken);
    }

    /// <summary>Whether the write is allowed only to be kept (<see cref="Privacy.Access.AccessDecision.StoreRestricted"/>).</summary>
    /// <exception cref="XapiException">403 when the access decision refuses the write.</exception>
    private async Task<bool> DemandWriteAsync(ClientAccess access, DocumentAddress address, CancellationToken cancellationToken)
    {
        var decision = (await DecideAsync(access, AccessAction.DocumentsWrite, address, [false], cancellationToken))?[0];
        if (decision is { Allowed: false } denial)
        {
            throw new XapiException(403,
                $"The access decision refused this document write for the purpose '{access.Purpose.Name}' ({denial.ReasonCode}); nothing was changed.");
        }

        return decision?.StoreRestricted == true;
    }

    /// <summary>Decides (and logs) an access to documents of the address's agent, one decision per document (each flag:
    /// whether that document was stored restricted); null for Activity Profile, which is about no learner.</summary>
    private async Task<IReadOnlyList<Privacy.Access.AccessDecision>?> DecideAsync(
        ClientAccess access, AccessAction action, DocumentAddress address, IReadOnlyList<bool> storedRestricted, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(access);
        if (address.Kind == DocumentKind.ActivityProfile || address.AgentIfi is not { } ifi)
        {
            return null;
        }

        // The same pseudonym as the agent's statements (normalised IFI, tenant key): one learner, one set of rules.
        var learner = crypto.LearnerPseudonym(access.Client.TenantId, ifi);
        var outcome = await gate.DecideRecordsAsync(
            access.Principal, action, access.Purpose, [.. storedRestricted.Select(r => new GateRecord(learner, r))], cancellationToken);
        return outcome.Decisions;
    }

    public static bool IsJson(string? contentType) =>
        MediaTypeHeaderValue.TryParse(contentType, out var mediaType)
        && mediaType.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase);

    private static bool Stored(DocumentOutcome outcome) => outcome is DocumentOutcome.Created or DocumentOutcome.Replaced;

    private static (string ContentType, byte[] Content) Merge(OpenedDocument current, JsonObject? posted)
    {
        if (posted is null || !IsJson(current.ContentType))
        {
            throw new XapiException(400, "POST merges JSON objects: both the stored and the posted document must be application/json. Use PUT to replace the document.");
        }

        var merged = ParseObject(current.Content)
            ?? throw new XapiException(400, "The stored document is not a JSON object, so it cannot be merged. Use PUT to replace it.");
        foreach (var (name, value) in posted)
        {
            merged[name] = value?.DeepClone();
        }

        return (current.ContentType, Encoding.UTF8.GetBytes(merged.ToJsonString()));
    }

    private static JsonObject? ParseObject(byte[] content)
    {
        try
        {
            return JsonNode.Parse(content, documentOptions: JsonOptions) as JsonObject;
        }
        catch (JsonException)
        {
            return null;
        }
        catch (ArgumentException)
        {
            return null; // a property repeated in a way the node model refuses
        }
    }

    private OpenedDocument? Open(Guid tenantId, DocumentKey key, StoredDocument stored)
    {
        if (keys.GetDataKey(tenantId, stored.KeyId) is not { } dataKey)
        {
            return null; // the learner was erased: the document is gone for every purpose
        }

        var plaintext = EnvelopeCipher.Decrypt(dataKey.Key, stored.Blob, AssociatedData(tenantId, key, "content"));
        var typeLength = BinaryPrimitives.ReadUInt16BigEndian(plaintext.AsSpan(1, 2));
        var contentType = Encoding.UTF8.GetString(plaintext, 3, typeLength);
        var content = plaintext[(3 + typeLength)..];
        return new OpenedDocument(contentType, content, DocumentETag.Compute(content), stored.Updated);
    }

    /// <param name="restricted">Written under restriction of processing: the store keeps the document restricted.</param>
    private (DocumentContent Content, string ETag) Seal(Guid tenantId, DocumentAddress address, DocumentKey key, string contentType, byte[] content, bool restricted)
    {
        var dataKey = address.Kind == DocumentKind.ActivityProfile
            ? keys.GetTenantDataKey(tenantId)
            : keys.GetOrCreateLearnerKey(tenantId, crypto.LearnerPseudonym(tenantId, address.AgentIfi!));

        var type = Encoding.UTF8.GetBytes(contentType);
        if (type.Length > ushort.MaxValue)
        {
            throw new XapiException(400, "The Content-Type header is too long.");
        }

        var plaintext = new byte[3 + type.Length + content.Length];
        plaintext[0] = PlaintextVersion;
        BinaryPrimitives.WriteUInt16BigEndian(plaintext.AsSpan(1, 2), (ushort)type.Length);
        type.CopyTo(plaintext.AsSpan(3));
        content.CopyTo(plaintext.AsSpan(3 + type.Length));

        var etag = DocumentETag.Compute(content);
        var blob = EnvelopeCipher.Encrypt(dataKey.Key, plaintext, AssociatedData(tenantId, key, "content"));
        var idBlob = EnvelopeCipher.Encrypt(dataKey.Key, Encoding.UTF8.GetBytes(address.DocumentId!), AssociatedData(tenantId, key, "id"));
        return (new DocumentContent(dataKey.Id, blob, idBlob, Tag(tenantId, key, etag)) { Restricted = restricted }, etag);
    }

    private DocumentPrecondition Translate(Guid tenantId, DocumentKey key, RequestPreconditions conditions)
    {
        // If-Match compares strongly: a weak tag never matches. If-None-Match compares weakly (RFC 9110 13.1.2).
        var ifMatch = conditions.IfMatch is not { } match ? null
            : match.Any ? EntityTagCondition.Star
            : new EntityTagCondition(false, [.. match.Tags.Where(t => !t.Weak).Select(t => Tag(tenantId, key, t.Opaque))]);
        var ifNoneMatch = conditions.IfNoneMatch is not { } noneMatch ? null
            : noneMatch.Any ? EntityTagCondition.Star
            : new EntityTagCondition(false, [.. noneMatch.Tags.Select(t => Tag(tenantId, key, t.Opaque))]);
        return new DocumentPrecondition(ifMatch, ifNoneMatch);
    }

    /// <summary>The entity tag at rest: keyed and bound to the document, so equal contents never show as equal tags.</summary>
    private byte[] Tag(Guid tenantId, DocumentKey key, string opaque) =>
        crypto.For(tenantId).Term("document-etag", Convert.ToHexString(AddressDigest(tenantId, key, "etag")) + ":" + opaque);

    private DocumentKey Key(Guid tenantId, DocumentAddress address)
    {
        var filter = Filter(tenantId, address, anyRegistration: false);
        var id = crypto.For(tenantId).Term(IdNamespace(address.Kind), address.DocumentId ?? throw new InvalidOperationException("A single document needs an id."));
        return new DocumentKey(address.Kind, filter.Activity, filter.Agent, filter.Registration!, id);
    }

    private DocumentFilter Filter(Guid tenantId, DocumentAddress address, bool anyRegistration)
    {
        byte[] activity = address.ActivityId is { } activityId ? crypto.Term(tenantId, TermKind.Activity, activityId).Hash : [];
        byte[] agent = address.AgentIfi is { } ifi ? crypto.Term(tenantId, TermKind.Agent, ifi).Hash : [];
        byte[]? registration = anyRegistration ? null
            : address.Registration is { } r ? crypto.Term(tenantId, TermKind.Registration, TermValues.Registration(r)).Hash
            : [];
        return new DocumentFilter(address.Kind, activity, agent, registration);
    }

    private static string IdNamespace(DocumentKind kind) => kind switch
    {
        DocumentKind.State => "state-id",
        DocumentKind.ActivityProfile => "activity-profile-id",
        DocumentKind.AgentProfile => "agent-profile-id",
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    /// <summary>Associated data binding a blob to its tenant, its document and its role, so that a blob copied onto
    /// another row (or the id blob into the content column) fails to decrypt.</summary>
    private static byte[] AssociatedData(Guid tenantId, DocumentKey key, string purpose) => AddressDigest(tenantId, key, purpose);

    private static byte[] AddressDigest(Guid tenantId, DocumentKey key, string purpose)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(Encoding.UTF8.GetBytes("learnervault/document/" + purpose + "\0"));
        Span<byte> buffer = stackalloc byte[16];
        tenantId.TryWriteBytes(buffer);
        hash.AppendData(buffer);
        hash.AppendData([(byte)key.Kind]);
        Span<byte> length = stackalloc byte[4];
        foreach (var part in (ReadOnlySpan<byte[]>)[key.Activity, key.Agent, key.Registration, key.Id])
        {
            BinaryPrimitives.WriteInt32BigEndian(length, part.Length);
            hash.AppendData(length);
            hash.AppendData(part);
        }

        return hash.GetHashAndReset();
    }
}
