using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using LearnerVault.Privacy.Access;

namespace LearnerVault.Server.Tests.Api;

/// <summary>The data subject's side (/api/me) and the DPO's: consents, restriction, and who accessed what.</summary>
public sealed class RightsTests : IAsyncLifetime
{
    private ApiHarness api = null!;
    private HttpClient admin = null!;
    private Guid ana;
    private Guid ben;

    public async ValueTask InitializeAsync()
    {
        api = await ApiHarness.StartAsync();
        admin = await api.BearerClientAsync(ApiHarness.AdminLogin);
        ana = await ApiHarness.RegisterLearnerAsync(admin, "mailto:ana@example.org", birthYear: 2000);
        ben = await ApiHarness.RegisterLearnerAsync(admin, "mailto:ben@example.org", birthYear: DateTime.UtcNow.Year - 10);
        await CreateLearnerAccountAsync("ana", ana);
        await CreateLearnerAccountAsync("ben", ben);
    }

    public async ValueTask DisposeAsync()
    {
        admin.Dispose();
        await api.DisposeAsync();
    }

    private async Task CreateLearnerAccountAsync(string login, Guid learner) =>
        await ApiAssert.OkAsync(
            await admin.PostAsJsonAsync("api/people", new { login, password = ApiHarness.Password, roles = new[] { "learner" }, learnerId = learner }),
            HttpStatusCode.Created);

    private static async Task<JsonArray> LogAsync(HttpClient client, string query = "") =>
        (await ApiAssert.OkAsync(await client.GetAsync("api/me/access-log" + query)))["entries"]!.AsArray();

    [Fact]
    public async Task MyAccessLog_ShowsExactlyTheEntriesAboutMe_NewestFirst()
    {
        await ApiAssert.OkAsync(await admin.GetAsync($"api/learners/{ana}"));
        for (var i = 0; i < 3; i++)
        {
            await ApiAssert.OkAsync(await admin.GetAsync($"api/learners/{ben}"));
        }

        using var anaClient = await api.BearerClientAsync("ana");
        using var benClient = await api.BearerClientAsync("ben");
        var anaLog = await LogAsync(anaClient);
        var benLog = await LogAsync(benClient);

        Assert.Equal(1, anaLog.Count(e => e!["action"]!.GetValue<string>() == "learner.read"));
        Assert.Equal(3, benLog.Count(e => e!["action"]!.GetValue<string>() == "learner.read"));
        // Ana's reading of her own log is itself logged, and is the newest entry.
        Assert.Equal("accesslog.read", anaLog[0]!["action"]!.GetValue<string>());
        var positions = anaLog.Select(e => e!["position"]!.GetValue<long>()).ToList();
        Assert.Equal(positions.OrderDescending(), positions);
        var anaPseudonyms = anaLog.Select(e => e!["learnerPseudonym"]!.GetValue<string>()).ToHashSet();
        var benPseudonyms = benLog.Select(e => e!["learnerPseudonym"]!.GetValue<string>()).ToHashSet();
        Assert.Empty(anaPseudonyms.Intersect(benPseudonyms));
        Assert.Contains(anaLog, e => e!["principal"]!.GetValue<string>().StartsWith("person:", StringComparison.Ordinal)
            && e["purpose"]!.GetValue<string>() == "school-administration" && e["decision"]!.GetValue<string>() == "allow");

        // Paged: two at a time, continuing before the last position.
        var first = await ApiAssert.OkAsync(await anaClient.GetAsync("api/me/access-log?limit=2"));
        var next = first["next"]!.GetValue<long>();
        var second = await ApiAssert.OkAsync(await anaClient.GetAsync($"api/me/access-log?limit=2&before={next}"));
        Assert.All(second["entries"]!.AsArray(), e => Assert.True(e!["position"]!.GetValue<long>() < next));
    }

    [Fact]
    public async Task Guardian_SeesTheirWardOnly()
    {
        var parentId = await api.AddPersonAsync("parent", [Role.Guardian]);
        await ApiAssert.OkAsync(await admin.PutAsync($"api/learners/{ben}/guardians/{parentId}", null));
        using var parent = await api.BearerClientAsync("parent");

        var me = await ApiAssert.OkAsync(await parent.GetAsync("api/me"));
        Assert.Equal(ben.ToString("D"), Assert.Single(me["wards"]!.AsArray())!.GetValue<string>());
        Assert.NotEmpty(await LogAsync(parent));
        Assert.NotEmpty(await LogAsync(parent, $"?learner={ben}"));

        await ApiAssert.ProblemAsync(await parent.GetAsync($"api/me/access-log?learner={ana}"), HttpStatusCode.Forbidden, "access-denied");
        await ApiAssert.ProblemAsync(await parent.GetAsync($"api/me/consents?learner={ana}"), HttpStatusCode.Forbidden, "access-denied");
        using var anaClient = await api.BearerClientAsync("ana");
        await ApiAssert.ProblemAsync(await anaClient.GetAsync($"api/me/access-log?learner={ben}"), HttpStatusCode.Forbidden, "access-denied");
    }

    [Fact]
    public async Task Consents_LearnerAndGuardianRecordTheirOwn_DpoReadsAndRecordsPaperForms()
    {
        var parentId = await api.AddPersonAsync("parent", [Role.Guardian]);
        await api.AddPersonAsync("dpo", [Role.DataProtectionOfficer]);
        await ApiAssert.OkAsync(await admin.PutAsync($"api/learners/{ben}/guardians/{parentId}", null));
        using var anaClient = await api.BearerClientAsync("ana");
        using var parent = await api.BearerClientAsync("parent");
        using var dpo = await api.BearerClientAsync("dpo");

        var own = await ApiAssert.OkAsync(
            await anaClient.PutAsJsonAsync("api/me/consents", new { purpose = "research", choice = "given", noticeVersion = "2026-01", channel = "web" }),
            HttpStatusCode.Created);
        Assert.Equal("learner", own["givenBy"]!.GetValue<string>());
        Assert.Equal(ana.ToString("D"), own["giverId"]!.GetValue<string>());
        var byGuardian = await ApiAssert.OkAsync(
            await parent.PutAsJsonAsync("api/me/consents", new { learner = ben, purpose = "research", choice = "given", noticeVersion = "2026-01", channel = "api" }),
            HttpStatusCode.Created);
        Assert.Equal("guardian", byGuardian["givenBy"]!.GetValue<string>());
        Assert.Equal(parentId.ToString("D"), byGuardian["giverId"]!.GetValue<string>());

        await ApiAssert.ProblemAsync(
            await anaClient.PutAsJsonAsync("api/me/consents", new { purpose = "vendor:ad-network", choice = "given", noticeVersion = "1", channel = "web" }),
            (HttpStatusCode)422, "purpose-refused");
        await ApiAssert.ProblemAsync(
            await anaClient.PutAsJsonAsync("api/me/consents", new { purpose = "research", choice = "maybe", noticeVersion = "1", channel = "web" }),
            (HttpStatusCode)422, "invalid");

        await ApiAssert.OkAsync(
            await dpo.PostAsJsonAsync($"api/learners/{ana}/consents", new
            {
                purpose = "research",
                choice = "withdrawn",
                givenBy = "learner",
                channel = "paper form",
                noticeVersion = "2026-01",
            }),
            HttpStatusCode.Created);
        await ApiAssert.ProblemAsync(
            await dpo.PostAsJsonAsync($"api/learners/{ana}/consents", new
            {
                purpose = "research",
                choice = "given",
                givenBy = "guardian",
                guardianId = parentId,
                channel = "paper form",
                noticeVersion = "1",
            }),
            (HttpStatusCode)422, "invalid");

        var anaConsents = (await ApiAssert.OkAsync(await dpo.GetAsync($"api/learners/{ana}/consents"))).AsArray();
        Assert.Equal(["given", "withdrawn"], anaConsents.Select(c => c!["choice"]!.GetValue<string>()));
        Assert.Equal(2, (await ApiAssert.OkAsync(await anaClient.GetAsync("api/me/consents"))).AsArray().Count);
        Assert.Single((await ApiAssert.OkAsync(await parent.GetAsync("api/me/consents"))).AsArray());
    }

    [Fact]
    public async Task Restriction_RecordedByTheDpoOnly()
    {
        await api.AddPersonAsync("dpo", [Role.DataProtectionOfficer]);
        using var dpo = await api.BearerClientAsync("dpo");

        var view = await ApiAssert.OkAsync(await dpo.PutAsJsonAsync($"api/learners/{ana}/restriction", new { restricted = true, objections = new[] { "research" } }));

        Assert.True(view["restricted"]!.GetValue<bool>());
        Assert.Equal("research", Assert.Single(view["objections"]!.AsArray())!.GetValue<string>());
        await ApiAssert.ProblemAsync(await admin.PutAsJsonAsync($"api/learners/{ana}/restriction", new { restricted = false }), HttpStatusCode.Forbidden, "forbidden");
    }

    [Fact]
    public async Task LearnerOfAnotherTenant_ById_Is404_AndLoggedInBothTenantsLogs()
    {
        var otherTenant = await api.AddTenantAsync("other school");
        var otherAdminId = await api.AddPersonAsync("other.admin", [Role.SchoolAdministrator, Role.DataProtectionOfficer], tenantId: otherTenant);
        await api.AddPersonAsync("dpo", [Role.DataProtectionOfficer]);
        using var otherAdmin = await api.BearerClientAsync("other.admin", otherTenant);
        using var dpo = await api.BearerClientAsync("dpo", api.TenantId);
        using var ambiguous = await api.Anonymous().PostAsJsonAsync("api/auth/login", new { login = "dpo", password = ApiHarness.Password });
        await ApiAssert.ProblemAsync(ambiguous, HttpStatusCode.BadRequest, "tenant-required");

        var notFound = await ApiAssert.ProblemAsync(await otherAdmin.GetAsync($"api/learners/{ana}"), HttpStatusCode.NotFound, "not-found");
        var unknown = await ApiAssert.ProblemAsync(await otherAdmin.GetAsync($"api/learners/{Guid.NewGuid()}"), HttpStatusCode.NotFound, "not-found");
        Assert.Equal(unknown.ToJsonString(), notFound.ToJsonString());
        await ApiAssert.ProblemAsync(await otherAdmin.PostAsJsonAsync($"api/learners/{ana}/consents", new
        {
            purpose = "research",
            choice = "given",
            givenBy = "learner",
            channel = "paper",
            noticeVersion = "1",
        }), HttpStatusCode.NotFound, "not-found");

        bool IsCrossTenant(JsonNode? e) =>
            e!["reason"]!.GetValue<string>() == "cross_tenant" && e["decision"]!.GetValue<string>() == "deny"
            && e["principal"]!.GetValue<string>() == $"person:{otherAdminId:D}";
        var home = (await ApiAssert.OkAsync(await dpo.GetAsync("api/access-log?limit=1000")))["entries"]!.AsArray();
        var foreign = (await ApiAssert.OkAsync(await otherAdmin.GetAsync("api/access-log?limit=1000")))["entries"]!.AsArray();
        Assert.Equal(2, home.Count(IsCrossTenant));
        Assert.Equal(2, foreign.Count(IsCrossTenant));
        // The other tenant's log does not learn the learner's pseudonym in the home tenant.
        var homePseudonyms = home.Where(IsCrossTenant).Select(e => e!["learnerPseudonym"]!.GetValue<string>()).ToHashSet();
        Assert.DoesNotContain(foreign.Where(IsCrossTenant), e => homePseudonyms.Contains(e!["learnerPseudonym"]!.GetValue<string>()));
    }

    [Fact]
    public async Task DpoAccessLog_IsPagedByPosition_AndTheReadIsLogged()
    {
        await api.AddPersonAsync("dpo", [Role.DataProtectionOfficer]);
        using var dpo = await api.BearerClientAsync("dpo");

        var first = await ApiAssert.OkAsync(await dpo.GetAsync("api/access-log?limit=2"));
        var entries = first["entries"]!.AsArray();
        Assert.Equal(2, entries.Count);
        Assert.Equal(1, entries[0]!["position"]!.GetValue<long>());
        var next = first["next"]!.GetValue<long>();
        var second = await ApiAssert.OkAsync(await dpo.GetAsync($"api/access-log?from={next}&limit=1000"));
        Assert.Equal(3, second["entries"]!.AsArray()[0]!["position"]!.GetValue<long>());
        Assert.Contains(second["entries"]!.AsArray(), e => e!["action"]!.GetValue<string>() == "accesslog.read" && e["learnerPseudonym"] is null);
        await ApiAssert.ProblemAsync(await dpo.GetAsync("api/access-log?from=0"), (HttpStatusCode)422, "invalid");
    }
}
