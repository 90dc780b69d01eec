using System.Text.Json;
using System.Text.Json.Nodes;
using LearnerVault.Server.Auth;
using LearnerVault.Server.Documents;
using LearnerVault.Server.Pipeline;
using LearnerVault.Server.Statements;
using LearnerVault.Xapi;

namespace LearnerVault.Server.Endpoints;

/// <summary>
/// The xAPI Agents resource (xAPI Communication 2.4): the Person object joining what the LRS knows of an agent. Until the
/// identity vault links a learner's identifiers, the LRS knows no more than the request says, so the Person holds the
/// given agent's identifier and name; that reveals nothing, but the resource still asks for a reading scope, because
/// once identifiers are joined it will reveal them. For the same reason it is a read of the agent's statements put to the
/// access gate (and logged): a denied agent is a 404.
/// </summary>
public static class AgentsEndpoints
{
    public const string Path = "/xapi/agents";

    public static IEndpointRouteBuilder MapAgentsEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapMethods(Path, [HttpMethods.Get, HttpMethods.Head], GetAsync);
        return app;
    }

    private static async Task GetAsync(HttpContext context, StatementService statements)
    {
        var client = context.Client();
        if (!Scopes.CanReadAllStatements(client) && !Scopes.CanReadProfiles(client))
        {
            throw new XapiException(403, "The client has no scope to read agents.");
        }

        var query = context.Request.Query;
        foreach (var (name, values) in query)
        {
            if (name != DocumentParameters.Agent)
            {
                throw new XapiException(400, "The Agents resource takes only the agent parameter.");
            }

            if (values.Count > 1)
            {
                throw new XapiException(400, "The parameter 'agent' is given more than once.");
            }
        }

        using var agent = DocumentParameters.AgentParameter(query, allowGroup: false);
        if (!await statements.MayReadAgentAsync(context.Access(), Ifi.Normalise(agent.RootElement)!, context.RequestAborted))
        {
            throw new XapiException(404, "No such agent.");
        }

        await JsonResponse.WriteAsync(context, Person(agent.RootElement));
    }

    /// <summary>The Person object of one Agent: every property an array (xAPI Communication 2.4, Person Properties).</summary>
    public static JsonObject Person(JsonElement agent)
    {
        var person = new JsonObject { ["objectType"] = "Person" };
        if (agent.TryGetProperty("name"u8, out var name) && name.ValueKind == JsonValueKind.String)
        {
            person["name"] = new JsonArray(name.GetString());
        }

        foreach (var ifi in (ReadOnlySpan<string>)["mbox", "mbox_sha1sum", "openid", "account"])
        {
            if (agent.TryGetProperty(ifi, out var value))
            {
                person[ifi] = new JsonArray(JsonNode.Parse(value.GetRawText()));
            }
        }

        return person;
    }
}
