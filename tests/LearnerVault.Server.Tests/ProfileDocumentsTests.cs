using System.Net;
using System.Text.Json.Nodes;
using static LearnerVault.Server.Tests.DocumentRequests;

namespace LearnerVault.Server.Tests;

/// <summary>The Activity Profile and Agent Profile resources over real HTTP: what they share with State and where they differ.</summary>
public sealed class ProfileDocumentsTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private readonly LearnerVaultAppFactory app = fixture.Factory;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static string ActivityProfile(string? profileId, string? activityId = ActivityId, string? since = null) =>
        "activities/profile?" + Query(("activityId", activityId), ("profileId", profileId), ("since", since));

    private static string AgentProfile(string? profileId, string? agent = null, string? since = null) =>
        "agents/profile?" + Query(("agent", agent ?? Agent()), ("profileId", profileId), ("since", since));

    public static TheoryData<string> Resources => new() { "activity", "agent" };

    private static string Uri(string resource, string? profileId) =>
        resource == "activity" ? ActivityProfile(profileId) : AgentProfile(profileId);

    [Theory]
    [MemberData(nameof(Resources))]
    public async Task Put_IfNoneMatchStar_ThenGetReturnsDocumentWithETag(string resource)
    {
        using var http = app.CreateClient();
        var uri = Uri(resource, NewId());

        var put = await http.PutDocumentAsync(uri, Body("{\"profile\":true}"), ifNoneMatch: "*");
        var get = await http.GetAsync(uri, Ct);

        Assert.Equal(HttpStatusCode.NoContent, put.StatusCode);
        Assert.Equal("{\"profile\":true}", await get.TextAsync());
        Assert.Matches("^\"[0-9a-f]{40}\"$", get.ETag());
        Assert.NotNull(get.Content.Headers.LastModified);
    }

    [Theory]
    [InlineData("activity", "2.0.0")]
    [InlineData("agent", "2.0.0")]
    [InlineData("activity", "1.0.3")]
    [InlineData("agent", "1.0.3")]
    public async Task Put_WithoutPreconditionHeaders_NewIs400AndExistingIs409(string resource, string version)
    {
        using var http = app.CreateClient(version);
        var uri = Uri(resource, NewId());

        var fresh = await http.PutDocumentAsync(uri, Body("{\"v\":1}"));
        Assert.Equal(HttpStatusCode.BadRequest, fresh.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync(uri, Ct)).StatusCode);

        await http.PostDocumentAsync(uri, Body("{\"v\":1}"));
        var existing = await http.PutDocumentAsync(uri, Body("{\"v\":2}"));
        Assert.Equal(HttpStatusCode.Conflict, existing.StatusCode);
        Assert.NotEmpty(await existing.TextAsync());
        Assert.Equal("{\"v\":1}", await (await http.GetAsync(uri, Ct)).TextAsync());
    }

    [Theory]
    [MemberData(nameof(Resources))]
    public async Task Put_IfMatch_CurrentReplacesStaleGets412(string resource)
    {
        using var http = app.CreateClient();
        var uri = Uri(resource, NewId());
        var created = await http.PutDocumentAsync(uri, Body("{\"v\":1}"), ifNoneMatch: "*");

        var stale = await http.PutDocumentAsync(uri, Body("{\"v\":2}"), ifMatch: "\"1111111111111111111111111111111111111111\"");
        var current = await http.PutDocumentAsync(uri, Body("{\"v\":3}"), ifMatch: created.ETag());

        Assert.Equal(HttpStatusCode.PreconditionFailed, stale.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, current.StatusCode);
        Assert.Equal("{\"v\":3}", await (await http.GetAsync(uri, Ct)).TextAsync());
    }

    [Theory]
    [MemberData(nameof(Resources))]
    public async Task Post_MergesAndRefusesNonJson(string resource)
    {
        using var http = app.CreateClient();
        var uri = Uri(resource, NewId());
        await http.PostDocumentAsync(uri, Body("{\"car\":\"Honda\"}"));

        var merge = await http.PostDocumentAsync(uri, Body("{\"type\":\"Civic\"}"));
        var octets = await http.PostDocumentAsync(uri, Body("abcdefg", "application/octet-stream"));

        Assert.Equal(HttpStatusCode.NoContent, merge.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, octets.StatusCode);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("{\"car\":\"Honda\",\"type\":\"Civic\"}"), JsonNode.Parse(await (await http.GetAsync(uri, Ct)).TextAsync())));
    }

    [Theory]
    [MemberData(nameof(Resources))]
    public async Task Delete_ExistingOrMissing_Returns204(string resource)
    {
        using var http = app.CreateClient();
        var uri = Uri(resource, NewId());
        await http.PostDocumentAsync(uri, Body("{}"));

        Assert.Equal(HttpStatusCode.NoContent, (await http.DeleteDocumentAsync(uri)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync(uri, Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await http.DeleteDocumentAsync(Uri(resource, NewId()))).StatusCode);
    }

    [Theory]
    [MemberData(nameof(Resources))]
    public async Task Delete_WithoutProfileId_Returns400(string resource)
    {
        using var http = app.CreateClient();
        Assert.Equal(HttpStatusCode.BadRequest, (await http.DeleteDocumentAsync(Uri(resource, null))).StatusCode);
    }

    [Fact]
    public async Task GetIds_ActivityProfile_ListsTheActivitysProfilesSince()
    {
        using var http = app.CreateClient();
        var activity = "http://example.org/activities/profiles-" + NewId();
        await http.PostDocumentAsync(ActivityProfile("p1", activity), Body("{}"));
        await http.PostDocumentAsync(ActivityProfile("p2", activity), Body("{}"));
        await http.PostDocumentAsync(ActivityProfile("elsewhere"), Body("{}"));

        var all = await http.GetAsync(ActivityProfile(null, activity), Ct);
        var since = await http.GetAsync(ActivityProfile(null, activity, since: "2000-01-01T00:00:00Z"), Ct);
        var none = await http.GetAsync(ActivityProfile(null, activity, since: "2999-01-01T00:00:00Z"), Ct);

        Assert.Equal(["p1", "p2"], Ids(await all.TextAsync()).Order(StringComparer.Ordinal));
        Assert.Equal(2, Ids(await since.TextAsync()).Count);
        Assert.Empty(Ids(await none.TextAsync()));
    }

    [Fact]
    public async Task GetIds_AgentProfile_ListsTheAgentsProfiles()
    {
        using var http = app.CreateClient();
        var agent = Agent("mailto:profile.owner." + NewId() + "@example.org");
        await http.PostDocumentAsync(AgentProfile("preferences", agent), Body("{}"));
        await http.PostDocumentAsync(AgentProfile("someone else's"), Body("{}"));

        var ids = await http.GetAsync(AgentProfile(null, agent), Ct);

        Assert.Equal(["preferences"], Ids(await ids.TextAsync()));
    }

    public static TheoryData<string, string> BadParameters => new()
    {
        { "activity profile without activityId", ActivityProfile("p", activityId: null) },
        { "activity profile with agent", ActivityProfile("p") + "&agent=" + System.Uri.EscapeDataString(Agent()) },
        { "activity profile with registration", ActivityProfile("p") + "&registration=" + Guid.NewGuid() },
        { "activity profile with stateId", ActivityProfile("p") + "&stateId=s" },
        { "agent profile without agent", "agents/profile?profileId=p" },
        { "agent profile with agent true", AgentProfile("p", agent: "true") },
        { "agent profile with a Group", AgentProfile("p", agent: "{\"objectType\":\"Group\",\"mbox\":\"mailto:group@example.org\"}") },
        { "agent profile with activityId", AgentProfile("p") + "&activityId=" + System.Uri.EscapeDataString(ActivityId) },
        { "agent profile without profileId", AgentProfile(null) },
    };

    [Theory]
    [MemberData(nameof(BadParameters))]
    public async Task Post_BadParameters_Returns400(string name, string uri)
    {
        Assert.NotNull(name);
        using var http = app.CreateClient();
        Assert.Equal(HttpStatusCode.BadRequest, (await http.PostDocumentAsync(uri, Body("{}"))).StatusCode);
    }

    [Theory]
    [InlineData("true")]
    [InlineData("yesterday")]
    public async Task GetIds_BadSince_Returns400(string since)
    {
        using var http = app.CreateClient();
        Assert.Equal(HttpStatusCode.BadRequest, (await http.GetAsync(ActivityProfile(null, since: since), Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await http.GetAsync(AgentProfile(null, since: since), Ct)).StatusCode);
    }

    [Fact]
    public async Task Scopes_ProfileReadOnlyAndStateOnly_AllowedOrForbidden()
    {
        using var profile = app.CreateClient(await app.AddClientAsync("profile-client", ["profile"]));
        using var reader = app.CreateClient(await app.AddClientAsync("profile-reader", ["all/read"]));
        using var stateOnly = app.CreateClient(await app.AddClientAsync("state-only", ["state"]));
        var uri = ActivityProfile(NewId());

        Assert.Equal(HttpStatusCode.NoContent, (await profile.PostDocumentAsync(uri, Body("{}"))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await reader.GetAsync(uri, Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await reader.PostDocumentAsync(uri, Body("{}"))).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await stateOnly.GetAsync(uri, Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await stateOnly.PostDocumentAsync(AgentProfile(NewId()), Body("{}"))).StatusCode);
    }

    [Fact]
    public async Task Head_AgentProfile_NoBody()
    {
        using var http = app.CreateClient();
        var uri = AgentProfile(NewId());
        await http.PostDocumentAsync(uri, Body("{\"a\":1}"));

        var head = await http.SendAsync(new HttpRequestMessage(HttpMethod.Head, uri), Ct);

        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Empty(await head.Content.ReadAsByteArrayAsync(Ct));
        Assert.NotNull(head.Headers.ETag);
    }

    private static List<string> Ids(string json) => [.. JsonNode.Parse(json)!.AsArray().Select(id => id!.GetValue<string>())];
}
