using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace LearnerVault.Xapi.Tests;

/// <summary>
/// REFERENCE ONLY, do not use in production code: a frozen copy of the original StatementComparison.ComparisonForm
/// (DeepClone, normalise, write sorted), with the internal helpers it called copied alongside, so that the optimised
/// implementation can be checked byte for byte against it (see StatementComparisonEquivalenceTests).
/// </summary>
internal static class ReferenceComparisonForm
{
    private static readonly string[] Ignored = ["id", "stored", "authority", "version", "attachments"];
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, Indented = false };

    /// <summary>UTF-8 bytes; two statements are the same iff their comparison forms are byte-equal.</summary>
    public static byte[] Compute(JsonObject preparedStatement)
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
            switch (StringOf(obj["objectType"]))
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

        if (statement["result"] is JsonObject result && StringOf(result["duration"]) is { } duration)
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

            WrapContextActivities(statement);
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
        if (StringOf(statement["timestamp"]) is { } timestamp && ToCanonical(timestamp) is { } canonical)
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

        if (StringOf(agent["mbox"]) is { } mbox)
        {
            agent["mbox"] = NormaliseMbox(mbox);
        }

        LowerCase(agent, "mbox_sha1sum");
        foreach (var member in agent["member"] as JsonArray ?? [])
        {
            NormaliseAgent(member);
        }
    }

    private static void LowerCase(JsonObject owner, string property)
    {
        if (StringOf(owner[property]) is { } value)
        {
            owner[property] = value.ToLowerInvariant();
        }
    }

    /// <summary>"When comparing Durations, any precision beyond 0.01 second precision SHOULD* NOT be included."</summary>
    private static string TruncateSeconds(string duration)
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

    // ---- Frozen copies of the internal helpers the original implementation called (Ifi, XapiTimestamp, StatementPreparer). ----

    private static string? StringOf(JsonNode? node) =>
        node is JsonValue value && value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : null;

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

    private static void WrapContextActivities(JsonObject statement)
    {
        if (statement["context"] is not JsonObject context || context["contextActivities"] is not JsonObject activities)
        {
            return;
        }

        foreach (var name in (ReadOnlySpan<string>)["parent", "grouping", "category", "other"])
        {
            if (activities[name] is JsonObject single)
            {
                activities[name] = new JsonArray(single.DeepClone());
            }
        }
    }

    private static string? ToCanonical(string value) => Convert(value, trimFraction: true);

    private static bool IsDigit(byte c) => c is >= (byte)'0' and <= (byte)'9';

    private static string? Convert(string value, bool trimFraction)
    {
        var buffer = value.Length <= 64 ? stackalloc byte[256] : new byte[Encoding.UTF8.GetMaxByteCount(value.Length)];
        var length = Encoding.UTF8.GetBytes(value, buffer);
        var text = buffer[..length];
        if (!TryParse(text, out var parts))
        {
            return null;
        }

        var utc = new DateTime(parts.Year, parts.Month, parts.Day, parts.Hour, parts.Minute, parts.Second, DateTimeKind.Unspecified)
            .AddMinutes(-parts.OffsetMinutes);
        var fraction = text.Slice(parts.FractionStart, parts.FractionLength);
        if (trimFraction)
        {
            fraction = fraction.TrimEnd((byte)'0');
        }

        var builder = new StringBuilder(21 + fraction.Length);
        builder.Append(utc.ToString("yyyy-MM-dd'T'HH:mm:ss", CultureInfo.InvariantCulture));
        if (!fraction.IsEmpty)
        {
            builder.Append('.').Append(Encoding.ASCII.GetString(fraction));
        }

        return builder.Append('Z').ToString();
    }

    private static bool TryParse(ReadOnlySpan<byte> s, out Parts parts)
    {
        parts = default;
        var i = 0;
        if (!Digits(s, ref i, 4, out var year))
        {
            return false;
        }

        var extendedDate = i < s.Length && s[i] == '-';
        if (extendedDate)
        {
            i++;
        }

        if (!Digits(s, ref i, 2, out var month) || (extendedDate && !Expect(s, ref i, (byte)'-')) || !Digits(s, ref i, 2, out var day))
        {
            return false;
        }

        if (i >= s.Length || (s[i] | 0x20) != 't')
        {
            return false;
        }

        i++;
        if (!Digits(s, ref i, 2, out var hour))
        {
            return false;
        }

        var extendedTime = i < s.Length && s[i] == ':';
        if (extendedTime)
        {
            i++;
        }

        if (!Digits(s, ref i, 2, out var minute))
        {
            return false;
        }

        var second = 0;
        var fractionStart = 0;
        var fractionLength = 0;
        var hasSeconds = extendedTime ? i < s.Length && s[i] == ':' : i < s.Length && IsDigit(s[i]);
        if (hasSeconds)
        {
            if (extendedTime)
            {
                i++;
            }

            if (!Digits(s, ref i, 2, out second))
            {
                return false;
            }

            if (i < s.Length && s[i] is (byte)'.' or (byte)',')
            {
                i++;
                fractionStart = i;
                while (i < s.Length && IsDigit(s[i]))
                {
                    i++;
                }

                fractionLength = i - fractionStart;
                if (fractionLength == 0)
                {
                    return false;
                }
            }
        }

        var offset = 0;
        if (i < s.Length)
        {
            var sign = s[i];
            if ((sign | 0x20) == 'z')
            {
                i++;
            }
            else if (sign is (byte)'+' or (byte)'-')
            {
                i++;
                if (!Digits(s, ref i, 2, out var offsetHours))
                {
                    return false;
                }

                var offsetMinutes = 0;
                if (i < s.Length)
                {
                    if (s[i] == ':')
                    {
                        i++;
                    }

                    if (!Digits(s, ref i, 2, out offsetMinutes))
                    {
                        return false;
                    }
                }

                if (offsetHours > 23 || offsetMinutes > 59)
                {
                    return false;
                }

                offset = (offsetHours * 60) + offsetMinutes;
                if (sign == '-')
                {
                    // RFC 3339: -00:00 means "offset unknown"; xAPI rejects it in every spelling.
                    if (offset == 0)
                    {
                        return false;
                    }

                    offset = -offset;
                }
            }
            else
            {
                return false;
            }
        }

        if (i != s.Length)
        {
            return false;
        }

        if (year < 1 || month is < 1 or > 12 || day < 1 || day > DateTime.DaysInMonth(year, month) || hour > 23 || minute > 59 || second > 59)
        {
            return false;
        }

        long fractionTicks = 0;
        for (var k = 0; k < 7; k++)
        {
            fractionTicks = (fractionTicks * 10) + (k < fractionLength ? s[fractionStart + k] - '0' : 0);
        }

        parts = new Parts(year, month, day, hour, minute, second, fractionStart, fractionLength, offset, fractionTicks);

        // The instant must be representable after applying the offset (e.g. not before 0001-01-01T00:00Z).
        var ticks = new DateTime(year, month, day, hour, minute, second).Ticks - (offset * TimeSpan.TicksPerMinute);
        return ticks >= DateTime.MinValue.Ticks && ticks <= DateTime.MaxValue.Ticks - TimeSpan.TicksPerSecond;
    }

    private static bool Digits(ReadOnlySpan<byte> s, ref int i, int count, out int value)
    {
        value = 0;
        if (i + count > s.Length)
        {
            return false;
        }

        for (var k = 0; k < count; k++)
        {
            var c = s[i + k];
            if (!IsDigit(c))
            {
                return false;
            }

            value = (value * 10) + (c - '0');
        }

        i += count;
        return true;
    }

    private static bool Expect(ReadOnlySpan<byte> s, ref int i, byte c)
    {
        if (i < s.Length && s[i] == c)
        {
            i++;
            return true;
        }

        return false;
    }

    private readonly record struct Parts(
        int Year,
        int Month,
        int Day,
        int Hour,
        int Minute,
        int Second,
        int FractionStart,
        int FractionLength,
        int OffsetMinutes,
        long FractionTicks);
}
