using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using LearnerVault.Privacy.Access;

namespace LearnerVault.Server.Tests.Api;

public sealed class ResourcesTests : IAsyncLifetime
{
    private ApiHarness api = null!;
    private HttpClient admin = null!;

    public async ValueTask InitializeAsync()
    {
        api = await ApiHarness.StartAsync();
        admin = await api.BearerClientAsync(ApiHarness.AdminLogin);
    }

    public async ValueTask DisposeAsync()
    {
        admin.Dispose();
        await api.DisposeAsync();
    }

    [Theory]
    [InlineData("GET", "/api/learners/not-a-uuid", HttpStatusCode.NotFound, "not-found")]
    [InlineData("GET", "/api/no-such-resource", HttpStatusCode.NotFound, "not-found")]
    [InlineData("DELETE", "/api/policy", HttpStatusCode.MethodNotAllowed, "method-not-allowed")]
    public async Task UnmatchedRoute_AnswersAProblemDocument(string method, string path, HttpStatusCode status, string slug)
    {
        using var response = await admin.SendAsync(new HttpRequestMessage(new HttpMethod(method), path), TestContext.Current.CancellationToken);

        await ApiAssert.ProblemAsync(response, status, slug);
    }

    [Fact]
    public async Task People_CreateWithGeneratedPasswordListGetPatch_Works()
    {
        var created = await ApiAssert.OkAsync(
            await admin.PostAsJsonAsync("api/people", new { login = "ms.dpo", roles = new[] { "dpo" }, name = "Ms DPO" }), HttpStatusCode.Created);
        var id = created["person"]!["id"]!.GetValue<string>();
        var password = created["password"]!.GetValue<string>();
        Assert.True(password.Length >= 12);
        Assert.Equal("Ms DPO", created["person"]!["name"]!.GetValue<string>());

        using var login = await api.Anonymous().PostAsJsonAsync("api/auth/login", new { login = "ms.dpo", password });
        await ApiAssert.OkAsync(login);

        var list = (await ApiAssert.OkAsync(await admin.GetAsync("api/people"))).AsArray();
        Assert.Equal(2, list.Count);
        var patched = await ApiAssert.OkAsync(await admin.PatchAsJsonAsync($"api/people/{id}", new { roles = new[] { "dpo", "teacher" }, name = "Dr DPO" }));
        Assert.Equal(["data-protection-officer", "teacher"], patched["roles"]!.AsArray().Select(r => r!.GetValue<string>()));
        Assert.Equal("Dr DPO", (await ApiAssert.OkAsync(await admin.GetAsync($"api/people/{id}")))["name"]!.GetValue<string>());
    }

    [Fact]
    public async Task People_BadInput_Is4xxProblemNever500()
    {
        await ApiAssert.ProblemAsync(await admin.PostAsJsonAsync("api/people", new { login = "x", roles = new[] { "pope" } }), (HttpStatusCode)422, "invalid");
        await ApiAssert.ProblemAsync(await admin.PostAsJsonAsync("api/people", new { login = "x", password = "short", roles = new[] { "teacher" } }), (HttpStatusCode)422, "invalid");
        await ApiAssert.ProblemAsync(await admin.PostAsJsonAsync("api/people", new { login = ApiHarness.AdminLogin.ToUpperInvariant(), roles = new[] { "teacher" } }), HttpStatusCode.Conflict, "conflict");
        await ApiAssert.ProblemAsync(await admin.PostAsJsonAsync("api/people", new { login = "y", roles = new[] { "learner" } }), (HttpStatusCode)422, "invalid");
        await ApiAssert.ProblemAsync(await admin.GetAsync($"api/people/{Guid.NewGuid()}"), HttpStatusCode.NotFound, "not-found");
        await ApiAssert.ProblemAsync(await admin.PostAsync("api/people", new StringContent("[1,2", System.Text.Encoding.UTF8, "application/json")), HttpStatusCode.BadRequest, "bad-request");
        await ApiAssert.ProblemAsync(await admin.PostAsJsonAsync("api/people", new { roles = "teacher" }), HttpStatusCode.BadRequest, "bad-request");
    }

    [Fact]
    public async Task Roles_TeacherAndDpoOnAdministratorResources_Are403()
    {
        await api.AddPersonAsync("teacher", [Role.Teacher]);
        await api.AddPersonAsync("dpo", [Role.DataProtectionOfficer]);
        using var teacher = await api.BearerClientAsync("teacher");
        using var dpo = await api.BearerClientAsync("dpo");
        var learner = await ApiHarness.RegisterLearnerAsync(admin, "mailto:pupil@example.org");

        foreach (var client in new[] { teacher, dpo })
        {
            await ApiAssert.ProblemAsync(await client.GetAsync("api/people"), HttpStatusCode.Forbidden, "forbidden");
            await ApiAssert.ProblemAsync(await client.PostAsJsonAsync("api/classes", new { name = "1A" }), HttpStatusCode.Forbidden, "forbidden");
            await ApiAssert.ProblemAsync(await client.GetAsync("api/clients"), HttpStatusCode.Forbidden, "forbidden");
        }

        await ApiAssert.ProblemAsync(await teacher.GetAsync($"api/learners/{learner}"), HttpStatusCode.Forbidden, "forbidden");
        await ApiAssert.ProblemAsync(await teacher.GetAsync("api/access-log"), HttpStatusCode.Forbidden, "forbidden");
        await ApiAssert.ProblemAsync(await admin.GetAsync("api/access-log"), HttpStatusCode.Forbidden, "forbidden");
        await ApiAssert.ProblemAsync(await admin.GetAsync($"api/learners/{learner}/consents"), HttpStatusCode.Forbidden, "forbidden");
        await ApiAssert.OkAsync(await dpo.GetAsync($"api/learners/{learner}"));
    }

    [Fact]
    public async Task Learners_RegisterWithEachIdentifierKindGetPatchAndList_Works()
    {
        var body = new JsonObject
        {
            ["identifiers"] = new JsonArray(
                new JsonObject { ["mbox"] = "mailto:ana@example.org" },
                new JsonObject { ["mbox_sha1sum"] = new string('a', 40) },
                new JsonObject { ["openid"] = "https://id.example.org/ana" },
                new JsonObject { ["account"] = new JsonObject { ["homePage"] = "https://lms.example.org", ["name"] = "ana" } }),
            ["ageBand"] = new JsonObject { ["minAge"] = 13, ["maxAge"] = 15 },
        };
        var created = await ApiAssert.OkAsync(await admin.PostAsJsonAsync("api/learners", body), HttpStatusCode.Created);
        var id = created["id"]!.GetValue<string>();
        Assert.Equal(4, created["identifiers"]!.GetValue<int>());
        Assert.DoesNotContain("ana@example.org", created.ToJsonString(), StringComparison.Ordinal);

        var patched = await ApiAssert.OkAsync(await admin.PatchAsJsonAsync($"api/learners/{id}", new { birthYear = 2011 }));
        Assert.Equal(2011, patched["birthYear"]!.GetValue<int>());

        var page = await ApiAssert.OkAsync(await admin.GetAsync("api/learners?limit=10"));
        Assert.Single(page["learners"]!.AsArray());

        // The same identifier, normalised alike (domain case), cannot be registered twice.
        await ApiAssert.ProblemAsync(
            await admin.PostAsJsonAsync("api/learners", new { identifiers = new[] { new { mbox = "mailto:ana@EXAMPLE.org" } }, birthYear = 2011 }),
            HttpStatusCode.Conflict, "conflict");
    }

    [Fact]
    public async Task Learners_BadInput_Is422()
    {
        await ApiAssert.ProblemAsync(await admin.PostAsJsonAsync("api/learners", new { identifiers = Array.Empty<object>(), birthYear = 2010 }), (HttpStatusCode)422, "invalid");
        await ApiAssert.ProblemAsync(await admin.PostAsJsonAsync("api/learners", new { identifiers = new[] { new { mbox = "ana@example.org" } }, birthYear = 2010 }), (HttpStatusCode)422, "invalid");
        await ApiAssert.ProblemAsync(await admin.PostAsJsonAsync("api/learners", new { identifiers = new[] { new { mbox = "mailto:a@example.org" } } }), (HttpStatusCode)422, "invalid");
        await ApiAssert.ProblemAsync(await admin.PostAsJsonAsync("api/learners", new { identifiers = new[] { new { mbox = "mailto:a@example.org" } }, birthYear = 1066 }), (HttpStatusCode)422, "invalid");
        await ApiAssert.ProblemAsync(await admin.PostAsJsonAsync("api/learners", new { identifiers = new object?[] { null }, birthYear = 2010 }), (HttpStatusCode)422, "invalid");
        // The xAPI rules, so that a learner is never registered under an identifier no statement can carry.
        var extraKey = await ApiAssert.ProblemAsync(
            await admin.PostAsJsonAsync("api/learners", new { identifiers = new[] { new { account = new { homePage = "https://school.example", name = "a1", extra = 1 } } }, birthYear = 2010 }),
            (HttpStatusCode)422, "invalid");
        Assert.StartsWith("identifier.account", extraKey["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        await ApiAssert.ProblemAsync(await admin.GetAsync($"api/learners/{Guid.NewGuid()}"), HttpStatusCode.NotFound, "not-found");
    }

    [Fact]
    public async Task Classes_CreateAddLearnerAndTeacher_AreListed()
    {
        var teacherId = await api.AddPersonAsync("teacher", [Role.Teacher]);
        var guardianId = await api.AddPersonAsync("parent", [Role.Guardian]);
        var learner = await ApiHarness.RegisterLearnerAsync(admin, "mailto:pupil@example.org");
        var created = await ApiAssert.OkAsync(await admin.PostAsJsonAsync("api/classes", new { name = "7B" }), HttpStatusCode.Created);
        var classId = created["id"]!.GetValue<string>();

        await ApiAssert.OkAsync(await admin.PutAsync($"api/classes/{classId}/learners/{learner}", null), HttpStatusCode.NoContent);
        await ApiAssert.OkAsync(await admin.PutAsync($"api/classes/{classId}/teachers/{teacherId}", null), HttpStatusCode.NoContent);
        await ApiAssert.ProblemAsync(await admin.PutAsync($"api/classes/{classId}/teachers/{guardianId}", null), (HttpStatusCode)422, "invalid");

        var view = await ApiAssert.OkAsync(await admin.GetAsync($"api/classes/{classId}"));
        Assert.Equal(learner.ToString("D"), Assert.Single(view["learners"]!.AsArray())!.GetValue<string>());
        Assert.Equal(teacherId.ToString("D"), Assert.Single(view["teachers"]!.AsArray())!.GetValue<string>());
        Assert.Equal("7B", Assert.Single((await ApiAssert.OkAsync(await admin.GetAsync("api/classes"))).AsArray())!["name"]!.GetValue<string>());
        var learnerView = await ApiAssert.OkAsync(await admin.GetAsync($"api/learners/{learner}"));
        Assert.Equal(classId, Assert.Single(learnerView["classes"]!.AsArray())!.GetValue<string>());

        await ApiAssert.OkAsync(await admin.DeleteAsync($"api/classes/{classId}/learners/{learner}"), HttpStatusCode.NoContent);
        Assert.Empty((await ApiAssert.OkAsync(await admin.GetAsync($"api/classes/{classId}/learners"))).AsArray());
        await ApiAssert.ProblemAsync(await admin.GetAsync($"api/classes/{Guid.NewGuid()}"), HttpStatusCode.NotFound, "not-found");
    }

    [Fact]
    public async Task Purposes_ListSetBasisAndRefusedPurpose()
    {
        var purposes = (await ApiAssert.OkAsync(await admin.GetAsync("api/purposes"))).AsArray();
        Assert.Equal(Purpose.BuiltInNames, purposes.Select(p => p!["name"]!.GetValue<string>()));
        Assert.Equal("public-task", purposes.Single(p => p!["name"]!.GetValue<string>() == "instruction")!["lawfulBasis"]!.GetValue<string>());

        await ApiAssert.OkAsync(await admin.PutAsJsonAsync("api/purposes/vendor:kolibri", new { lawfulBasis = "legitimate-interest" }));
        var after = (await ApiAssert.OkAsync(await admin.GetAsync("api/purposes"))).AsArray();
        Assert.Equal("legitimate-interest", after.Single(p => p!["name"]!.GetValue<string>() == "vendor:kolibri")!["lawfulBasis"]!.GetValue<string>());

        var refused = await ApiAssert.ProblemAsync(
            await admin.PutAsJsonAsync("api/purposes/vendor:ad-targeting", new { lawfulBasis = "consent" }), (HttpStatusCode)422, "purpose-refused");
        Assert.Contains("advertising", refused["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        await ApiAssert.ProblemAsync(await admin.PutAsJsonAsync("api/purposes/marketing", new { lawfulBasis = "consent" }), (HttpStatusCode)422, "purpose-refused");
        await ApiAssert.ProblemAsync(await admin.PutAsJsonAsync("api/purposes/research", new { lawfulBasis = "whim" }), (HttpStatusCode)422, "invalid");
    }

    [Fact]
    public async Task Policy_SetAgeAndRestrictedWrites_OutOfRangeIs422()
    {
        var policy = await ApiAssert.OkAsync(await admin.GetAsync("api/policy"));
        Assert.Equal(16, policy["ageOfDigitalConsent"]!.GetValue<int>());

        var changed = await ApiAssert.OkAsync(await admin.PutAsJsonAsync("api/policy", new { ageOfDigitalConsent = 13, restrictedWrites = "refuse" }));
        Assert.Equal(13, changed["ageOfDigitalConsent"]!.GetValue<int>());
        Assert.Equal("refuse", (await ApiAssert.OkAsync(await admin.GetAsync("api/policy")))["restrictedWrites"]!.GetValue<string>());

        await ApiAssert.ProblemAsync(await admin.PutAsJsonAsync("api/policy", new { ageOfDigitalConsent = 12 }), (HttpStatusCode)422, "invalid");
        await ApiAssert.ProblemAsync(await admin.PutAsJsonAsync("api/policy", new { restrictedWrites = "shred" }), (HttpStatusCode)422, "invalid");
    }

    [Fact]
    public async Task Clients_AddListRevoke_TheRevokedClientGets401OnXapi()
    {
        var created = await ApiAssert.OkAsync(
            await admin.PostAsJsonAsync("api/clients", new { name = "Moodle", scopes = new[] { "statements/write" }, purposes = new[] { "instruction", "vendor:moodle" } }),
            HttpStatusCode.Created);
        var key = created["client"]!["key"]!.GetValue<string>();
        var secret = created["secret"]!.GetValue<string>();
        using var xapi = api.Factory.CreateClient((key, secret));
        Assert.Equal(HttpStatusCode.OK, (await xapi.GetAsync("about")).StatusCode);

        var list = (await ApiAssert.OkAsync(await admin.GetAsync("api/clients"))).AsArray();
        Assert.Contains(list, c => c!["key"]!.GetValue<string>() == key);
        Assert.Contains(
            (await ApiAssert.OkAsync(await admin.GetAsync("api/purposes"))).AsArray(),
            p => p!["name"]!.GetValue<string>() == "vendor:moodle" && p["declaredBy"]!.AsArray().Any(k => k!.GetValue<string>() == key));

        await ApiAssert.OkAsync(await admin.DeleteAsync($"api/clients/{key}"), HttpStatusCode.NoContent);
        Assert.Equal(HttpStatusCode.Unauthorized, (await xapi.GetAsync("activities?activityId=http://example.org/a")).StatusCode);
        await ApiAssert.ProblemAsync(await admin.DeleteAsync($"api/clients/{key}"), HttpStatusCode.Conflict, "conflict");
        await ApiAssert.ProblemAsync(
            await admin.PostAsJsonAsync("api/clients", new { name = "Ads", scopes = new[] { "all" }, purposes = new[] { "vendor:adtech" } }), (HttpStatusCode)422, "purpose-refused");
    }
}
