using System.Collections.Concurrent;
using LearnerVault.Privacy;
using LearnerVault.Storage;

namespace LearnerVault.Server.Statements;

/// <summary>
/// Per-tenant pseudonymisation: index terms, learner pseudonyms and content digests all come from the
/// tenant's pseudonym key, so the same value in two tenants never yields the same term.
/// </summary>
public sealed class TenantCrypto(IKeyStore keys)
{
    /// <summary>
    /// Bound on remembered terms. Verbs, activities and a school's learners recur in almost every statement, and an
    /// HMAC per value per statement was a tenth of ingest CPU; the bound keeps the cache to a few MiB.
    /// </summary>
    public const int MaxCachedTerms = 50_000;

    private readonly ConcurrentDictionary<Guid, Pseudonymizer> pseudonymizers = new();
    private readonly ConcurrentDictionary<(Guid Tenant, int Kind, string Value), byte[]> cache = new();

    public Pseudonymizer For(Guid tenantId) =>
        pseudonymizers.GetOrAdd(tenantId, static (id, store) => new Pseudonymizer(store.GetPseudonymKey(id)), keys);

    /// <remarks>The returned term's bytes are shared: callers must not modify them.</remarks>
    public IndexTerm Term(Guid tenantId, TermKind kind, string normalisedValue) =>
        new(kind, Cached(tenantId, (int)kind, normalisedValue, static (p, k, v) => p.Term(Namespace((TermKind)k), v)));

    /// <summary>The learner pseudonym under which the learner's data key is kept (shared bytes: do not modify).</summary>
    public byte[] LearnerPseudonym(Guid tenantId, string normalisedIfi) =>
        Cached(tenantId, LearnerKind, normalisedIfi, static (p, _, v) => p.Pseudonym("learner", v));

    private const int LearnerKind = -1;

    private byte[] Cached(Guid tenantId, int kind, string value, Func<Pseudonymizer, int, string, byte[]> compute)
    {
        if (cache.TryGetValue((tenantId, kind, value), out var known))
        {
            return known;
        }

        var computed = compute(For(tenantId), kind, value);
        if (cache.Count >= MaxCachedTerms)
        {
            cache.Clear();
        }

        cache[(tenantId, kind, value)] = computed;
        return computed;
    }

    /// <summary>The content address of an attachment: never the sha2 itself, which would let anyone holding a copy of
    /// a file confirm that the tenant stores it.</summary>
    /// <param name="sha2">Lower-case hexadecimal.</param>
    public byte[] AttachmentKey(Guid tenantId, string sha2) => For(tenantId).Pseudonym("attachment", sha2);

    private static string Namespace(TermKind kind) => kind switch
    {
        TermKind.Agent => "agent",
        TermKind.RelatedAgent => "related-agent",
        TermKind.Verb => "verb",
        TermKind.Activity => "activity",
        TermKind.RelatedActivity => "related-activity",
        TermKind.Registration => "registration",
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };
}
