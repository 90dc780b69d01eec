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

    /// <summary>
    /// The facts of a validated statement as the client sent it, with the authority the LRS records for it: equal to
    /// <see cref="Extract(JsonObject)"/> of what <see cref="StatementPreparer.Prepare"/> makes of it (nothing the
    /// preparer changes is a fact, except the authority, which is given). Reads the parsed JSON without building nodes.
    /// </summary>
    /// <param name="statement">A statement that passed <see cref="StatementValidator.Validate"/>.</param>
    /// <param name="authority">The authority the statement is stored with.</param>
    public static StatementFacts Extract(JsonElement statement, JsonObject authority)
    {
        if (statement.ValueKind != JsonValueKind.Object)
        {
            throw new ArgumentException("A statement must be a JSON object.", nameof(statement));
        }

        var actor = ObjectProperty(statement, "actor"u8);
        var obj = ObjectProperty(statement, "object"u8);
        var context = ObjectProperty(statement, "context"u8);
        var objectType = KindOf(obj);
        var objectIsStatementRef = objectType == ObjectKind.StatementRef;

        var agents = new List<string>(4);
        AddAgentAndMembers(agents, actor);
        if (objectType == ObjectKind.Agent)
        {
            AddAgentAndMembers(agents, obj);
        }

        var relatedAgents = new List<string>(agents);
        AddAgentAndMembers(relatedAgents, authority);
        AddContextAgents(relatedAgents, context);

        var activityId = obj.ValueKind == JsonValueKind.Object && objectType == ObjectKind.Activity ? StringProperty(obj, "id"u8) : null;
        var relatedActivities = new List<string>(4);
        AddDistinct(relatedActivities, activityId);
        AddContextActivities(relatedActivities, context);

        if (objectType == ObjectKind.SubStatement)
        {
            AddAgentAndMembers(relatedAgents, ObjectProperty(obj, "actor"u8));
            var inner = ObjectProperty(obj, "object"u8);
            var innerType = KindOf(inner);
            if (innerType == ObjectKind.Agent)
            {
                AddAgentAndMembers(relatedAgents, inner);
            }
            else if (inner.ValueKind == JsonValueKind.Object && innerType == ObjectKind.Activity)
            {
                AddDistinct(relatedActivities, StringProperty(inner, "id"u8));
            }

            var innerContext = ObjectProperty(obj, "context"u8);
            AddContextAgents(relatedAgents, innerContext);
            AddContextActivities(relatedActivities, innerContext);
        }

        var verbId = StringProperty(ObjectProperty(statement, "verb"u8), "id"u8) ?? string.Empty;
        Guid? registration = Guid.TryParse(StringProperty(context, "registration"u8), out var r) ? r : null;
        Guid? refTarget = objectIsStatementRef && Guid.TryParse(StringProperty(obj, "id"u8), out var t) ? t : null;

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
            HasTimestamp: statement.TryGetProperty("timestamp"u8, out _));
    }

    /// <summary>The property's value when it is an object, else an undefined element.</summary>
    private static JsonElement ObjectProperty(JsonElement obj, ReadOnlySpan<byte> name) =>
        obj.ValueKind == JsonValueKind.Object && obj.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Object ? value : default;

    private static string? StringProperty(JsonElement obj, ReadOnlySpan<byte> name) =>
        obj.ValueKind == JsonValueKind.Object && obj.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static ObjectKind KindOf(JsonElement obj)
    {
        if (obj.ValueKind != JsonValueKind.Object || !obj.TryGetProperty("objectType"u8, out var value)
            || value.ValueKind != JsonValueKind.String || value.ValueEquals("Activity"u8))
        {
            return ObjectKind.Activity;
        }

        return value.ValueEquals("Agent"u8) || value.ValueEquals("Group"u8) ? ObjectKind.Agent
            : value.ValueEquals("StatementRef"u8) ? ObjectKind.StatementRef
            : value.ValueEquals("SubStatement"u8) ? ObjectKind.SubStatement
            : ObjectKind.Other;
    }

    private static void AddContextAgents(List<string> list, JsonElement context)
    {
        if (context.ValueKind != JsonValueKind.Object)
        {
            return;
        }

        AddAgentAndMembers(list, ObjectProperty(context, "instructor"u8));
        AddAgentAndMembers(list, ObjectProperty(context, "team"u8));
        if (context.TryGetProperty("contextAgents"u8, out var contextAgents) && contextAgents.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in contextAgents.EnumerateArray())
            {
                AddAgentAndMembers(list, ObjectProperty(item, "agent"u8));
            }
        }

        if (context.TryGetProperty("contextGroups"u8, out var contextGroups) && contextGroups.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in contextGroups.EnumerateArray())
            {
                AddAgentAndMembers(list, ObjectProperty(item, "group"u8));
            }
        }
    }

    private static void AddContextActivities(List<string> list, JsonElement context)
    {
        var activities = ObjectProperty(context, "contextActivities"u8);
        if (activities.ValueKind != JsonValueKind.Object)
        {
            return;
        }

        foreach (var property in activities.EnumerateObject())
        {
            switch (property.Value.ValueKind)
            {
                case JsonValueKind.Array:
                    foreach (var activity in property.Value.EnumerateArray())
                    {
                        AddDistinct(list, StringProperty(activity, "id"u8));
                    }

                    break;
                case JsonValueKind.Object:
                    AddDistinct(list, StringProperty(property.Value, "id"u8));
                    break;
                default:
                    break;
            }
        }
    }

    private static void AddAgentAndMembers(List<string> list, JsonElement agent)
    {
        if (agent.ValueKind != JsonValueKind.Object)
        {
            return;
        }

        AddDistinct(list, Ifi.Normalise(agent));
        if (agent.TryGetProperty("member"u8, out var members) && members.ValueKind == JsonValueKind.Array)
        {
            foreach (var member in members.EnumerateArray())
            {
                AddDistinct(list, Ifi.Normalise(member));
            }
        }
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
