using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Time.Testing;
using static LearnerVault.Server.Tests.DocumentRequests;

namespace LearnerVault.Server.Tests;

/// <summary>The State resource over real HTTP: documents, ids, merge, preconditions, parameters and scopes.</summary>
public sealed class StateDocumentsTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private readonly LearnerVaultAppFactory app = fixture.Factory;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("2.0.0")]
    [InlineData("1.0.3")]
    public async Task Put_ThenGet_ReturnsSameBytesContentTypeETagAndLastModified(string version)
    {
        using var http = app.CreateClient(version);
        var uri = State(NewId());
        const string text = "plain text, not JSON: ünïcode";

        var put = await http.PutDocumentAsync(uri, Body(text, "text/plain; charset=utf-8"));
        var get = await http.GetAsync(uri, Ct);

        Assert.Equal(HttpStatusCode.NoContent, put.StatusCode);
        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        Assert.Equal(text, await get.TextAsync());
        Assert.Equal("text/plain; charset=utf-8", get.Content.Headers.ContentType!.ToString());
#pragma warning disable CA5350 // xAPI 1.0.3 specifies the ETag as the SHA-1 of the content
        var sha1 = Convert.ToHexStringLower(SHA1.HashData(Encoding.UTF8.GetBytes(text)));
#pragma warning restore CA5350
        Assert.Equal("\"" + sha1 + "\"", get.ETag());
        Assert.Equal(put.ETag(), get.ETag());
        Assert.NotNull(get.Content.Headers.LastModified);
    }

    [Fact]
    public async Task Get_MissingDocument_Returns404()
    {
        using var http = app.CreateClient();
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync(State(NewId()), Ct)).StatusCode);
    }

    [Fact]
    public async Task Head_Document_HasGetHeadersAndNoBody()
    {
        using var http = app.CreateClient();
        var uri = State(NewId());
        await http.PutDocumentAsync(uri, Body("{\"a\":1}"));

        var head = await http.SendAsync(new HttpRequestMessage(HttpMethod.Head, uri), Ct);

        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Empty(await head.Content.ReadAsByteArrayAsync(Ct));
        Assert.Equal(7, head.Content.Headers.ContentLength);
        Assert.StartsWith("\"", head.ETag(), StringComparison.Ordinal);
        Assert.NotNull(head.Content.Headers.LastModified);
    }

    [Fact]
    public async Task Put_ExistingWithoutPrecondition_In2_0_Returns409AndKeepsDocument()
    {
        using var http = app.CreateClient("2.0.0");
        var uri = State(NewId());
        await http.PutDocumentAsync(uri, Body("{\"v\":1}"));

        var again = await http.PutDocumentAsync(uri, Body("{\"v\":2}"));

        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        Assert.Contains("If-Match", await again.TextAsync(), StringComparison.Ordinal);
        Assert.Equal("{\"v\":1}", await (await http.GetAsync(uri, Ct)).TextAsync());
    }

    [Fact]
    public async Task Put_ExistingWithoutPrecondition_In1_0_3_Replaces()
    {
        using var http = app.CreateClient("1.0.3");
        var uri = State(NewId());
        await http.PutDocumentAsync(uri, Body("{\"v\":1}"));

        var again = await http.PutDocumentAsync(uri, Body("{\"v\":2}"));

        Assert.Equal(HttpStatusCode.NoContent, again.StatusCode);
        Assert.Equal("{\"v\":2}", await (await http.GetAsync(uri, Ct)).TextAsync());
    }

    [Fact]
    public async Task Put_IfMatch_CurrentReplacesStaleGets412()
    {
        using var http = app.CreateClient();
        var uri = State(NewId());
        var first = await http.PutDocumentAsync(uri, Body("{\"v\":1}"));

        var stale = await http.PutDocumentAsync(uri, Body("{\"v\":2}"), ifMatch: "\"1234\"");
        var current = await http.PutDocumentAsync(uri, Body("{\"v\":3}"), ifMatch: first.ETag());
        var reused = await http.PutDocumentAsync(uri, Body("{\"v\":4}"), ifMatch: first.ETag());

        Assert.Equal(HttpStatusCode.PreconditionFailed, stale.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, current.StatusCode);
        Assert.Equal(HttpStatusCode.PreconditionFailed, reused.StatusCode);
        Assert.Equal("{\"v\":3}", await (await http.GetAsync(uri, Ct)).TextAsync());
    }

    [Fact]
    public async Task Put_IfMatchWeakTag_Returns412()
    {
        using var http = app.CreateClient();
        var uri = State(NewId());
        var first = await http.PutDocumentAsync(uri, Body("{\"v\":1}"));

        var weak = await http.PutDocumentAsync(uri, Body("{\"v\":2}"), ifMatch: "W/" + first.ETag());

        Assert.Equal(HttpStatusCode.PreconditionFailed, weak.StatusCode);
    }

    [Fact]
    public async Task Put_IfMatchOnMissingDocument_Returns412AndCreatesNothing()
    {
        using var http = app.CreateClient();
        var uri = State(NewId());

        var response = await http.PutDocumentAsync(uri, Body("{}"), ifMatch: "*");

        Assert.Equal(HttpStatusCode.PreconditionFailed, response.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync(uri, Ct)).StatusCode);
    }

    [Fact]
    public async Task Put_IfNoneMatchStar_CreatesOnceThenReturns412()
    {
        using var http = app.CreateClient();
        var uri = State(NewId());

        var first = await http.PutDocumentAsync(uri, Body("{\"v\":1}"), ifNoneMatch: "*");
        var second = await http.PutDocumentAsync(uri, Body("{\"v\":2}"), ifNoneMatch: "*");

        Assert.Equal(HttpStatusCode.NoContent, first.StatusCode);
        Assert.Equal(HttpStatusCode.PreconditionFailed, second.StatusCode);
        Assert.Equal("{\"v\":1}", await (await http.GetAsync(uri, Ct)).TextAsync());
    }

    [Fact]
    public async Task Put_IfNoneMatchCurrentTag_Returns412()
    {
        using var http = app.CreateClient();
        var uri = State(NewId());
        var first = await http.PutDocumentAsync(uri, Body("{\"v\":1}"));

        var response = await http.PutDocumentAsync(uri, Body("{\"v\":2}"), ifNoneMatch: first.ETag());

        Assert.Equal(HttpStatusCode.PreconditionFailed, response.StatusCode);
    }

    [Fact]
    public async Task Post_ExistingJson_MergesTopLevelPropertiesOnly()
    {
        using var http = app.CreateClient();
        var uri = State(NewId());
        await http.PostDocumentAsync(uri, Body("{\"x\":\"foo\",\"y\":\"bar\",\"deep\":{\"a\":1,\"b\":2}}"));

        var merge = await http.PostDocumentAsync(uri, Body("{\"x\":\"bash\",\"z\":\"faz\",\"deep\":{\"c\":3}}"));

        Assert.Equal(HttpStatusCode.NoContent, merge.StatusCode);
        var merged = JsonNode.Parse(await (await http.GetAsync(uri, Ct)).TextAsync())!;
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("{\"x\":\"bash\",\"y\":\"bar\",\"deep\":{\"c\":3},\"z\":\"faz\"}"), merged));
    }

    [Fact]
    public async Task Post_MissingDocument_StoresAsPutWhateverItsType()
    {
        using var http = app.CreateClient();
        var uri = State(NewId());

        var response = await http.PostDocumentAsync(uri, Body("raw bytes", "application/octet-stream"));

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        var get = await http.GetAsync(uri, Ct);
        Assert.Equal("raw bytes", await get.TextAsync());
        Assert.Equal("application/octet-stream", get.Content.Headers.ContentType!.MediaType);
    }

    public static TheoryData<string, string, string, string> BadMerges => new()
    {
        { "posted not JSON", "{\"a\":1}", "abcdefg", "not/json" },
        { "posted form", "{\"a\":1}", "abc", "application/x-www-form-urlencoded" },
        { "stored not JSON", "/ asdf / undefined", "{\"a\":2}", "application/json" },
        { "posted array", "{\"a\":1}", "[1,2]", "application/json" },
        { "posted invalid JSON", "{\"a\":1}", "{\"a\":2}{", "application/json" },
    };

    [Theory]
    [MemberData(nameof(BadMerges))]
    public async Task Post_EitherSideNotAJsonObject_Returns400AndKeepsDocument(string name, string stored, string posted, string postedType)
    {
        Assert.NotNull(name);
        using var http = app.CreateClient();
        var uri = State(NewId());
        var storedType = stored.StartsWith('{') ? "application/json" : "application/octet-stream";
        await http.PutDocumentAsync(uri, Body(stored, storedType));

        var response = await http.PostDocumentAsync(uri, Body(posted, postedType));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(stored, await (await http.GetAsync(uri, Ct)).TextAsync());
    }

    [Fact]
    public async Task Post_InvalidJsonForNewDocument_Returns400AndStoresNothing()
    {
        using var http = app.CreateClient();
        var uri = State(NewId());

        var response = await http.PostDocumentAsync(uri, Body("{\"a\":1}["));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync(uri, Ct)).StatusCode);
    }

    [Fact]
    public async Task Post_IfMatchStale_Returns412AndDoesNotMerge()
    {
        using var http = app.CreateClient();
        var uri = State(NewId());
        var first = await http.PostDocumentAsync(uri, Body("{\"a\":1}"));

        var stale = await http.PostDocumentAsync(uri, Body("{\"b\":2}"), ifMatch: "\"0000\"");
        var current = await http.PostDocumentAsync(uri, Body("{\"c\":3}"), ifMatch: first.ETag());

        Assert.Equal(HttpStatusCode.PreconditionFailed, stale.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, current.StatusCode);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("{\"a\":1,\"c\":3}"), JsonNode.Parse(await (await http.GetAsync(uri, Ct)).TextAsync())));
    }

    [Fact]
    public async Task Delete_Document_Returns204ThenGetReturns404AndDeleteAgainIs204()
    {
        using var http = app.CreateClient();
        var uri = State(NewId());
        await http.PutDocumentAsync(uri, Body("{}"));

        Assert.Equal(HttpStatusCode.NoContent, (await http.DeleteDocumentAsync(uri)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync(uri, Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await http.DeleteDocumentAsync(uri)).StatusCode);
    }

    [Fact]
    public async Task Delete_IfMatchStale_Returns412AndKeepsDocument()
    {
        using var http = app.CreateClient();
        var uri = State(NewId());
        var put = await http.PutDocumentAsync(uri, Body("{}"));

        Assert.Equal(HttpStatusCode.PreconditionFailed, (await http.DeleteDocumentAsync(uri, "\"1234\"")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(uri, Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await http.DeleteDocumentAsync(uri, put.ETag())).StatusCode);
    }

    [Fact]
    public async Task GetIds_WithAndWithoutRegistration_ListsTheContext()
    {
        using var http = app.CreateClient();
        var activity = "http://example.org/activities/ids-" + NewId();
        var registration = Guid.NewGuid();
        await http.PutDocumentAsync(State("plain", activityId: activity), Body("{}"));
        await http.PutDocumentAsync(State("registered", activityId: activity, registration: registration), Body("{}"));
        await http.PutDocumentAsync(State("other agent", activityId: activity, agent: Agent("mailto:other@example.org")), Body("{}"));

        var all = await http.GetAsync(State(null, activityId: activity), Ct);
        var oneRegistration = await http.GetAsync(State(null, activityId: activity, registration: registration), Ct);

        Assert.Equal(HttpStatusCode.OK, all.StatusCode);
        Assert.Equal(["plain", "registered"], Ids(await all.TextAsync()).Order(StringComparer.Ordinal));
        Assert.Equal(["registered"], Ids(await oneRegistration.TextAsync()));
        Assert.NotNull(all.Content.Headers.LastModified);
        Assert.Equal("application/json", all.Content.Headers.ContentType!.MediaType);
    }

    [Fact]
    public async Task GetIds_WithSince_ListsOnlyDocumentsUpdatedAfterAndLastModifiedFollowsUpdates()
    {
        var clock = new FakeTimeProvider(new DateTimeOffset(2026, 5, 4, 10, 0, 0, TimeSpan.Zero));
        await using var timed = await LearnerVaultAppFactory.StartAsync(o => o.TimeProvider = clock);
        using var http = timed.CreateClient();
        await http.PutDocumentAsync(State("before"), Body("{\"v\":1}"));
        clock.Advance(TimeSpan.FromMinutes(1));
        await http.PutDocumentAsync(State("at"), Body("{}"));
        clock.Advance(TimeSpan.FromMinutes(1));
        await http.PostDocumentAsync(State("before"), Body("{\"v\":2}"));

        var since = await http.GetAsync(State(null, since: "2026-05-04T10:01:00Z"), Ct);
        var sinceWithOffset = await http.GetAsync(State(null, since: "2026-05-04T11:00:30+01:00"), Ct);
        var all = await http.GetAsync(State(null), Ct);

        Assert.Equal(["before"], Ids(await since.TextAsync())); // exclusive: "at" was stored at 10:01:00 exactly
        Assert.Equal(["at", "before"], Ids(await sinceWithOffset.TextAsync()));
        Assert.Equal(["at", "before"], Ids(await all.TextAsync()));
        Assert.Equal(clock.GetUtcNow(), all.Content.Headers.LastModified);
        Assert.Equal(clock.GetUtcNow(), (await http.GetAsync(State("before"), Ct)).Content.Headers.LastModified);
        Assert.Equal(clock.GetUtcNow().AddMinutes(-1), (await http.GetAsync(State("at"), Ct)).Content.Headers.LastModified);
        Assert.Equal("[]", await (await http.GetAsync(State(null, since: "2999-01-01T00:00:00Z"), Ct)).TextAsync());
    }

    [Fact]
    public async Task DeleteAll_WithoutRegistration_DeletesEveryRegistrationOfTheContextOnly()
    {
        using var http = app.CreateClient();
        var activity = "http://example.org/activities/delete-all-" + NewId();
        await http.PutDocumentAsync(State("a", activityId: activity), Body("{}"));
        await http.PutDocumentAsync(State("b", activityId: activity, registration: Guid.NewGuid()), Body("{}"));
        var otherAgent = State("c", activityId: activity, agent: Agent("mailto:keep.me@example.org"));
        await http.PutDocumentAsync(otherAgent, Body("{}"));

        var response = await http.DeleteDocumentAsync(State(null, activityId: activity));

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal("[]", await (await http.GetAsync(State(null, activityId: activity), Ct)).TextAsync());
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(otherAgent, Ct)).StatusCode);
    }

    [Fact]
    public async Task DeleteAll_WithRegistration_DeletesOnlyThatRegistration()
    {
        using var http = app.CreateClient();
        var activity = "http://example.org/activities/delete-reg-" + NewId();
        var registration = Guid.NewGuid();
        await http.PutDocumentAsync(State("kept", activityId: activity), Body("{}"));
        await http.PutDocumentAsync(State("gone", activityId: activity, registration: registration), Body("{}"));

        await http.DeleteDocumentAsync(State(null, activityId: activity, registration: registration));

        Assert.Equal(["kept"], Ids(await (await http.GetAsync(State(null, activityId: activity), Ct)).TextAsync()));
    }

    [Fact]
    public async Task Put_SameStateIdForOtherAgentOrRegistration_IsAnotherDocument()
    {
        using var http = app.CreateClient();
        var id = NewId();
        await http.PutDocumentAsync(State(id), Body("{\"who\":\"learner\"}"));
        await http.PutDocumentAsync(State(id, agent: Agent("mailto:someone.else@example.org")), Body("{\"who\":\"other\"}"));
        await http.PutDocumentAsync(State(id, registration: Guid.NewGuid()), Body("{\"who\":\"registered\"}"));

        Assert.Equal("{\"who\":\"learner\"}", await (await http.GetAsync(State(id), Ct)).TextAsync());
        // The same agent written differently (domain case) is the same agent.
        Assert.Equal("{\"who\":\"learner\"}", await (await http.GetAsync(State(id, agent: Agent("mailto:doc.learner@EXAMPLE.org")), Ct)).TextAsync());
    }

    public static TheoryData<string, string> BadParameters => new()
    {
        { "no activityId", State("s", activityId: null) },
        { "activityId not an IRI", State("s", activityId: "not an iri") },
        { "no agent", "activities/state?" + Query(("activityId", ActivityId), ("stateId", "s")) },
        { "agent not JSON", State("s", agent: "not JSON") },
        { "agent true", State("s", agent: "true") },
        { "agent without IFI", State("s", agent: "{\"objectType\":\"Agent\",\"name\":\"No Identifier\"}") },
        { "agent with two IFIs", State("s", agent: "{\"mbox\":\"mailto:a@example.org\",\"openid\":\"http://example.org/a\"}") },
        { "agent broken encoding", State("s", agent: "{\"objectType\"\"Agent\",\"account\":{\"homePage\":\"http://example.org\",\"name\":\"x\"}}") },
        { "registration not a UUID", State("s") + "&registration=true" },
        { "unknown parameter", State("s") + "&profileId=p" },
        { "repeated parameter", State("s") + "&stateId=t" },
        { "empty stateId", State("") },
        { "since on PUT", State("s", since: "2020-01-01T00:00:00Z") },
    };

    [Theory]
    [MemberData(nameof(BadParameters))]
    public async Task Put_BadParameters_Returns400(string name, string uri)
    {
        Assert.NotNull(name);
        using var http = app.CreateClient();
        var response = await http.PutDocumentAsync(uri, Body("{}"));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Theory]
    [InlineData("PUT")]
    [InlineData("POST")]
    public async Task Write_WithoutStateId_Returns400(string method)
    {
        using var http = app.CreateClient();
        var response = await http.SendAsync(Request(new HttpMethod(method), State(null), Body("{}")), Ct);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Theory]
    [InlineData("not a timestamp")]
    [InlineData("true")]
    [InlineData("2020-01-01T00:00:00")]
    public async Task GetIds_BadSince_Returns400(string since)
    {
        using var http = app.CreateClient();
        Assert.Equal(HttpStatusCode.BadRequest, (await http.GetAsync(State(null, since: since), Ct)).StatusCode);
    }

    [Fact]
    public async Task Get_BadAgent_ErrorNeverEchoesTheAgent()
    {
        using var http = app.CreateClient();
        var response = await http.GetAsync(State("s", agent: "{\"mbox\":\"mailto:echo.me.not@example.org\",\"openid\":\"http://example.org/x\"}"), Ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.DoesNotContain("echo.me.not", await response.TextAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Scopes_StateWriteReadOnlyAndOthers_AllowedOrForbidden()
    {
        using var state = app.CreateClient(await app.AddClientAsync("state-client", ["state"]));
        using var reader = app.CreateClient(await app.AddClientAsync("all-reader", ["all/read"]));
        using var statementsOnly = app.CreateClient(await app.AddClientAsync("statement-writer", ["statements/write", "profile"]));
        var uri = State(NewId());

        Assert.Equal(HttpStatusCode.NoContent, (await state.PutDocumentAsync(uri, Body("{}"))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await reader.GetAsync(uri, Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await reader.PostDocumentAsync(uri, Body("{}"))).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await reader.DeleteDocumentAsync(uri)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await statementsOnly.GetAsync(uri, Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await statementsOnly.PutDocumentAsync(State(NewId()), Body("{}"))).StatusCode);
    }

    [Fact]
    public async Task AlternateSyntax_In1_0_3_PutsAndGetsADocument()
    {
        using var http = app.CreateClient("1.0.3");
        var stateId = NewId();
        var form = new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["activityId"] = ActivityId,
            ["agent"] = Agent(),
            ["stateId"] = stateId,
            ["content"] = "{\"via\":\"form\"}",
        });

        var put = await http.PostAsync("activities/state?method=PUT", form, Ct);

        Assert.Equal(HttpStatusCode.NoContent, put.StatusCode);
        Assert.Equal("{\"via\":\"form\"}", await (await http.GetAsync(State(stateId), Ct)).TextAsync());
    }

    /// <summary>
    /// Fifty writers each read the document and write it back with If-Match, retrying on 412, each adding itself to a
    /// list and incrementing a counter. Lost updates would show as a counter below fifty or a missing writer.
    /// </summary>
    [Fact]
    public async Task Put_FiftyConcurrentWritersWithIfMatch_NoUpdateIsLostAndEveryLoserGets412()
    {
        const int Writers = 50;
        using var http = app.CreateClient();
        var uri = State(NewId());
        Assert.Equal(HttpStatusCode.NoContent, (await http.PutDocumentAsync(uri, Body("{\"count\":0,\"writers\":[]}"), ifNoneMatch: "*")).StatusCode);

        var others = new ConcurrentBag<HttpStatusCode>();
        var wins = new ConcurrentDictionary<int, string>();
        await Task.WhenAll(Enumerable.Range(0, Writers).Select(writer => Task.Run(async () =>
        {
            while (true)
            {
                var current = await http.GetAsync(uri, Ct);
                var document = JsonNode.Parse(await current.TextAsync())!.AsObject();
                var count = document["count"]!.GetValue<int>() + 1;
                document["count"] = count;
                document["writers"]!.AsArray().Add(writer);
                var body = document.ToJsonString();
                var put = await http.PutDocumentAsync(uri, Body(body), ifMatch: current.ETag());
                if (put.StatusCode == HttpStatusCode.NoContent)
                {
                    Assert.True(wins.TryAdd(count, body), "two writers won with the same version");
                    return;
                }

                if (put.StatusCode != HttpStatusCode.PreconditionFailed)
                {
                    others.Add(put.StatusCode);
                    return;
                }
            }
        }, Ct)));

        Assert.Empty(others);
        Assert.Equal(Enumerable.Range(1, Writers), wins.Keys.Order());
        var final = await (await http.GetAsync(uri, Ct)).TextAsync();
        Assert.Equal(wins[Writers], final);
        var finalDocument = JsonNode.Parse(final)!;
        Assert.Equal(Writers, finalDocument["count"]!.GetValue<int>());
        Assert.Equal(Enumerable.Range(0, Writers), finalDocument["writers"]!.AsArray().Select(w => w!.GetValue<int>()).Order());
    }

    private static List<string> Ids(string json) => [.. JsonNode.Parse(json)!.AsArray().Select(id => id!.GetValue<string>())];
}
