using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using LearnerVault.Privacy;
using LearnerVault.Server.Auth;
using LearnerVault.Server.Statements;
using LearnerVault.Storage;
using LearnerVault.Xapi;

namespace LearnerVault.Server.Activities;

/// <summary>
/// The canonical activity definitions behind the Activities resource. Only statements from clients with the
/// <c>define</c> scope change them (xAPI: an LRS may trust only some sources to define activities). Definitions are
/// encrypted under the tenant's key and addressed by the activity's keyed term, since an activity IRI can name a person.
/// </summary>
public sealed partial class ActivityDefinitionService(IActivityDefinitionStore store, IKeyStore keys, TenantCrypto crypto, ILogger<ActivityDefinitionService> logger)
{
    /// <summary>Each lost compare-and-swap means another merge landed; the bound only caps one request's retries.</summary>
    private const int MaxAttempts = 50;

    /// <summary>Bounds the memory of <see cref="lastMerged"/>; cleared when full (it is only an optimisation).</summary>
    private const int MaxRemembered = 50_000;

    /// <summary>
    /// The digest of the definition this process merged last into each activity. Merging the same definition again
    /// changes nothing (the merge is idempotent), so content that sends the same definition with every statement costs
    /// one dictionary lookup, not a read, a decryption and a write.
    /// </summary>
    private readonly ConcurrentDictionary<(Guid Tenant, UInt128 Term), byte[]> lastMerged = new();

    /// <summary>
    /// Merges the definitions of a batch that was just stored. A failure is logged and swallowed: the statements are
    /// already durable, and failing the request would make the client send them again.
    /// </summary>
    public async Task RecordAsync(ClientRecord client, IReadOnlyList<JsonElement> statements)
    {
        if (!Scopes.CanDefine(client))
        {
            return;
        }

        try
        {
            var byActivity = new Dictionary<string, List<JsonElement>>(StringComparer.Ordinal);
            foreach (var statement in statements)
            {
                foreach (var sighting in ActivityDefinitions.Collect(statement))
                {
                    if (!byActivity.TryGetValue(sighting.ActivityId, out var list))
                    {
                        byActivity[sighting.ActivityId] = list = [];
                    }

                    list.Add(sighting.Definition);
                }
            }

            foreach (var (activityId, definitions) in byActivity)
            {
                // The merge has run by the time the request is answered, so a GET right after sees it; it must not be
                // abandoned half-way because the client went away.
                await MergeAsync(client.TenantId, activityId, definitions, CancellationToken.None);
            }
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            LogMergeFailed(logger, exception.GetType().Name);
        }
    }

    /// <summary>The canonical definition of an activity, or null when no trusted statement defined it.</summary>
    public async Task<JsonObject?> GetAsync(Guid tenantId, string activityId, CancellationToken cancellationToken)
    {
        var term = crypto.Term(tenantId, TermKind.Activity, activityId).Hash;
        var record = await store.GetAsync(tenantId, term, cancellationToken);
        return record is null ? null : Open(tenantId, term, record);
    }

    private async Task MergeAsync(Guid tenantId, string activityId, List<JsonElement> definitions, CancellationToken cancellationToken)
    {
        var term = crypto.Term(tenantId, TermKind.Activity, activityId).Hash;
        var cacheKey = (tenantId, MemoryMarshal.Read<UInt128>(term));
        var digest = Digest(definitions[^1]);
        if (lastMerged.TryGetValue(cacheKey, out var previous) && previous.AsSpan().SequenceEqual(digest)
            && definitions.Take(definitions.Count - 1).All(definition => Digest(definition).AsSpan().SequenceEqual(digest)))
        {
            // The batch repeats, however many times, the definition merged last: merging it again changes nothing.
            return;
        }

        var settled = false;
        for (var attempt = 0; attempt < MaxAttempts && !settled; attempt++)
        {
            var record = await store.GetAsync(tenantId, term, cancellationToken);
            var canonical = record is null ? null : Open(tenantId, term, record);
            var merged = canonical;
            foreach (var definition in definitions)
            {
                merged = ActivityDefinitions.Merge(merged, JsonObject.Create(definition)!);
            }

            if (canonical is not null && JsonNode.DeepEquals(canonical, merged))
            {
                settled = true;
                break;
            }

            var key = keys.GetTenantDataKey(tenantId);
            var blob = EnvelopeCipher.Encrypt(key.Key, JsonSerializer.SerializeToUtf8Bytes(merged), AssociatedData(tenantId, term));
            settled = await store.TryWriteAsync(tenantId, term, key.Id, blob, record?.Version, cancellationToken);
        }

        if (!settled)
        {
            return;
        }

        if (lastMerged.Count >= MaxRemembered)
        {
            lastMerged.Clear();
        }

        lastMerged[cacheKey] = digest;
    }

    // The definition's JSON text as received (valid UTF-8: the request parsed), hashed where it lies.
    private static byte[] Digest(JsonElement definition) => SHA256.HashData(JsonMarshal.GetRawUtf8Value(definition));

    private JsonObject? Open(Guid tenantId, byte[] term, ActivityDefinitionRecord record)
    {
        if (keys.GetDataKey(tenantId, record.KeyId) is not { } key)
        {
            return null;
        }

        var plaintext = EnvelopeCipher.Decrypt(key.Key, record.Blob, AssociatedData(tenantId, term));
        return JsonNode.Parse(plaintext) as JsonObject;
    }

    private static byte[] AssociatedData(Guid tenantId, byte[] term)
    {
        var ad = new byte[16 + 1 + term.Length];
        tenantId.TryWriteBytes(ad.AsSpan(0, 16));
        ad[16] = 0xAD; // marks "activity definition", apart from every other use of the tenant key
        term.CopyTo(ad.AsSpan(17));
        return ad;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Merging activity definitions after a stored batch failed ({ExceptionType}); the statements are stored.")]
    private static partial void LogMergeFailed(ILogger logger, string exceptionType);
}
