using System.Net;
using System.Text.Json;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using LearnerVault.Privacy.Access;

namespace LearnerVault.Server.Tests.Access;

/// <summary>
/// Random interleavings of consent changes (given or withdrawn, by the learner or a guardian, for an adult, a minor and
/// an unregistered learner), statement writes and reads (queries and by id) by clients declaring different purposes,
/// over real HTTP: after every read, the statements returned are exactly those of learners for whom the purpose is
/// lawful at that moment, and a write succeeds exactly when it is. The expectation comes from a model kept here (the
/// latest consent event that counts, per learner and purpose), not from the server's rules.
/// </summary>
public sealed class AccessGateProperties(AccessKit kit) : IClassFixture<AccessKit>
{
    private static readonly string[] Mailboxes = ["mailto:adult@example.org", "mailto:minor@example.org", "mailto:stranger@example.org"];

    /// <summary>Client 0 declares instruction and research, client 1 assessment and a vendor, client 2 research only.</summary>
    private static readonly string[][] ClientPurposes = [["instruction", "research"], ["assessment", "vendor:kolibri"], ["research"]];

    /// <summary>Under consent in the property's policy (instruction stays a public task).</summary>
    private static readonly HashSet<string> UnderConsent = ["assessment", "research", "vendor:kolibri"];

    public enum OpKind
    {
        Give,
        Withdraw,
        Write,
        Query,
        ReadById,
    }

    /// <param name="ByGuardian">The consent comes from the learner's guardian rather than the learner.</param>
    /// <param name="Purpose">Index into the client's declared purposes (for consents: into all four purposes).</param>
    public sealed record Op(OpKind Kind, int Learner, int Client, int Purpose, bool ByGuardian, int Pick);

    private static Gen<Op> OpGen =>
        from kind in Gen.Elements(OpKind.Give, OpKind.Give, OpKind.Withdraw, OpKind.Write, OpKind.Write, OpKind.Query, OpKind.Query, OpKind.ReadById)
        from learner in Gen.Choose(0, Mailboxes.Length - 1)
        from client in Gen.Choose(0, ClientPurposes.Length - 1)
        from purpose in Gen.Choose(0, 3)
        from byGuardian in Gen.Elements(false, true)
        from pick in Gen.Choose(0, 1000)
        select new Op(kind, learner, client, purpose, byGuardian, pick);

    private static Arbitrary<Op[]> Ops => Gen.ArrayOf(OpGen).ToArbitrary();

    [Property(MaxTest = 30, EndSize = 30)]
    public Property Http_RandomConsentChangesWritesAndReads_ReturnOnlyWhatIsLawfulNow() =>
        Prop.ForAll(Ops, ops => Task.Run(() => RunAsync(ops)).GetAwaiter().GetResult());

    private async Task<bool> RunAsync(Op[] ops)
    {
        var tenant = await kit.TenantAsync();
        await kit.PolicyAsync(tenant, p => p.WithBasis(Purpose.Assessment, LawfulBasis.Consent).WithAgeOfDigitalConsent(13));
        var clients = new HttpClient[ClientPurposes.Length];
        for (var c = 0; c < clients.Length; c++)
        {
            clients[c] = await kit.ClientAsync(tenant, ["statements/write", "statements/read"], ClientPurposes[c]);
        }

        var adult = await kit.LearnerAsync(tenant, Mailboxes[0], 1990);
        var minor = await kit.LearnerAsync(tenant, Mailboxes[1], kit.Clock.GetUtcNow().Year - 9);
        var guardians = new[] { await kit.GuardianAsync(tenant, adult), await kit.GuardianAsync(tenant, minor) };
        Guid?[] learnerIds = [adult, minor, null];

        // The model: the latest counting consent event per (learner, purpose), and every statement stored.
        var latest = new Dictionary<(int Learner, string Purpose), bool>();
        var stored = new Dictionary<Guid, int>();
        bool Lawful(int learner, string purpose)
        {
            if (!UnderConsent.Contains(purpose))
            {
                return true;
            }

            return learnerIds[learner] is not null && latest.TryGetValue((learner, purpose), out var given) && given;
        }

        foreach (var op in ops)
        {
            kit.Clock.Advance(TimeSpan.FromSeconds(1));
            var http = clients[op.Client];
            var purpose = ClientPurposes[op.Client][op.Purpose % ClientPurposes[op.Client].Length];
            switch (op.Kind)
            {
                case OpKind.Give or OpKind.Withdraw when learnerIds[op.Learner] is { } learner:
                    {
                        var consentPurpose = Purpose.Parse(((string[])["instruction", "assessment", "research", "vendor:kolibri"])[op.Purpose]);
                        var give = op.Kind == OpKind.Give;
                        await kit.ConsentAsync(tenant, learner, consentPurpose, give ? ConsentChoice.Given : ConsentChoice.Withdrawn, op.ByGuardian ? guardians[op.Learner] : null);
                        // A withdrawal counts from anyone; a giving only from the learner when of age, a guardian when a minor.
                        var counts = !give || op.ByGuardian == (op.Learner == 1);
                        if (counts)
                        {
                            latest[(op.Learner, consentPurpose.Name)] = give;
                        }

                        break;
                    }

                case OpKind.Write:
                    {
                        var id = Guid.NewGuid();
                        using var request = new HttpRequestMessage(HttpMethod.Post, "statements")
                        {
                            Content = XapiJson.Content(AccessKit.Statement(Mailboxes[op.Learner], id)),
                        };
                        request.Headers.Add("X-LearnerVault-Purpose", purpose);
                        using var response = await http.SendAsync(request, AccessKit.Ct);
                        var lawful = Lawful(op.Learner, purpose);
                        if (response.StatusCode != (lawful ? HttpStatusCode.OK : HttpStatusCode.Forbidden))
                        {
                            return Fail($"write for {purpose} of learner {op.Learner}: {response.StatusCode}, lawful {lawful}");
                        }

                        if (lawful)
                        {
                            stored[id] = op.Learner;
                        }

                        break;
                    }

                case OpKind.Query:
                    {
                        var returned = await QueryAsync(http, purpose);
                        var expected = stored.Where(s => Lawful(s.Value, purpose)).Select(s => s.Key).ToHashSet();
                        if (!returned.SetEquals(expected))
                        {
                            return Fail($"query for {purpose}: {returned.Count} returned, {expected.Count} lawful, {returned.Except(expected).Count()} unlawful");
                        }

                        break;
                    }

                case OpKind.ReadById when stored.Count > 0:
                    {
                        var (id, learner) = stored.ElementAt(op.Pick % stored.Count);
                        var status = await AccessKit.GetByIdAsync(http, id, purpose);
                        if (status != (Lawful(learner, purpose) ? HttpStatusCode.OK : HttpStatusCode.NotFound))
                        {
                            return Fail($"read by id for {purpose} of learner {learner}: {status}");
                        }

                        break;
                    }
            }
        }

        await kit.AssertLogVerifiesAsync(tenant);
        foreach (var client in clients)
        {
            client.Dispose();
        }

        return true;
    }

    private static async Task<HashSet<Guid>> QueryAsync(HttpClient http, string purpose)
    {
        // A small limit, so that paging through pages the gate shortened is exercised too.
        var ids = new HashSet<Guid>();
        var next = "statements?limit=3";
        while (next.Length > 0)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, next);
            request.Headers.Add("X-LearnerVault-Purpose", purpose);
            using var response = await http.SendAsync(request, AccessKit.Ct);
            response.EnsureSuccessStatusCode();
            using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(AccessKit.Ct));
            foreach (var statement in body.RootElement.GetProperty("statements").EnumerateArray())
            {
                ids.Add(statement.GetProperty("id").GetGuid());
            }

            var more = body.RootElement.GetProperty("more").GetString() ?? string.Empty;
            next = more.Length == 0 ? string.Empty : more["/xapi/".Length..];
        }

        return ids;
    }

    private static bool Fail(string why)
    {
        TestContext.Current.SendDiagnosticMessage(why);
        return false;
    }
}
