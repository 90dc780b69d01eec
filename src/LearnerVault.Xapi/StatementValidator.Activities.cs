using System.Runtime.InteropServices;
using System.Text.Json;

namespace LearnerVault.Xapi;

public static partial class StatementValidator
{
    private static string? ValidateActivity(JsonElement a)
    {
        if (a.ValueKind != JsonValueKind.Object)
        {
            return NotObject;
        }

        JsonElement id = default, definition = default;
        var seen = 0;
        foreach (var p in a.EnumerateObject())
        {
            int bit;
            if (p.NameEquals("id"u8))
            {
                bit = 1;
                id = p.Value;
            }
            else if (p.NameEquals("objectType"u8))
            {
                bit = 2;
                if (!Is(p.Value, "Activity"u8))
                {
                    return ".objectType must be Activity";
                }
            }
            else if (p.NameEquals("definition"u8))
            {
                bit = 4;
                definition = p.Value;
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

        if (id.ValueKind == JsonValueKind.Undefined)
        {
            return ".id is required";
        }

        if (!StringIs(id, XapiFormats.IsIri))
        {
            return ".id" + NotIri;
        }

        return definition.ValueKind == JsonValueKind.Undefined ? null : At("definition", ValidateDefinition(definition));
    }

    private static string? ValidateDefinition(JsonElement d)
    {
        if (d.ValueKind != JsonValueKind.Object)
        {
            return NotObject;
        }

        JsonElement interactionType = default, correctResponses = default;
        JsonElement choices = default, scale = default, source = default, target = default, steps = default;
        var seen = 0;
        foreach (var p in d.EnumerateObject())
        {
            int bit;
            string? error = null;
            var v = p.Value;
            if (p.NameEquals("name"u8))
            {
                bit = 1;
                error = At("name", ValidateLanguageMap(v));
            }
            else if (p.NameEquals("description"u8))
            {
                bit = 2;
                error = At("description", ValidateLanguageMap(v));
            }
            else if (p.NameEquals("type"u8))
            {
                bit = 4;
                error = StringIs(v, XapiFormats.IsIri) ? null : ".type" + NotIri;
            }
            else if (p.NameEquals("moreInfo"u8))
            {
                bit = 8;
                error = StringIs(v, XapiFormats.IsIri) ? null : ".moreInfo must be an absolute IRL";
            }
            else if (p.NameEquals("extensions"u8))
            {
                bit = 16;
                error = At("extensions", ValidateExtensions(v));
            }
            else if (p.NameEquals("interactionType"u8))
            {
                bit = 32;
                interactionType = v;
            }
            else if (p.NameEquals("correctResponsesPattern"u8))
            {
                bit = 64;
                correctResponses = v;
            }
            else if (p.NameEquals("choices"u8))
            {
                bit = 128;
                choices = v;
            }
            else if (p.NameEquals("scale"u8))
            {
                bit = 256;
                scale = v;
            }
            else if (p.NameEquals("source"u8))
            {
                bit = 512;
                source = v;
            }
            else if (p.NameEquals("target"u8))
            {
                bit = 1024;
                target = v;
            }
            else if (p.NameEquals("steps"u8))
            {
                bit = 2048;
                steps = v;
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

        var type = Interaction.None;
        if (interactionType.ValueKind != JsonValueKind.Undefined)
        {
            type = ParseInteractionType(interactionType);
            if (type == Interaction.None)
            {
                return ".interactionType must be one of true-false, choice, fill-in, long-fill-in, matching, performance, sequencing, likert, numeric, other";
            }
        }

        if (correctResponses.ValueKind != JsonValueKind.Undefined)
        {
            if (type == Interaction.None)
            {
                return ".interactionType is required when correctResponsesPattern is used";
            }

            if (correctResponses.ValueKind != JsonValueKind.Array)
            {
                return ".correctResponsesPattern must be an array of strings";
            }

            foreach (var pattern in correctResponses.EnumerateArray())
            {
                if (pattern.ValueKind != JsonValueKind.String)
                {
                    return ".correctResponsesPattern must be an array of strings";
                }
            }
        }

        return ValidateComponents("choices", choices, type, Interaction.Choice | Interaction.Sequencing)
            ?? ValidateComponents("scale", scale, type, Interaction.Likert)
            ?? ValidateComponents("source", source, type, Interaction.Matching)
            ?? ValidateComponents("target", target, type, Interaction.Matching)
            ?? ValidateComponents("steps", steps, type, Interaction.Performance);
    }

    [Flags]
    private enum Interaction
    {
        None = 0,
        TrueFalse = 1,
        Choice = 2,
        FillIn = 4,
        LongFillIn = 8,
        Matching = 16,
        Performance = 32,
        Sequencing = 64,
        Likert = 128,
        Numeric = 256,
        Other = 512,
    }

    private static Interaction ParseInteractionType(JsonElement v) =>
        Is(v, "true-false"u8) ? Interaction.TrueFalse
        : Is(v, "choice"u8) ? Interaction.Choice
        : Is(v, "fill-in"u8) ? Interaction.FillIn
        : Is(v, "long-fill-in"u8) ? Interaction.LongFillIn
        : Is(v, "matching"u8) ? Interaction.Matching
        : Is(v, "performance"u8) ? Interaction.Performance
        : Is(v, "sequencing"u8) ? Interaction.Sequencing
        : Is(v, "likert"u8) ? Interaction.Likert
        : Is(v, "numeric"u8) ? Interaction.Numeric
        : Is(v, "other"u8) ? Interaction.Other
        : Interaction.None;

    private static string? ValidateComponents(string name, JsonElement list, Interaction type, Interaction supportedBy)
    {
        if (list.ValueKind == JsonValueKind.Undefined)
        {
            return null;
        }

        if (type == Interaction.None)
        {
            return ".interactionType is required when " + name + " is used";
        }

        if ((type & supportedBy) == 0)
        {
            return "." + name + " is not an interaction component list of this interactionType";
        }

        if (list.ValueKind != JsonValueKind.Array)
        {
            return "." + name + " must be an array of interaction components";
        }

        var index = 0;
        foreach (var component in list.EnumerateArray())
        {
            if (At(index, ValidateComponent(component)) is { } error)
            {
                return "." + name + error;
            }

            index++;
        }

        // Within an array of interaction components, all id values MUST be distinct.
        return HasDuplicateIds(list) ? "." + name + " ids must be distinct" : null;
    }

    private static bool HasDuplicateIds(JsonElement components)
    {
        var count = components.GetArrayLength();
        if (count < 2)
        {
            return false;
        }

        if (count <= 16)
        {
            var escaped = false;
            foreach (var c in components.EnumerateArray())
            {
                escaped |= Unquoted(c.GetProperty("id"u8)).IndexOf((byte)'\\') >= 0;
            }

            if (!escaped)
            {
                for (var i = 0; i < count; i++)
                {
                    var a = Unquoted(components[i].GetProperty("id"u8));
                    for (var j = i + 1; j < count; j++)
                    {
                        if (a.SequenceEqual(Unquoted(components[j].GetProperty("id"u8))))
                        {
                            return true;
                        }
                    }
                }

                return false;
            }
        }

        var ids = new HashSet<string>(count, StringComparer.Ordinal);
        foreach (var c in components.EnumerateArray())
        {
            if (!ids.Add(c.GetProperty("id"u8).GetString()!))
            {
                return true;
            }
        }

        return false;
    }

    private static string? ValidateComponent(JsonElement c)
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
            if (p.NameEquals("id"u8))
            {
                bit = 1;
                error = p.Value.ValueKind == JsonValueKind.String ? null : ".id" + NotString;
            }
            else if (p.NameEquals("description"u8))
            {
                bit = 2;
                error = At("description", ValidateLanguageMap(p.Value));
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

        return (seen & 1) == 0 ? ".id is required" : null;
    }

    private static string? ValidateLanguageMap(JsonElement map)
    {
        if (map.ValueKind != JsonValueKind.Object)
        {
            return " must be a language map (an object)";
        }

        foreach (var p in map.EnumerateObject())
        {
            if (!NameIs(p, XapiFormats.IsLanguageTag))
            {
                return " has a key that is not an RFC 5646 language tag";
            }

            if (p.Value.ValueKind != JsonValueKind.String)
            {
                return " values must be strings";
            }
        }

        return HasDuplicateNames(map) ? " repeats a language tag" : null;
    }

    private static string? ValidateExtensions(JsonElement extensions)
    {
        if (extensions.ValueKind != JsonValueKind.Object)
        {
            return NotObject;
        }

        foreach (var p in extensions.EnumerateObject())
        {
            if (!NameIs(p, XapiFormats.IsIri))
            {
                return " keys must be absolute IRIs";
            }

            // Values are free-form (even null), but a repeated property name anywhere would make the stored JSON ambiguous.
            if (HasDuplicateNamesDeep(p.Value))
            {
                return " values must not repeat a property name within an object";
            }
        }

        return HasDuplicateNames(extensions) ? " repeats a key" : null;
    }

    private static bool HasDuplicateNamesDeep(JsonElement value)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Object:
                if (HasDuplicateNames(value))
                {
                    return true;
                }

                foreach (var p in value.EnumerateObject())
                {
                    if (HasDuplicateNamesDeep(p.Value))
                    {
                        return true;
                    }
                }

                return false;
            case JsonValueKind.Array:
                foreach (var item in value.EnumerateArray())
                {
                    if (HasDuplicateNamesDeep(item))
                    {
                        return true;
                    }
                }

                return false;
            default:
                return false;
        }
    }

    /// <summary>Whether an object repeats a property name. Compares raw UTF-8 names; escaped names fall back to strings.</summary>
    private static bool HasDuplicateNames(JsonElement obj)
    {
        var count = obj.GetPropertyCount();
        if (count < 2)
        {
            return false;
        }

        if (count <= 16 && !HasEscapedName(obj))
        {
            var i = 0;
            foreach (var a in obj.EnumerateObject())
            {
                var nameA = JsonMarshal.GetRawUtf8PropertyName(a);
                var j = 0;
                foreach (var b in obj.EnumerateObject())
                {
                    if (j++ > i && nameA.SequenceEqual(JsonMarshal.GetRawUtf8PropertyName(b)))
                    {
                        return true;
                    }
                }

                i++;
            }

            return false;
        }

        var names = new HashSet<string>(count, StringComparer.Ordinal);
        foreach (var p in obj.EnumerateObject())
        {
            if (!names.Add(p.Name))
            {
                return true;
            }
        }

        return false;
    }

    private static bool HasEscapedName(JsonElement obj)
    {
        foreach (var p in obj.EnumerateObject())
        {
            if (JsonMarshal.GetRawUtf8PropertyName(p).IndexOf((byte)'\\') >= 0)
            {
                return true;
            }
        }

        return false;
    }
}
