using System.Text.Json;

namespace LearnerVault.Xapi;

public static partial class StatementValidator
{
    private static string? ValidateContext(JsonElement c, XapiVersion version, bool objectIsActivity)
    {
        if (c.ValueKind != JsonValueKind.Object)
        {
            return NotObject;
        }

        var seen = 0;
        foreach (var p in c.EnumerateObject())
        {
            int bit;
            string? error;
            var v = p.Value;
            if (p.NameEquals("registration"u8))
            {
                bit = 1;
                error = StringIs(v, XapiFormats.IsUuid) ? null : ".registration" + NotUuid;
            }
            else if (p.NameEquals("contextActivities"u8))
            {
                bit = 2;
                error = At("contextActivities", ValidateContextActivities(v));
            }
            else if (p.NameEquals("instructor"u8))
            {
                bit = 4;
                error = At("instructor", ValidateAgentOrGroup(v, AgentRole.Instructor));
            }
            else if (p.NameEquals("team"u8))
            {
                bit = 8;
                error = At("team", ValidateAgentOrGroup(v, AgentRole.Team));
            }
            else if (p.NameEquals("revision"u8))
            {
                bit = 16;
                error = v.ValueKind != JsonValueKind.String ? ".revision" + NotString
                    : objectIsActivity ? null
                    : ".revision must only be used when the object is an Activity";
            }
            else if (p.NameEquals("platform"u8))
            {
                bit = 32;
                error = v.ValueKind != JsonValueKind.String ? ".platform" + NotString
                    : objectIsActivity ? null
                    : ".platform must only be used when the object is an Activity";
            }
            else if (p.NameEquals("language"u8))
            {
                bit = 64;
                error = StringIs(v, XapiFormats.IsLanguageTag) ? null : ".language must be an RFC 5646 language tag";
            }
            else if (p.NameEquals("statement"u8))
            {
                bit = 128;
                error = At("statement", ValidateStatementRef(v));
            }
            else if (p.NameEquals("extensions"u8))
            {
                bit = 256;
                error = At("extensions", ValidateExtensions(v));
            }
            else if (p.NameEquals("contextAgents"u8))
            {
                bit = 512;
                error = version == XapiVersion.V2_0_0
                    ? At("contextAgents", ValidateContextAgents(v, group: false))
                    : ".contextAgents is only allowed in xAPI 2.0";
            }
            else if (p.NameEquals("contextGroups"u8))
            {
                bit = 1024;
                error = version == XapiVersion.V2_0_0
                    ? At("contextGroups", ValidateContextAgents(v, group: true))
                    : ".contextGroups is only allowed in xAPI 2.0";
            }
            else
            {
                return NotAllowed(p);
            }

            if ((seen & bit) != 0)
            {
                return At(p, Duplicate);
            }

            seen |= bit;
            if (error is not null)
            {
                return error;
            }
        }

        return null;
    }

    private static string? ValidateContextActivities(JsonElement ca)
    {
        if (ca.ValueKind != JsonValueKind.Object)
        {
            return NotObject;
        }

        var seen = 0;
        foreach (var p in ca.EnumerateObject())
        {
            int bit;
            string name;
            if (p.NameEquals("parent"u8))
            {
                bit = 1;
                name = "parent";
            }
            else if (p.NameEquals("grouping"u8))
            {
                bit = 2;
                name = "grouping";
            }
            else if (p.NameEquals("category"u8))
            {
                bit = 4;
                name = "category";
            }
            else if (p.NameEquals("other"u8))
            {
                bit = 8;
                name = "other";
            }
            else
            {
                return IsPlainIdentifier(p)
                    ? "." + p.Name + " is not a context type (parent, grouping, category or other)"
                    : " has a key that is not a context type (parent, grouping, category or other)";
            }

            if ((seen & bit) != 0)
            {
                return At(p, Duplicate);
            }

            seen |= bit;

            // A single Activity is allowed (0.95 compatibility); the LRS returns it as an array of one.
            var v = p.Value;
            if (v.ValueKind == JsonValueKind.Object)
            {
                if (At(name, ValidateActivity(v)) is { } error)
                {
                    return error;
                }
            }
            else if (v.ValueKind == JsonValueKind.Array)
            {
                var index = 0;
                foreach (var activity in v.EnumerateArray())
                {
                    if (At(index, ValidateActivity(activity)) is { } error)
                    {
                        return "." + name + error;
                    }

                    index++;
                }
            }
            else
            {
                return "." + name + " must be an Activity or an array of Activities";
            }
        }

        return null;
    }

    /// <summary>xAPI 2.0 contextAgents (group == false) or contextGroups (group == true).</summary>
    private static string? ValidateContextAgents(JsonElement list, bool group)
    {
        if (list.ValueKind != JsonValueKind.Array)
        {
            return group ? " must be an array of contextGroup objects" : " must be an array of contextAgent objects";
        }

        var index = 0;
        foreach (var item in list.EnumerateArray())
        {
            if (At(index, ValidateContextAgent(item, group)) is { } error)
            {
                return error;
            }

            index++;
        }

        return null;
    }

    private static string? ValidateContextAgent(JsonElement item, bool group)
    {
        if (item.ValueKind != JsonValueKind.Object)
        {
            return NotObject;
        }

        JsonElement objectType = default, agent = default, relevantTypes = default;
        var seen = 0;
        foreach (var p in item.EnumerateObject())
        {
            int bit;
            if (p.NameEquals("objectType"u8))
            {
                bit = 1;
                objectType = p.Value;
            }
            else if (group ? p.NameEquals("group"u8) : p.NameEquals("agent"u8))
            {
                bit = 2;
                agent = p.Value;
            }
            else if (p.NameEquals("relevantTypes"u8))
            {
                bit = 4;
                relevantTypes = p.Value;
            }
            else
            {
                return NotAllowed(p);
            }

            if ((seen & bit) != 0)
            {
                return At(p, Duplicate);
            }

            seen |= bit;
        }

        if (group ? !Is(objectType, "contextGroup"u8) : !Is(objectType, "contextAgent"u8))
        {
            return group ? ".objectType must be contextGroup" : ".objectType must be contextAgent";
        }

        if (agent.ValueKind == JsonValueKind.Undefined)
        {
            return group ? ".group is required" : ".agent is required";
        }

        var agentError = group
            ? At("group", ValidateAgentOrGroup(agent, AgentRole.ContextGroup))
            : At("agent", ValidateAgentOrGroup(agent, AgentRole.ContextAgent));
        if (agentError is not null)
        {
            return agentError;
        }

        if (relevantTypes.ValueKind == JsonValueKind.Undefined)
        {
            return null;
        }

        if (relevantTypes.ValueKind != JsonValueKind.Array || relevantTypes.GetArrayLength() == 0)
        {
            return ".relevantTypes must be a non-empty array of IRIs";
        }

        foreach (var type in relevantTypes.EnumerateArray())
        {
            if (!StringIs(type, XapiFormats.IsIri))
            {
                return ".relevantTypes must be a non-empty array of IRIs";
            }
        }

        return null;
    }
}
