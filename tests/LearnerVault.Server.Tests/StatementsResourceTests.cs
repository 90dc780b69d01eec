using System.Net;
using System.Text.Json.Nodes;
using LearnerVault.Server.Statements;
using LearnerVault.Storage;
using LearnerVault.Xapi;
using Microsoft.Extensions.DependencyInjection;
using static LearnerVault.Server.Tests.XapiJson;

namespace LearnerVault.Server.Tests;

public sealed class StatementsResourceTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private readonly LearnerVaultAppFactory app = fixture.Factory;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("2.0.0")]
    [InlineData("1.0.3")]
    public async Task Post_SingleStatement_ReturnsIdAndStoresAuthorityStoredVersion(string version)
    {
        using var http = app.CreateClient(version);
        var response = await http.PostAsync("statements", Content(Statement()), Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(version, response.Headers.GetValues("X-Experience-API-Version").Single());
        var id = (await response.ReadJsonAsync()).AsArray().Single()!.GetValue<string>();

        var read = await http.GetAsync($"statements?statementId={id}", Ct);
        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        var statement = (await read.ReadJsonAsync()).AsObject();
        Assert.Equal(id, statement["id"]!.GetValue<string>());
        Assert.NotNull(statement["stored"]);
        Assert.NotNull(statement["timestamp"]);
        Assert.Equal("Agent", statement["authority"]!["objectType"]!.GetValue<string>());
        Assert.StartsWith(version == "2.0.0" ? "2.0" : "1.0", statement["version"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.True(read.Content.Headers.LastModified.HasValue);
        Assert.True(read.Headers.Contains("X-Experience-API-Consistent-Through"));
    }

    [Fact]
    public async Task Put_WithStatementId_Returns204AndSameContentAgainIsNoConflict()
    {
        using var http = app.CreateClient();
        var id = Guid.NewGuid();
        var first = await http.PutAsync($"statements?statementId={id}", Content(Statement()), Ct);
        Assert.Equal(HttpStatusCode.NoContent, first.StatusCode);

        var again = await http.PutAsync($"statements?statementId={id}", Content(Statement(id: id)), Ct);
        Assert.Equal(HttpStatusCode.NoContent, again.StatusCode);

        var different = await http.PutAsync($"statements?statementId={id}", Content(Statement(verb: "http://example.org/verbs/other")), Ct);
        Assert.Equal(HttpStatusCode.Conflict, different.StatusCode);

        var viaPost = await http.PostAsync("statements", Content(Statement(id: id, activity: "http://example.org/activities/other")), Ct);
        Assert.Equal(HttpStatusCode.Conflict, viaPost.StatusCode);
    }

    [Theory]
    [InlineData("")]
    [InlineData("?statementId=not-a-uuid")]
    public async Task Put_WithoutValidStatementId_Returns400(string query)
    {
        using var http = app.CreateClient();
        var response = await http.PutAsync("statements" + query, Content(Statement()), Ct);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task Put_IdDiffersFromParameter_Returns400()
    {
        using var http = app.CreateClient();
        var response = await http.PutAsync($"statements?statementId={Guid.NewGuid()}", Content(Statement(id: Guid.NewGuid())), Ct);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    /// <summary>A body sent chunked (no Content-Length) and larger than the first pooled buffer, so the read grows it
    /// several times: every statement arrives whole.</summary>
    [Fact]
    public async Task Post_ChunkedBatchLargerThanTheFirstBuffer_StoresEveryStatementWhole()
    {
        using var http = app.CreateClient();
        var batch = new JsonArray([.. Enumerable.Range(0, 300).Select(i => (JsonNode)Statement(verb: $"http://example.org/verbs/chunked-{i}"))]);
        var bytes = System.Text.Encoding.UTF8.GetBytes(batch.ToJsonString());
        Assert.True(bytes.Length > 4 * 16 * 1024, $"the body should outgrow the first 16 KiB buffer several times ({bytes.Length} bytes)");
        using var content = new StreamContent(new MemoryStream(bytes));
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        using var request = new HttpRequestMessage(HttpMethod.Post, "statements") { Content = content };
        request.Headers.TransferEncodingChunked = true;

        var response = await http.SendAsync(request, Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var ids = (await response.ReadJsonAsync()).AsArray().Select(id => id!.GetValue<string>()).ToList();
        Assert.Equal(300, ids.Count);
        var last = (await (await http.GetAsync($"statements?statementId={ids[^1]}", Ct)).ReadJsonAsync()).AsObject();
        Assert.Equal("http://example.org/verbs/chunked-299", last["verb"]!["id"]!.GetValue<string>());
    }

    [Fact]
    public async Task Post_BatchWithConflict_StoresNothing()
    {
        using var http = app.CreateClient();
        var existing = Guid.NewGuid();
        Assert.Equal(HttpStatusCode.NoContent, (await http.PutAsync($"statements?statementId={existing}", Content(Statement()), Ct)).StatusCode);

        var fresh = Guid.NewGuid();
        var batch = new JsonArray(Statement(id: fresh), Statement(id: existing, verb: "http://example.org/verbs/changed"));
        var response = await http.PostAsync("statements", Content(batch), Ct);
        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync($"statements?statementId={fresh}", Ct)).StatusCode);
    }

    [Fact]
    public async Task Post_BatchWithRepeatedId_Returns400AndStoresNothing()
    {
        using var http = app.CreateClient();
        var id = Guid.NewGuid();
        var batch = new JsonArray(Statement(id: id), Statement(id: id));
        Assert.Equal(HttpStatusCode.BadRequest, (await http.PostAsync("statements", Content(batch), Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync($"statements?statementId={id}", Ct)).StatusCode);
    }

    [Fact]
    public async Task Post_BatchWithOneInvalid_StoresNothing()
    {
        using var http = app.CreateClient();
        var good = Guid.NewGuid();
        var bad = Statement();
        bad.Remove("verb");
        var response = await http.PostAsync("statements", Content(new JsonArray(Statement(id: good), bad)), Ct);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync($"statements?statementId={good}", Ct)).StatusCode);
    }

    [Fact]
    public async Task Void_Target_HiddenFromQueriesButReadableAsVoided()
    {
        using var http = app.CreateClient();
        var activity = "http://example.org/activities/voiding-" + Guid.NewGuid();
        var target = Guid.NewGuid();
        await http.PutAsync($"statements?statementId={target}", Content(Statement(activity: activity)), Ct);
        var voidingResponse = await http.PostAsync("statements", Content(Voiding(target)), Ct);
        Assert.Equal(HttpStatusCode.OK, voidingResponse.StatusCode);
        var voidingId = (await voidingResponse.ReadJsonAsync())[0]!.GetValue<string>();

        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync($"statements?statementId={target}", Ct)).StatusCode);
        var voided = await http.GetAsync($"statements?voidedStatementId={target}", Ct);
        Assert.Equal(HttpStatusCode.OK, voided.StatusCode);

        var query = await (await http.GetAsync($"statements?activity={Uri.EscapeDataString(activity)}", Ct)).ReadJsonAsync();
        var ids = query["statements"]!.AsArray().Select(s => s!["id"]!.GetValue<string>()).ToList();
        Assert.DoesNotContain(target.ToString(), ids);
        Assert.Contains(voidingId, ids); // the voiding statement references a matching statement, so it matches too

        // A voiding statement cannot itself be voided away.
        await http.PostAsync("statements", Content(Voiding(Guid.Parse(voidingId))), Ct);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync($"statements?statementId={voidingId}", Ct)).StatusCode);
    }

    [Fact]
    public async Task Get_NonVoidedByVoidedStatementId_Returns404()
    {
        using var http = app.CreateClient();
        var id = Guid.NewGuid();
        await http.PutAsync($"statements?statementId={id}", Content(Statement()), Ct);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync($"statements?voidedStatementId={id}", Ct)).StatusCode);
    }

    [Fact]
    public async Task Get_FiltersByEachParameter_ReturnOnlyMatches()
    {
        using var http = app.CreateClient();
        var tag = Guid.NewGuid().ToString("N");
        var mbox = $"mailto:filter-{tag}@example.org";
        var verb = $"http://example.org/verbs/{tag}";
        var activity = $"http://example.org/activities/{tag}";
        var registration = Guid.NewGuid();

        var matching = Statement(mbox: mbox, verb: verb, activity: activity, registration: registration);
        var related = Statement(mbox: $"mailto:other-{tag}@example.org", verb: verb);
        related["context"] = new JsonObject
        {
            ["instructor"] = new JsonObject { ["mbox"] = mbox },
            ["contextActivities"] = new JsonObject { ["parent"] = new JsonArray(new JsonObject { ["id"] = activity }) },
        };
        var response = await http.PostAsync("statements", Content(new JsonArray(matching, related, Statement())), Ct);
        var ids = (await response.ReadJsonAsync()).AsArray().Select(n => n!.GetValue<string>()).ToArray();

        async Task<string[]> Query(string q) =>
            [.. (await (await http.GetAsync("statements?" + q, Ct)).ReadJsonAsync())["statements"]!.AsArray().Select(s => s!["id"]!.GetValue<string>())];

        Assert.Equal([ids[0]], await Query("agent=" + Uri.EscapeDataString(Agent(mbox))));
        Assert.Equal([ids[1], ids[0]], await Query("agent=" + Uri.EscapeDataString(Agent(mbox)) + "&related_agents=true"));
        Assert.Equal([ids[1], ids[0]], await Query("verb=" + Uri.EscapeDataString(verb)));
        Assert.Equal([ids[0], ids[1]], await Query("verb=" + Uri.EscapeDataString(verb) + "&ascending=true"));
        Assert.Equal([ids[0]], await Query("activity=" + Uri.EscapeDataString(activity)));
        Assert.Equal([ids[1], ids[0]], await Query("activity=" + Uri.EscapeDataString(activity) + "&related_activities=true"));
        Assert.Equal([ids[0]], await Query("registration=" + registration));
        Assert.Equal([ids[0]], await Query("verb=" + Uri.EscapeDataString(verb) + "&agent=" + Uri.EscapeDataString(Agent(mbox))));
        Assert.Empty(await Query("verb=" + Uri.EscapeDataString(verb) + "&registration=" + Guid.NewGuid()));
    }

    [Fact]
    public async Task Get_SinceAndUntil_BoundByStored()
    {
        using var http = app.CreateClient();
        var verb = $"http://example.org/verbs/time-{Guid.NewGuid():N}";
        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            ids.Add((await (await http.PostAsync("statements", Content(Statement(verb: verb)), Ct)).ReadJsonAsync())[0]!.GetValue<string>());
        }

        var stored = new List<string>();
        foreach (var id in ids)
        {
            stored.Add((await (await http.GetAsync($"statements?statementId={id}", Ct)).ReadJsonAsync())["stored"]!.GetValue<string>());
        }

        async Task<string[]> Query(string q) =>
            [.. (await (await http.GetAsync("statements?verb=" + Uri.EscapeDataString(verb) + "&ascending=true&" + q, Ct)).ReadJsonAsync())["statements"]!.AsArray().Select(s => s!["id"]!.GetValue<string>())];

        Assert.Equal(ids.Skip(1), await Query("since=" + Uri.EscapeDataString(stored[0])));
        Assert.Equal(ids.Take(2), await Query("until=" + Uri.EscapeDataString(stored[1])));
        Assert.Equal([ids[1]], await Query("since=" + Uri.EscapeDataString(stored[0]) + "&until=" + Uri.EscapeDataString(stored[1])));
    }

    [Fact]
    public async Task Get_MorePaging_WhileWritesGoOn_ReturnsEveryStatementOnce()
    {
        using var http = app.CreateClient();
        var verb = $"http://example.org/verbs/paging-{Guid.NewGuid():N}";
        var batch = new JsonArray([.. Enumerable.Range(0, 25).Select(_ => (JsonNode)Statement(verb: verb))]);
        var written = (await (await http.PostAsync("statements", Content(batch), Ct)).ReadJsonAsync()).AsArray().Select(n => n!.GetValue<string>()).ToHashSet();

        var seen = new List<string>();
        var url = "statements?limit=7&verb=" + Uri.EscapeDataString(verb);
        var pages = 0;
        while (!string.IsNullOrEmpty(url))
        {
            var page = await (await http.GetAsync(url, Ct)).ReadJsonAsync();
            seen.AddRange(page["statements"]!.AsArray().Select(s => s!["id"]!.GetValue<string>()));
            var more = page["more"]!.GetValue<string>();
            Assert.True(more.Length == 0 || more.StartsWith("/xapi/statements?more=", StringComparison.Ordinal));
            url = more.Length == 0 ? string.Empty : new Uri(app.BaseAddress, more).ToString();
            if (pages++ == 0)
            {
                // Writes during paging land above the first page in descending order: they must not disturb it.
                await http.PostAsync("statements", Content(Statement(verb: verb)), Ct);
            }
        }

        Assert.Equal(seen.Count, seen.Distinct().Count());
        Assert.Subset(seen.ToHashSet(), written);
        Assert.Equal(written.Count, seen.Count);
    }

    [Fact]
    public async Task Get_LimitZero_ReturnsServerMaximumAndLimitRespected()
    {
        using var http = app.CreateClient();
        var verb = $"http://example.org/verbs/limit-{Guid.NewGuid():N}";
        await http.PostAsync("statements", Content(new JsonArray(Statement(verb: verb), Statement(verb: verb), Statement(verb: verb))), Ct);
        var two = await (await http.GetAsync("statements?limit=2&verb=" + Uri.EscapeDataString(verb), Ct)).ReadJsonAsync();
        Assert.Equal(2, two["statements"]!.AsArray().Count);
        Assert.NotEqual(string.Empty, two["more"]!.GetValue<string>());
        var all = await (await http.GetAsync("statements?limit=0&verb=" + Uri.EscapeDataString(verb), Ct)).ReadJsonAsync();
        Assert.Equal(3, all["statements"]!.AsArray().Count);
        Assert.Equal(string.Empty, all["more"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("statementId=00000000-0000-0000-0000-000000000000&agent=%7B%22mbox%22%3A%22mailto%3Aa%40example.org%22%7D")]
    [InlineData("statementId=00000000-0000-0000-0000-000000000000&limit=1")]
    [InlineData("voidedStatementId=00000000-0000-0000-0000-000000000000&ascending=true")]
    [InlineData("Verb=http%3A%2F%2Fexample.org%2Fv")]
    [InlineData("unknown=1")]
    [InlineData("limit=-1")]
    [InlineData("limit=abc")]
    [InlineData("format=full")]
    [InlineData("ascending=yes")]
    [InlineData("since=yesterday")]
    [InlineData("since=2024-01-01T00:00:00")]
    [InlineData("agent=not-json")]
    [InlineData("agent=%7B%22name%22%3A%22no%20ifi%22%7D")]
    [InlineData("registration=xyz")]
    [InlineData("verb=not%20an%20iri")]
    [InlineData("more=garbage!")]
    public async Task Get_BadParameters_Returns400WithConsistentThrough(string query)
    {
        using var http = app.CreateClient();
        var response = await http.GetAsync("statements?" + query, Ct);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True(response.Headers.Contains("X-Experience-API-Consistent-Through"));
        Assert.Equal("2.0.0", response.Headers.GetValues("X-Experience-API-Version").Single());
    }

    [Fact]
    public async Task Get_FormatIdsAndCanonical_ShapeStatement()
    {
        using var http = app.CreateClient();
        var id = Guid.NewGuid();
        await http.PutAsync($"statements?statementId={id}", Content(Statement()), Ct);

        var ids = (await (await http.GetAsync($"statements?statementId={id}&format=ids", Ct)).ReadJsonAsync()).AsObject();
        Assert.Null(ids["actor"]!["name"]);
        Assert.Null(ids["object"]!["definition"]);
        Assert.Null(ids["verb"]!["display"]);

        using var request = new HttpRequestMessage(HttpMethod.Get, $"statements?statementId={id}&format=canonical");
        request.Headers.AcceptLanguage.ParseAdd("fr-FR");
        var canonical = (await (await http.SendAsync(request, Ct)).ReadJsonAsync()).AsObject();
        var names = canonical["object"]!["definition"]!["name"]!.AsObject();
        Assert.Equal("Activité un", Assert.Single(names).Value!.GetValue<string>());

        var exact = (await (await http.GetAsync($"statements?statementId={id}&format=exact", Ct)).ReadJsonAsync()).AsObject();
        Assert.Equal(2, exact["object"]!["definition"]!["name"]!.AsObject().Count);
    }

    [Fact]
    public async Task Head_Statements_ReturnsHeadersWithoutBody()
    {
        using var http = app.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Head, "statements");
        var response = await http.SendAsync(request, Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync(Ct));
        Assert.True(response.Headers.Contains("X-Experience-API-Consistent-Through"));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("0.95")]
    [InlineData("3.0.0")]
    [InlineData("1.1.0")]
    public async Task AnyResource_MissingOrUnknownVersion_Returns400(string? version)
    {
        using var http = app.CreateClient(version);
        Assert.Equal(HttpStatusCode.BadRequest, (await http.GetAsync("statements", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await http.PostAsync("statements", Content(Statement()), Ct)).StatusCode);
    }

    [Theory]
    [InlineData("1.0.0", "1.0.3")]
    [InlineData("1.0.1", "1.0.3")]
    [InlineData("1.0.2", "1.0.3")]
    [InlineData("1.0.3", "1.0.3")]
    [InlineData("2.0.0", "2.0.0")]
    public async Task AnyResource_KnownVersion_IsNegotiatedAndEchoed(string sent, string answered)
    {
        using var http = app.CreateClient(sent);
        var response = await http.GetAsync("statements?limit=1", Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(answered, response.Headers.GetValues("X-Experience-API-Version").Single());
    }

    [Fact]
    public async Task About_WithoutVersionOrAuth_ListsVersions()
    {
        using var http = new HttpClient { BaseAddress = new Uri(app.BaseAddress, "xapi/") };
        var response = await http.GetAsync("about", Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var versions = (await response.ReadJsonAsync())["version"]!.AsArray().Select(v => v!.GetValue<string>()).ToList();
        Assert.Contains("2.0.0", versions);
        Assert.Contains("1.0.3", versions);
    }

    [Fact]
    public async Task AnyResource_BadCredentials_Returns401WithChallenge()
    {
        using var none = new HttpClient { BaseAddress = new Uri(app.BaseAddress, "xapi/") };
        none.DefaultRequestHeaders.Add("X-Experience-API-Version", "2.0.0");
        var anonymous = await none.GetAsync("statements", Ct);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.NotEmpty(anonymous.Headers.WwwAuthenticate);

        using var wrong = app.CreateClient((app.Admin.Key, "not-the-secret"));
        Assert.Equal(HttpStatusCode.Unauthorized, (await wrong.GetAsync("statements", Ct)).StatusCode);

        none.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", "Basic !!!not-base64");
        Assert.Equal(HttpStatusCode.Unauthorized, (await none.GetAsync("statements", Ct)).StatusCode);
    }

    [Fact]
    public async Task Scopes_MissingScope_Returns403()
    {
        using var readOnly = app.CreateClient(await app.AddClientAsync("reader", ["statements/read"]));
        Assert.Equal(HttpStatusCode.Forbidden, (await readOnly.PostAsync("statements", Content(Statement()), Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await readOnly.GetAsync("statements?limit=1", Ct)).StatusCode);

        using var writeOnly = app.CreateClient(await app.AddClientAsync("writer", ["statements/write"]));
        Assert.Equal(HttpStatusCode.OK, (await writeOnly.PostAsync("statements", Content(Statement()), Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await writeOnly.GetAsync("statements", Ct)).StatusCode);
    }

    [Fact]
    public async Task Scopes_ReadMine_ReturnsOnlyOwnStatements()
    {
        using var mine = app.CreateClient(await app.AddClientAsync("mine", ["statements/write", "statements/read/mine"]));
        using var admin = app.CreateClient();
        var verb = $"http://example.org/verbs/mine-{Guid.NewGuid():N}";
        var own = (await (await mine.PostAsync("statements", Content(Statement(verb: verb)), Ct)).ReadJsonAsync())[0]!.GetValue<string>();
        var other = (await (await admin.PostAsync("statements", Content(Statement(verb: verb)), Ct)).ReadJsonAsync())[0]!.GetValue<string>();

        var seen = (await (await mine.GetAsync("statements?verb=" + Uri.EscapeDataString(verb), Ct)).ReadJsonAsync())["statements"]!.AsArray()
            .Select(s => s!["id"]!.GetValue<string>()).ToList();
        Assert.Equal([own], seen);
        Assert.Equal(HttpStatusCode.NotFound, (await mine.GetAsync($"statements?statementId={other}", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await mine.GetAsync($"statements?statementId={own}", Ct)).StatusCode);
    }

    [Fact]
    public async Task Cors_Preflight_AllowsBrowserContent()
    {
        using var http = new HttpClient { BaseAddress = new Uri(app.BaseAddress, "xapi/") };
        using var request = new HttpRequestMessage(HttpMethod.Options, "statements");
        request.Headers.Add("Origin", "http://content.example.org");
        request.Headers.Add("Access-Control-Request-Method", "POST");
        request.Headers.Add("Access-Control-Request-Headers", "authorization,content-type,x-experience-api-version");
        var response = await http.SendAsync(request, Ct);
        Assert.True(response.IsSuccessStatusCode);
        Assert.Equal("*", response.Headers.GetValues("Access-Control-Allow-Origin").Single());
    }

    [Fact]
    public async Task AlternateSyntax_In103_PutAndGetWork()
    {
        using var http = new HttpClient { BaseAddress = new Uri(app.BaseAddress, "xapi/") };
        var id = Guid.NewGuid();
        var form = new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["statementId"] = id.ToString(),
            ["content"] = Statement().ToJsonString(),
            ["X-Experience-API-Version"] = "1.0.3",
            ["Authorization"] = LearnerVaultAppFactory.Basic(app.Admin.Key, app.Admin.Secret).ToString(),
            ["Content-Type"] = "application/json",
        });
        Assert.Equal(HttpStatusCode.NoContent, (await http.PostAsync("statements?method=PUT", form, Ct)).StatusCode);

        var get = new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["statementId"] = id.ToString(),
            ["X-Experience-API-Version"] = "1.0.3",
            ["Authorization"] = LearnerVaultAppFactory.Basic(app.Admin.Key, app.Admin.Secret).ToString(),
        });
        var response = await http.PostAsync("statements?method=GET", get, Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(id.ToString(), (await response.ReadJsonAsync())["id"]!.GetValue<string>());
    }

    [Fact]
    public async Task AlternateSyntax_In20_Returns400()
    {
        using var http = app.CreateClient();
        var form = new FormUrlEncodedContent(new Dictionary<string, string> { ["content"] = Statement().ToJsonString() });
        Assert.Equal(HttpStatusCode.BadRequest, (await http.PostAsync($"statements?method=PUT", form, Ct)).StatusCode);
    }

    [Fact]
    public async Task Post_BatchOfSeveralLearners_StoresEachStatementWithItsLearnersPseudonymUnrestricted()
    {
        using var http = app.CreateClient();
        var tag = Guid.NewGuid().ToString("N");
        var ann = Statement(mbox: $"mailto:ann.{tag}@example.org", id: Guid.NewGuid());
        var bob = Statement(mbox: $"mailto:bob.{tag}@example.org", id: Guid.NewGuid());
        var annAgain = Statement(mbox: $"mailto:ann.{tag}@example.org", verb: "http://adlnet.gov/expapi/verbs/completed", id: Guid.NewGuid());
        // An anonymous group identifies no learner: the statement is under the tenant's key and about nobody.
        var group = Statement(id: Guid.NewGuid());
        group["actor"] = new JsonObject
        {
            ["objectType"] = "Group",
            ["member"] = new JsonArray(new JsonObject { ["mbox"] = $"mailto:member.{tag}@example.org" }),
        };

        var response = await http.PostAsync("statements", Content(new JsonArray(ann, bob, annAgain, group)), Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var crypto = app.Services.GetRequiredService<TenantCrypto>();
        var store = app.Services.GetRequiredService<IStatementStore>();
        foreach (var statement in new[] { ann, bob, annAgain, group })
        {
            var stored = await store.GetAsync(app.TenantId, Guid.Parse(statement["id"]!.GetValue<string>()), Ct);
            var ifi = Ifi.Normalise(statement["actor"]);
            Assert.Equal(ifi is null ? null : crypto.LearnerPseudonym(app.TenantId, ifi), stored!.Learner);
            Assert.False(stored.Restricted);
        }
    }
}
