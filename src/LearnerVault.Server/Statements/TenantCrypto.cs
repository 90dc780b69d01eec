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
    /// Bound on remembered terms and pseudonyms. Verbs, activities and a school's learners recur in almost every
    /// statement, and an HMAC per value per statement was a tenth of ingest CPU. The bound holds a learner's three
    /// values (agent, related agent, pseudonym) for about 20,000 learners in steady use within one generation (below),
    /// at about 200 bytes an entry: 26 MiB if ever full.
    /// </summary>
    /// <remarks>Registrations are not remembered: a registration recurs only within one attempt, and with them the
    /// values in use (30,000 registrations beside 10,000 learners in the benchmark) outgrew a generation, so the
    /// generations kept turning over. Each turn filled a new dictionary that lived long enough to reach the oldest
    /// heap generation and then died there: measured, about 7% of the server's CPU at batch ingest with a 65,536 bound, the
    /// HMACs of the misses being the smaller part of it.</remarks>
    public const int MaxCachedTerms = 131_072;

    private readonly ConcurrentDictionary<Guid, Pseudonymizer> pseudonymizers = new();
    private readonly Lock rotation = new();

    // Two generations, each up to half the bound: new values go into the current one, and a value found only in the
    // previous one is carried over. When the current one is full it becomes the previous one (the older is dropped),
    // so values in steady use survive and the cache never falls back to recomputing everything at once. The count of
    // each generation is kept apart: ConcurrentDictionary.Count takes every lock of the dictionary (measured at 8% of
    // ingest CPU when it was read per lookup).
    private Generation current = new();
    private Generation previous = new();

    public Pseudonymizer For(Guid tenantId) =>
        pseudonymizers.GetOrAdd(tenantId, static (id, store) => new Pseudonymizer(store.GetPseudonymKey(id)), keys);

    /// <remarks>The returned term's bytes are shared: callers must not modify them.</remarks>
    public IndexTerm Term(Guid tenantId, TermKind kind, string normalisedValue) =>
        new(kind, kind == TermKind.Registration
            ? For(tenantId).Term(Namespace(kind), normalisedValue)
            : Cached(tenantId, (int)kind, normalisedValue, static (p, k, v) => p.Term(Namespace((TermKind)k), v)));

    /// <summary>The learner pseudonym under which the learner's data key is kept (shared bytes: do not modify).</summary>
    public byte[] LearnerPseudonym(Guid tenantId, string normalisedIfi) =>
        Cached(tenantId, LearnerKind, normalisedIfi, static (p, _, v) => p.Pseudonym("learner", v));

    private const int LearnerKind = -1;

    private byte[] Cached(Guid tenantId, int kind, string value, Func<Pseudonymizer, int, string, byte[]> compute)
    {
        var key = (tenantId, kind, value);
        var generation = Volatile.Read(ref current);
        if (generation.Values.TryGetValue(key, out var known))
        {
            return known;
        }

        if (!Volatile.Read(ref previous).Values.TryGetValue(key, out known))
        {
            known = compute(For(tenantId), kind, value);
        }

        if (generation.Values.TryAdd(key, known) && Interlocked.Increment(ref generation.Count) >= MaxCachedTerms / 2)
        {
            lock (rotation)
            {
                if (ReferenceEquals(current, generation))
                {
                    Volatile.Write(ref previous, generation);
                    Volatile.Write(ref current, new Generation());
                }
            }
        }

        return known;
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

    private sealed class Generation
    {
        public readonly ConcurrentDictionary<(Guid Tenant, int Kind, string Value), byte[]> Values = new();
        public int Count;
    }
}
