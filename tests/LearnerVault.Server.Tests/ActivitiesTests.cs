using System.Net;
using System.Text.Json.Nodes;
using static LearnerVault.Server.Tests.XapiJson;

namespace LearnerVault.Server.Tests;

/// <summary>The Activities resource: the canonical definition, merged from statements of clients with the define scope.</summary>
public sealed class ActivitiesTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private readonly LearnerVaultAppFactory app = fixture.Factory;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static string NewActivity() => "http://example.org/activities/canonical-" + Guid.NewGuid();

    private static JsonObject Defined(string activity, JsonObject definition)
    {
        var statement = Statement(activity: activity);
        statement["object"]!["definition"] = definition;
        return statement;
    }

    private async Task<JsonObject> GetActivityAsync(HttpClient http, string activity)
    {
        var response = await http.GetAsync("activities?activityId=" + Uri.EscapeDataString(activity), Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.ReadJsonAsync()).AsObject();
    }

    [Fact]
    public async Task Get_UnknownActivity_ReturnsActivityWithIdOnly()
    {
        using var http = app.CreateClient();
        var activity = NewActivity();

        var result = await GetActivityAsync(http, activity);

        Assert.True(JsonNode.DeepEquals(new JsonObject { ["objectType"] = "Activity", ["id"] = activity }, result));
    }

    [Fact]
    public async Task Get_AfterStatementFromDefiningClient_ReturnsTheCompleteActivity()
    {
        using var http = app.CreateClient();
        var activity = NewActivity();
        var definition = new JsonObject
        {
            ["type"] = "http://adlnet.gov/expapi/activities/meeting",
            ["name"] = new JsonObject { ["en-US"] = "example meeting" },
            ["moreInfo"] = "http://example.org/more",
            ["extensions"] = new JsonObject { ["http://example.org/ext"] = new JsonObject { ["deep"] = true } },
        };
        await http.PostAsync("statements", Content(Defined(activity, definition)), Ct);

        var result = await GetActivityAsync(http, activity);

        var expected = new JsonObject { ["objectType"] = "Activity", ["id"] = activity, ["definition"] = definition.DeepClone() };
        Assert.True(JsonNode.DeepEquals(expected, result), result.ToJsonString());
    }

    [Fact]
    public async Task Get_TwoLanguagesInOneBatchAndAcrossRequests_AreMergedPerLanguage()
    {
        using var http = app.CreateClient();
        var activity = NewActivity();
        var english = new JsonObject { ["name"] = new JsonObject { ["en-US"] = "example meeting" }, ["type"] = "http://example.org/types/old" };
        var french = new JsonObject { ["name"] = new JsonObject { ["fr-FR"] = "réunion" }, ["description"] = new JsonObject { ["fr-FR"] = "une réunion" } };
        await http.PostAsync("statements", Content(new JsonArray(Defined(activity, english), Defined(activity, french))), Ct);
        var newer = new JsonObject { ["name"] = new JsonObject { ["en-US"] = "renamed meeting" }, ["type"] = "http://example.org/types/new" };
        await http.PostAsync("statements", Content(Defined(activity, newer)), Ct);

        var definition = (await GetActivityAsync(http, activity))["definition"]!;

        Assert.Equal("renamed meeting", definition["name"]!["en-US"]!.GetValue<string>());
        Assert.Equal("réunion", definition["name"]!["fr-FR"]!.GetValue<string>());
        Assert.Equal("une réunion", definition["description"]!["fr-FR"]!.GetValue<string>());
        Assert.Equal("http://example.org/types/new", definition["type"]!.GetValue<string>());
    }

    [Fact]
    public async Task Get_ContextActivityDefinitions_AreRecordedToo()
    {
        using var http = app.CreateClient();
        var parent = NewActivity();
        var statement = Statement(activity: NewActivity());
        statement["context"] = new JsonObject
        {
            ["contextActivities"] = new JsonObject
            {
                ["parent"] = new JsonArray(new JsonObject { ["id"] = parent, ["definition"] = new JsonObject { ["name"] = new JsonObject { ["en"] = "Course" } } }),
            },
        };
        await http.PostAsync("statements", Content(statement), Ct);

        Assert.Equal("Course", (await GetActivityAsync(http, parent))["definition"]!["name"]!["en"]!.GetValue<string>());
    }

    [Fact]
    public async Task Get_StatementFromClientWithoutDefineScope_DoesNotChangeTheDefinition()
    {
        using var definer = app.CreateClient();
        using var writer = app.CreateClient(await app.AddClientAsync("no-define", ["statements/write", "statements/read"]));
        var activity = NewActivity();
        await definer.PostAsync("statements", Content(Defined(activity, new JsonObject { ["name"] = new JsonObject { ["en"] = "Trusted" } })), Ct);

        var response = await writer.PostAsync("statements", Content(Defined(activity, new JsonObject { ["name"] = new JsonObject { ["en"] = "Untrusted", ["de"] = "Nein" } })), Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var name = (await GetActivityAsync(definer, activity))["definition"]!["name"]!.AsObject();
        Assert.True(JsonNode.DeepEquals(new JsonObject { ["en"] = "Trusted" }, name));
    }

    [Fact]
    public async Task Get_SameDefinitionAgain_StaysTheSame()
    {
        using var http = app.CreateClient();
        var activity = NewActivity();
        var definition = new JsonObject { ["name"] = new JsonObject { ["en"] = "Repeated" } };
        for (var i = 0; i < 3; i++)
        {
            await http.PostAsync("statements", Content(Defined(activity, (JsonObject)definition.DeepClone())), Ct);
        }

        Assert.True(JsonNode.DeepEquals(definition, (await GetActivityAsync(http, activity))["definition"]));
    }

    /// <summary>A batch that ends with (and repeats) the definition merged last may be skipped only when it holds nothing
    /// else: another definition in the same batch is merged.</summary>
    [Fact]
    public async Task Get_BatchRepeatingTheLastMergedDefinitionAroundAnother_MergesTheOther()
    {
        using var http = app.CreateClient();
        var activity = NewActivity();
        var english = new JsonObject { ["name"] = new JsonObject { ["en"] = "Repeated" } };
        var french = new JsonObject { ["name"] = new JsonObject { ["fr"] = "Répété" } };
        await http.PostAsync("statements", Content(Defined(activity, (JsonObject)english.DeepClone())), Ct);
        await http.PostAsync("statements", Content(new JsonArray(Defined(activity, (JsonObject)english.DeepClone()), Defined(activity, (JsonObject)english.DeepClone()))), Ct);
        await http.PostAsync("statements", Content(new JsonArray(
            Defined(activity, (JsonObject)english.DeepClone()), Defined(activity, french), Defined(activity, (JsonObject)english.DeepClone()))), Ct);

        var name = (await GetActivityAsync(http, activity))["definition"]!["name"]!.AsObject();
        Assert.True(JsonNode.DeepEquals(new JsonObject { ["en"] = "Repeated", ["fr"] = "Répété" }, name), name.ToJsonString());
    }

    [Theory]
    [InlineData("activities")]
    [InlineData("activities?activityId=not%20an%20iri")]
    [InlineData("activities?activityId=http%3A%2F%2Fexample.org%2Fa&activityId=http%3A%2F%2Fexample.org%2Fb")]
    [InlineData("activities?activityId=http%3A%2F%2Fexample.org%2Fa&agent=x")]
    public async Task Get_BadParameters_Returns400(string uri)
    {
        using var http = app.CreateClient();
        Assert.Equal(HttpStatusCode.BadRequest, (await http.GetAsync(uri, Ct)).StatusCode);
    }

    [Fact]
    public async Task Head_Activity_HeadersWithoutBody()
    {
        using var http = app.CreateClient();
        var head = await http.SendAsync(new HttpRequestMessage(HttpMethod.Head, "activities?activityId=" + Uri.EscapeDataString(NewActivity())), Ct);

        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Empty(await head.Content.ReadAsByteArrayAsync(Ct));
        Assert.True(head.Content.Headers.ContentLength > 0);
    }
}
