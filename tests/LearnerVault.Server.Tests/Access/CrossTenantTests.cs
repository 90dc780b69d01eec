using System.Net;
using LearnerVault.Privacy.Access;
using LearnerVault.Server.Access;
using Microsoft.Extensions.DependencyInjection;
using LoggedDecision = LearnerVault.Privacy.Audit.AccessDecision;

namespace LearnerVault.Server.Tests.Access;

/// <summary>Two tenants on one server: nothing of one is ever read through the other, and an attempt is logged in both.</summary>
public sealed class CrossTenantTests(AccessKit kit) : IClassFixture<AccessKit>
{
    private const string Learner = "mailto:shared.name@example.org";

    [Fact]
    public async Task Client_OfTenantA_NeverSeesTenantBStatementsOrDocuments()
    {
        var a = await kit.TenantAsync();
        var b = await kit.TenantAsync();
        var appA = await kit.ClientAsync(a, ["all"]);
        var appB = await kit.ClientAsync(b, ["all"]);
        var inB = Guid.NewGuid();
        Assert.Equal(HttpStatusCode.OK, await AccessKit.PostAsync(appB, AccessKit.Statement(Learner, inB)));
        var state = $"activities/state?activityId={Uri.EscapeDataString("http://example.org/a")}&agent={AccessKit.AgentParameter(Learner)}&stateId=s1";
        using (var put = await appB.PutAsync(state, XapiJson.Content("{\"b\":1}"), AccessKit.Ct))
        {
            Assert.Equal(HttpStatusCode.NoContent, put.StatusCode);
        }

        Assert.Equal(HttpStatusCode.NotFound, await AccessKit.GetByIdAsync(appA, inB));
        Assert.Empty(await AccessKit.QueryIdsAsync(appA));
        Assert.Empty(await AccessKit.QueryIdsAsync(appA, "agent=" + AccessKit.AgentParameter(Learner)));
        using (var get = await appA.GetAsync(state, AccessKit.Ct))
        {
            Assert.Equal(HttpStatusCode.NotFound, get.StatusCode);
        }

        Assert.Equal([inB], await AccessKit.QueryIdsAsync(appB, "agent=" + AccessKit.AgentParameter(Learner)));
    }

    [Fact]
    public async Task DecideLearner_OfAnotherTenant_DeniesCrossTenantAndLogsInBothTenants()
    {
        var a = await kit.TenantAsync();
        var b = await kit.TenantAsync();
        var learner = await kit.LearnerAsync(b, Learner);
        var gate = kit.Factory.Services.GetRequiredService<AccessGate>();
        var dpoOfA = Principal.Person(a, Guid.NewGuid().ToString("D"), Role.DataProtectionOfficer);

        var (lookup, decision) = await gate.DecideLearnerAsync(dpoOfA, AccessAction.ConsentsRead, learner, Purpose.SchoolAdministration, 0, AccessKit.Ct);

        Assert.Equal(LearnerLookup.OtherTenant, lookup);
        Assert.False(decision!.Allowed);
        Assert.Equal(DecisionCode.CrossTenant, decision.Code);
        var inA = Assert.Single(await kit.LogAsync(a));
        var inB = Assert.Single(await kit.LogAsync(b));
        Assert.All([inA, inB], e =>
        {
            Assert.Equal(LoggedDecision.Deny, e.Decision);
            Assert.Equal("cross_tenant", e.Reason);
            Assert.Equal("person:" + dpoOfA.Id, e.Principal);
            Assert.Equal("consents.read", e.Action);
        });
        Assert.Equal(kit.Pseudonym(b, Learner), inB.LearnerPseudonym);
        Assert.Equal(gate.IdPseudonym(a, learner), inA.LearnerPseudonym);
        Assert.Contains(await gate.LearnerLogPseudonymsAsync(b, learner, AccessKit.Ct), p => p.SequenceEqual(inB.LearnerPseudonym!));
        Assert.Equal(Convert.ToHexStringLower(gate.IdPseudonym(a, learner)), decision.LearnerPseudonym);
        await kit.AssertLogVerifiesAsync(a);
        await kit.AssertLogVerifiesAsync(b);
    }

    [Fact]
    public async Task DecideLearner_OwnTenantAndUnknownId_FoundIsDecidedAndUnknownIsNotLogged()
    {
        var a = await kit.TenantAsync();
        var learner = await kit.LearnerAsync(a, Learner);
        var gate = kit.Factory.Services.GetRequiredService<IAccessGate>();
        var dpo = Principal.Person(a, Guid.NewGuid().ToString("D"), Role.DataProtectionOfficer);

        var found = await gate.DecideLearnerAsync(dpo, AccessAction.AccessLogRead, learner, Purpose.SchoolAdministration, 0, AccessKit.Ct);
        var unknown = await gate.DecideLearnerAsync(dpo, AccessAction.AccessLogRead, Guid.NewGuid(), Purpose.SchoolAdministration, 0, AccessKit.Ct);

        Assert.Equal(LearnerLookup.Found, found.Lookup);
        Assert.True(found.Decision!.Allowed);
        Assert.Equal((LearnerLookup.NotFound, (AccessDecision?)null), unknown);
        var entry = Assert.Single(await kit.LogAsync(a));
        Assert.Equal(kit.Pseudonym(a, Learner), entry.LearnerPseudonym);
        Assert.Equal("oversight", entry.Reason);
    }
}
