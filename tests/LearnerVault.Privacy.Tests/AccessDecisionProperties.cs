using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using LearnerVault.Privacy.Access;

namespace LearnerVault.Privacy.Tests;

/// <summary>
/// Random interleavings of consent changes, writes and reads by several clients: a client is never allowed to read or
/// write a learner's data for a purpose that is not lawful for that learner at that moment. The expected answer comes
/// from a small model kept alongside (latest counting giving strictly after the latest withdrawal), not from
/// <see cref="ConsentEvaluation"/>.
/// </summary>
public sealed class AccessDecisionProperties
{
    private static readonly Guid Tenant = Guid.Parse("10000000-0000-0000-0000-000000000001");
    private static readonly DateTimeOffset Start = new(2030, 3, 1, 8, 0, 0, TimeSpan.Zero);
    private static readonly Purpose Kolibri = Purpose.Vendor("kolibri");
    private static readonly Purpose[] Purposes = [Purpose.Instruction, Purpose.Assessment, Purpose.Research, Kolibri];

    /// <summary>Instruction under public task; assessment, research and the vendor under consent; age of consent 13.</summary>
    private static readonly TenantPolicy Policy = TenantPolicy.CreateDefault(Tenant)
        .WithBasis(Purpose.Assessment, LawfulBasis.Consent)
        .WithAgeOfDigitalConsent(13);

    private static readonly HashSet<Purpose> UnderConsent = [Purpose.Assessment, Purpose.Research, Kolibri];

    private static readonly Principal[] Clients =
    [
        Principal.Client(Tenant, "c0", [Purpose.Instruction, Purpose.Research]),
        Principal.Client(Tenant, "c1", [Purpose.Assessment, Kolibri]),
        Principal.Client(Tenant, "c2", [Purpose.Instruction, Purpose.Assessment, Purpose.Research]),
    ];

    /// <summary>An adult, a minor with guardian G1, a learner of unknown age with guardian G2 (so a minor).</summary>
    private static readonly (string Id, int? BirthYear, string Guardian, bool Minor)[] Learners =
        [("adult", 1990, "G0", false), ("minor", 2022, "G1", true), ("unknown", null, "G2", true)];

    public enum OpKind
    {
        Give,
        Withdraw,
        Read,
        Write,
    }

    /// <summary>One step. <paramref name="Giver"/>: 0 the learner, 1 their guardian, 2 a stranger claiming to be a guardian.</summary>
    public sealed record Op(OpKind Kind, int Learner, int Purpose, int Client, int Giver, int AdvanceSeconds);

    private static Gen<Op> OpGen =>
        from kind in Gen.Elements(OpKind.Give, OpKind.Withdraw, OpKind.Read, OpKind.Read, OpKind.Write)
        from learner in Gen.Choose(0, Learners.Length - 1)
        from purpose in Gen.Choose(0, Purposes.Length - 1)
        from client in Gen.Choose(0, Clients.Length - 1)
        from giver in Gen.Choose(0, 2)
        from advance in Gen.Elements(0, 0, 1, 30, 3600)
        select new Op(kind, learner, purpose, client, giver, advance);

    [Property(MaxTest = 300)]
    public Property Decide_RandomConsentChangesReadsAndWrites_NeverAllowsAnUnlawfulPurpose() =>
        Prop.ForAll(Gen.ListOf(OpGen).ToArbitrary(), ops =>
        {
            var records = Learners.Select(_ => new List<ConsentRecord>()).ToArray();
            var lastGiven = new Dictionary<(int, int), DateTimeOffset>();
            var lastWithdrawn = new Dictionary<(int, int), DateTimeOffset>();
            var now = Start;
            var step = 0;
            foreach (var op in ops)
            {
                step++;
                now = now.AddSeconds(op.AdvanceSeconds);
                var (id, birthYear, guardian, minor) = Learners[op.Learner];
                var purpose = Purposes[op.Purpose];
                var key = (op.Learner, op.Purpose);
                switch (op.Kind)
                {
                    case OpKind.Give or OpKind.Withdraw:
                        var (by, giverId) = op.Giver switch
                        {
                            0 => (ConsentGiver.Learner, id),
                            1 => (ConsentGiver.Guardian, guardian),
                            _ => (ConsentGiver.Guardian, "G-stranger"),
                        };
                        var choice = op.Kind == OpKind.Give ? ConsentChoice.Given : ConsentChoice.Withdrawn;
                        records[op.Learner].Add(new ConsentRecord(purpose, choice, by, giverId, now, "api", "v1"));

                        // The model: anyone's withdrawal counts; a giving only from the learner (adult) or their own guardian (minor).
                        var rightPerson = minor ? op.Giver == 1 : op.Giver == 0;
                        if (choice == ConsentChoice.Withdrawn)
                        {
                            lastWithdrawn[key] = now;
                        }
                        else if (rightPerson)
                        {
                            lastGiven[key] = now;
                        }

                        break;
                    default:
                        var client = Clients[op.Client];
                        var consented = lastGiven.TryGetValue(key, out var given)
                            && (!lastWithdrawn.TryGetValue(key, out var withdrawn) || given > withdrawn);
                        var lawful = client.DeclaredPurposes.Contains(purpose) && (!UnderConsent.Contains(purpose) || consented);
                        var learner = new LearnerFacts
                        {
                            TenantId = Tenant,
                            LearnerId = id,
                            BirthYear = birthYear,
                            GuardianIds = new HashSet<string> { guardian },
                            Consents = records[op.Learner].ToList(),
                        };
                        var action = op.Kind == OpKind.Read ? AccessAction.StatementsRead : AccessAction.StatementsWrite;
                        var decision = AccessRules.Decide(client, action, learner, purpose, Policy, now);
                        if (decision.Allowed != lawful)
                        {
                            return false.Label(
                                $"step {step}: {client.Id} {action.Name()} {id} for {purpose} at +{(now - Start).TotalSeconds}s: "
                                + $"model says {(lawful ? "allow" : "deny")}, Decide said {decision.ReasonCode}");
                        }

                        break;
                }
            }

            return true.ToProperty();
        });
}
