using System.Net;
using System.Net.Http.Headers;
using System.Text;
using LearnerVault.Privacy.Access;
using LearnerVault.Server.Access;
using Microsoft.Extensions.DependencyInjection;
using LoggedDecision = LearnerVault.Privacy.Audit.AccessDecision;

namespace LearnerVault.Server.Tests.Access;

/// <summary>
/// The access gate over real HTTP: consent, age, objection, restriction and the purpose header decide what xAPI clients
/// may store and read, every decision lands in the tenant's access log, and the chain verifies afterwards.
/// </summary>
public sealed class AccessGateHttpTests(AccessKit kit) : IClassFixture<AccessKit>
{
    private const string Alice = "mailto:alice@example.org";
    private const string Bob = "mailto:bob@example.org";

    [Fact]
    public async Task Read_ResearchUnderConsent_FollowsConsentGivenAndWithdrawnAtTheNextRequest()
    {
        var tenant = await kit.TenantAsync();
        var writer = await kit.ClientAsync(tenant, AccessKit.WriteScopes, "instruction");
        var researcher = await kit.ClientAsync(tenant, AccessKit.ReadScopes, "research");
        var alice = await kit.LearnerAsync(tenant, Alice);
        var a1 = Guid.NewGuid();
        var a2 = Guid.NewGuid();
        var b1 = Guid.NewGuid();
        Assert.Equal(HttpStatusCode.OK, await AccessKit.PostAsync(writer, AccessKit.Statement(Alice, a1), AccessKit.Statement(Alice, a2), AccessKit.Statement(Bob, b1)));

        Assert.Empty(await AccessKit.QueryIdsAsync(researcher));
        Assert.Equal(HttpStatusCode.NotFound, await AccessKit.GetByIdAsync(researcher, a1));

        kit.Clock.Advance(TimeSpan.FromSeconds(1));
        await kit.ConsentAsync(tenant, alice, Purpose.Research, ConsentChoice.Given);
        Assert.Equal(new[] { a1, a2 }.Order(), (await AccessKit.QueryIdsAsync(researcher)).Order());
        Assert.Equal(HttpStatusCode.OK, await AccessKit.GetByIdAsync(researcher, a1));
        Assert.Equal(HttpStatusCode.NotFound, await AccessKit.GetByIdAsync(researcher, b1));

        kit.Clock.Advance(TimeSpan.FromSeconds(1));
        await kit.ConsentAsync(tenant, alice, Purpose.Research, ConsentChoice.Withdrawn);
        Assert.Empty(await AccessKit.QueryIdsAsync(researcher));
        Assert.Equal(HttpStatusCode.NotFound, await AccessKit.GetByIdAsync(researcher, a2));

        var log = await kit.LogAsync(tenant);
        var alicePseudonym = kit.Pseudonym(tenant, Alice);
        var bobPseudonym = kit.Pseudonym(tenant, Bob);
        var writes = log.Where(e => e.Action == "statements.write").ToList();
        Assert.Contains(writes, e => e.LearnerPseudonym!.SequenceEqual(alicePseudonym) && e.Records == 2 && e.Decision == LoggedDecision.Allow
            && e.Purpose == "instruction" && e.Reason == "lawful_basis_holds" && e.Principal.StartsWith("client:", StringComparison.Ordinal)
            && e.Principal == "client:" + e.Client);
        Assert.Contains(writes, e => e.LearnerPseudonym!.SequenceEqual(bobPseudonym) && e.Records == 1 && e.Decision == LoggedDecision.Allow);
        var reads = log.Where(e => e.Action == "statements.read" && e.Purpose == "research").ToList();
        Assert.Contains(reads, e => e.LearnerPseudonym!.SequenceEqual(alicePseudonym) && e.Records == 2 && e.Decision == LoggedDecision.Deny && e.Reason == "consent_missing");
        Assert.Contains(reads, e => e.LearnerPseudonym!.SequenceEqual(bobPseudonym) && e.Records == 1 && e.Decision == LoggedDecision.Deny && e.Reason == "consent_missing");
        Assert.Contains(reads, e => e.LearnerPseudonym!.SequenceEqual(alicePseudonym) && e.Records == 2 && e.Decision == LoggedDecision.Allow && e.Reason == "lawful_basis_holds");
        Assert.Contains(reads, e => e.LearnerPseudonym!.SequenceEqual(alicePseudonym) && e.Records == 2 && e.Decision == LoggedDecision.Deny && e.Reason == "consent_withdrawn");
        await kit.AssertLogVerifiesAsync(tenant);
    }

    [Fact]
    public async Task Read_MinorUnderConsent_NeedsAGuardiansConsent()
    {
        var tenant = await kit.TenantAsync();
        var writer = await kit.ClientAsync(tenant, AccessKit.WriteScopes);
        var researcher = await kit.ClientAsync(tenant, AccessKit.ReadScopes, "research");
        var child = await kit.LearnerAsync(tenant, Alice, birthYear: kit.Clock.GetUtcNow().Year - 10);
        var guardian = await kit.GuardianAsync(tenant, child);
        var id = Guid.NewGuid();
        Assert.Equal(HttpStatusCode.OK, await AccessKit.PostAsync(writer, AccessKit.Statement(Alice, id)));

        await kit.ConsentAsync(tenant, child, Purpose.Research, ConsentChoice.Given);
        Assert.Empty(await AccessKit.QueryIdsAsync(researcher));

        kit.Clock.Advance(TimeSpan.FromSeconds(1));
        await kit.ConsentAsync(tenant, child, Purpose.Research, ConsentChoice.Given, guardian);
        Assert.Equal([id], await AccessKit.QueryIdsAsync(researcher));

        var log = await kit.LogAsync(tenant);
        Assert.Contains(log, e => e.Action == "statements.read" && e.Reason == "consent_needs_guardian" && e.Decision == LoggedDecision.Deny);
        await kit.AssertLogVerifiesAsync(tenant);
    }

    [Fact]
    public async Task Objection_ToInstruction_WithholdsReadsAndStoresNewStatementsRestricted()
    {
        var tenant = await kit.TenantAsync();
        var app = await kit.ClientAsync(tenant, ["all"], "instruction");
        var alice = await kit.LearnerAsync(tenant, Alice);
        var before = Guid.NewGuid();
        var bob = Guid.NewGuid();
        Assert.Equal(HttpStatusCode.OK, await AccessKit.PostAsync(app, AccessKit.Statement(Alice, before), AccessKit.Statement(Bob, bob)));

        await kit.UpdateLearnerAsync(tenant, alice, l => l with { Objections = [Purpose.Instruction] });
        var after = Guid.NewGuid();
        Assert.Equal(HttpStatusCode.OK, await AccessKit.PostAsync(app, AccessKit.Statement(Alice, after)));

        Assert.Equal([bob], await AccessKit.QueryIdsAsync(app));
        Assert.True((await kit.Statements.GetAsync(tenant, after, AccessKit.Ct))!.Restricted);
        Assert.False((await kit.Statements.GetAsync(tenant, before, AccessKit.Ct))!.Restricted);

        // Objection lifted: the earlier statement is readable again, the one stored restricted never is.
        await kit.UpdateLearnerAsync(tenant, alice, l => l with { Objections = [] });
        Assert.Equal(new[] { before, bob }.Order(), (await AccessKit.QueryIdsAsync(app)).Order());
        Assert.Equal(HttpStatusCode.NotFound, await AccessKit.GetByIdAsync(app, after));

        var log = await kit.LogAsync(tenant);
        Assert.Contains(log, e => e.Action == "statements.write" && e.Reason == "stored_restricted" && e.Decision == LoggedDecision.Allow && e.Records == 1);
        Assert.Contains(log, e => e.Action == "statements.read" && e.Reason == "objection" && e.Decision == LoggedDecision.Deny);
        Assert.Contains(log, e => e.Action == "statements.read" && e.Reason == "restricted" && e.Decision == LoggedDecision.Deny && e.Records == 1);
        await kit.AssertLogVerifiesAsync(tenant);
    }

    [Fact]
    public async Task Write_RestrictedLearnerUnderStoreRestricted_StoresFlaggedAndNeverReturnsIt()
    {
        var tenant = await kit.TenantAsync();
        var app = await kit.ClientAsync(tenant, ["all"]);
        var alice = await kit.LearnerAsync(tenant, Alice);
        await kit.UpdateLearnerAsync(tenant, alice, l => l with { Restricted = true });
        var id = Guid.NewGuid();

        Assert.Equal(HttpStatusCode.OK, await AccessKit.PostAsync(app, AccessKit.Statement(Alice, id)));

        Assert.True((await kit.Statements.GetAsync(tenant, id, AccessKit.Ct))!.Restricted);
        Assert.Empty(await AccessKit.QueryIdsAsync(app));
        await kit.UpdateLearnerAsync(tenant, alice, l => l with { Restricted = false });
        Assert.Empty(await AccessKit.QueryIdsAsync(app));
        Assert.Equal(HttpStatusCode.NotFound, await AccessKit.GetByIdAsync(app, id));
        await kit.AssertLogVerifiesAsync(tenant);
    }

    [Fact]
    public async Task Write_RestrictedLearnerUnderRefuse_Returns403AndStoresNothingOfTheBatch()
    {
        var tenant = await kit.TenantAsync();
        await kit.PolicyAsync(tenant, p => p.WithRestrictedWrites(RestrictedWritePolicy.Refuse));
        var app = await kit.ClientAsync(tenant, ["all"]);
        var alice = await kit.LearnerAsync(tenant, Alice);
        await kit.UpdateLearnerAsync(tenant, alice, l => l with { Restricted = true });
        var bobs = Guid.NewGuid();
        var alices = Guid.NewGuid();

        using var response = await app.PostAsync(
            "statements", XapiJson.Content(new System.Text.Json.Nodes.JsonArray(AccessKit.Statement(Bob, bobs), AccessKit.Statement(Alice, alices))), AccessKit.Ct);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        var message = await response.Content.ReadAsStringAsync(AccessKit.Ct);
        Assert.Contains("restricted", message, StringComparison.Ordinal);
        Assert.DoesNotContain("alice", message, StringComparison.OrdinalIgnoreCase);
        Assert.Null(await kit.Statements.GetAsync(tenant, bobs, AccessKit.Ct));
        Assert.Null(await kit.Statements.GetAsync(tenant, alices, AccessKit.Ct));
        var log = await kit.LogAsync(tenant);
        Assert.Contains(log, e => e.Action == "statements.write" && e.Reason == "restricted" && e.Decision == LoggedDecision.Deny);
        await kit.AssertLogVerifiesAsync(tenant);
    }

    [Fact]
    public async Task PurposeHeader_DeclaredPurpose_DecidesForThatPurpose()
    {
        var tenant = await kit.TenantAsync();
        var app = await kit.ClientAsync(tenant, ["all"], "instruction", "research");
        await kit.LearnerAsync(tenant, Alice);
        var id = Guid.NewGuid();
        Assert.Equal(HttpStatusCode.OK, await AccessKit.PostAsync(app, AccessKit.Statement(Alice, id)));

        Assert.Equal([id], await AccessKit.QueryIdsAsync(app));
        Assert.Equal([id], await AccessKit.QueryIdsAsync(app, purpose: "instruction"));
        Assert.Empty(await AccessKit.QueryIdsAsync(app, purpose: "Research"));

        var log = await kit.LogAsync(tenant);
        Assert.Contains(log, e => e.Action == "statements.read" && e.Purpose == "research" && e.Reason == "consent_missing");
    }

    [Theory]
    [InlineData("assessment", HttpStatusCode.Forbidden)]
    [InlineData("vendor:kolibri", HttpStatusCode.Forbidden)]
    [InlineData("homework", HttpStatusCode.BadRequest)]
    [InlineData("advertising", HttpStatusCode.BadRequest)]
    public async Task PurposeHeader_NotDeclaredOrNoPurpose_IsRefusedBeforeAnything(string purpose, HttpStatusCode expected)
    {
        var tenant = await kit.TenantAsync();
        var app = await kit.ClientAsync(tenant, ["all"], "instruction", "research");
        using var request = new HttpRequestMessage(HttpMethod.Post, "statements") { Content = XapiJson.Content(AccessKit.Statement(Alice)) };
        request.Headers.Add("X-LearnerVault-Purpose", purpose);

        using var response = await app.SendAsync(request, AccessKit.Ct);

        Assert.Equal(expected, response.StatusCode);
        Assert.Contains("X-LearnerVault-Purpose", await response.Content.ReadAsStringAsync(AccessKit.Ct), StringComparison.Ordinal);
        Assert.Empty(await AccessKit.QueryIdsAsync(app));

        // A purpose the client never declared is a denial, and logged as one; a text that is no purpose is malformed.
        var refusals = (await kit.LogAsync(tenant)).Where(e => e.Reason == "purpose_not_declared").ToList();
        if (expected == HttpStatusCode.Forbidden)
        {
            var entry = Assert.Single(refusals);
            Assert.Equal(("statements.write", purpose, LearnerVault.Privacy.Audit.AccessDecision.Deny), (entry.Action, entry.Purpose, entry.Decision));
            Assert.Null(entry.LearnerPseudonym);
        }
        else
        {
            Assert.Empty(refusals);
        }
    }

    [Fact]
    public async Task Documents_LearnerWithoutConsent_WriteIs403ReadIs404AndAgentsIs404()
    {
        var tenant = await kit.TenantAsync();
        var app = await kit.ClientAsync(tenant, ["all"], "instruction", "research");
        var alice = await kit.LearnerAsync(tenant, Alice);
        var state = $"activities/state?activityId={Uri.EscapeDataString("http://example.org/a")}&agent={AccessKit.AgentParameter(Alice)}&stateId=s1";
        var profile = $"agents/profile?agent={AccessKit.AgentParameter(Alice)}&profileId=p1";
        using (var put = await app.PutAsync(state, Json("{\"a\":1}"), AccessKit.Ct))
        {
            Assert.Equal(HttpStatusCode.NoContent, put.StatusCode);
        }

        Assert.Equal(HttpStatusCode.Forbidden, await SendAsync(app, HttpMethod.Put, state, "research", Json("{\"a\":2}")));
        Assert.Equal(HttpStatusCode.Forbidden, await SendAsync(app, HttpMethod.Post, state, "research", Json("{\"b\":2}")));
        Assert.Equal(HttpStatusCode.Forbidden, await SendAsync(app, HttpMethod.Delete, state, "research", null));
        Assert.Equal(HttpStatusCode.Forbidden, await SendAsync(app, HttpMethod.Put, profile, "research", Json("{}")));
        Assert.Equal(HttpStatusCode.NotFound, await SendAsync(app, HttpMethod.Get, state, "research", null));
        Assert.Equal(HttpStatusCode.NotFound, await SendAsync(app, HttpMethod.Get, "agents?agent=" + AccessKit.AgentParameter(Alice), "research", null));
        Assert.Equal(HttpStatusCode.OK, await SendAsync(app, HttpMethod.Get, state, "instruction", null));
        Assert.Equal(HttpStatusCode.OK, await SendAsync(app, HttpMethod.Get, "agents?agent=" + AccessKit.AgentParameter(Alice), "instruction", null));
        using (var list = await app.SendAsync(Request(HttpMethod.Get, state[..state.IndexOf("&stateId", StringComparison.Ordinal)], "research", null), AccessKit.Ct))
        {
            Assert.Equal("[]", await list.Content.ReadAsStringAsync(AccessKit.Ct));
        }

        await kit.ConsentAsync(tenant, alice, Purpose.Research, ConsentChoice.Given);
        Assert.Equal(HttpStatusCode.OK, await SendAsync(app, HttpMethod.Get, state, "research", null));
        var log = await kit.LogAsync(tenant);
        Assert.Contains(log, e => e.Action == "documents.write" && e.Decision == LoggedDecision.Deny && e.Reason == "consent_missing");
        Assert.Contains(log, e => e.Action == "documents.read" && e.Decision == LoggedDecision.Deny && e.Reason == "consent_missing");
        Assert.Contains(log, e => e.Action == "documents.read" && e.Decision == LoggedDecision.Allow && e.Purpose == "research");
        await kit.AssertLogVerifiesAsync(tenant);
    }

    [Fact]
    public async Task Gate_AppendsOneEntryPerLearnerAndDecision_WithRecordCountsAndNoLearnerEntries()
    {
        var tenant = await kit.TenantAsync();
        var gate = kit.Factory.Services.GetRequiredService<IAccessGate>();
        var principal = Principal.Client(tenant, "k1", [Purpose.Instruction]);
        var alice = kit.Pseudonym(tenant, Alice);
        var bob = kit.Pseudonym(tenant, Bob);

        var outcome = await gate.DecideRecordsAsync(principal, AccessAction.StatementsRead, Purpose.Instruction, [alice, null, bob, alice, null, alice], AccessKit.Ct);

        Assert.True(outcome.AllAllowed);
        Assert.Equal(6, outcome.Decisions.Count);
        Assert.Equal(Convert.ToHexStringLower(alice), outcome.Decisions[0].LearnerPseudonym);
        Assert.Equal("pseudonym:" + Convert.ToHexStringLower(alice), outcome.Decisions[0].LearnerId);
        var log = await kit.LogAsync(tenant);
        Assert.Equal(3, log.Count);
        Assert.Equal([3L, 2, 1], log.Select(e => e.Records));
        Assert.Null(log[1].LearnerPseudonym);
        Assert.Equal("no_learner", log[1].Reason);
        Assert.All(log, e => Assert.Equal("client:k1", e.Principal));
        await kit.AssertLogVerifiesAsync(tenant);
    }

    private static ByteArrayContent Json(string json)
    {
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes(json));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return content;
    }

    private static HttpRequestMessage Request(HttpMethod method, string uri, string purpose, HttpContent? content)
    {
        var request = new HttpRequestMessage(method, uri) { Content = content };
        request.Headers.Add("X-LearnerVault-Purpose", purpose);
        return request;
    }

    private static async Task<HttpStatusCode> SendAsync(HttpClient http, HttpMethod method, string uri, string purpose, HttpContent? content)
    {
        using var request = Request(method, uri, purpose, content);
        if (method == HttpMethod.Put || method == HttpMethod.Post || method == HttpMethod.Delete)
        {
            request.Headers.TryAddWithoutValidation("If-Match", "*");
        }

        using var response = await http.SendAsync(request, AccessKit.Ct);
        return response.StatusCode;
    }
}
