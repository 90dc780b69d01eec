using System.Text.Json.Nodes;

namespace LearnerVault.Xapi.Tests;

public sealed class StatementComparisonTests
{
    private const string Base = """
        {
          "id": "0c8e1a7e-2b3c-4d5e-8f90-1a2b3c4d5e6f",
          "actor": { "objectType": "Group", "mbox": "mailto:class@example.org", "member": [ { "mbox": "mailto:a@example.com" }, { "mbox": "mailto:b@example.com" } ] },
          "verb": { "id": "http://example.com/xapi/verbs/completed", "display": { "en-US": "completed" } },
          "object": { "id": "http://example.com/xapi/activities/q1", "definition": { "name": { "en-US": "Q1" } } },
          "result": { "score": { "raw": 1 }, "duration": "PT1.23S" },
          "context": { "registration": "ec531277-b57b-4c15-8d91-d292c5b2b8f7", "contextActivities": { "parent": [ { "id": "http://example.com/p" } ] } },
          "timestamp": "2023-05-04T17:00:00.500Z"
        }
        """;

    private static byte[] Form(string json) => StatementComparison.ComparisonForm(TestJson.Object(json));

    private static string Modify(Action<JsonObject> change)
    {
        var statement = TestJson.Object(Base);
        change(statement);
        return statement.ToJsonString();
    }

    [Fact]
    public void ComparisonForm_SameStatement_IsDeterministic() => Assert.Equal(Form(Base), Form(Base));

    [Fact]
    public void ComparisonForm_DifferentPropertyOrder_IsEqual()
    {
        var reordered = """
            {
              "timestamp": "2023-05-04T17:00:00.500Z",
              "context": { "contextActivities": { "parent": [ { "id": "http://example.com/p" } ] }, "registration": "ec531277-b57b-4c15-8d91-d292c5b2b8f7" },
              "result": { "duration": "PT1.23S", "score": { "raw": 1 } },
              "object": { "definition": { "name": { "en-US": "Q1" } }, "id": "http://example.com/xapi/activities/q1" },
              "verb": { "display": { "en-US": "completed" }, "id": "http://example.com/xapi/verbs/completed" },
              "actor": { "member": [ { "mbox": "mailto:a@example.com" }, { "mbox": "mailto:b@example.com" } ], "mbox": "mailto:class@example.org", "objectType": "Group" },
              "id": "0c8e1a7e-2b3c-4d5e-8f90-1a2b3c4d5e6f"
            }
            """;

        Assert.Equal(Form(Base), Form(reordered));
    }

    [Fact]
    public void ComparisonForm_PropertiesTheLrsAssigns_AreIgnored()
    {
        var other = Modify(s =>
        {
            s["id"] = "ffffffff-2b3c-4d5e-8f90-1a2b3c4d5e6f";
            s["stored"] = "2024-01-01T00:00:00Z";
            s["authority"] = TestJson.Authority();
            s["version"] = "1.0.0";
            s["attachments"] = new JsonArray(TestJson.Object("""{ "usageType": "http://example.com/u" }"""));
        });

        Assert.Equal(Form(Base), Form(other));
    }

    [Fact]
    public void ComparisonForm_VerbDisplayAndActivityDefinitions_AreIgnored()
    {
        var other = Modify(s =>
        {
            s["verb"]!["display"] = TestJson.Object("""{ "fr": "terminé" }""");
            s["object"]!["definition"] = TestJson.Object("""{ "name": { "en-US": "Question 1" } }""");
            s["context"]!["contextActivities"]!["parent"]![0]!["definition"] = TestJson.Object("""{ "name": { "en-US": "Parent" } }""");
        });

        Assert.Equal(Form(Base), Form(other));
    }

    [Fact]
    public void ComparisonForm_UuidCase_IsIgnored()
    {
        var other = Modify(s => s["context"]!["registration"] = "EC531277-B57B-4C15-8D91-D292C5B2B8F7");

        Assert.Equal(Form(Base), Form(other));
    }

    [Theory]
    [InlineData("2023-05-04T12:00:00.5-05:00")]
    [InlineData("2023-05-04T17:00:00.500000+00:00")]
    [InlineData("20230504T170000.5Z")]
    public void ComparisonForm_SameInstantWrittenDifferently_IsEqual(string timestamp) =>
        Assert.Equal(Form(Base), Form(Modify(s => s["timestamp"] = timestamp)));

    [Fact]
    public void ComparisonForm_DifferentInstant_Differs() =>
        Assert.NotEqual(Form(Base), Form(Modify(s => s["timestamp"] = "2023-05-04T17:00:00.501Z")));

    [Fact]
    public void ComparisonForm_GroupMemberOrder_IsIgnored()
    {
        var other = Modify(s => s["actor"]!["member"] = JsonNode.Parse("""[ { "mbox": "mailto:b@example.com" }, { "mbox": "mailto:a@example.com" } ]"""));

        Assert.Equal(Form(Base), Form(other));
    }

    [Fact]
    public void ComparisonForm_ContextActivityOrder_Matters()
    {
        var twoParents = Modify(s => s["context"]!["contextActivities"]!["parent"] = JsonNode.Parse("""[ { "id": "http://example.com/p" }, { "id": "http://example.com/q" } ]"""));
        var swapped = Modify(s => s["context"]!["contextActivities"]!["parent"] = JsonNode.Parse("""[ { "id": "http://example.com/q" }, { "id": "http://example.com/p" } ]"""));

        Assert.NotEqual(Form(twoParents), Form(swapped));
    }

    [Fact]
    public void ComparisonForm_SingleContextActivityAndArrayOfOne_AreEqual()
    {
        var single = Modify(s => s["context"]!["contextActivities"]!["parent"] = TestJson.Object("""{ "id": "http://example.com/p" }"""));

        Assert.Equal(Form(Base), Form(single));
    }

    [Fact]
    public void ComparisonForm_DurationBeyondHundredths_IsIgnored()
    {
        Assert.Equal(Form(Base), Form(Modify(s => s["result"]!["duration"] = "PT1.2345S")));
        Assert.NotEqual(Form(Base), Form(Modify(s => s["result"]!["duration"] = "PT1.24S")));
    }

    [Fact]
    public void ComparisonForm_SameNumberWrittenDifferently_IsEqual()
    {
        Assert.Equal(Form(Base), Form(Modify(s => s["result"]!["score"]!["raw"] = JsonNode.Parse("1.0"))));
        Assert.Equal(Form(Base), Form(Modify(s => s["result"]!["score"]!["raw"] = JsonNode.Parse("1e0"))));
        Assert.NotEqual(Form(Base), Form(Modify(s => s["result"]!["score"]!["raw"] = JsonNode.Parse("1.000001"))));
    }

    [Fact]
    public void ComparisonForm_MailboxDomainCase_IsIgnoredButLocalPartIsNot()
    {
        Assert.Equal(Form(Base), Form(Modify(s => s["actor"]!["mbox"] = "mailto:class@EXAMPLE.org")));
        Assert.NotEqual(Form(Base), Form(Modify(s => s["actor"]!["mbox"] = "mailto:Class@example.org")));
    }

    [Theory]
    [InlineData("verb", """{ "id": "http://example.com/xapi/verbs/failed" }""")]
    [InlineData("object", """{ "id": "http://example.com/xapi/activities/q2" }""")]
    [InlineData("result", """{ "score": { "raw": 2 }, "duration": "PT1.23S" }""")]
    [InlineData("actor", """{ "objectType": "Group", "mbox": "mailto:other-class@example.org" }""")]
    public void ComparisonForm_DifferentContent_Differs(string property, string value) =>
        Assert.NotEqual(Form(Base), Form(Modify(s => s[property] = JsonNode.Parse(value))));

    [Fact]
    public void ComparisonForm_TimestampPresentVersusAbsent_Differs() =>
        Assert.NotEqual(Form(Base), Form(Modify(s => s.Remove("timestamp"))));

    [Fact]
    public void ComparisonForm_SameClientStatementPreparedForBothVersions_IsEqual()
    {
        var client = Modify(s => s["timestamp"] = "2023-05-04T12:00:00.5-05:00");

        var v2 = StatementComparison.ComparisonForm(TestJson.Prepare(client, XapiVersion.V2_0_0));
        var v1 = StatementComparison.ComparisonForm(TestJson.Prepare(client, XapiVersion.V1_0_3));

        Assert.Equal(v2, v1);
    }

    [Fact]
    public void ComparisonForm_DoesNotModifyTheInput()
    {
        var statement = TestJson.Object(Base);
        var copy = statement.DeepClone();

        StatementComparison.ComparisonForm(statement);

        Assert.True(JsonNode.DeepEquals(copy, statement));
    }
}
