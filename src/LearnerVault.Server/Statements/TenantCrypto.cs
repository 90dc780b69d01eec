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
    private readonly ConcurrentDictionary<Guid, Pseudonymizer> pseudonymizers = new();

    public Pseudonymizer For(Guid tenantId) =>
        pseudonymizers.GetOrAdd(tenantId, static (id, store) => new Pseudonymizer(store.GetPseudonymKey(id)), keys);

    public IndexTerm Term(Guid tenantId, TermKind kind, string normalisedValue) =>
        new(kind, For(tenantId).Term(Namespace(kind), normalisedValue));

    /// <summary>The learner pseudonym under which the learner's data key is kept.</summary>
    public byte[] LearnerPseudonym(Guid tenantId, string normalisedIfi) => For(tenantId).Pseudonym("learner", normalisedIfi);

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
