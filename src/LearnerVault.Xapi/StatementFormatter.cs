using System.Text.Json.Nodes;

namespace LearnerVault.Xapi;

/// <summary>The "format" parameter of GET statements.</summary>
public enum StatementFormat
{
    /// <summary>Agents, activities, verbs and groups exactly as received.</summary>
    Exact,

    /// <summary>Only what identifies agents, groups, activities and verbs.</summary>
    Ids,

    /// <summary>Every language map reduced to the one entry that best matches Accept-Language.</summary>
    Canonical,
}

public static class StatementFormatter
{
    private static readonly string[] LanguageMaps = ["name", "description"];
    private static readonly string[] ComponentLists = ["choices", "scale", "source", "target", "steps"];
    private static readonly string[] ContextTypes = ["parent", "grouping", "category", "other"];
    private static readonly string[] IfiNames = ["mbox", "mbox_sha1sum", "openid", "account"];

    /// <summary>
    /// Formats a stored statement (with "stored", and "timestamp" already filled in). <see cref="StatementFormat.Exact"/>
    /// returns <paramref name="statement"/> itself; the other formats return a new object and leave the input unchanged.
    /// </summary>
    /// <param name="acceptLanguages">Language ranges by preference (from Accept-Language); "*" matches anything.</param>
    public static JsonObject Format(JsonObject statement, StatementFormat format, IReadOnlyList<string> acceptLanguages)
    {
        ArgumentNullException.ThrowIfNull(statement);
        ArgumentNullException.ThrowIfNull(acceptLanguages);
        switch (format)
        {
            case StatementFormat.Exact:
                return statement;
            case StatementFormat.Ids:
                var ids = statement.DeepClone().AsObject();
                ToIds(ids);
                return ids;
            case StatementFormat.Canonical:
                var canonical = statement.DeepClone().AsObject();
                ToCanonical(canonical, acceptLanguages);
                return canonical;
            default:
                throw new ArgumentOutOfRangeException(nameof(format));
        }
    }

    // ---- ids ----------------------------------------------------------------------------------------------------

    private static void ToIds(JsonObject statement)
    {
        Replace(statement, "actor", AgentIds);
        Replace(statement, "authority", AgentIds);
        if (statement["verb"] is JsonObject verb)
        {
            statement["verb"] = IdOnly(verb);
        }

        if (statement["object"] is JsonObject obj)
        {
            switch (Ifi.StringOf(obj["objectType"]))
            {
                case null or "Activity":
                    statement["object"] = IdOnly(obj);
                    break;
                case "Agent" or "Group":
                    statement["object"] = AgentIds(obj);
                    break;
                case "SubStatement":
                    ToIds(obj);
                    break;
                default:
                    break;
            }
        }

        if (statement["context"] is JsonObject context)
        {
            Replace(context, "instructor", AgentIds);
            Replace(context, "team", AgentIds);
            if (context["contextActivities"] is JsonObject activities)
            {
                foreach (var type in ContextTypes)
                {
                    switch (activities[type])
                    {
                        case JsonArray array:
                            for (var i = 0; i < array.Count; i++)
                            {
                                if (array[i] is JsonObject activity)
                                {
                                    array[i] = IdOnly(activity);
                                }
                            }

                            break;
                        case JsonObject single:
                            activities[type] = IdOnly(single);
                            break;
                        default:
                            break;
                    }
                }
            }

            ForEachObject(context["contextAgents"] as JsonArray, item => Replace(item, "agent", AgentIds));
            ForEachObject(context["contextGroups"] as JsonArray, item => Replace(item, "group", AgentIds));
        }
    }

    private static JsonObject IdOnly(JsonObject activityOrVerb) => new() { ["id"] = activityOrVerb["id"]?.DeepClone() };

    /// <summary>objectType (when present) and the IFI; an anonymous Group keeps its members, each reduced the same way.</summary>
    private static JsonObject AgentIds(JsonObject agent)
    {
        var result = new JsonObject();
        if (agent["objectType"] is { } objectType)
        {
            result["objectType"] = objectType.DeepClone();
        }

        var identified = false;
        foreach (var name in IfiNames)
        {
            if (agent[name] is { } ifi)
            {
                result[name] = ifi.DeepClone();
                identified = true;
                break;
            }
        }

        if (!identified && agent["member"] is JsonArray members)
        {
            var reduced = new JsonArray();
            foreach (var member in members)
            {
                if (member is JsonObject m)
                {
                    reduced.Add(AgentIds(m));
                }
            }

            result["member"] = reduced;
        }

        return result;
    }

    // ---- canonical ----------------------------------------------------------------------------------------------

    private static void ToCanonical(JsonObject statement, IReadOnlyList<string> languages)
    {
        if (statement["verb"] is JsonObject verb)
        {
            ReduceMap(verb, "display", languages);
        }

        if (statement["object"] is JsonObject obj)
        {
            switch (Ifi.StringOf(obj["objectType"]))
            {
                case null or "Activity":
                    CanonicalActivity(obj, languages);
                    break;
                case "SubStatement":
                    ToCanonical(obj, languages);
                    break;
                default:
                    break;
            }
        }

        if (statement["context"]?["contextActivities"] is JsonObject activities)
        {
            foreach (var type in ContextTypes)
            {
                switch (activities[type])
                {
                    case JsonArray array:
                        ForEachObject(array, activity => CanonicalActivity(activity, languages));
                        break;
                    case JsonObject single:
                        CanonicalActivity(single, languages);
                        break;
                    default:
                        break;
                }
            }
        }

        ForEachObject(statement["attachments"] as JsonArray, attachment =>
        {
            ReduceMap(attachment, "display", languages);
            ReduceMap(attachment, "description", languages);
        });
    }

    private static void CanonicalActivity(JsonObject activity, IReadOnlyList<string> languages)
    {
        if (activity["definition"] is not JsonObject definition)
        {
            return;
        }

        foreach (var map in LanguageMaps)
        {
            ReduceMap(definition, map, languages);
        }

        foreach (var list in ComponentLists)
        {
            ForEachObject(definition[list] as JsonArray, component => ReduceMap(component, "description", languages));
        }
    }

    private static void ReduceMap(JsonObject owner, string property, IReadOnlyList<string> languages)
    {
        if (owner[property] is not JsonObject map || map.Count <= 1)
        {
            return;
        }

        var chosen = ChooseLanguage(map, languages);
        var value = map[chosen]?.DeepClone();
        owner[property] = new JsonObject { [chosen] = value };
    }

    /// <summary>
    /// RFC 4647 lookup per preferred range, in order: an exact tag, then a tag the range is a prefix of, then the
    /// range truncated one subtag at a time. "*" takes the first entry, and so does no match at all.
    /// </summary>
    internal static string ChooseLanguage(JsonObject map, IReadOnlyList<string> languages)
    {
        foreach (var range in languages)
        {
            if (string.IsNullOrWhiteSpace(range))
            {
                continue;
            }

            if (range.Trim() == "*")
            {
                break;
            }

            var wanted = range.Trim();
            if (Find(map, tag => tag.Equals(wanted, StringComparison.OrdinalIgnoreCase)) is { } exact)
            {
                return exact;
            }

            if (Find(map, tag => tag.StartsWith(wanted + "-", StringComparison.OrdinalIgnoreCase)) is { } extended)
            {
                return extended;
            }

            for (var cut = wanted.LastIndexOf('-'); cut > 0; cut = wanted.LastIndexOf('-'))
            {
                wanted = wanted[..cut];
                var truncated = wanted;
                if (Find(map, tag => tag.Equals(truncated, StringComparison.OrdinalIgnoreCase)) is { } shorter)
                {
                    return shorter;
                }
            }
        }

        foreach (var (tag, _) in map)
        {
            return tag;
        }

        return string.Empty;
    }

    private static string? Find(JsonObject map, Func<string, bool> match)
    {
        foreach (var (tag, _) in map)
        {
            if (match(tag))
            {
                return tag;
            }
        }

        return null;
    }

    private static void Replace(JsonObject owner, string property, Func<JsonObject, JsonObject> transform)
    {
        if (owner[property] is JsonObject value)
        {
            owner[property] = transform(value);
        }
    }

    private static void ForEachObject(JsonArray? array, Action<JsonObject> action)
    {
        if (array is null)
        {
            return;
        }

        foreach (var item in array)
        {
            if (item is JsonObject obj)
            {
                action(obj);
            }
        }
    }
}
