using System.Text;
using LearnerVault.Privacy.Access;

namespace LearnerVault.Privacy.Tests;

/// <summary>
/// The decision matrix: roles × actions × purposes × consent states × relations × tenant policies. Every cell's
/// expected answer comes from <see cref="Expected"/>, a table written from the issue and the design, independently of
/// <see cref="AccessRules.Decide"/>; every cell also checks that the decision carries what its audit entry needs.
/// </summary>
public sealed class DecisionMatrixTests
{
    public enum ConsentState
    {
        Given,
        Withdrawn,
        NeverAsked,
        MinorWithGuardianConsent,
        MinorWithOnlyOwnConsent,
    }

    public enum Relation
    {
        OwnData,
        OwnClass,
        OtherClass,
        OtherTenant,
    }

    public enum PolicyKind
    {
        /// <summary>A new tenant's defaults: instruction, assessment, school administration under public task.</summary>
        Default,

        /// <summary>Every purpose under consent.</summary>
        AllConsent,
    }

    private static readonly Guid Tenant = Guid.Parse("10000000-0000-0000-0000-000000000001");
    private static readonly Guid OtherTenant = Guid.Parse("20000000-0000-0000-0000-000000000002");
    private static readonly DateTimeOffset Now = new(2030, 6, 15, 12, 0, 0, TimeSpan.Zero);
    private static readonly Purpose Kolibri = Purpose.Vendor("kolibri");

    private static readonly Purpose[] Purposes =
        [Purpose.Instruction, Purpose.Assessment, Purpose.SchoolAdministration, Purpose.Research, Purpose.PolicyStatistics, Kolibri];

    /// <summary>What the matrix's client app declares: not school administration, not policy statistics.</summary>
    private static readonly Purpose[] ClientDeclares = [Purpose.Instruction, Purpose.Assessment, Purpose.Research, Kolibri];

    public static TheoryData<Role> Roles => new(Enum.GetValues<Role>());

    /// <summary>
    /// The expected answer, as a table a DPO can read. Deny unless a line below allows.
    /// <code>
    /// other tenant                        → deny, always
    /// learner, guardian                   → own data (self / own child) only; statements.read, documents.read,
    ///                                       consents.read/write, accesslog.read, export, learner.read; any purpose;
    ///                                       no consent needed
    /// teacher                             → own class only; statements.read, documents.read; instruction, assessment; lawful
    /// school administrator                → statements.read, documents.read; school-administration; lawful
    ///                                     → learner.read, learner.write (the register); school-administration; always
    /// data protection officer             → consents.read/write, accesslog.read, learner.read, restriction.write;
    ///                                       any learner of the tenant, any purpose
    /// analyst                             → nothing (aggregates come from the DP engine)
    /// researcher                          → statements.read, documents.read, export; research; consented (and lawful)
    /// client app                          → statements.read/write, documents.read/write; declared purposes; lawful
    /// lawful = the purpose is not under consent in the policy, or consent is given by the right person
    ///          (given by the adult learner, or by a guardian for a minor)
    /// </code>
    /// </summary>
    private static bool Expected(Role role, AccessAction action, Purpose purpose, ConsentState consent, Relation relation, PolicyKind policy)
    {
        if (relation == Relation.OtherTenant)
        {
            return false;
        }

        var consented = consent is ConsentState.Given or ConsentState.MinorWithGuardianConsent;
        var underConsent = policy == PolicyKind.AllConsent
            || purpose == Purpose.Research || purpose == Purpose.PolicyStatistics || purpose.IsVendor;
        var lawful = !underConsent || consented;
        var isRead = action is AccessAction.StatementsRead or AccessAction.DocumentsRead;

        return role switch
        {
            Role.Learner or Role.Guardian => relation == Relation.OwnData && action is AccessAction.StatementsRead
                or AccessAction.DocumentsRead or AccessAction.ConsentsRead or AccessAction.ConsentsWrite
                or AccessAction.AccessLogRead or AccessAction.Export or AccessAction.LearnerRecordRead,
            Role.Teacher => relation == Relation.OwnClass && isRead
                && (purpose == Purpose.Instruction || purpose == Purpose.Assessment) && lawful,
            Role.SchoolAdministrator => purpose == Purpose.SchoolAdministration
                && ((isRead && lawful) || action is AccessAction.LearnerRecordRead or AccessAction.LearnerRecordWrite),
            Role.DataProtectionOfficer => action is AccessAction.ConsentsRead or AccessAction.ConsentsWrite or AccessAction.AccessLogRead
                or AccessAction.LearnerRecordRead or AccessAction.RestrictionWrite,
            Role.Analyst => false,
            Role.Researcher => (isRead || action == AccessAction.Export) && purpose == Purpose.Research && consented,
            Role.ClientApp => action is AccessAction.StatementsRead or AccessAction.StatementsWrite
                    or AccessAction.DocumentsRead or AccessAction.DocumentsWrite
                && ClientDeclares.Contains(purpose) && lawful,
            _ => throw new ArgumentOutOfRangeException(nameof(role)),
        };
    }

    [Fact]
    public void Matrix_Size_IsAtLeastTwoHundredCells()
    {
        var cells = Enum.GetValues<Role>().Length * AccessActions.All.Count * Purposes.Length
            * Enum.GetValues<ConsentState>().Length * Enum.GetValues<Relation>().Length * Enum.GetValues<PolicyKind>().Length;

        Assert.Equal(21120, cells);
    }

    [Theory]
    [MemberData(nameof(Roles))]
    public void Decide_EveryCellOfTheMatrix_MatchesTheTable(Role role)
    {
        var failures = new StringBuilder();
        var cells = 0;
        var allowed = 0;
        foreach (var action in AccessActions.All)
        {
            foreach (var purpose in Purposes)
            {
                foreach (var consent in Enum.GetValues<ConsentState>())
                {
                    foreach (var relation in Enum.GetValues<Relation>())
                    {
                        foreach (var policyKind in Enum.GetValues<PolicyKind>())
                        {
                            cells++;
                            var principal = PrincipalFor(role);
                            var learner = LearnerFor(relation, consent, purpose);
                            var decision = AccessRules.Decide(principal, action, learner, purpose, PolicyFor(policyKind), Now);
                            var expected = Expected(role, action, purpose, consent, relation, policyKind);
                            allowed += decision.Allowed ? 1 : 0;
                            var cell = $"{role} {action.Name()} {purpose} consent={consent} relation={relation} policy={policyKind}";
                            if (decision.Allowed != expected)
                            {
                                failures.AppendLine($"{cell}: expected {(expected ? "allow" : "deny")}, got {(decision.Allowed ? "allow" : "deny")} ({decision.ReasonCode}: {decision.Reason})");
                            }

                            if (relation == Relation.OtherTenant && decision.Code != DecisionCode.CrossTenant)
                            {
                                failures.AppendLine($"{cell}: a cross-tenant attempt must be denied as cross_tenant, got {decision.ReasonCode}");
                            }

                            if (!CarriesAuditFields(decision, principal, action, purpose, learner))
                            {
                                failures.AppendLine($"{cell}: the decision does not carry its audit entry's fields: {decision}");
                            }
                        }
                    }
                }
            }
        }

        Assert.True(failures.Length == 0, $"{role}: cells that differ from the table:\n{failures}");
        Assert.Equal(2640, cells);
        if (role is not Role.Analyst)
        {
            Assert.InRange(allowed, 1, cells - 1);
        }
    }

    private static bool CarriesAuditFields(AccessDecision d, Principal principal, AccessAction action, Purpose purpose, LearnerFacts learner) =>
        d.At == Now && d.TenantId == principal.TenantId && d.Role == principal.Role && d.PrincipalId == principal.Id
        && d.ClientId == principal.ClientId && d.Action == action && d.Purpose == purpose
        && d.LearnerId == learner.LearnerId && d.LearnerPseudonym == learner.Pseudonym
        && !string.IsNullOrEmpty(d.Reason) && !string.IsNullOrEmpty(d.ReasonCode);

    private static Principal PrincipalFor(Role role) => role switch
    {
        Role.Learner => Principal.Learner(Tenant, "person-self", "L-self"),
        Role.Guardian => Principal.Guardian(Tenant, "G1"),
        Role.Teacher => Principal.Teacher(Tenant, "T1", ["C1"]),
        Role.ClientApp => Principal.Client(Tenant, "client-lms", ClientDeclares),
        _ => Principal.Person(Tenant, $"person-{role}", role),
    };

    /// <summary>
    /// The learner in each relation to the principals above. The other-tenant learner copies the own-data learner's
    /// id, guardian and class exactly, so only the tenant differs.
    /// </summary>
    private static LearnerFacts LearnerFor(Relation relation, ConsentState consent, Purpose purpose)
    {
        var (tenant, id, guardian, @class) = relation switch
        {
            Relation.OwnData => (Tenant, "L-self", "G1", "C0"),
            Relation.OwnClass => (Tenant, "L-c1", "G-other", "C1"),
            Relation.OtherClass => (Tenant, "L-c2", "G-other", "C2"),
            _ => (OtherTenant, "L-self", "G1", "C1"),
        };
        var minor = consent is ConsentState.MinorWithGuardianConsent or ConsentState.MinorWithOnlyOwnConsent;
        ConsentRecord Record(ConsentChoice choice, ConsentGiver by, string giver, int daysAgo) =>
            new(purpose, choice, by, giver, Now.AddDays(-daysAgo), "web", "notice-v1");
        ConsentRecord[] records = consent switch
        {
            ConsentState.Given => [Record(ConsentChoice.Given, ConsentGiver.Learner, id, 10)],
            ConsentState.Withdrawn =>
            [
                Record(ConsentChoice.Given, ConsentGiver.Learner, id, 10),
                Record(ConsentChoice.Withdrawn, ConsentGiver.Learner, id, 1),
            ],
            ConsentState.MinorWithGuardianConsent => [Record(ConsentChoice.Given, ConsentGiver.Guardian, guardian, 10)],
            ConsentState.MinorWithOnlyOwnConsent => [Record(ConsentChoice.Given, ConsentGiver.Learner, id, 10)],
            _ => [],
        };

        return new LearnerFacts
        {
            TenantId = tenant,
            LearnerId = id,
            Pseudonym = $"pseudonym-{id}",
            BirthYear = minor ? 2020 : 2000,
            GuardianIds = new HashSet<string> { guardian },
            ClassIds = new HashSet<string> { @class },
            Consents = records,
        };
    }

    private static TenantPolicy PolicyFor(PolicyKind kind)
    {
        var policy = TenantPolicy.CreateDefault(Tenant);
        if (kind == PolicyKind.AllConsent)
        {
            foreach (var purpose in Purposes)
            {
                policy = policy.WithBasis(purpose, LawfulBasis.Consent);
            }
        }

        return policy;
    }
}
