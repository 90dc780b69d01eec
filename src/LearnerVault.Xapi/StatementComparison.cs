using System.Buffers;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace LearnerVault.Xapi;

/// <summary>
/// The deterministic form used to decide whether two statements with the same id are "the same" (no conflict), and
/// whether a signed statement matches its JWS payload (Data 2.3.1, Statement Comparison Requirements).
/// </summary>
/// <remarks>
/// Ignored, because the specification lists them as exceptions to immutability: id, stored, authority, version,
/// attachments, the verb's display and activity definitions. Normalised: property order, the order of Group members,
/// UUID case, the case of mbox_sha1sum and of the mailto scheme and domain, timestamps (compared as instants), single
/// context activities (compared as arrays of one), numbers (compared by value) and durations (seconds truncated to
/// 0.01). Everything else is compared exactly.
/// </remarks>
public static class StatementComparison
{
    private static readonly string[] Ignored = ["id", "stored", "authority", "version", "attachments"];
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, Indented = false };

    /// <summary>UTF-8 bytes; two statements are the same iff their comparison forms are byte-equal.</summary>
    public static byte[] ComparisonForm(JsonObject preparedStatement)
    {
        ArgumentNullException.ThrowIfNull(preparedStatement);
        var statement = preparedStatement.DeepClone().AsObject();
        foreach (var name in Ignored)
        {
            statement.Remove(name);
        }

        NormaliseStatement(statement);
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            WriteSorted(writer, statement);
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static void NormaliseStatement(JsonObject statement)
    {
        NormaliseTimestamp(statement);
        NormaliseAgent(statement["actor"]);
        if (statement["verb"] is JsonObject verb)
        {
            verb.Remove("display");
        }

        if (statement["object"] is JsonObject obj)
        {
            switch (Ifi.StringOf(obj["objectType"]))
            {
                case null or "Activity":
                    obj.Remove("definition");
                    break;
                case "Agent" or "Group":
                    NormaliseAgent(obj);
                    break;
                case "StatementRef":
                    LowerCase(obj, "id");
                    break;
                case "SubStatement":
                    NormaliseStatement(obj);
                    break;
                default:
                    break;
            }
        }

        if (statement["result"] is JsonObject result && Ifi.StringOf(result["duration"]) is { } duration)
        {
            result["duration"] = TruncateSeconds(duration);
        }

        if (statement["context"] is JsonObject context)
        {
            LowerCase(context, "registration");
            if (context["statement"] is JsonObject reference)
            {
                LowerCase(reference, "id");
            }

            NormaliseAgent(context["instructor"]);
            NormaliseAgent(context["team"]);
            foreach (var item in context["contextAgents"] as JsonArray ?? [])
            {
                NormaliseAgent(item?["agent"]);
            }

            foreach (var item in context["contextGroups"] as JsonArray ?? [])
            {
                NormaliseAgent(item?["group"]);
            }

            StatementPreparer.WrapContextActivities(statement);
            if (context["contextActivities"] is JsonObject activities)
            {
                foreach (var (_, list) in activities)
                {
                    foreach (var activity in list as JsonArray ?? [])
                    {
                        (activity as JsonObject)?.Remove("definition");
                    }
                }
            }
        }
    }

    private static void NormaliseTimestamp(JsonObject statement)
    {
        if (Ifi.StringOf(statement["timestamp"]) is { } timestamp && XapiTimestamp.ToCanonical(timestamp) is { } canonical)
        {
            statement["timestamp"] = canonical;
        }
    }

    private static void NormaliseAgent(JsonNode? node)
    {
        if (node is not JsonObject agent)
        {
            return;
        }

        if (Ifi.StringOf(agent["mbox"]) is { } mbox)
        {
            agent["mbox"] = Ifi.NormaliseMbox(mbox);
        }

        LowerCase(agent, "mbox_sha1sum");
        foreach (var member in agent["member"] as JsonArray ?? [])
        {
            NormaliseAgent(member);
        }
    }

    private static void LowerCase(JsonObject owner, string property)
    {
        if (Ifi.StringOf(owner[property]) is { } value)
        {
            owner[property] = value.ToLowerInvariant();
        }
    }

    /// <summary>"When comparing Durations, any precision beyond 0.01 second precision SHOULD* NOT be included."</summary>
    internal static string TruncateSeconds(string duration)
    {
        if (!duration.EndsWith('S'))
        {
            return duration;
        }

        var separator = duration.LastIndexOfAny(['.', ',']);
        if (separator < 0)
        {
            return duration;
        }

        var fraction = duration[(separator + 1)..^1];
        if (fraction.Length <= 2 || !fraction.All(char.IsAsciiDigit))
        {
            return duration;
        }

        return string.Concat(duration.AsSpan(0, separator + 3), "S");
    }

    /// <summary>Writes JSON with object keys in ordinal order, numbers by value and Group members in canonical order.</summary>
    private static void WriteSorted(Utf8JsonWriter writer, JsonNode? node)
    {
        switch (node)
        {
            case null:
                writer.WriteNullValue();
                break;
            case JsonObject obj:
                writer.WriteStartObject();
                var names = new List<string>(obj.Count);
                foreach (var (name, _) in obj)
                {
                    names.Add(name);
                }

                names.Sort(StringComparer.Ordinal);
                foreach (var name in names)
                {
                    writer.WritePropertyName(name);
                    if (name == "member" && obj[name] is JsonArray members)
                    {
                        WriteUnordered(writer, members);
                    }
                    else
                    {
                        WriteSorted(writer, obj[name]);
                    }
                }

                writer.WriteEndObject();
                break;
            case JsonArray array:
                writer.WriteStartArray();
                foreach (var item in array)
                {
                    WriteSorted(writer, item);
                }

                writer.WriteEndArray();
                break;
            case JsonValue value:
                WriteValue(writer, value);
                break;
            default:
                throw new InvalidOperationException("Unexpected JSON node.");
        }
    }

    /// <summary>The list of Agents in a Group is not ordered: members are compared as a sorted list of their forms.</summary>
    private static void WriteUnordered(Utf8JsonWriter writer, JsonArray array)
    {
        var forms = new List<byte[]>(array.Count);
        foreach (var item in array)
        {
            var buffer = new ArrayBufferWriter<byte>(128);
            using (var itemWriter = new Utf8JsonWriter(buffer, WriterOptions))
            {
                WriteSorted(itemWriter, item);
            }

            forms.Add(buffer.WrittenSpan.ToArray());
        }

        forms.Sort((a, b) => a.AsSpan().SequenceCompareTo(b));
        writer.WriteStartArray();
        foreach (var form in forms)
        {
            writer.WriteRawValue(form, skipInputValidation: true);
        }

        writer.WriteEndArray();
    }

    private static void WriteValue(Utf8JsonWriter writer, JsonValue value)
    {
        switch (value.GetValueKind())
        {
            case JsonValueKind.String:
                writer.WriteStringValue(value.GetValue<string>());
                break;
            case JsonValueKind.Number:
                WriteNumber(writer, value);
                break;
            case JsonValueKind.True:
                writer.WriteBooleanValue(true);
                break;
            case JsonValueKind.False:
                writer.WriteBooleanValue(false);
                break;
            default:
                writer.WriteNullValue();
                break;
        }
    }

    /// <summary>1, 1.0 and 1e0 are the same number: written as the shortest decimal (or double) text.</summary>
    private static void WriteNumber(Utf8JsonWriter writer, JsonValue value)
    {
        var text = value.ToJsonString();
        if (decimal.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var exact) && (exact != 0 || !HasNonZeroDigit(text)))
        {
            var normalised = (exact / 1.0000000000000000000000000000m).ToString(CultureInfo.InvariantCulture);
            writer.WriteRawValue(normalised, skipInputValidation: true);
            return;
        }

        var approximate = double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);
        writer.WriteRawValue(
            double.IsFinite(approximate) ? approximate.ToString("R", CultureInfo.InvariantCulture) : text,
            skipInputValidation: true);
    }

    private static bool HasNonZeroDigit(string number)
    {
        var end = number.IndexOfAny(['e', 'E']);
        foreach (var c in end < 0 ? number : number[..end])
        {
            if (c is >= '1' and <= '9')
            {
                return true;
            }
        }

        return false;
    }
}
