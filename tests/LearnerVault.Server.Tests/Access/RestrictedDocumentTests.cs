using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using LoggedDecision = LearnerVault.Privacy.Audit.AccessDecision;

namespace LearnerVault.Server.Tests.Access;

/// <summary>
/// State and Agent Profile documents written while the learner restricted processing are kept like statements stored
/// restricted: clients never read them again, not even after the restriction is lifted, until they are deleted.
/// </summary>
public sealed class RestrictedDocumentTests(AccessKit kit) : IClassFixture<AccessKit>
{
    private const string Alice = "mailto:alice@example.org";
    private const string Activity = "http://example.org/course";

    private static string States => $"activities/state?activityId={Uri.EscapeDataString(Activity)}&agent={AccessKit.AgentParameter(Alice)}";

    private static string Profile => $"agents/profile?agent={AccessKit.AgentParameter(Alice)}&profileId=prefs";

    [Fact]
    public async Task Documents_WrittenWhileRestricted_StayWithheldAfterTheRestrictionIsLifted()
    {
        var tenant = await kit.TenantAsync();
        var app = await kit.ClientAsync(tenant, ["all"], "instruction");
        var alice = await kit.LearnerAsync(tenant, Alice);
        Assert.Equal(HttpStatusCode.NoContent, await SendAsync(app, HttpMethod.Put, States + "&stateId=before", "{\"a\":0}"));

        await kit.UpdateLearnerAsync(tenant, alice, l => l with { Restricted = true });
        Assert.Equal(HttpStatusCode.NoContent, await SendAsync(app, HttpMethod.Put, States + "&stateId=during", "{\"a\":1}"));
        Assert.Equal(HttpStatusCode.NoContent, await SendAsync(app, HttpMethod.Post, Profile, "{\"theme\":\"dark\"}"));
        Assert.Equal(HttpStatusCode.NotFound, await SendAsync(app, HttpMethod.Get, States + "&stateId=during"));

        await kit.UpdateLearnerAsync(tenant, alice, l => l with { Restricted = false });

        Assert.Equal(HttpStatusCode.OK, await SendAsync(app, HttpMethod.Get, States + "&stateId=before"));
        Assert.Equal(HttpStatusCode.NotFound, await SendAsync(app, HttpMethod.Get, States + "&stateId=during"));
        Assert.Equal(HttpStatusCode.NotFound, await SendAsync(app, HttpMethod.Head, States + "&stateId=during"));
        Assert.Equal(HttpStatusCode.NotFound, await SendAsync(app, HttpMethod.Get, Profile));
        Assert.Equal(["before"], await ListAsync(app, States));
        Assert.Empty(await ListAsync(app, "agents/profile?agent=" + AccessKit.AgentParameter(Alice)));

        var log = await kit.LogAsync(tenant);
        Assert.Equal(2, log.Count(e => e.Action == "documents.write" && e.Decision == LoggedDecision.Allow && e.Reason == "stored_restricted"));
        // After the lift: GET, HEAD, the profile and both listings each withheld (and logged) as stored restricted.
        var afterLift = log.SkipWhile(e => !(e.Action == "documents.read" && e.Decision == LoggedDecision.Allow)).ToList();
        Assert.Equal(5, afterLift.Count(e => e.Action == "documents.read" && e.Decision == LoggedDecision.Deny && e.Reason == "restricted" && e.Records == 1));
        await kit.AssertLogVerifiesAsync(tenant);
    }

    [Fact]
    public async Task Document_StoredRestricted_LaterWritesKeepItRestrictedUntilDeleted()
    {
        var tenant = await kit.TenantAsync();
        var app = await kit.ClientAsync(tenant, ["all"], "instruction");
        var alice = await kit.LearnerAsync(tenant, Alice);
        var state = States + "&stateId=s1";
        await kit.UpdateLearnerAsync(tenant, alice, l => l with { Restricted = true });
        Assert.Equal(HttpStatusCode.NoContent, await SendAsync(app, HttpMethod.Put, state, "{\"a\":1}"));
        await kit.UpdateLearnerAsync(tenant, alice, l => l with { Restricted = false });

        // Replaced or merged into, the document may still carry what was written under restriction.
        Assert.Equal(HttpStatusCode.NoContent, await SendAsync(app, HttpMethod.Put, state, "{\"a\":2}", ifMatch: "*"));
        Assert.Equal(HttpStatusCode.NotFound, await SendAsync(app, HttpMethod.Get, state));
        Assert.Equal(HttpStatusCode.NoContent, await SendAsync(app, HttpMethod.Post, state, "{\"b\":3}"));
        Assert.Equal(HttpStatusCode.NotFound, await SendAsync(app, HttpMethod.Get, state));

        Assert.Equal(HttpStatusCode.NoContent, await SendAsync(app, HttpMethod.Delete, state));
        Assert.Equal(HttpStatusCode.NoContent, await SendAsync(app, HttpMethod.Put, state, "{\"fresh\":true}"));
        Assert.Equal(HttpStatusCode.OK, await SendAsync(app, HttpMethod.Get, state));
    }

    private static async Task<HttpStatusCode> SendAsync(HttpClient http, HttpMethod method, string uri, string? json = null, string? ifMatch = null)
    {
        using var request = new HttpRequestMessage(method, uri);
        if (json is not null)
        {
            request.Content = new ByteArrayContent(Encoding.UTF8.GetBytes(json));
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        }

        if (ifMatch is not null)
        {
            request.Headers.TryAddWithoutValidation("If-Match", ifMatch);
        }

        using var response = await http.SendAsync(request, AccessKit.Ct);
        return response.StatusCode;
    }

    private static async Task<List<string>> ListAsync(HttpClient http, string uri)
    {
        using var response = await http.GetAsync(uri, AccessKit.Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(AccessKit.Ct));
        return [.. body.RootElement.EnumerateArray().Select(e => e.GetString()!)];
    }
}
