using System.Text.Json.Nodes;

namespace LearnerVault.Xapi.Tests;

public sealed class StatementFormatterTests
{
    // Mirrors the conformance suite's format test: an agent, a verb, a SubStatement whose actor is an identified
    // group and whose object is an activity with a multi-language definition.
    private const string Stored = """
        {
          "id": "0c8e1a7e-2b3c-4d5e-8f90-1a2b3c4d5e6f",
          "actor": { "objectType": "Agent", "name": "Learner One", "mbox": "mailto:learner1@example.com" },
          "verb": { "id": "http://example.com/xapi/verbs/planned", "display": { "en-US": "planned", "en-GB": "planned", "fr": "planifié" } },
          "object": {
            "objectType": "SubStatement",
            "actor": { "objectType": "Group", "name": "Class 4B", "mbox": "mailto:class@example.org", "member": [ { "mbox": "mailto:m1@example.com", "name": "M1" } ] },
            "verb": { "id": "http://example.com/xapi/verbs/attended", "display": { "en-GB": "attended", "ja-JP": "出席した" } },
            "object": {
              "objectType": "Activity",
              "id": "http://example.com/xapi/activities/q1",
              "definition": {
                "name": { "en": "Other", "en-GB": "attended", "en-US": "attended" },
                "description": { "en-US": "Mark Franklin", "en-GB": "Mark Franklin, UK" },
                "type": "http://adlnet.gov/expapi/activities/cmi.interaction",
                "interactionType": "choice",
                "correctResponsesPattern": [ "a" ],
                "choices": [ { "id": "a", "description": { "en-US": "A (US)", "en-GB": "A (GB)" } } ],
                "extensions": { "http://example.com/ext": { "en-US": "kept" } }
              }
            }
          },
          "context": {
            "instructor": { "objectType": "Agent", "name": "Teacher", "mbox": "mailto:teacher@example.org" },
            "team": { "objectType": "Group", "name": "Team", "member": [ { "name": "T1", "mbox": "mailto:t1@example.com" } ] },
            "contextActivities": { "category": [ { "id": "http://example.com/xapi/activities/profile", "definition": { "name": { "en-US": "Profile", "en-GB": "Profile (GB)" } } } ] }
          },
          "result": { "success": true },
          "attachments": [ { "usageType": "http://example.com/u", "display": { "en-US": "Cert", "de": "Zertifikat" }, "contentType": "application/pdf", "length": 1, "sha2": "495395e777cd98da653df9615d09c0fd6bb2f8d4788394cd53c56a3bfdcd848a" } ],
          "authority": { "objectType": "Group", "member": [ { "account": { "homePage": "https://lrs.example.org", "name": "app" } }, { "name": "User", "mbox": "mailto:user@example.com" } ] },
          "timestamp": "2024-01-01T00:00:00Z",
          "stored": "2024-01-01T00:00:01Z",
          "version": "2.0.0"
        }
        """;

    private static readonly string[] EnGb = ["en-GB"];

    [Fact]
    public void Format_Exact_ReturnsTheSameStatement()
    {
        var statement = TestJson.Object(Stored);

        Assert.Same(statement, StatementFormatter.Format(statement, StatementFormat.Exact, EnGb));
    }

    [Fact]
    public void Format_Ids_ReducesAgentsVerbsAndActivitiesToIdentifiers()
    {
        var ids = StatementFormatter.Format(TestJson.Object(Stored), StatementFormat.Ids, []);

        Assert.True(JsonNode.DeepEquals(TestJson.Object("""{ "objectType": "Agent", "mbox": "mailto:learner1@example.com" }"""), ids["actor"]));
        Assert.True(JsonNode.DeepEquals(TestJson.Object("""{ "id": "http://example.com/xapi/verbs/planned" }"""), ids["verb"]));
        var sub = ids["object"]!;
        Assert.True(JsonNode.DeepEquals(TestJson.Object("""{ "objectType": "Group", "mbox": "mailto:class@example.org" }"""), sub["actor"]));
        Assert.True(JsonNode.DeepEquals(TestJson.Object("""{ "id": "http://example.com/xapi/verbs/attended" }"""), sub["verb"]));
        Assert.True(JsonNode.DeepEquals(TestJson.Object("""{ "id": "http://example.com/xapi/activities/q1" }"""), sub["object"]));
        Assert.Equal("SubStatement", sub["objectType"]!.GetValue<string>());
    }

    [Fact]
    public void Format_Ids_AnonymousGroupsKeepMemberIdentifiers()
    {
        var ids = StatementFormatter.Format(TestJson.Object(Stored), StatementFormat.Ids, []);

        Assert.True(JsonNode.DeepEquals(
            TestJson.Object("""{ "objectType": "Group", "member": [ { "mbox": "mailto:t1@example.com" } ] }"""),
            ids["context"]!["team"]));
        Assert.True(JsonNode.DeepEquals(
            TestJson.Object("""{ "objectType": "Group", "member": [ { "account": { "homePage": "https://lrs.example.org", "name": "app" } }, { "mbox": "mailto:user@example.com" } ] }"""),
            ids["authority"]));
        Assert.True(JsonNode.DeepEquals(
            TestJson.Object("""{ "objectType": "Agent", "mbox": "mailto:teacher@example.org" }"""),
            ids["context"]!["instructor"]));
        Assert.True(JsonNode.DeepEquals(
            JsonNode.Parse("""[ { "id": "http://example.com/xapi/activities/profile" } ]"""),
            ids["context"]!["contextActivities"]!["category"]));
    }

    [Fact]
    public void Format_Ids_KeepsEverythingThatIsNotAnAgentVerbOrActivity()
    {
        var original = TestJson.Object(Stored);

        var ids = StatementFormatter.Format(original, StatementFormat.Ids, []);

        foreach (var name in new[] { "id", "result", "attachments", "timestamp", "stored", "version" })
        {
            Assert.True(JsonNode.DeepEquals(original[name], ids[name]), name);
        }
    }

    [Fact]
    public void Format_IdsOrCanonical_LeavesTheInputUnchanged()
    {
        var original = TestJson.Object(Stored);
        var copy = original.DeepClone();

        StatementFormatter.Format(original, StatementFormat.Ids, []);
        StatementFormatter.Format(original, StatementFormat.Canonical, EnGb);

        Assert.True(JsonNode.DeepEquals(copy, original));
    }

    [Fact]
    public void Format_Canonical_KeepsOnlyTheAcceptedLanguageInEveryLanguageMap()
    {
        var canonical = StatementFormatter.Format(TestJson.Object(Stored), StatementFormat.Canonical, EnGb);

        Assert.True(JsonNode.DeepEquals(TestJson.Object("""{ "en-GB": "planned" }"""), canonical["verb"]!["display"]));
        Assert.True(JsonNode.DeepEquals(TestJson.Object("""{ "en-GB": "attended" }"""), canonical["object"]!["verb"]!["display"]));
        var definition = canonical["object"]!["object"]!["definition"]!;
        Assert.True(JsonNode.DeepEquals(TestJson.Object("""{ "en-GB": "attended" }"""), definition["name"]));
        Assert.True(JsonNode.DeepEquals(TestJson.Object("""{ "en-GB": "Mark Franklin, UK" }"""), definition["description"]));
        Assert.True(JsonNode.DeepEquals(TestJson.Object("""{ "en-GB": "A (GB)" }"""), definition["choices"]![0]!["description"]));
        Assert.True(JsonNode.DeepEquals(TestJson.Object("""{ "en-GB": "Profile (GB)" }"""), canonical["context"]!["contextActivities"]!["category"]![0]!["definition"]!["name"]));
    }

    [Fact]
    public void Format_Canonical_KeepsAgentsExtensionsAndOtherDefinitionProperties()
    {
        var original = TestJson.Object(Stored);

        var canonical = StatementFormatter.Format(original, StatementFormat.Canonical, EnGb);

        Assert.True(JsonNode.DeepEquals(original["actor"], canonical["actor"]));
        Assert.True(JsonNode.DeepEquals(original["object"]!["actor"], canonical["object"]!["actor"]));
        var definition = canonical["object"]!["object"]!["definition"]!;
        Assert.Equal("choice", definition["interactionType"]!.GetValue<string>());
        Assert.True(JsonNode.DeepEquals(original["object"]!["object"]!["definition"]!["extensions"], definition["extensions"]));
    }

    [Fact]
    public void Format_CanonicalWithoutMatchingLanguage_TakesTheFirstEntry()
    {
        var canonical = StatementFormatter.Format(TestJson.Object(Stored), StatementFormat.Canonical, ["ko-KR"]);

        Assert.True(JsonNode.DeepEquals(TestJson.Object("""{ "en-US": "planned" }"""), canonical["verb"]!["display"]));
        Assert.True(JsonNode.DeepEquals(TestJson.Object("""{ "en-US": "Cert" }"""), canonical["attachments"]![0]!["display"]));
    }

    [Theory]
    [InlineData("fr-CA", "fr")]
    [InlineData("en", "en-US")]
    [InlineData("EN-gb", "en-GB")]
    [InlineData("*", "en-US")]
    [InlineData("de, fr", "fr")]
    public void Format_CanonicalLanguageRanges_FollowLookupRules(string ranges, string expectedTag)
    {
        var languages = ranges.Split(',', StringSplitOptions.TrimEntries);

        var canonical = StatementFormatter.Format(TestJson.Object(Stored), StatementFormat.Canonical, languages);

        var display = canonical["verb"]!["display"]!.AsObject();
        Assert.Equal(expectedTag, Assert.Single(display).Key);
    }
}
