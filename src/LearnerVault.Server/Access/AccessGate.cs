using LearnerVault.Privacy.Access;
using LearnerVault.Privacy.Audit;
using LearnerVault.Server.Audit;
using LearnerVault.Server.Options;
using LearnerVault.Server.Statements;
using LearnerVault.Storage.People;
using Decision = LearnerVault.Privacy.Access.AccessDecision;
using LoggedDecision = LearnerVault.Privacy.Audit.AccessDecision;

namespace LearnerVault.Server.Access;

/// <summary>
/// The access gate over the privacy store and the access log. Per call: the tenant's policy (read every time, so a
/// change applies to the very next request on every node), the facts of each distinct learner (one lookup for all the
/// pseudonyms, one load for those registered), <see cref="AccessRules.Decide"/> once per learner, and one log entry per
/// learner and decision with its record count, committed (group commit, <see cref="AccessLogWriter"/>) before the call
/// returns; or, for an allowed statement write (<see cref="DecideWriteAsync"/>), handed to the caller to append with the
/// write.
/// </summary>
public sealed class AccessGate(IPrivacyStore privacy, AccessLogWriter log, TenantCrypto crypto, ServerOptions options) : IAccessGate
{
    /// <summary>The pseudonym namespace of a learner named by id (admin API, CLI) who has no registered pseudonym.</summary>
    public const string LearnerIdNamespace = "learner-id";

    private const string StoredRestrictedReason = "the record was stored restricted: it is kept but not processed further";

    public async Task<GateOutcome> DecideRecordsAsync(
        Principal principal, AccessAction action, Purpose purpose, IReadOnlyList<GateRecord> records, CancellationToken cancellationToken)
    {
        var (outcome, entries) = await DecideAsync(principal, action, purpose, records, cancellationToken);
        await log.AppendAsync(principal.TenantId, entries, cancellationToken);
        return outcome;
    }

    public async Task<GateWrite> DecideWriteAsync(
        Principal principal, AccessAction action, Purpose purpose, IReadOnlyList<byte[]?> learnerPseudonyms, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(learnerPseudonyms);
        var (outcome, entries) = await DecideAsync(principal, action, purpose, [.. learnerPseudonyms.Select(p => new GateRecord(p))], cancellationToken);
        if (!outcome.AllAllowed)
        {
            // Nothing will be written: the refusal is logged here, as for any other decision.
            await log.AppendAsync(principal.TenantId, entries, cancellationToken);
            return new GateWrite(outcome, []);
        }

        return new GateWrite(outcome, entries);
    }

    /// <summary>The decisions and the log entries that record them (not yet appended).</summary>
    private async Task<(GateOutcome Outcome, List<AccessLogEntry> Entries)> DecideAsync(
        Principal principal, AccessAction action, Purpose purpose, IReadOnlyList<GateRecord> records, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(principal);
        ArgumentNullException.ThrowIfNull(purpose);
        ArgumentNullException.ThrowIfNull(records);
        var tenant = principal.TenantId;
        var now = options.TimeProvider.GetUtcNow();

        var keys = new string?[records.Count];
        var learners = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        for (var i = 0; i < records.Count; i++)
        {
            if (records[i].LearnerPseudonym is { } pseudonym)
            {
                var hex = Convert.ToHexStringLower(pseudonym);
                keys[i] = hex;
                learners.TryAdd(hex, pseudonym);
            }
        }

        // The policy and the learner lookup are independent reads: one round trip's latency for both.
        var policyTask = privacy.GetPolicyAsync(tenant, cancellationToken);
        var factsTask = LoadFactsAsync(tenant, learners, cancellationToken);
        await Task.WhenAll(policyTask, factsTask);
        var policy = await policyTask;
        var facts = await factsTask;

        var byLearner = new Dictionary<string, Decision>(StringComparer.Ordinal);
        var restrictedByLearner = new Dictionary<string, Decision>(StringComparer.Ordinal);
        Decision? noLearner = null;
        Decision? noLearnerRestricted = null;
        var decisions = new Decision[records.Count];
        var logged = new List<(Decision Decision, byte[]? Pseudonym, long Count)>();
        var logIndex = new Dictionary<Decision, int>(ReferenceEqualityComparer.Instance);
        for (var i = 0; i < records.Count; i++)
        {
            Decision decision;
            if (keys[i] is { } hex)
            {
                if (!byLearner.TryGetValue(hex, out decision!))
                {
                    decision = AccessRules.Decide(principal, action, facts[hex], purpose, policy, now);
                    byLearner[hex] = decision;
                }

                if (records[i].StoredRestricted && WithholdsRestricted(principal, action, decision))
                {
                    if (!restrictedByLearner.TryGetValue(hex, out var withheld))
                    {
                        withheld = Withhold(decision);
                        restrictedByLearner[hex] = withheld;
                    }

                    decision = withheld;
                }
            }
            else
            {
                decision = noLearner ??= AccessRules.Decide(principal, action, null, purpose, policy, now);
                if (records[i].StoredRestricted && WithholdsRestricted(principal, action, decision))
                {
                    decision = noLearnerRestricted ??= Withhold(decision);
                }
            }

            decisions[i] = decision;
            if (logIndex.TryGetValue(decision, out var at))
            {
                logged[at] = logged[at] with { Count = logged[at].Count + 1 };
            }
            else
            {
                logIndex[decision] = logged.Count;
                logged.Add((decision, records[i].LearnerPseudonym, 1));
            }
        }

        var entries = logged.Select(l => Entry(principal, action, purpose, now, l.Pseudonym, l.Count, l.Decision)).ToList();
        return (new GateOutcome(decisions), entries);
    }

    public async Task<(LearnerLookup Lookup, Decision? Decision)> DecideLearnerAsync(
        Principal principal, AccessAction action, Guid learnerId, Purpose purpose, long records, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(principal);
        ArgumentNullException.ThrowIfNull(purpose);
        var tenant = principal.TenantId;
        if (await privacy.FindLearnerTenantAsync(learnerId, cancellationToken) is not { } home)
        {
            return (LearnerLookup.NotFound, null);
        }

        var policyTask = privacy.GetPolicyAsync(tenant, cancellationToken);
        var recordTask = privacy.GetLearnerAsync(home, learnerId, cancellationToken);
        var factsTask = privacy.GetLearnerFactsAsync(home, [learnerId], cancellationToken);
        await Task.WhenAll(policyTask, recordTask, factsTask);
        var learner = await recordTask;
        if (learner is null || !(await factsTask).TryGetValue(learnerId, out var loaded))
        {
            return (LearnerLookup.NotFound, null); // erased between the two reads
        }

        var now = options.TimeProvider.GetUtcNow();
        var homePseudonym = learner.Pseudonyms.Count > 0 ? learner.Pseudonyms[0] : IdPseudonym(home, learnerId);
        if (home == tenant)
        {
            var decision = AccessRules.Decide(
                principal, action, WithPseudonym(loaded, Convert.ToHexStringLower(homePseudonym)), purpose, await policyTask, now);
            await log.AppendAsync(tenant, [Entry(principal, action, purpose, now, homePseudonym, records, decision)], cancellationToken);
            return (LearnerLookup.Found, decision);
        }

        // Facts of the other tenant (TenantId = that tenant), so the rules deny it as cross-tenant. The decision carries
        // the pseudonym the principal's own tenant gives the id: nothing of the other tenant goes back to the caller.
        var localPseudonym = IdPseudonym(tenant, learnerId);
        var denied = AccessRules.Decide(
            principal, action, WithPseudonym(loaded, Convert.ToHexStringLower(localPseudonym)), purpose, await policyTask, now);
        await Task.WhenAll(
            log.AppendAsync(tenant, [Entry(principal, action, purpose, now, localPseudonym, records, denied)], cancellationToken),
            log.AppendAsync(home, [Entry(principal, action, purpose, now, homePseudonym, records, denied)], cancellationToken));
        return (LearnerLookup.OtherTenant, denied);
    }

    public async Task<IReadOnlyList<byte[]>> LearnerLogPseudonymsAsync(Guid tenantId, Guid learnerId, CancellationToken cancellationToken)
    {
        var learner = await privacy.GetLearnerAsync(tenantId, learnerId, cancellationToken);
        var pseudonyms = new List<byte[]>(learner?.Pseudonyms ?? []);
        var byId = IdPseudonym(tenantId, learnerId);
        if (!pseudonyms.Any(p => p.AsSpan().SequenceEqual(byId)))
        {
            pseudonyms.Add(byId);
        }

        return pseudonyms;
    }

    /// <summary>The keyed pseudonym of a learner id in a tenant (see <see cref="LearnerIdNamespace"/>).</summary>
    public byte[] IdPseudonym(Guid tenantId, Guid learnerId) =>
        crypto.For(tenantId).Pseudonym(LearnerIdNamespace, learnerId.ToString("D"));

    /// <summary>How the log names a principal: <c>client:&lt;key&gt;</c> or <c>person:&lt;id&gt;</c>.</summary>
    public static string PrincipalName(Principal principal)
    {
        ArgumentNullException.ThrowIfNull(principal);
        return (principal.Role == Role.ClientApp ? "client:" : "person:") + principal.Id;
    }

    private async Task<Dictionary<string, LearnerFacts>> LoadFactsAsync(
        Guid tenant, Dictionary<string, byte[]> learners, CancellationToken cancellationToken)
    {
        var facts = new Dictionary<string, LearnerFacts>(learners.Count, StringComparer.Ordinal);
        if (learners.Count == 0)
        {
            return facts;
        }

        var hexes = learners.Keys.ToList();
        var found = await privacy.FindLearnersAsync(tenant, [.. hexes.Select(h => learners[h])], cancellationToken);
        var ids = found.OfType<Guid>().Distinct().ToList();
        var loaded = ids.Count == 0
            ? new Dictionary<Guid, LearnerFacts>()
            : await privacy.GetLearnerFactsAsync(tenant, ids, cancellationToken);
        for (var i = 0; i < hexes.Count; i++)
        {
            facts[hexes[i]] = found[i] is { } id && loaded.TryGetValue(id, out var known)
                ? WithPseudonym(known, hexes[i])
                : Unregistered(tenant, hexes[i]);
        }

        return facts;
    }

    /// <summary>A learner the identity vault does not know: no consents, unknown age, not restricted.</summary>
    private static LearnerFacts Unregistered(Guid tenant, string hex) => new()
    {
        TenantId = tenant,
        LearnerId = "pseudonym:" + hex,
        Pseudonym = hex,
    };

    private static LearnerFacts WithPseudonym(LearnerFacts facts, string hex) => facts with { Pseudonym = hex };

    /// <summary>
    /// A record stored restricted is kept, not processed: its content goes to no one but the learner and their guardians
    /// (the right of access), however the learner's facts stand now.
    /// </summary>
    private static bool WithholdsRestricted(Principal principal, AccessAction action, Decision decision) =>
        decision.Allowed && action.IsContentRead() && principal.Role is not (Role.Learner or Role.Guardian);

    private static Decision Withhold(Decision allowed) => allowed with
    {
        Allowed = false,
        Code = DecisionCode.Restricted,
        Reason = StoredRestrictedReason,
        StoreRestricted = false,
    };

    private static AccessLogEntry Entry(
        Principal principal, AccessAction action, Purpose purpose, DateTimeOffset now, byte[]? pseudonym, long records, Decision decision) =>
        new(
            now,
            PrincipalName(principal),
            principal.ClientId,
            action.Name(),
            purpose.Name,
            pseudonym,
            records,
            decision.Allowed ? LoggedDecision.Allow : LoggedDecision.Deny,
            decision.ReasonCode);
}
