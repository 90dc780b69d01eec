namespace LearnerVault.Privacy.Access;

/// <summary>Why <see cref="AccessRules.Decide"/> allowed or denied; <see cref="DecisionCodes.Code"/> gives the log spelling.</summary>
public enum DecisionCode
{
    // Allow
    /// <summary>A learner acting on their own data (right of access, portability, consent management).</summary>
    OwnData,

    /// <summary>A guardian acting on their child's data.</summary>
    GuardianOfLearner,

    /// <summary>The purpose's lawful basis holds for this learner now.</summary>
    LawfulBasisHolds,

    /// <summary>Allowed, but the new data is stored restricted (restricted or objecting learner, tenant policy store-restricted).</summary>
    StoredRestricted,

    /// <summary>The DPO's oversight: consents and the access log.</summary>
    Oversight,

    /// <summary>The data concerns no identifiable learner.</summary>
    NoLearner,

    /// <summary>The school administrator keeping the learner's identity record (the school's own register).</summary>
    IdentityAdministration,

    // Deny
    /// <summary>Principal and learner (or policy) belong to different tenants. Always denied.</summary>
    CrossTenant,

    /// <summary>The role never performs this action.</summary>
    ActionNotPermittedForRole,

    /// <summary>A client app acting for a purpose it did not declare.</summary>
    PurposeNotDeclared,

    /// <summary>The role never acts for this purpose.</summary>
    PurposeNotPermittedForRole,

    /// <summary>Row-level data asked for by an analyst, or read for policy statistics: aggregates go through the DP engine.</summary>
    AggregateOnly,

    /// <summary>A learner acting on someone else's data.</summary>
    NotOwnData,

    /// <summary>A guardian acting on a learner who is not their child.</summary>
    NotGuardian,

    /// <summary>A teacher acting on a learner outside their classes.</summary>
    NotOwnClass,

    /// <summary>The action needs a learner and none was given.</summary>
    LearnerRequired,

    /// <summary>Consent basis, and consent was never asked.</summary>
    ConsentMissing,

    /// <summary>Consent basis, and the latest record is a withdrawal.</summary>
    ConsentWithdrawn,

    /// <summary>Consent basis, the learner is a minor, and no linked guardian gave consent.</summary>
    ConsentNeedsGuardian,

    /// <summary>Consent basis, the learner is of age, and they have not given consent themself.</summary>
    ConsentNeedsLearner,

    /// <summary>The learner obtained restriction of processing.</summary>
    Restricted,

    /// <summary>The learner objected to this purpose.</summary>
    Objection,
}

/// <summary>Spellings of <see cref="DecisionCode"/>.</summary>
public static class DecisionCodes
{
    /// <summary>The machine-readable reason code, snake_case (e.g. <c>cross_tenant</c>, <c>consent_withdrawn</c>).</summary>
    public static string Code(this DecisionCode code)
    {
        var name = code.ToString();
        var builder = new System.Text.StringBuilder(name.Length + 8);
        for (var i = 0; i < name.Length; i++)
        {
            if (char.IsUpper(name[i]) && i > 0)
            {
                builder.Append('_');
            }

            builder.Append(char.ToLowerInvariant(name[i]));
        }

        return builder.ToString();
    }
}

/// <summary>
/// The outcome of one access decision, carrying everything an access-log entry needs: when, which tenant, who (role,
/// person or client id, client key), what action, for which purpose, about which learner (id and pseudonym), the
/// decision and its reason (code and text). The log adds the record count and the chain hash.
/// </summary>
public sealed record AccessDecision
{
    /// <summary>Whether the action may go ahead.</summary>
    public required bool Allowed { get; init; }

    /// <summary>Why, machine-readable.</summary>
    public required DecisionCode Code { get; init; }

    /// <summary>Why, in one sentence for the learner, guardian or DPO reading the log.</summary>
    public required string Reason { get; init; }

    /// <summary>
    /// When allowed for a write: the new data must be stored marked restricted (kept, not processed further).
    /// Always false for a denial.
    /// </summary>
    public bool StoreRestricted { get; init; }

    /// <summary>The moment the decision was taken for.</summary>
    public required DateTimeOffset At { get; init; }

    /// <summary>The principal's tenant (the log this entry goes to).</summary>
    public required Guid TenantId { get; init; }

    /// <summary>The principal's role.</summary>
    public required Role Role { get; init; }

    /// <summary>The person id or client key of the principal.</summary>
    public required string PrincipalId { get; init; }

    /// <summary>The client app's key when the principal is one.</summary>
    public string? ClientId { get; init; }

    /// <summary>The action asked for.</summary>
    public required AccessAction Action { get; init; }

    /// <summary>The purpose it was asked for.</summary>
    public required Purpose Purpose { get; init; }

    /// <summary>The learner's id, when the action concerns one.</summary>
    public string? LearnerId { get; init; }

    /// <summary>The learner's pseudonym, when the action concerns one and it is known.</summary>
    public string? LearnerPseudonym { get; init; }

    /// <summary>The machine-readable reason code (<see cref="DecisionCodes.Code"/> of <see cref="Code"/>).</summary>
    public string ReasonCode => Code.Code();
}
