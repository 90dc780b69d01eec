using System.Text.Json;
using System.Text.Json.Nodes;

namespace LearnerVault.Xapi.Tests;

internal static class TestJson
{
    public const string MinimalStatement = """
        {
          "actor": { "objectType": "Agent", "name": "Learner One", "mbox": "mailto:learner1@example.com" },
          "verb": { "id": "http://example.com/xapi/verbs/completed", "display": { "en-US": "completed", "en-GB": "completed" } },
          "object": { "objectType": "Activity", "id": "http://example.com/xapi/activities/course-1" }
        }
        """;

    public static JsonElement Element(string json)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.Clone();
    }

    public static JsonObject Object(string json) => JsonNode.Parse(json)!.AsObject();

    public static JsonObject Authority() => Object("""{ "objectType": "Agent", "account": { "homePage": "https://lrs.example.org", "name": "client-7" } }""");

    public static JsonObject Prepare(string json, XapiVersion version = XapiVersion.V2_0_0) =>
        StatementPreparer.Prepare(Element(json), version, Authority(), Guid.Parse("11111111-2222-4333-8444-555555555555"));
}
