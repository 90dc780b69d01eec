using System.Text.Json;
using System.Text.Json.Nodes;

namespace LearnerVault.Xapi.Tests;

public sealed class StatementPreparerTests
{
    private const string Full = """
        {
          "id": "B3E1C2D4-5F6A-4B7C-8D9E-0F1A2B3C4D5E",
          "actor": { "mbox": "mailto:learner1@example.com" },
          "verb": { "id": "http://example.com/xapi/verbs/answered", "display": { "en-US": "answered" } },
          "object": { "id": "http://example.com/xapi/activities/q1",
                      "definition": { "name": { "en-US": "Q1" }, "interactionType": "choice", "choices": [ { "id": "a" } ] } },
          "context": { "contextActivities": { "parent": { "id": "http://example.com/xapi/activities/quiz" }, "grouping": [ { "id": "http://example.com/xapi/activities/course" } ] } },
          "timestamp": "2023-05-04T12:00:00.123456-05:00",
          "stored": "2001-01-01T00:00:00Z",
          "authority": { "mbox": "mailto:impostor@example.com" },
          "version": "1.0.3"
        }
        """;

    [Fact]
    public void Prepare_WithoutId_AssignsNewIdInLowerCase()
    {
        var newId = Guid.NewGuid();

        var prepared = StatementPreparer.Prepare(TestJson.Element(TestJson.MinimalStatement), XapiVersion.V2_0_0, TestJson.Authority(), newId);

        Assert.Equal(newId.ToString("D"), prepared["id"]!.GetValue<string>());
    }

    [Fact]
    public void Prepare_WithUpperCaseId_LowerCasesIt()
    {
        var prepared = TestJson.Prepare(Full);

        Assert.Equal("b3e1c2d4-5f6a-4b7c-8d9e-0f1a2b3c4d5e", prepared["id"]!.GetValue<string>());
    }

    [Fact]
    public void Prepare_ClientAuthority_IsReplacedByACopyOfTheCredentialsAuthority()
    {
        var authority = TestJson.Authority();

        var prepared = StatementPreparer.Prepare(TestJson.Element(Full), XapiVersion.V2_0_0, authority, Guid.NewGuid());

        Assert.True(JsonNode.DeepEquals(authority, prepared["authority"]));
        Assert.NotSame(authority, prepared["authority"]);
        Assert.Null(authority.Parent);
    }

    [Fact]
    public void Prepare_ClientStored_IsRemoved()
    {
        var prepared = TestJson.Prepare(Full);

        Assert.False(prepared.ContainsKey("stored"));
    }

    [Fact]
    public void Prepare_Version2_SetsVersion200()
    {
        var prepared = TestJson.Prepare(Full, XapiVersion.V2_0_0);

        Assert.Equal("2.0.0", prepared["version"]!.GetValue<string>());
    }

    [Fact]
    public void Prepare_Version103WithClientVersion_KeepsIt()
    {
        var prepared = TestJson.Prepare(Full, XapiVersion.V1_0_3);

        Assert.Equal("1.0.3", prepared["version"]!.GetValue<string>());
    }

    [Fact]
    public void Prepare_Version103WithoutVersion_Sets100()
    {
        var prepared = TestJson.Prepare(TestJson.MinimalStatement, XapiVersion.V1_0_3);

        Assert.Equal("1.0.0", prepared["version"]!.GetValue<string>());
    }

    [Fact]
    public void Prepare_Version2TimestampWithOffset_IsConvertedToUtcKeepingPrecision()
    {
        var prepared = TestJson.Prepare(Full, XapiVersion.V2_0_0);

        Assert.Equal("2023-05-04T17:00:00.123456Z", prepared["timestamp"]!.GetValue<string>());
    }

    [Fact]
    public void Prepare_Version103TimestampWithOffset_IsKeptAsSent()
    {
        var prepared = TestJson.Prepare(Full, XapiVersion.V1_0_3);

        Assert.Equal("2023-05-04T12:00:00.123456-05:00", prepared["timestamp"]!.GetValue<string>());
    }

    [Fact]
    public void Prepare_WithoutTimestamp_LeavesItAbsent()
    {
        var prepared = TestJson.Prepare(TestJson.MinimalStatement);

        Assert.False(prepared.ContainsKey("timestamp"));
    }

    [Fact]
    public void Prepare_SingleContextActivity_IsReturnedAsArrayOfOne()
    {
        var prepared = TestJson.Prepare(Full);

        var parent = Assert.IsType<JsonArray>(prepared["context"]!["contextActivities"]!["parent"]);
        Assert.Equal("http://example.com/xapi/activities/quiz", Assert.Single(parent)!["id"]!.GetValue<string>());
        Assert.Single(prepared["context"]!["contextActivities"]!["grouping"]!.AsArray());
    }

    [Fact]
    public void Prepare_SubStatement_WrapsContextActivitiesAndConvertsTimestamp()
    {
        var prepared = TestJson.Prepare("""
            { "actor": { "mbox": "mailto:a@example.com" }, "verb": { "id": "http://example.com/v" },
              "object": { "objectType": "SubStatement", "actor": { "mbox": "mailto:a@example.com" }, "verb": { "id": "http://example.com/v" },
                          "object": { "id": "http://example.com/a" }, "timestamp": "2030-01-01T01:00:00+01:00",
                          "context": { "contextActivities": { "other": { "id": "http://example.com/o" } } } } }
            """);

        Assert.Equal("2030-01-01T00:00:00Z", prepared["object"]!["timestamp"]!.GetValue<string>());
        Assert.IsType<JsonArray>(prepared["object"]!["context"]!["contextActivities"]!["other"]);
    }

    [Fact]
    public void Prepare_ActivityDefinitionAndVerb_AreUnchanged()
    {
        var original = TestJson.Object(Full);

        var prepared = TestJson.Prepare(Full);

        Assert.True(JsonNode.DeepEquals(original["object"], prepared["object"]));
        Assert.True(JsonNode.DeepEquals(original["verb"], prepared["verb"]));
        Assert.True(JsonNode.DeepEquals(original["actor"], prepared["actor"]));
    }

    [Fact]
    public void Prepare_AfterSourceDocumentIsDisposed_ResultIsStillReadable()
    {
        JsonObject prepared;
        using (var document = JsonDocument.Parse(Full))
        {
            prepared = StatementPreparer.Prepare(document.RootElement, XapiVersion.V2_0_0, TestJson.Authority(), Guid.NewGuid());
        }

        Assert.Contains("http://example.com/xapi/activities/q1", prepared.ToJsonString(), StringComparison.Ordinal);
    }
}
