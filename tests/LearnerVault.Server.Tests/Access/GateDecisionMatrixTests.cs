using LearnerVault.Privacy.Access;
using LearnerVault.Server.Access;
using LearnerVault.Storage.People;
using Microsoft.Extensions.DependencyInjection;
using LoggedDecision = LearnerVault.Privacy.Audit.AccessDecision;

namespace LearnerVault.Server.Tests.Access;

/// <summary>
/// The decision matrix through the real gate and the real store (SQLite, or PostgreSQL with LV_TEST_BACKEND): roles ×
/// actions × purposes × learner states (consent given, withdrawn, never asked, minor with and without a guardian's
/// consent, restricted, objecting) × relations (own data, own class, other class, other tenant). Every cell asserts
/// the gate's allow or deny — equal to the pure rules on the facts this test registered (those rules are checked cell by
/// cell against an independent table in LearnerVault.Privacy.Tests) — and that exactly one access-log entry was
/// written for it (two for a cross-tenant attempt: one in each tenant), carrying the decision, reason, principal,
/// action, purpose and learner pseudonym.
/// </summary>
public sealed class GateDecisionMatrixTests(AccessKit kit) : IClassFixture<AccessKit>
{
    public enum LearnerState
    {
        Given,
        Withdrawn,
        NeverAsked,
        MinorWithGuardianConsent,
        MinorWithOnlyOwnConsent,
        Restricted,
        Objecting,
    }

    public enum Relation
    {
        OwnData,
        OwnClass,
        OtherClass,
        OtherTenant,
    }

    private static readonly Purpose[] Purposes =
        [Purpose.Instruction, Purpose.Assessment, Purpose.SchoolAdministration, Purpose.Research, Purpose.PolicyStatistics, Purpose.Vendor("kolibri")];

    private static readonly Purpose[] ClientDeclares = [Purpose.Instruction, Purpose.Assessment, Purpose.Research, Purpose.Vendor("kolibri")];

    /// <summary>One tenant's side of the matrix: a learner per state, their guardian, and the class they are all in.</summary>
    private sealed record Side(Guid Tenant, Dictionary<LearnerState, (Guid Id, LearnerFacts Facts, byte[] Pseudonym)> Learners, Guid Guardian, Guid Class);

    [Fact]
    public async Task Gate_EveryCell_DecidesAsTheRulesAndWritesItsEntry()
    {
        var home = await SideAsync(await kit.TenantAsync());
        var other = await SideAsync(await kit.TenantAsync());
        var policy = await kit.Privacy.GetPolicyAsync(home.Tenant, AccessKit.Ct);
        var gate = kit.Factory.Services.GetRequiredService<AccessGate>();
        var now = kit.Clock.GetUtcNow();

        var cells = new List<(long Number, Principal Principal, AccessAction Action, Purpose Purpose, Side Side, LearnerState State)>();
        foreach (var role in Enum.GetValues<Role>())
        {
            foreach (var action in AccessActions.All)
            {
                foreach (var purpose in Purposes)
                {
                    foreach (var state in Enum.GetValues<LearnerState>())
                    {
                        foreach (var relation in Enum.GetValues<Relation>())
                        {
                            var side = relation == Relation.OtherTenant ? other : home;
                            cells.Add((cells.Count + 1, PrincipalFor(role, relation, home, state), action, purpose, side, state));
                        }
                    }
                }
            }
        }

        Assert.True(cells.Count >= 200, $"{cells.Count} cells");

        // The cell number travels as the record count, so each log entry names its cell.
        var decided = new (LearnerLookup Lookup, AccessDecision? Decision)[cells.Count];
        foreach (var chunk in cells.Chunk(256))
        {
            await Task.WhenAll(chunk.Select(async c =>
                decided[c.Number - 1] = await gate.DecideLearnerAsync(c.Principal, c.Action, c.Side.Learners[c.State].Id, c.Purpose, c.Number, AccessKit.Ct)));
        }

        var homeLog = (await kit.LogAsync(home.Tenant)).ToLookup(e => e.Records);
        var otherLog = (await kit.LogAsync(other.Tenant)).ToLookup(e => e.Records);
        var allowed = 0;
        foreach (var cell in cells)
        {
            var learner = cell.Side.Learners[cell.State];
            var expected = AccessRules.Decide(cell.Principal, cell.Action, learner.Facts, cell.Purpose, policy, now);
            var (lookup, decision) = decided[cell.Number - 1];
            var where = $"cell {cell.Number}: {cell.Principal.Role} {cell.Action.Name()} {cell.Purpose} {cell.State} tenant {(cell.Side == home ? "own" : "other")}";
            Assert.True(decision is not null, where);
            Assert.True(expected.Allowed == decision.Allowed && expected.Code == decision.Code, $"{where}: expected {expected.ReasonCode}, got {decision.ReasonCode}");
            Assert.Equal(cell.Side == home ? LearnerLookup.Found : LearnerLookup.OtherTenant, lookup);
            allowed += decision.Allowed ? 1 : 0;

            var entry = Assert.Single(homeLog[cell.Number]);
            Assert.Equal(decision.Allowed ? LoggedDecision.Allow : LoggedDecision.Deny, entry.Decision);
            Assert.Equal(decision.ReasonCode, entry.Reason);
            Assert.Equal(AccessGate.PrincipalName(cell.Principal), entry.Principal);
            Assert.Equal(cell.Principal.ClientId, entry.Client);
            Assert.Equal(cell.Action.Name(), entry.Action);
            Assert.Equal(cell.Purpose.Name, entry.Purpose);
            if (cell.Side == home)
            {
                Assert.Equal(learner.Pseudonym, entry.LearnerPseudonym);
                Assert.Empty(otherLog[cell.Number]);
            }
            else
            {
                // Logged in the learner's tenant too, under that tenant's pseudonym; the caller's tenant never gets it.
                Assert.NotEqual(learner.Pseudonym, entry.LearnerPseudonym);
                var there = Assert.Single(otherLog[cell.Number]);
                Assert.Equal((LoggedDecision.Deny, "cross_tenant"), (there.Decision, there.Reason));
                Assert.Equal(learner.Pseudonym, there.LearnerPseudonym);
            }
        }

        // Both outcomes occur in bulk (a matrix that only ever denied would prove little).
        Assert.InRange(allowed, 500, cells.Count / 2);
        await kit.AssertLogVerifiesAsync(home.Tenant);
        await kit.AssertLogVerifiesAsync(other.Tenant);
    }

    private static Principal PrincipalFor(Role role, Relation relation, Side home, LearnerState state)
    {
        var tenant = home.Tenant;
        var self = home.Learners[state].Id;
        var someoneElse = home.Learners[state == LearnerState.Given ? LearnerState.NeverAsked : LearnerState.Given].Id;
        return role switch
        {
            Role.Learner => Principal.Learner(tenant, Guid.NewGuid().ToString("D"), (relation is Relation.OwnData or Relation.OtherTenant ? self : someoneElse).ToString("D")),
            Role.Guardian => Principal.Guardian(tenant, (relation is Relation.OwnData or Relation.OtherTenant ? home.Guardian : Guid.NewGuid()).ToString("D")),
            Role.Teacher => Principal.Teacher(tenant, Guid.NewGuid().ToString("D"), [(relation == Relation.OtherClass ? Guid.NewGuid() : home.Class).ToString("D")]),
            Role.ClientApp => Principal.Client(tenant, "matrix-app", ClientDeclares),
            _ => Principal.Person(tenant, Guid.NewGuid().ToString("D"), role),
        };
    }

    /// <summary>Registers one learner per state in the tenant, all in one class and with one guardian.</summary>
    private async Task<Side> SideAsync(Guid tenant)
    {
        var privacy = kit.Privacy;
        var ct = AccessKit.Ct;
        var at = kit.Clock.GetUtcNow();
        var guardian = Guid.NewGuid();
        var schoolClass = Guid.NewGuid();
        await privacy.AddPersonAsync(new PersonRecord(tenant, guardian, [Role.Guardian], null, null, null, at, null), ct);
        await privacy.AddClassAsync(new ClassRecord(tenant, schoolClass, "7B", at), ct);
        var learners = new Dictionary<LearnerState, (Guid, LearnerFacts, byte[])>();
        foreach (var state in Enum.GetValues<LearnerState>())
        {
            var id = Guid.NewGuid();
            var pseudonym = kit.Pseudonym(tenant, $"mailto:{state}.{id:N}@example.org");
            var minor = state is LearnerState.MinorWithGuardianConsent or LearnerState.MinorWithOnlyOwnConsent;
            var birthYear = minor ? at.Year - 9 : at.Year - 30;
            IReadOnlyList<Purpose> objections = state == LearnerState.Objecting ? [Purpose.Instruction, Purpose.Research] : [];
            await privacy.AddLearnerAsync(
                new LearnerRecord(tenant, id, [pseudonym], birthYear, null, state == LearnerState.Restricted, objections, at), ct);
            await privacy.LinkGuardianAsync(tenant, id, guardian, ct);
            await privacy.SetClassMemberAsync(tenant, schoolClass, id, true, ct);

            var consents = new List<ConsentRecord>();
            foreach (var purpose in Purposes)
            {
                ConsentRecord Record(ConsentChoice choice, bool byGuardian, int minutesAgo) => new(
                    purpose, choice, byGuardian ? ConsentGiver.Guardian : ConsentGiver.Learner,
                    (byGuardian ? guardian : id).ToString("D"), at.AddMinutes(-minutesAgo), "test", "v1");
                switch (state)
                {
                    case LearnerState.Given or LearnerState.Restricted or LearnerState.Objecting:
                        consents.Add(Record(ConsentChoice.Given, false, 10));
                        break;
                    case LearnerState.Withdrawn:
                        consents.Add(Record(ConsentChoice.Given, false, 10));
                        consents.Add(Record(ConsentChoice.Withdrawn, false, 5));
                        break;
                    case LearnerState.MinorWithGuardianConsent:
                        consents.Add(Record(ConsentChoice.Given, true, 10));
                        break;
                    case LearnerState.MinorWithOnlyOwnConsent:
                        consents.Add(Record(ConsentChoice.Given, false, 10));
                        break;
                }
            }

            foreach (var consent in consents)
            {
                await privacy.AddConsentAsync(tenant, id, consent, "test", ct);
            }

            var facts = new LearnerFacts
            {
                TenantId = tenant,
                LearnerId = id.ToString("D"),
                Pseudonym = Convert.ToHexStringLower(pseudonym),
                BirthYear = birthYear,
                GuardianIds = new HashSet<string>([guardian.ToString("D")], StringComparer.Ordinal),
                ClassIds = new HashSet<string>([schoolClass.ToString("D")], StringComparer.Ordinal),
                Consents = consents,
                Restricted = state == LearnerState.Restricted,
                Objections = objections.ToHashSet(),
            };
            learners[state] = (id, facts, pseudonym);
        }

        return new Side(tenant, learners, guardian, schoolClass);
    }
}
