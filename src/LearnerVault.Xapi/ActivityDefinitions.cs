using System.Text.Json;
using System.Text.Json.Nodes;

namespace LearnerVault.Xapi;

/// <summary>An activity definition as a statement carries it.</summary>
public sealed record ActivityDefinitionSighting(string ActivityId, JsonElement Definition);

/// <summary>
/// The canonical definitions of activities (xAPI Communication 2.5): found in statements, merged so that the Activities
/// resource returns "all available information" about an activity.
/// </summary>
public static class ActivityDefinitions
{
    private static readonly string[] LanguageMaps = ["name", "description"];

    private static readonly string[] InteractionComponents = ["choices", "scale", "source", "target", "steps"];

    private static readonly string[] ContextActivityKinds = ["parent", "grouping", "category", "other"];

    /// <summary>
    /// Every activity in a (valid) statement that carries a definition, in document order: the object, the context
    /// activities, and the same inside a SubStatement.
    /// </summary>
    public static IReadOnlyList<ActivityDefinitionSighting> Collect(JsonElement statement)
    {
        var found = new List<ActivityDefinitionSighting>();
        CollectFrom(statement, found, allowSubStatement: true);
        return found;
    }

    /// <summary>
    /// Merges a newer definition into the canonical one: language maps (name, description, and the description of each
    /// interaction component, matched by id) are merged per language with the newer text winning; every other property
    /// the newer definition has replaces the canonical one's; properties only the canonical one has are kept.
    /// </summary>
    public static JsonObject Merge(JsonObject? canonical, JsonObject newer)
    {
        ArgumentNullException.ThrowIfNull(newer);
        var merged = canonical is null ? [] : (JsonObject)canonical.DeepClone();
        foreach (var (name, value) in newer)
        {
            if (LanguageMaps.Contains(name, StringComparer.Ordinal) && merged[name] is JsonObject oldMap && value is JsonObject newMap)
            {
                merged[name] = MergeLanguageMap(oldMap, newMap);
            }
            else if (InteractionComponents.Contains(name, StringComparer.Ordinal) && merged[name] is JsonArray oldComponents && value is JsonArray newComponents)
            {
                merged[name] = MergeComponents(oldComponents, newComponents);
            }
            else
            {
                merged[name] = value?.DeepClone();
            }
        }

        return merged;
    }

    private static JsonObject MergeLanguageMap(JsonObject older, JsonObject newer)
    {
        var merged = (JsonObject)older.DeepClone();
        foreach (var (language, text) in newer)
        {
            merged[language] = text?.DeepClone();
        }

        return merged;
    }

    /// <summary>The newer list decides which components exist and their order; a component keeps the languages of its
    /// description that only the older list had.</summary>
    private static JsonArray MergeComponents(JsonArray older, JsonArray newer)
    {
        var merged = new JsonArray();
        foreach (var component in newer)
        {
            if (component is JsonObject newComponent
                && Ifi.StringOf(newComponent["id"]) is { } id
                && older.OfType<JsonObject>().FirstOrDefault(c => Ifi.StringOf(c["id"]) == id) is { } oldComponent
                && oldComponent["description"] is JsonObject oldDescription
                && newComponent["description"] is JsonObject newDescription)
            {
                var copy = (JsonObject)newComponent.DeepClone();
                copy["description"] = MergeLanguageMap(oldDescription, newDescription);
                merged.Add(copy);
            }
            else
            {
                merged.Add(component?.DeepClone());
            }
        }

        return merged;
    }

    private static void CollectFrom(JsonElement statement, List<ActivityDefinitionSighting> found, bool allowSubStatement)
    {
        if (statement.ValueKind != JsonValueKind.Object)
        {
            return;
        }

        if (statement.TryGetProperty("object"u8, out var obj) && obj.ValueKind == JsonValueKind.Object)
        {
            var objectType = obj.TryGetProperty("objectType"u8, out var type) && type.ValueKind == JsonValueKind.String ? type.GetString() : null;
            if (objectType is null or "Activity")
            {
                AddActivity(obj, found);
            }
            else if (objectType == "SubStatement" && allowSubStatement)
            {
                CollectFrom(obj, found, allowSubStatement: false);
            }
        }

        if (statement.TryGetProperty("context"u8, out var context) && context.ValueKind == JsonValueKind.Object
            && context.TryGetProperty("contextActivities"u8, out var activities) && activities.ValueKind == JsonValueKind.Object)
        {
            foreach (var kind in ContextActivityKinds)
            {
                if (!activities.TryGetProperty(kind, out var list))
                {
                    continue;
                }

                if (list.ValueKind == JsonValueKind.Array)
                {
                    foreach (var activity in list.EnumerateArray())
                    {
                        AddActivity(activity, found);
                    }
                }
                else
                {
                    AddActivity(list, found);
                }
            }
        }
    }

    private static void AddActivity(JsonElement activity, List<ActivityDefinitionSighting> found)
    {
        if (activity.ValueKind == JsonValueKind.Object
            && activity.TryGetProperty("id"u8, out var id) && id.ValueKind == JsonValueKind.String
            && activity.TryGetProperty("definition"u8, out var definition) && definition.ValueKind == JsonValueKind.Object)
        {
            found.Add(new ActivityDefinitionSighting(id.GetString()!, definition));
        }
    }
}
