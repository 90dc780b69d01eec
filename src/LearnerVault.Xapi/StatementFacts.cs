using System.Text.Json;
using System.Text.Json.Nodes;

namespace LearnerVault.Xapi;

/// <summary>What the LRS indexes and decides on for one prepared statement. IFIs are in <see cref="Ifi"/> form.</summary>
/// <param name="LearnerIfi">IFI of the actor when it is an Agent or identified Group (whose data key encrypts the statement); null for an anonymous Group.</param>
/// <param name="Agents">IFIs matching the "agent" query filter: the actor and, when the object is an Agent/Group, the object; for a Group also its members.</param>
/// <param name="RelatedAgents">IFIs matching "agent" with related_agents=true: actor, object, authority, instructor, team, 2.0 context agents/groups, their members, and the same inside a SubStatement.</param>
/// <param name="VerbId">The verb id.</param>
/// <param name="ActivityId">The object's activity id when the object is an Activity.</param>
/// <param name="RelatedActivities">Activity ids matching "activity" with related_activities=true: the object activity, all context activities, and the same inside a SubStatement.</param>
/// <param name="Registration">context.registration.</param>
/// <param name="RefTarget">object.id when the object is a StatementRef.</param>
/// <param name="IsVoiding">The verb is the voided verb and the object is a StatementRef.</param>
/// <param name="HasTimestamp">The statement carries its own timestamp.</param>
public sealed record StatementFacts(
    string? LearnerIfi,
    IReadOnlyList<string> Agents,
    IReadOnlyList<string> RelatedAgents,
    string VerbId,
    string? ActivityId,
    IReadOnlyList<string> RelatedActivities,
    Guid? Registration,
    Guid? RefTarget,
    bool IsVoiding,
    bool HasTimestamp);

public static class StatementFactsExtractor
{
    /// <summary>Extracts the facts of a statement produced by <see cref="StatementPreparer.Prepare"/>.</summary>
    public static StatementFacts Extract(JsonObject preparedStatement)
    {
        ArgumentNullException.ThrowIfNull(preparedStatement);

        var actor = preparedStatement["actor"] as JsonObject;
        var obj = preparedStatement["object"] as JsonObject;
        var objectType = KindOf(obj);
        var objectIsAgent = objectType == ObjectKind.Agent;
        var objectIsActivity = obj is not null && objectType == ObjectKind.Activity;
        var objectIsStatementRef = objectType == ObjectKind.StatementRef;

        var agents = new List<string>(4);
        AddAgentAndMembers(agents, actor);
        if (objectIsAgent)
        {
            AddAgentAndMembers(agents, obj);
        }

        var relatedAgents = new List<string>(agents);
        AddAgentAndMembers(relatedAgents, preparedStatement["authority"]);
        AddContextAgents(relatedAgents, preparedStatement["context"] as JsonObject);

        var activityId = objectIsActivity ? Ifi.StringOf(obj!["id"]) : null;
        var relatedActivities = new List<string>(4);
        AddDistinct(relatedActivities, activityId);
        AddContextActivities(relatedActivities, preparedStatement["context"] as JsonObject);

        if (objectType == ObjectKind.SubStatement)
        {
            AddAgentAndMembers(relatedAgents, obj!["actor"]);
            var inner = obj["object"] as JsonObject;
            var innerType = KindOf(inner);
            if (innerType == ObjectKind.Agent)
            {
                AddAgentAndMembers(relatedAgents, inner);
            }
            else if (inner is not null && innerType == ObjectKind.Activity)
            {
                AddDistinct(relatedActivities, Ifi.StringOf(inner!["id"]));
            }

            AddContextAgents(relatedAgents, obj["context"] as JsonObject);
            AddContextActivities(relatedActivities, obj["context"] as JsonObject);
        }

        var verbId = Ifi.StringOf(preparedStatement["verb"]?["id"]) ?? string.Empty;
        var context = preparedStatement["context"] as JsonObject;
        Guid? registration = Guid.TryParse(Ifi.StringOf(context?["registration"]), out var r) ? r : null;
        Guid? refTarget = objectIsStatementRef && Guid.TryParse(Ifi.StringOf(obj!["id"]), out var t) ? t : null;

        return new StatementFacts(
            LearnerIfi: Ifi.Normalise(actor),
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

    private enum ObjectKind
    {
        /// <summary>objectType absent, not a string, or "Activity".</summary>
        Activity,
        Agent,
        StatementRef,
        SubStatement,
        Other,
    }

    /// <summary>The object's objectType, compared without allocating ("Agent" and "Group" are both Agent).</summary>
    private static ObjectKind KindOf(JsonObject? obj)
    {
        var objectType = obj?["objectType"];
        if (objectType is not JsonValue value || value.GetValueKind() != JsonValueKind.String || Ifi.StringEquals(value, "Activity"u8))
        {
            return ObjectKind.Activity;
        }

        return Ifi.StringEquals(value, "Agent"u8) || Ifi.StringEquals(value, "Group"u8) ? ObjectKind.Agent
            : Ifi.StringEquals(value, "StatementRef"u8) ? ObjectKind.StatementRef
            : Ifi.StringEquals(value, "SubStatement"u8) ? ObjectKind.SubStatement
            : ObjectKind.Other;
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
                        AddDistinct(list, Ifi.StringOf(activity?["id"]));
                    }

                    break;
                case JsonObject single:
                    AddDistinct(list, Ifi.StringOf(single["id"]));
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

        AddDistinct(list, Ifi.Normalise(agentObject));
        if (agentObject["member"] is JsonArray members)
        {
            foreach (var member in members)
            {
                AddDistinct(list, Ifi.Normalise(member));
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
}
