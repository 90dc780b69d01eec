using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace LearnerVault.Server.Tests;

/// <summary>Small helpers to build synthetic statements and send JSON.</summary>
public static class XapiJson
{
    public static StringContent Content(JsonNode node) => Content(node.ToJsonString());

    public static StringContent Content(string json)
    {
        var content = new StringContent(json, Encoding.UTF8);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return content;
    }

    public static JsonObject Statement(
        string mbox = "mailto:learner@example.org",
        string verb = "http://adlnet.gov/expapi/verbs/experienced",
        string activity = "http://example.org/activities/1",
        Guid? id = null,
        Guid? registration = null)
    {
        var statement = new JsonObject
        {
            ["actor"] = new JsonObject { ["objectType"] = "Agent", ["name"] = "Synthetic Learner", ["mbox"] = mbox },
            ["verb"] = new JsonObject { ["id"] = verb, ["display"] = new JsonObject { ["en-US"] = "experienced" } },
            ["object"] = new JsonObject
            {
                ["objectType"] = "Activity",
                ["id"] = activity,
                ["definition"] = new JsonObject
                {
                    ["name"] = new JsonObject { ["en-US"] = "Activity one", ["fr-FR"] = "Activité un" },
                },
            },
        };
        if (id is { } given)
        {
            statement["id"] = given.ToString();
        }

        if (registration is { } reg)
        {
            statement["context"] = new JsonObject { ["registration"] = reg.ToString() };
        }

        return statement;
    }

    public static JsonObject Voiding(Guid target) => new()
    {
        ["actor"] = new JsonObject { ["mbox"] = "mailto:teacher@example.org" },
        ["verb"] = new JsonObject { ["id"] = "http://adlnet.gov/expapi/verbs/voided" },
        ["object"] = new JsonObject { ["objectType"] = "StatementRef", ["id"] = target.ToString() },
    };

    public static async Task<JsonNode> ReadJsonAsync(this HttpResponseMessage response) =>
        JsonNode.Parse(await response.Content.ReadAsStringAsync())!;

    public static string Agent(string mbox) => JsonSerializer.Serialize(new { mbox });
}
