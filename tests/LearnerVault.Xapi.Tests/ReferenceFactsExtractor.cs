using System.Text.Json;
using System.Text.Json.Nodes;

namespace LearnerVault.Xapi.Tests;

/// <summary>
/// REFERENCE ONLY, do not use in production code: a frozen copy of the original StatementFactsExtractor.Extract (and
/// the Ifi helpers it called), so that the optimised implementation can be checked against it.
/// </summary>
internal static class ReferenceFactsExtractor
{
    /// <summary>Extracts the facts of a statement produced by <see cref="StatementPreparer.Prepare"/>.</summary>
    public static StatementFacts Extract(JsonObject preparedStatement)
    {
        ArgumentNullException.ThrowIfNull(preparedStatement);

        var actor = preparedStatement["actor"] as JsonObject;
        var obj = preparedStatement["object"] as JsonObject;
        var objectType = StringOf(obj?["objectType"]);
        var objectIsAgent = objectType is "Agent" or "Group";
        var objectIsActivity = obj is not null && objectType is null or "Activity";
        var objectIsStatementRef = objectType == "StatementRef";

        var agents = new List<string>(4);
        AddAgentAndMembers(agents, actor);
        if (objectIsAgent)
        {
            AddAgentAndMembers(agents, obj);
        }

        var relatedAgents = new List<string>(agents);
        AddAgentAndMembers(relatedAgents, preparedStatement["authority"]);
        AddContextAgents(relatedAgents, preparedStatement["context"] as JsonObject);

        var activityId = objectIsActivity ? StringOf(obj!["id"]) : null;
        var relatedActivities = new List<string>(4);
        AddDistinct(relatedActivities, activityId);
        AddContextActivities(relatedActivities, preparedStatement["context"] as JsonObject);

        if (objectType == "SubStatement")
        {
            AddAgentAndMembers(relatedAgents, obj!["actor"]);
            var inner = obj["object"] as JsonObject;
            var innerType = StringOf(inner?["objectType"]);
            if (innerType is "Agent" or "Group")
            {
                AddAgentAndMembers(relatedAgents, inner);
            }
            else if (inner is not null && innerType is null or "Activity")
            {
                AddDistinct(relatedActivities, StringOf(inner!["id"]));
            }

            AddContextAgents(relatedAgents, obj["context"] as JsonObject);
            AddContextActivities(relatedActivities, obj["context"] as JsonObject);
        }

        var verbId = StringOf(preparedStatement["verb"]?["id"]) ?? string.Empty;
        var context = preparedStatement["context"] as JsonObject;
        Guid? registration = Guid.TryParse(StringOf(context?["registration"]), out var r) ? r : null;
        Guid? refTarget = objectIsStatementRef && Guid.TryParse(StringOf(obj!["id"]), out var t) ? t : null;

        return new StatementFacts(
            LearnerIfi: Normalise(actor),
            Agents: agents,
            RelatedAgents: relatedAgents,
            VerbId: verbId,
            ActivityId: activityId,
            RelatedActivities: relatedActivities,
            Registration: registration,
            RefTarget: refTarget,
            IsVoiding: objectIsStatementRef && verbId == StatementValidator.VoidedVerbId,
            HasTimestamp: preparedStatement.ContainsKey("timestamp"));
    }

    private static void AddContextAgents(List<string> list, JsonObject? context)
    {
        if (context is null)
        {
            return;
        }

        AddAgentAndMembers(list, context["instructor"]);
        AddAgentAndMembers(list, context["team"]);
        if (context["contextAgents"] is JsonArray contextAgents)
        {
            foreach (var item in contextAgents)
            {
                AddAgentAndMembers(list, item?["agent"]);
            }
        }

        if (context["contextGroups"] is JsonArray contextGroups)
        {
            foreach (var item in contextGroups)
            {
                AddAgentAndMembers(list, item?["group"]);
            }
        }
    }

    private static void AddContextActivities(List<string> list, JsonObject? context)
    {
        if (context?["contextActivities"] is not JsonObject activities)
        {
            return;
        }

        foreach (var (_, value) in activities)
        {
            switch (value)
            {
                case JsonArray array:
                    foreach (var activity in array)
                    {
                        AddDistinct(list, StringOf(activity?["id"]));
                    }

                    break;
                case JsonObject single:
                    AddDistinct(list, StringOf(single["id"]));
                    break;
                default:
                    break;
            }
        }
    }

    /// <summary>The agent's own IFI and, for a Group, its members' IFIs (a Group matches a filter for any of its members).</summary>
    private static void AddAgentAndMembers(List<string> list, JsonNode? agent)
    {
        if (agent is not JsonObject agentObject)
        {
            return;
        }

        AddDistinct(list, Normalise(agentObject));
        if (agentObject["member"] is JsonArray members)
        {
            foreach (var member in members)
            {
                AddDistinct(list, Normalise(member));
            }
        }
    }

    private static void AddDistinct(List<string> list, string? value)
    {
        if (value is not null && !list.Contains(value))
        {
            list.Add(value);
        }
    }

    // ---- Frozen copies of the Ifi helpers the original implementation called. ----

    private static string? Normalise(JsonNode? agentOrGroup)
    {
        if (agentOrGroup is not JsonObject agent)
        {
            return null;
        }

        if (StringOf(agent["mbox"]) is { } mbox)
        {
            return FromMbox(mbox);
        }

        if (StringOf(agent["mbox_sha1sum"]) is { } sha1)
        {
            return FromSha1(sha1);
        }

        if (StringOf(agent["openid"]) is { } openid)
        {
            return "openid:" + openid;
        }

        if (agent["account"] is JsonObject account && StringOf(account["homePage"]) is { } homePage && StringOf(account["name"]) is { } name)
        {
            return FromAccount(homePage, name);
        }

        return null;
    }

    private static string NormaliseMbox(string mbox)
    {
        var at = mbox.LastIndexOf('@');
        var colon = mbox.IndexOf(':', StringComparison.Ordinal);
        if (colon < 0)
        {
            return mbox;
        }

        var scheme = mbox[..(colon + 1)].ToLowerInvariant();
        return at < 0
            ? scheme + mbox[(colon + 1)..]
            : scheme + mbox[(colon + 1)..(at + 1)] + mbox[(at + 1)..].ToLowerInvariant();
    }

    internal static string? StringOf(JsonNode? node) =>
        node is JsonValue value && value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : null;

    private static string FromMbox(string mbox) => "mbox:" + NormaliseMbox(mbox);

    private static string FromSha1(string sha1) => "mbox_sha1sum:" + sha1.ToLowerInvariant();

    private static string FromAccount(string homePage, string name) =>
        "account:" + homePage.Replace("|", "%7C", StringComparison.Ordinal) + "|" + name;
}
