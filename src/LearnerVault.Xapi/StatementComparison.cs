using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
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
/// <para>
/// The form is written in one pass straight from the source nodes (nothing is cloned or modified): each object is
/// written with its properties in ordinal order, and where it sits in the statement (its <see cref="Shape"/>)
/// decides which properties are skipped or normalised. Any array under a property named "member" is written as the
/// sorted list of its items' forms. Strings and numbers backed by the parsed JSON are written from their UTF-8 text.
/// </para>
/// </remarks>
public static partial class StatementComparison
{
    private const int MaxCachedBufferBytes = 64 * 1024;
    private const int StackSortLimit = 64;
    private const int StackTextLimit = 256;
    private const int MaxCachedScratches = 4;

    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, Indented = false };

    [ThreadStatic]
    private static Scratch? cachedScratch;

    /// <summary>Where an object sits in a statement: decides which of its properties are skipped or normalised.</summary>
    private enum Shape : byte
    {
        /// <summary>Written as is (sorted, numbers by value, "member" arrays unordered).</summary>
        Plain,

        /// <summary>The statement itself: id, stored, authority, version and attachments are skipped.</summary>
        Statement,

        /// <summary>A SubStatement: normalised like a statement, nothing skipped.</summary>
        SubStatement,

        /// <summary>An Agent or Group: mbox and mbox_sha1sum normalised, members are Agents in any order.</summary>
        Agent,

        /// <summary>The verb: display skipped.</summary>
        Verb,

        /// <summary>An Activity: definition skipped.</summary>
        Activity,

        /// <summary>A StatementRef: id lower-cased.</summary>
        StatementRef,

        /// <summary>The result: duration truncated.</summary>
        Result,

        /// <summary>The context.</summary>
        Context,

        /// <summary>An item of context.contextAgents: its agent is an Agent.</summary>
        ContextAgent,

        /// <summary>An item of context.contextGroups: its group is an Agent.</summary>
        ContextGroup,

        /// <summary>context.contextActivities: its lists hold Activities, single ones are arrays of one.</summary>
        ContextActivities,
    }

    /// <summary>UTF-8 bytes; two statements are the same iff their comparison forms are byte-equal.</summary>
    public static byte[] ComparisonForm(JsonObject preparedStatement)
    {
        ArgumentNullException.ThrowIfNull(preparedStatement);
        var scratch = Scratch.Rent();
        var form = scratch.Write(preparedStatement, Shape.Statement).ToArray();
        Scratch.Return(scratch);
        return form;
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

        var fraction = duration.AsSpan(separator + 1, duration.Length - separator - 2);
        if (fraction.Length <= 2 || fraction.ContainsAnyExceptInRange('0', '9'))
        {
            return duration;
        }

        return string.Concat(duration.AsSpan(0, separator + 3), "S");
    }

    /// <summary>The length of <paramref name="duration"/> (UTF-8) with seconds truncated to 0.01, as <see cref="TruncateSeconds"/>.</summary>
    private static int TruncatedSecondsLength(ReadOnlySpan<byte> duration)
    {
        if (duration.IsEmpty || duration[^1] != 'S')
        {
            return duration.Length;
        }

        var separator = duration.LastIndexOfAny((byte)'.', (byte)',');
        if (separator < 0)
        {
            return duration.Length;
        }

        var fraction = duration[(separator + 1)..^1];
        if (fraction.Length <= 2 || fraction.ContainsAnyExceptInRange((byte)'0', (byte)'9'))
        {
            return duration.Length;
        }

        return separator + 3;
    }

    private static void WriteNode(Utf8JsonWriter writer, JsonNode? node)
    {
        switch (node)
        {
            case null:
                writer.WriteNullValue();
                break;
            case JsonObject obj:
                WriteObject(writer, obj, Shape.Plain);
                break;
            case JsonArray array:
                WriteArray(writer, array, Shape.Plain);
                break;
            case JsonValue value:
                WriteValue(writer, value);
                break;
            default:
                throw new InvalidOperationException("Unexpected JSON node.");
        }
    }

    /// <summary>An object with its properties in ordinal order; <paramref name="shape"/> decides what is skipped or normalised.</summary>
    private static void WriteObject(Utf8JsonWriter writer, JsonObject obj, Shape shape)
    {
        writer.WriteStartObject();
        var count = obj.Count;
        if (count > 0)
        {
            int[]? rented = null;
            var order = count <= StackSortLimit ? stackalloc int[count] : (rented = ArrayPool<int>.Shared.Rent(count)).AsSpan(0, count);
            SortByName(obj, order);
            foreach (var index in order)
            {
                var (name, value) = obj.GetAt(index);
                if (IsSkipped(shape, name))
                {
                    continue;
                }

                writer.WritePropertyName(name);
                if (!TryWriteNormalised(writer, shape, name, value))
                {
                    WriteProperty(writer, name, value, Shape.Plain);
                }
            }

            if (rented is not null)
            {
                ArrayPool<int>.Shared.Return(rented);
            }
        }

        writer.WriteEndObject();
    }

    private static void SortByName(JsonObject obj, Span<int> order)
    {
        for (var i = 0; i < order.Length; i++)
        {
            order[i] = i;
        }

        if (order.Length > StackSortLimit)
        {
            var names = new string[order.Length];
            for (var i = 0; i < names.Length; i++)
            {
                names[i] = obj.GetAt(i).Key;
            }

            names.AsSpan().Sort(order, StringComparer.Ordinal);
            return;
        }

        // Insertion sort: objects in statements have a handful of properties.
        for (var i = 1; i < order.Length; i++)
        {
            var current = order[i];
            var name = obj.GetAt(current).Key;
            var j = i - 1;
            while (j >= 0 && string.CompareOrdinal(obj.GetAt(order[j]).Key, name) > 0)
            {
                order[j + 1] = order[j];
                j--;
            }

            order[j + 1] = current;
        }
    }

    private static bool IsSkipped(Shape shape, string name) => shape switch
    {
        Shape.Statement => name is "id" or "stored" or "authority" or "version" or "attachments",
        Shape.Verb => name == "display",
        Shape.Activity => name == "definition",
        _ => false,
    };

    /// <summary>A property value; an array under "member" is unordered, with <paramref name="itemShape"/> for its objects.</summary>
    private static void WriteProperty(Utf8JsonWriter writer, string name, JsonNode? value, Shape itemShape)
    {
        if (value is JsonArray array)
        {
            if (name == "member")
            {
                WriteUnordered(writer, array, itemShape);
            }
            else
            {
                WriteArray(writer, array, itemShape);
            }
        }
        else
        {
            WriteNode(writer, value);
        }
    }

    /// <summary>Writes the normalised value of a property the shape normalises; false when it is written as is.</summary>
    private static bool TryWriteNormalised(Utf8JsonWriter writer, Shape shape, string name, JsonNode? value)
    {
        switch (shape)
        {
            case Shape.Statement or Shape.SubStatement:
                switch (name)
                {
                    case "timestamp":
                        return TryWriteTimestamp(writer, value);
                    case "actor":
                        return TryWriteObject(writer, value, Shape.Agent);
                    case "verb":
                        return TryWriteObject(writer, value, Shape.Verb);
                    case "object" when value is JsonObject obj:
                        WriteObject(writer, obj, ObjectShape(obj));
                        return true;
                    case "result":
                        return TryWriteObject(writer, value, Shape.Result);
                    case "context":
                        return TryWriteObject(writer, value, Shape.Context);
                    default:
                        return false;
                }

            case Shape.Agent:
                switch (name)
                {
                    case "mbox":
                        return TryWriteMbox(writer, value);
                    case "mbox_sha1sum":
                        return TryWriteLowerCase(writer, value);
                    case "member" when value is JsonArray members:
                        WriteUnordered(writer, members, Shape.Agent);
                        return true;
                    default:
                        return false;
                }

            case Shape.StatementRef:
                return name == "id" && TryWriteLowerCase(writer, value);
            case Shape.Result:
                return name == "duration" && TryWriteDuration(writer, value);
            case Shape.Context:
                switch (name)
                {
                    case "registration":
                        return TryWriteLowerCase(writer, value);
                    case "statement":
                        return TryWriteObject(writer, value, Shape.StatementRef);
                    case "instructor" or "team":
                        return TryWriteObject(writer, value, Shape.Agent);
                    case "contextAgents" when value is JsonArray items:
                        WriteArray(writer, items, Shape.ContextAgent);
                        return true;
                    case "contextGroups" when value is JsonArray items:
                        WriteArray(writer, items, Shape.ContextGroup);
                        return true;
                    case "contextActivities":
                        return TryWriteObject(writer, value, Shape.ContextActivities);
                    default:
                        return false;
                }

            case Shape.ContextAgent:
                return name == "agent" && TryWriteObject(writer, value, Shape.Agent);
            case Shape.ContextGroup:
                return name == "group" && TryWriteObject(writer, value, Shape.Agent);
            case Shape.ContextActivities:
                switch (value)
                {
                    case JsonObject single when name is "parent" or "grouping" or "category" or "other":
                        // "The LRS MUST return every value in the contextActivities Object as an array."
                        writer.WriteStartArray();
                        WriteObject(writer, single, Shape.Activity);
                        writer.WriteEndArray();
                        return true;
                    case JsonArray:
                        WriteProperty(writer, name, value, Shape.Activity);
                        return true;
                    default:
                        return false;
                }

            default:
                return false;
        }
    }

    private static bool TryWriteObject(Utf8JsonWriter writer, JsonNode? value, Shape shape)
    {
        if (value is not JsonObject obj)
        {
            return false;
        }

        WriteObject(writer, obj, shape);
        return true;
    }

    private static Shape ObjectShape(JsonObject obj)
    {
        if (!obj.TryGetPropertyValue("objectType", out var node) || node is not JsonValue value || value.GetValueKind() != JsonValueKind.String)
        {
            return Shape.Activity;
        }

        if (TryGetUtf8(value, out var utf8))
        {
            return utf8.SequenceEqual("Activity"u8) ? Shape.Activity
                : utf8.SequenceEqual("Agent"u8) || utf8.SequenceEqual("Group"u8) ? Shape.Agent
                : utf8.SequenceEqual("StatementRef"u8) ? Shape.StatementRef
                : utf8.SequenceEqual("SubStatement"u8) ? Shape.SubStatement
                : Shape.Plain;
        }

        return value.GetValue<string>() switch
        {
            "Activity" => Shape.Activity,
            "Agent" or "Group" => Shape.Agent,
            "StatementRef" => Shape.StatementRef,
            "SubStatement" => Shape.SubStatement,
            _ => Shape.Plain,
        };
    }

    /// <summary>Objects in <paramref name="itemShape"/>, everything else as is.</summary>
    private static void WriteArray(Utf8JsonWriter writer, JsonArray array, Shape itemShape)
    {
        writer.WriteStartArray();
        for (var i = 0; i < array.Count; i++)
        {
            WriteItem(writer, array[i], itemShape);
        }

        writer.WriteEndArray();
    }

    private static void WriteItem(Utf8JsonWriter writer, JsonNode? item, Shape itemShape)
    {
        if (item is JsonObject obj)
        {
            WriteObject(writer, obj, itemShape);
            return;
        }

        if (item is not null && itemShape is Shape.ContextAgent or Shape.ContextGroup)
        {
            // As reading item["agent"] / item["group"] of a non-object does.
            throw new InvalidOperationException("The node must be of type 'JsonObject'.");
        }

        WriteNode(writer, item);
    }

    /// <summary>The list of Agents in a Group is not ordered: members are compared as a sorted list of their forms.</summary>
    private static void WriteUnordered(Utf8JsonWriter writer, JsonArray array, Shape itemShape)
    {
        var count = array.Count;
        var scratch = Scratch.Rent();
        int[]? rented = null;
        var bounds = count < StackSortLimit ? stackalloc int[(count * 2) + 1] : (rented = ArrayPool<int>.Shared.Rent((count * 2) + 1)).AsSpan(0, (count * 2) + 1);
        var ends = bounds[..(count + 1)];
        var order = bounds[(count + 1)..];
        var forms = scratch.WriteItems(array, itemShape, ends);
        WriteSorted(writer, forms, ends, order);
        if (rented is not null)
        {
            ArrayPool<int>.Shared.Return(rented);
        }

        Scratch.Return(scratch);
    }

    /// <summary>The items' forms (item i is [ends[i], ends[i + 1]) of <paramref name="forms"/>) as an array, in byte order.</summary>
    private static void WriteSorted(Utf8JsonWriter writer, ReadOnlySpan<byte> forms, ReadOnlySpan<int> ends, Span<int> order)
    {
        for (var i = 0; i < order.Length; i++)
        {
            order[i] = i;
        }

        for (var i = 1; i < order.Length; i++)
        {
            var current = order[i];
            var form = forms[ends[current]..ends[current + 1]];
            var j = i - 1;
            while (j >= 0 && forms[ends[order[j]]..ends[order[j] + 1]].SequenceCompareTo(form) > 0)
            {
                order[j + 1] = order[j];
                j--;
            }

            order[j + 1] = current;
        }

        writer.WriteStartArray();
        foreach (var index in order)
        {
            writer.WriteRawValue(forms[ends[index]..ends[index + 1]], skipInputValidation: true);
        }

        writer.WriteEndArray();
    }

    private static void WriteValue(Utf8JsonWriter writer, JsonValue value)
    {
        if (value.TryGetValue<JsonElement>(out var element) && TryWriteParsedScalar(writer, element))
        {
            return;
        }

        switch (value.GetValueKind())
        {
            case JsonValueKind.String:
                writer.WriteStringValue(value.GetValue<string>());
                break;
            case JsonValueKind.Number:
                WriteNumber(writer, Encoding.UTF8.GetBytes(value.ToJsonString()));
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

    /// <summary>A string or number of parsed JSON: the string from its UTF-8 text, the number by value; false for other kinds.</summary>
    private static bool TryWriteParsedScalar(Utf8JsonWriter writer, JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.String:
                if (TryGetUtf8(element, out var utf8))
                {
                    writer.WriteStringValue(utf8);
                }
                else
                {
                    writer.WriteStringValue(element.GetString());
                }

                return true;
            case JsonValueKind.Number:
                WriteNumber(writer, JsonMarshal.GetRawUtf8Value(element));
                return true;
            default:
                return false;
        }
    }

    /// <summary>1, 1.0 and 1e0 are the same number: written as the shortest decimal (or double) text.</summary>
    private static void WriteNumber(Utf8JsonWriter writer, ReadOnlySpan<byte> text)
    {
        if (IsShortestDecimal(text))
        {
            writer.WriteRawValue(text, skipInputValidation: true);
            return;
        }

        Span<byte> buffer = stackalloc byte[64];
        int length;
        if (decimal.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var exact) && (exact != 0 || !HasNonZeroDigit(text)))
        {
            if (!(exact / 1.0000000000000000000000000000m).TryFormat(buffer, out length, default, CultureInfo.InvariantCulture))
            {
                throw new InvalidOperationException("A decimal does not fit 64 bytes.");
            }

            writer.WriteRawValue(buffer[..length], skipInputValidation: true);
            return;
        }

        var approximate = double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);
        if (double.IsFinite(approximate) && approximate.TryFormat(buffer, out length, "R", CultureInfo.InvariantCulture))
        {
            writer.WriteRawValue(buffer[..length], skipInputValidation: true);
            return;
        }

        writer.WriteRawValue(text, skipInputValidation: true);
    }

    /// <summary>
    /// Whether <paramref name="text"/> is already what the decimal normalisation writes: -?(0|[1-9][0-9]*)(.[0-9]*[1-9])?
    /// with at most 15 digits, and not "-0".
    /// </summary>
    private static bool IsShortestDecimal(ReadOnlySpan<byte> text)
    {
        var i = 0;
        if (text.Length > 0 && text[0] == '-')
        {
            i = 1;
        }

        var digitsStart = i;
        if (i >= text.Length || !char.IsAsciiDigit((char)text[i]))
        {
            return false;
        }

        var leadingZero = text[i] == '0';
        i++;
        while (i < text.Length && char.IsAsciiDigit((char)text[i]))
        {
            if (leadingZero)
            {
                return false;
            }

            i++;
        }

        var digits = i - digitsStart;
        if (i == text.Length)
        {
            return digits <= 15 && !(leadingZero && digitsStart == 1);
        }

        if (text[i] != '.')
        {
            return false;
        }

        var fractionStart = ++i;
        while (i < text.Length && char.IsAsciiDigit((char)text[i]))
        {
            i++;
        }

        return i == text.Length && i > fractionStart && text[^1] != '0' && digits + (i - fractionStart) <= 15;
    }

    private static bool HasNonZeroDigit(ReadOnlySpan<byte> number)
    {
        var end = number.IndexOfAny((byte)'e', (byte)'E');
        return (end < 0 ? number : number[..end]).IndexOfAnyInRange((byte)'1', (byte)'9') >= 0;
    }

    private static bool TryWriteTimestamp(Utf8JsonWriter writer, JsonNode? value)
    {
        if (value is not JsonValue timestamp || timestamp.GetValueKind() != JsonValueKind.String)
        {
            return false;
        }

        return TryGetUtf8(timestamp, out var utf8) ? TryWriteTimestamp(writer, utf8) : TryWriteTimestamp(writer, timestamp.GetValue<string>());
    }

    private static bool TryWriteTimestamp(Utf8JsonWriter writer, ReadOnlySpan<byte> utf8)
    {
        Span<byte> buffer = stackalloc byte[StackTextLimit];
        var output = utf8.Length <= StackTextLimit - 32 ? buffer : new byte[XapiTimestamp.MaxUtcLength(utf8.Length)];
        if (!XapiTimestamp.TryFormatUtc(utf8, trimFraction: true, output, out var length))
        {
            return false;
        }

        writer.WriteStringValue(output[..length]);
        return true;
    }

    private static bool TryWriteTimestamp(Utf8JsonWriter writer, string text)
    {
        if (XapiTimestamp.ToCanonical(text) is not { } canonical)
        {
            return false;
        }

        writer.WriteStringValue(canonical);
        return true;
    }

    private static bool TryWriteMbox(Utf8JsonWriter writer, JsonNode? value)
    {
        if (value is not JsonValue mbox || mbox.GetValueKind() != JsonValueKind.String)
        {
            return false;
        }

        if (!TryGetUtf8(mbox, out var utf8) || !TryWriteMbox(writer, utf8))
        {
            writer.WriteStringValue(Ifi.NormaliseMbox(mbox.GetValue<string>()));
        }

        return true;
    }

    /// <summary>The mbox normalised from its UTF-8 text where that is simple (short ASCII); false: normalise the string.</summary>
    private static bool TryWriteMbox(Utf8JsonWriter writer, ReadOnlySpan<byte> utf8)
    {
        if (utf8.Length > StackTextLimit || !Ascii.IsValid(utf8))
        {
            return false;
        }

        var colon = utf8.IndexOf((byte)':');
        var at = utf8.LastIndexOf((byte)'@');
        if (colon >= 0 && at >= 0 && at < colon)
        {
            return false;
        }

        // The scheme and the domain are case-insensitive, the local part is kept as sent.
        Span<byte> buffer = stackalloc byte[StackTextLimit];
        var normalised = buffer[..utf8.Length];
        utf8.CopyTo(normalised);
        if (colon >= 0)
        {
            LowerCaseAscii(normalised[..colon]);
            if (at >= 0)
            {
                LowerCaseAscii(normalised[(at + 1)..]);
            }
        }

        writer.WriteStringValue(normalised);
        return true;
    }

    private static bool TryWriteLowerCase(Utf8JsonWriter writer, JsonNode? value)
    {
        if (value is not JsonValue text || text.GetValueKind() != JsonValueKind.String)
        {
            return false;
        }

        if (!TryGetUtf8(text, out var utf8) || !TryWriteLowerCase(writer, utf8))
        {
            writer.WriteStringValue(text.GetValue<string>().ToLowerInvariant());
        }

        return true;
    }

    /// <summary>Short ASCII text lower-cased from its UTF-8; false: lower-case the string.</summary>
    private static bool TryWriteLowerCase(Utf8JsonWriter writer, ReadOnlySpan<byte> utf8)
    {
        if (utf8.Length > StackTextLimit || !Ascii.IsValid(utf8))
        {
            return false;
        }

        Span<byte> buffer = stackalloc byte[StackTextLimit];
        var lower = buffer[..utf8.Length];
        utf8.CopyTo(lower);
        LowerCaseAscii(lower);
        writer.WriteStringValue(lower);
        return true;
    }

    private static bool TryWriteDuration(Utf8JsonWriter writer, JsonNode? value)
    {
        if (value is not JsonValue duration || duration.GetValueKind() != JsonValueKind.String)
        {
            return false;
        }

        if (TryGetUtf8(duration, out var utf8))
        {
            WriteDuration(writer, utf8);
        }
        else
        {
            writer.WriteStringValue(TruncateSeconds(duration.GetValue<string>()));
        }

        return true;
    }

    private static void WriteDuration(Utf8JsonWriter writer, ReadOnlySpan<byte> utf8)
    {
        var length = TruncatedSecondsLength(utf8);
        if (length == utf8.Length)
        {
            writer.WriteStringValue(utf8);
            return;
        }

        Span<byte> buffer = stackalloc byte[length + 1 <= StackTextLimit ? StackTextLimit : 0];
        var truncated = length + 1 <= StackTextLimit ? buffer[..(length + 1)] : new byte[length + 1];
        utf8[..length].CopyTo(truncated);
        truncated[^1] = (byte)'S';
        writer.WriteStringValue(truncated);
    }

    private static void LowerCaseAscii(Span<byte> text)
    {
        foreach (ref var c in text)
        {
            if (c is >= (byte)'A' and <= (byte)'Z')
            {
                c |= 0x20;
            }
        }
    }

    /// <summary>The UTF-8 text of a string value backed by parsed JSON with no escape sequence in it (nothing to unescape).</summary>
    private static bool TryGetUtf8(JsonValue value, out ReadOnlySpan<byte> utf8)
    {
        if (value.TryGetValue<JsonElement>(out var element) && element.ValueKind == JsonValueKind.String)
        {
            return TryGetUtf8(element, out utf8);
        }

        utf8 = default;
        return false;
    }

    private static bool TryGetUtf8(JsonElement stringElement, out ReadOnlySpan<byte> utf8)
    {
        var raw = JsonMarshal.GetRawUtf8Value(stringElement);
        utf8 = raw[1..^1];
        if (utf8.Contains((byte)'\\'))
        {
            utf8 = default;
            return false;
        }

        return true;
    }

    /// <summary>A reusable output buffer and writer; a few are cached per thread (Group members are written apart).</summary>
    [SuppressMessage("Reliability", "CA1001:Types that own disposable fields should be disposable", Justification = "A Utf8JsonWriter over an ArrayBufferWriter holds nothing to release; the scratch is cached for the thread's lifetime.")]
    private sealed class Scratch
    {
        private readonly ArrayBufferWriter<byte> buffer = new(1024);
        private readonly Utf8JsonWriter writer;
        private Scratch? next;
        private int depth;

        private Scratch() => writer = new Utf8JsonWriter(buffer, WriterOptions);

        public static Scratch Rent()
        {
            var scratch = cachedScratch;
            if (scratch is null)
            {
                return new Scratch();
            }

            cachedScratch = scratch.next;
            scratch.next = null;
            return scratch;
        }

        /// <summary>Caches <paramref name="scratch"/> for reuse; only called after a successful write (a failed one is dropped).</summary>
        public static void Return(Scratch scratch)
        {
            if (scratch.buffer.Capacity <= MaxCachedBufferBytes && (cachedScratch?.depth ?? 0) < MaxCachedScratches)
            {
                scratch.next = cachedScratch;
                scratch.depth = (cachedScratch?.depth ?? 0) + 1;
                cachedScratch = scratch;
            }
        }

        public ReadOnlySpan<byte> Write(JsonObject obj, Shape shape)
        {
            buffer.ResetWrittenCount();
            writer.Reset(buffer);
            WriteObject(writer, obj, shape);
            writer.Flush();
            return buffer.WrittenSpan;
        }

        public ReadOnlySpan<byte> Write(JsonElement obj, Shape shape)
        {
            buffer.ResetWrittenCount();
            writer.Reset(buffer);
            WriteObject(writer, obj, shape);
            writer.Flush();
            return buffer.WrittenSpan;
        }

        /// <summary>Writes each item's form one after the other; item i is [ends[i], ends[i + 1]).</summary>
        public ReadOnlySpan<byte> WriteItems(JsonElement array, Shape itemShape, Span<int> ends)
        {
            buffer.ResetWrittenCount();
            ends[0] = 0;
            var i = 0;
            foreach (var item in array.EnumerateArray())
            {
                writer.Reset(buffer);
                WriteItem(writer, item, itemShape);
                writer.Flush();
                ends[++i] = buffer.WrittenCount;
            }

            return buffer.WrittenSpan;
        }

        /// <summary>Writes each item's form one after the other; item i is [ends[i], ends[i + 1]).</summary>
        public ReadOnlySpan<byte> WriteItems(JsonArray array, Shape itemShape, Span<int> ends)
        {
            buffer.ResetWrittenCount();
            ends[0] = 0;
            for (var i = 0; i < array.Count; i++)
            {
                writer.Reset(buffer);
                WriteItem(writer, array[i], itemShape);
                writer.Flush();
                ends[i + 1] = buffer.WrittenCount;
            }

            return buffer.WrittenSpan;
        }
    }
}
