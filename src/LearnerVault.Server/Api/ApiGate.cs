using LearnerVault.Privacy.Access;
using LearnerVault.Server.Access;

namespace LearnerVault.Server.Api;

/// <summary>
/// The admin API's way through the access gate: every read or write of a learner's personal data is decided (and
/// logged) by <see cref="IAccessGate"/>, and the outcome becomes an answer. A learner of another tenant is answered
/// exactly like one that does not exist (404), while the gate logs the cross-tenant attempt in both tenants.
/// </summary>
public static class ApiGate
{
    /// <summary>The purpose the register, consents and the log are kept for. The data subject's own requests are
    /// logged under it too: no lawful basis limits them, and the log needs a purpose.</summary>
    public static Purpose Purpose => Purpose.SchoolAdministration;

    /// <exception cref="ApiProblemException">404 for a learner not in the caller's tenant, 403 when denied.</exception>
    public static async Task<AccessDecision> RequireLearnerAsync(
        this IAccessGate gate, Principal principal, AccessAction action, Guid learnerId, CancellationToken ct, long records = 1)
    {
        var (lookup, decision) = await gate.DecideLearnerAsync(principal, action, learnerId, Purpose, records, ct);
        if (lookup != LearnerLookup.Found || decision is null)
        {
            throw ApiProblems.NotFound("learner");
        }

        return decision.Allowed ? decision : throw ApiProblems.Denied(decision.Reason);
    }

    /// <summary>
    /// Decides writing a learner who is not registered yet, known by the pseudonym the register will log them under
    /// (their first), before anything is stored.
    /// </summary>
    /// <exception cref="ApiProblemException">403 when denied.</exception>
    public static async Task RequireNewLearnerAsync(this IAccessGate gate, Principal principal, byte[] pseudonym, CancellationToken ct)
    {
        var outcome = await gate.DecideRecordsAsync(principal, AccessAction.LearnerRecordWrite, Purpose, [pseudonym], ct);
        if (outcome.FirstDenial is { } denial)
        {
            throw ApiProblems.Denied(denial.Reason);
        }
    }

    /// <summary>Decides an action that concerns no one learner (the tenant's whole log) and logs it.</summary>
    public static async Task RequireTenantAsync(this IAccessGate gate, Principal principal, AccessAction action, CancellationToken ct)
    {
        var outcome = await gate.DecideRecordsAsync(principal, action, Purpose, [null], ct);
        if (outcome.FirstDenial is { } denial)
        {
            throw ApiProblems.Denied(denial.Reason);
        }
    }
}
