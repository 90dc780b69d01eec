namespace LearnerVault.Privacy.Access;

/// <summary>
/// The access decision: the single rule set through which every read and write of personal data passes. Pure: it
/// reads only its arguments (the caller loads the learner's facts and the tenant's policy and writes the audit entry
/// from the returned <see cref="AccessDecision"/>, allow or deny).
/// </summary>
public static class AccessRules
{
    private static readonly HashSet<AccessAction> DataSubjectActions =
    [
        AccessAction.StatementsRead, AccessAction.DocumentsRead, AccessAction.ConsentsRead, AccessAction.ConsentsWrite,
        AccessAction.AccessLogRead, AccessAction.Export, AccessAction.LearnerRecordRead,
    ];

    private static readonly HashSet<AccessAction> ClientActions =
        [AccessAction.StatementsWrite, AccessAction.StatementsRead, AccessAction.DocumentsWrite, AccessAction.DocumentsRead];

    private static readonly HashSet<AccessAction> StaffReadActions = [AccessAction.StatementsRead, AccessAction.DocumentsRead];

    private static readonly HashSet<AccessAction> OversightActions =
    [
        AccessAction.ConsentsRead, AccessAction.ConsentsWrite, AccessAction.AccessLogRead, AccessAction.LearnerRecordRead,
        AccessAction.RestrictionWrite,
    ];

    private static readonly HashSet<AccessAction> IdentityActions = [AccessAction.LearnerRecordRead, AccessAction.LearnerRecordWrite];

    private static readonly HashSet<AccessAction> ResearchActions =
        [AccessAction.StatementsRead, AccessAction.DocumentsRead, AccessAction.Export];

    /// <summary>
    /// Decides whether <paramref name="principal"/> may perform <paramref name="action"/> on the data of
    /// <paramref name="learner"/> for <paramref name="purpose"/> at <paramref name="now"/>. The first rule that denies
    /// wins; every outcome names its reason.
    /// </summary>
    /// <remarks>
    /// <para><b>1. Tenants.</b> A principal acts only in its own tenant: a learner or a policy of another tenant is
    /// denied (<see cref="DecisionCode.CrossTenant"/>) before anything else, whatever the role, action or consents.</para>
    /// <para><b>2. Role, action, purpose, relation.</b></para>
    /// <list type="table">
    /// <listheader><term>role</term><description>may</description></listheader>
    /// <item><term>learner</term><description>statements.read, documents.read, consents.read/write, accesslog.read, export,
    /// learner.read on their OWN data only, for any purpose: this is the data subject exercising their rights (access, portability,
    /// consent), which no lawful basis, restriction or objection limits. Writing learning data goes through apps.</description></item>
    /// <item><term>guardian</term><description>the same, on the data of a learner who lists them as guardian.</description></item>
    /// <item><term>teacher</term><description>statements.read and documents.read, for instruction or assessment only, of
    /// learners in one of their classes; the purpose's lawful basis must hold (rule 3). Teachers write through apps.</description></item>
    /// <item><term>school administrator</term><description>statements.read and documents.read for school-administration
    /// only, any learner of the tenant; rule 3 applies. learner.read and learner.write (the identity record: registration,
    /// age, guardian links, class membership) for school-administration only, without rule 3: the register is what
    /// restriction and objection are recorded against, and keeping it is the storage that restriction still allows.</description></item>
    /// <item><term>data protection officer</term><description>consents.read, consents.write (recording a consent or
    /// withdrawal received through another channel, e.g. a paper form; the record still names the learner or guardian
    /// who made it), accesslog.read, learner.read and restriction.write (recording a restriction or objection the learner
    /// obtained), for any learner of the tenant or the whole tenant. Never learning content
    /// (statements, documents, exports): oversight needs the record of processing, not what the child did.</description></item>
    /// <item><term>analyst</term><description>nothing through this gate (<see cref="DecisionCode.AggregateOnly"/>):
    /// statistics come from the differential-privacy engine, which never hands out a row.</description></item>
    /// <item><term>researcher</term><description>statements.read, documents.read, export, for research only, of a
    /// learner with a VALID research consent (whatever basis the tenant configured: design "consented-only extracts");
    /// rule 3 applies too. De-identifying the extract is the export's job, not this gate's.</description></item>
    /// <item><term>client app</term><description>statements.write/read, documents.write/read, only for a purpose it
    /// declares; never a read for policy-statistics (aggregates only); rule 3 applies. With no learner (a statement or
    /// document about nobody identifiable) the declared purpose suffices.</description></item>
    /// </list>
    /// <para><b>3. Lawful basis and the learner's rights</b> (teachers, administrators, researchers, clients):</para>
    /// <list type="bullet">
    /// <item>Consent basis: a <see cref="ConsentStatus.Valid"/> consent at <paramref name="now"/> (see
    /// <see cref="ConsentEvaluation"/>: latest counting record wins; a minor's, or unknown-age learner's, consent must come
    /// from a guardian); withdrawn, never asked, or from the wrong person → deny, writes included (collecting is
    /// processing). Public task, legal obligation, legitimate interest, contract: hold without a record.</item>
    /// <item>Objection to the purpose: denies when the basis is public task or legitimate interest (GDPR Art. 21), and
    /// also when it is consent (an objection is a withdrawal in substance); legal obligation and contract are not
    /// subject to objection.</item>
    /// <item>Restriction (Art. 18): anything beyond storage is denied.</item>
    /// <item>For a restricted or objecting learner, a NEW statement or document is allowed with
    /// <see cref="AccessDecision.StoreRestricted"/> or denied, per <see cref="TenantPolicy.RestrictedWrites"/>.</item>
    /// </list>
    /// <para>Advertising or profiling purposes never reach this method: no such <see cref="Purpose"/> can be built.</para>
    /// </remarks>
    public static AccessDecision Decide(
        Principal principal, AccessAction action, LearnerFacts? learner, Purpose purpose, TenantPolicy policy, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(principal);
        ArgumentNullException.ThrowIfNull(purpose);
        ArgumentNullException.ThrowIfNull(policy);
        var request = new Request(principal, action, learner, purpose, policy, now);

        if (policy.TenantId != principal.TenantId)
        {
            return request.Deny(DecisionCode.CrossTenant, "the tenant policy given belongs to another tenant than the principal");
        }

        if (learner is not null && learner.TenantId != principal.TenantId)
        {
            return request.Deny(DecisionCode.CrossTenant, "the learner belongs to another tenant than the principal");
        }

        return principal.Role switch
        {
            Role.Learner or Role.Guardian => DecideForDataSubject(request),
            Role.Teacher => DecideForTeacher(request),
            Role.SchoolAdministrator => DecideForSchoolAdministrator(request),
            Role.DataProtectionOfficer => DecideForDataProtectionOfficer(request),
            Role.Analyst => request.Deny(
                DecisionCode.AggregateOnly, "analysts never see a learner: statistics come from the differential-privacy engine"),
            Role.Researcher => DecideForResearcher(request),
            Role.ClientApp => DecideForClient(request),
            _ => request.Deny(DecisionCode.ActionNotPermittedForRole, $"unknown role {principal.Role}"),
        };
    }

    private static AccessDecision DecideForDataSubject(Request r)
    {
        if (!DataSubjectActions.Contains(r.Action))
        {
            return r.DenyAction();
        }

        if (r.Learner is not { } learner)
        {
            return r.DenyNoLearner();
        }

        if (r.Principal.Role == Role.Learner)
        {
            return r.Principal.LearnerId == learner.LearnerId
                ? r.Allow(DecisionCode.OwnData, "a learner acting on their own data")
                : r.Deny(DecisionCode.NotOwnData, "a learner may act only on their own data");
        }

        return learner.GuardianIds.Contains(r.Principal.Id)
            ? r.Allow(DecisionCode.GuardianOfLearner, "a guardian acting on their child's data")
            : r.Deny(DecisionCode.NotGuardian, "the guardian is not linked to this learner");
    }

    private static AccessDecision DecideForTeacher(Request r)
    {
        if (!StaffReadActions.Contains(r.Action))
        {
            return r.DenyAction();
        }

        if (r.Purpose != Purpose.Instruction && r.Purpose != Purpose.Assessment)
        {
            return r.DenyPurpose("teachers act only for instruction or assessment");
        }

        if (r.Learner is not { } learner)
        {
            return r.DenyNoLearner();
        }

        return learner.ClassIds.Overlaps(r.Principal.ClassIds)
            ? Processing(r, learner)
            : r.Deny(DecisionCode.NotOwnClass, "the learner is not in one of the teacher's classes");
    }

    private static AccessDecision DecideForSchoolAdministrator(Request r)
    {
        if (IdentityActions.Contains(r.Action))
        {
            return r.Purpose == Purpose.SchoolAdministration
                ? r.Allow(DecisionCode.IdentityAdministration, "the school administrator keeping the learner's identity record")
                : r.DenyPurpose("school administrators act only for school administration");
        }

        if (!StaffReadActions.Contains(r.Action))
        {
            return r.DenyAction();
        }

        if (r.Purpose != Purpose.SchoolAdministration)
        {
            return r.DenyPurpose("school administrators act only for school administration");
        }

        return r.Learner is { } learner ? Processing(r, learner) : r.AllowNoLearner();
    }

    private static AccessDecision DecideForDataProtectionOfficer(Request r) =>
        OversightActions.Contains(r.Action)
            ? r.Allow(DecisionCode.Oversight, "the data protection officer overseeing consents and the access log")
            : r.Deny(DecisionCode.ActionNotPermittedForRole, "the data protection officer oversees consents, restrictions and the log, not learning content or the register");

    private static AccessDecision DecideForResearcher(Request r)
    {
        if (!ResearchActions.Contains(r.Action))
        {
            return r.DenyAction();
        }

        if (r.Purpose != Purpose.Research)
        {
            return r.DenyPurpose("researchers act only for research");
        }

        if (r.Learner is not { } learner)
        {
            return r.DenyNoLearner();
        }

        var consent = ConsentEvaluation.Evaluate(learner, Purpose.Research, r.Policy, r.Now);
        return consent == ConsentStatus.Valid ? Processing(r, learner) : r.DenyConsent(consent);
    }

    private static AccessDecision DecideForClient(Request r)
    {
        if (!ClientActions.Contains(r.Action))
        {
            return r.DenyAction();
        }

        if (!r.Principal.DeclaredPurposes.Contains(r.Purpose))
        {
            return r.Deny(DecisionCode.PurposeNotDeclared, $"the client did not declare the purpose '{r.Purpose}'");
        }

        if (r.Purpose == Purpose.PolicyStatistics && r.Action.IsContentRead())
        {
            return r.Deny(
                DecisionCode.AggregateOnly, "policy statistics are answered in aggregate by the differential-privacy engine, never row by row");
        }

        return r.Learner is { } learner ? Processing(r, learner) : r.AllowNoLearner();
    }

    /// <summary>Rule 3: the lawful basis, then restriction and objection (with the tenant's policy for new data).</summary>
    private static AccessDecision Processing(Request r, LearnerFacts learner)
    {
        var basis = r.Policy.BasisFor(r.Purpose);
        if (basis == LawfulBasis.Consent)
        {
            var consent = ConsentEvaluation.Evaluate(learner, r.Purpose, r.Policy, r.Now);
            if (consent != ConsentStatus.Valid)
            {
                return r.DenyConsent(consent);
            }
        }

        var objected = learner.Objections.Contains(r.Purpose)
            && basis is LawfulBasis.PublicTask or LawfulBasis.LegitimateInterest or LawfulBasis.Consent;
        if (learner.Restricted || objected)
        {
            var (code, why) = learner.Restricted
                ? (DecisionCode.Restricted, "the learner obtained restriction of processing")
                : (DecisionCode.Objection, $"the learner objected to the purpose '{r.Purpose}'");
            if (r.Action.IsContentWrite() && r.Policy.RestrictedWrites == RestrictedWritePolicy.StoreRestricted)
            {
                return r.Allow(DecisionCode.StoredRestricted, $"{why}: the new data is stored restricted") with { StoreRestricted = true };
            }

            return r.Deny(code, why);
        }

        return r.Allow(DecisionCode.LawfulBasisHolds, $"the purpose '{r.Purpose}' rests on {Describe(basis)}, which holds for this learner");
    }

    private static string Describe(LawfulBasis basis) => basis switch
    {
        LawfulBasis.Consent => "consent",
        LawfulBasis.PublicTask => "a public task",
        LawfulBasis.LegalObligation => "a legal obligation",
        LawfulBasis.LegitimateInterest => "legitimate interests",
        LawfulBasis.Contract => "a contract",
        _ => basis.ToString(),
    };

    private sealed record Request(
        Principal Principal, AccessAction Action, LearnerFacts? Learner, Purpose Purpose, TenantPolicy Policy, DateTimeOffset Now)
    {
        public AccessDecision Allow(DecisionCode code, string reason) => Outcome(allowed: true, code, reason);

        public AccessDecision Deny(DecisionCode code, string reason) => Outcome(allowed: false, code, reason);

        public AccessDecision AllowNoLearner() => Allow(DecisionCode.NoLearner, "the data concerns no identifiable learner");

        public AccessDecision DenyAction() =>
            Deny(DecisionCode.ActionNotPermittedForRole, $"the role {Principal.Role} never performs {Action.Name()}");

        public AccessDecision DenyPurpose(string reason) => Deny(DecisionCode.PurposeNotPermittedForRole, reason);

        public AccessDecision DenyNoLearner() => Deny(DecisionCode.LearnerRequired, $"{Action.Name()} by this role needs a learner");

        public AccessDecision DenyConsent(ConsentStatus status) => status switch
        {
            ConsentStatus.Withdrawn => Deny(DecisionCode.ConsentWithdrawn, $"consent to '{Purpose}' was withdrawn"),
            ConsentStatus.NeedsGuardian => Deny(
                DecisionCode.ConsentNeedsGuardian, $"the learner is under the age of digital consent and no guardian consented to '{Purpose}'"),
            ConsentStatus.NeedsLearner => Deny(
                DecisionCode.ConsentNeedsLearner, $"the learner is of age and has not consented to '{Purpose}' themself"),
            _ => Deny(DecisionCode.ConsentMissing, $"no consent to '{Purpose}' was given"),
        };

        private AccessDecision Outcome(bool allowed, DecisionCode code, string reason) => new()
        {
            Allowed = allowed,
            Code = code,
            Reason = reason,
            At = Now,
            TenantId = Principal.TenantId,
            Role = Principal.Role,
            PrincipalId = Principal.Id,
            ClientId = Principal.ClientId,
            Action = Action,
            Purpose = Purpose,
            LearnerId = Learner?.LearnerId,
            LearnerPseudonym = Learner?.Pseudonym,
        };
    }
}
