using System.Buffers;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace LearnerVault.Xapi;

/// <summary>The comparison form written straight from parsed JSON, without building nodes.</summary>
public static partial class StatementComparison
{
    /// <summary>
    /// The comparison form of a validated statement as the client sent it: byte-equal to the form of what
    /// <see cref="StatementPreparer.Prepare"/> makes of it, since everything the preparer changes (id, stored, authority,
    /// version, UTC timestamps, single context activities) is skipped or normalised by the form. Walks the parsed JSON
    /// without materialising a node tree (which cost a few kilobytes of short-lived objects per statement).
    /// </summary>
    /// <param name="statement">A statement that passed <see cref="StatementValidator.Validate"/>.</param>
    public static byte[] ComparisonForm(JsonElement statement)
    {
        if (statement.ValueKind != JsonValueKind.Object)
        {
            throw new ArgumentException("A statement must be a JSON object.", nameof(statement));
        }

        var scratch = Scratch.Rent();
        var form = scratch.Write(statement, Shape.Statement).ToArray();
        Scratch.Return(scratch);
        return form;
    }

    /// <summary>Appends the <see cref="ComparisonForm(JsonElement)"/> of <paramref name="statement"/> to <paramref name="output"/>.</summary>
    public static void WriteComparisonForm(JsonElement statement, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (statement.ValueKind != JsonValueKind.Object)
        {
            throw new ArgumentException("A statement must be a JSON object.", nameof(statement));
        }

        var scratch = Scratch.Rent();
        output.Write(scratch.Write(statement, Shape.Statement));
        Scratch.Return(scratch);
    }

    private static void WriteElement(Utf8JsonWriter writer, JsonElement value)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Object:
                WriteObject(writer, value, Shape.Plain);
                break;
            case JsonValueKind.Array:
                WriteArray(writer, value, Shape.Plain);
                break;
            case JsonValueKind.String or JsonValueKind.Number:
                TryWriteParsedScalar(writer, value);
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

    /// <summary>An object with its properties in ordinal order; <paramref name="shape"/> decides what is skipped or normalised.</summary>
    private static void WriteObject(Utf8JsonWriter writer, JsonElement obj, Shape shape)
    {
        writer.WriteStartObject();
        var count = obj.GetPropertyCount();
        if (count > 0)
        {
            var properties = ArrayPool<JsonProperty>.Shared.Rent(count);
            var filled = 0;
            foreach (var property in obj.EnumerateObject())
            {
                properties[filled++] = property;
            }

            var sorted = properties.AsSpan(0, filled);
            Span<int> order = filled <= StackSortLimit ? stackalloc int[filled] : new int[filled];
            SortByName(sorted, order);
            foreach (var index in order)
            {
                var property = sorted[index];
                if (IsSkipped(shape, property))
                {
                    continue;
                }

                WritePropertyName(writer, property);
                if (!TryWriteNormalised(writer, shape, property, property.Value))
                {
                    WriteProperty(writer, property, property.Value, Shape.Plain);
                }
            }

            sorted.Clear();
            ArrayPool<JsonProperty>.Shared.Return(properties);
        }

        writer.WriteEndObject();
    }

    /// <summary>
    /// <paramref name="order"/>: the indexes of <paramref name="properties"/> in ordinal order of the names as strings
    /// (UTF-16), as the node form sorts them.
    /// </summary>
    private static void SortByName(ReadOnlySpan<JsonProperty> properties, Span<int> order)
    {
        for (var i = 0; i < order.Length; i++)
        {
            order[i] = i;
        }

        // Names in statements are short ASCII without escapes: for those, byte order is UTF-16 ordinal order, and the
        // first eight bytes (big-endian, zero-padded: a name holds no NUL unescaped) decide almost every comparison.
        Span<ulong> prefixes = order.Length <= StackSortLimit ? stackalloc ulong[order.Length] : new ulong[order.Length];
        for (var i = 0; i < properties.Length; i++)
        {
            var name = JsonMarshal.GetRawUtf8PropertyName(properties[i]);
            if (order.Length > StackSortLimit || !IsPlainAscii(name))
            {
                var copy = properties.ToArray();
                order.Sort((x, y) => CompareNames(copy[x], copy[y]));
                return;
            }

            prefixes[i] = Prefix(name);
        }

        // Insertion sort: objects in statements have a handful of properties.
        for (var i = 1; i < order.Length; i++)
        {
            var current = order[i];
            var j = i - 1;
            while (j >= 0 && ComparePlain(properties, prefixes, order[j], current) > 0)
            {
                order[j + 1] = order[j];
                j--;
            }

            order[j + 1] = current;
        }
    }

    private static ulong Prefix(ReadOnlySpan<byte> name)
    {
        var prefix = 0UL;
        for (var i = 0; i < name.Length && i < 8; i++)
        {
            prefix |= (ulong)name[i] << (56 - (8 * i));
        }

        return prefix;
    }

    private static int ComparePlain(ReadOnlySpan<JsonProperty> properties, ReadOnlySpan<ulong> prefixes, int x, int y)
    {
        var byPrefix = prefixes[x].CompareTo(prefixes[y]);
        return byPrefix != 0
            ? byPrefix
            : JsonMarshal.GetRawUtf8PropertyName(properties[x]).SequenceCompareTo(JsonMarshal.GetRawUtf8PropertyName(properties[y]));
    }

    private static int CompareNames(JsonProperty a, JsonProperty b)
    {
        var x = JsonMarshal.GetRawUtf8PropertyName(a);
        var y = JsonMarshal.GetRawUtf8PropertyName(b);

        // For ASCII without escapes, byte order is UTF-16 ordinal order; anything else compares as the unescaped strings.
        return IsPlainAscii(x) && IsPlainAscii(y) ? x.SequenceCompareTo(y) : string.CompareOrdinal(a.Name, b.Name);
    }

    private static bool IsPlainAscii(ReadOnlySpan<byte> name) => Ascii.IsValid(name) && !name.Contains((byte)'\\');

    private static void WritePropertyName(Utf8JsonWriter writer, JsonProperty property)
    {
        var raw = JsonMarshal.GetRawUtf8PropertyName(property);
        if (raw.Contains((byte)'\\'))
        {
            writer.WritePropertyName(property.Name);
        }
        else
        {
            writer.WritePropertyName(raw);
        }
    }

    private static bool IsSkipped(Shape shape, JsonProperty property) => shape switch
    {
        Shape.Statement => property.NameEquals("id"u8) || property.NameEquals("stored"u8) || property.NameEquals("authority"u8)
            || property.NameEquals("version"u8) || property.NameEquals("attachments"u8),
        Shape.Verb => property.NameEquals("display"u8),
        Shape.Activity => property.NameEquals("definition"u8),
        _ => false,
    };

    /// <summary>A property value; an array under "member" is unordered, with <paramref name="itemShape"/> for its objects.</summary>
    private static void WriteProperty(Utf8JsonWriter writer, JsonProperty property, JsonElement value, Shape itemShape)
    {
        if (value.ValueKind == JsonValueKind.Array)
        {
            if (property.NameEquals("member"u8))
            {
                WriteUnordered(writer, value, itemShape);
            }
            else
            {
                WriteArray(writer, value, itemShape);
            }
        }
        else
        {
            WriteElement(writer, value);
        }
    }

    /// <summary>Writes the normalised value of a property the shape normalises; false when it is written as is.</summary>
    private static bool TryWriteNormalised(Utf8JsonWriter writer, Shape shape, JsonProperty property, JsonElement value)
    {
        var isObject = value.ValueKind == JsonValueKind.Object;
        var isArray = value.ValueKind == JsonValueKind.Array;
        switch (shape)
        {
            case Shape.Statement or Shape.SubStatement:
                if (property.NameEquals("timestamp"u8))
                {
                    return TryWriteTimestamp(writer, value);
                }

                if (property.NameEquals("actor"u8))
                {
                    return TryWriteObject(writer, value, Shape.Agent);
                }

                if (property.NameEquals("verb"u8))
                {
                    return TryWriteObject(writer, value, Shape.Verb);
                }

                if (property.NameEquals("object"u8) && isObject)
                {
                    WriteObject(writer, value, ObjectShape(value));
                    return true;
                }

                if (property.NameEquals("result"u8))
                {
                    return TryWriteObject(writer, value, Shape.Result);
                }

                return property.NameEquals("context"u8) && TryWriteObject(writer, value, Shape.Context);

            case Shape.Agent:
                if (property.NameEquals("mbox"u8))
                {
                    return TryWriteMbox(writer, value);
                }

                if (property.NameEquals("mbox_sha1sum"u8))
                {
                    return TryWriteLowerCase(writer, value);
                }

                if (property.NameEquals("member"u8) && isArray)
                {
                    WriteUnordered(writer, value, Shape.Agent);
                    return true;
                }

                return false;

            case Shape.StatementRef:
                return property.NameEquals("id"u8) && TryWriteLowerCase(writer, value);
            case Shape.Result:
                return property.NameEquals("duration"u8) && TryWriteDuration(writer, value);
            case Shape.Context:
                if (property.NameEquals("registration"u8))
                {
                    return TryWriteLowerCase(writer, value);
                }

                if (property.NameEquals("statement"u8))
                {
                    return TryWriteObject(writer, value, Shape.StatementRef);
                }

                if (property.NameEquals("instructor"u8) || property.NameEquals("team"u8))
                {
                    return TryWriteObject(writer, value, Shape.Agent);
                }

                if (property.NameEquals("contextAgents"u8) && isArray)
                {
                    WriteArray(writer, value, Shape.ContextAgent);
                    return true;
                }

                if (property.NameEquals("contextGroups"u8) && isArray)
                {
                    WriteArray(writer, value, Shape.ContextGroup);
                    return true;
                }

                return property.NameEquals("contextActivities"u8) && TryWriteObject(writer, value, Shape.ContextActivities);

            case Shape.ContextAgent:
                return property.NameEquals("agent"u8) && TryWriteObject(writer, value, Shape.Agent);
            case Shape.ContextGroup:
                return property.NameEquals("group"u8) && TryWriteObject(writer, value, Shape.Agent);
            case Shape.ContextActivities:
                if (isObject && (property.NameEquals("parent"u8) || property.NameEquals("grouping"u8) || property.NameEquals("category"u8) || property.NameEquals("other"u8)))
                {
                    // "The LRS MUST return every value in the contextActivities Object as an array."
                    writer.WriteStartArray();
                    WriteObject(writer, value, Shape.Activity);
                    writer.WriteEndArray();
                    return true;
                }

                if (isArray)
                {
                    WriteProperty(writer, property, value, Shape.Activity);
                    return true;
                }

                return false;

            default:
                return false;
        }
    }

    private static bool TryWriteObject(Utf8JsonWriter writer, JsonElement value, Shape shape)
    {
        if (value.ValueKind != JsonValueKind.Object)
        {
            return false;
        }

        WriteObject(writer, value, shape);
        return true;
    }

    private static Shape ObjectShape(JsonElement obj)
    {
        if (!obj.TryGetProperty("objectType"u8, out var value) || value.ValueKind != JsonValueKind.String)
        {
            return Shape.Activity;
        }

        return value.ValueEquals("Activity"u8) ? Shape.Activity
            : value.ValueEquals("Agent"u8) || value.ValueEquals("Group"u8) ? Shape.Agent
            : value.ValueEquals("StatementRef"u8) ? Shape.StatementRef
            : value.ValueEquals("SubStatement"u8) ? Shape.SubStatement
            : Shape.Plain;
    }

    /// <summary>Objects in <paramref name="itemShape"/>, everything else as is.</summary>
    private static void WriteArray(Utf8JsonWriter writer, JsonElement array, Shape itemShape)
    {
        writer.WriteStartArray();
        foreach (var item in array.EnumerateArray())
        {
            WriteItem(writer, item, itemShape);
        }

        writer.WriteEndArray();
    }

    private static void WriteItem(Utf8JsonWriter writer, JsonElement item, Shape itemShape)
    {
        if (item.ValueKind == JsonValueKind.Object)
        {
            WriteObject(writer, item, itemShape);
            return;
        }

        if (item.ValueKind != JsonValueKind.Null && itemShape is Shape.ContextAgent or Shape.ContextGroup)
        {
            // As the node form does.
            throw new InvalidOperationException("The node must be of type 'JsonObject'.");
        }

        WriteElement(writer, item);
    }

    /// <summary>The list of Agents in a Group is not ordered: members are compared as a sorted list of their forms.</summary>
    private static void WriteUnordered(Utf8JsonWriter writer, JsonElement array, Shape itemShape)
    {
        var count = array.GetArrayLength();
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

    private static bool TryWriteTimestamp(Utf8JsonWriter writer, JsonElement value)
    {
        if (value.ValueKind != JsonValueKind.String)
        {
            return false;
        }

        return TryGetUtf8(value, out var utf8) ? TryWriteTimestamp(writer, utf8) : TryWriteTimestamp(writer, value.GetString()!);
    }

    private static bool TryWriteMbox(Utf8JsonWriter writer, JsonElement value)
    {
        if (value.ValueKind != JsonValueKind.String)
        {
            return false;
        }

        if (!TryGetUtf8(value, out var utf8) || !TryWriteMbox(writer, utf8))
        {
            writer.WriteStringValue(Ifi.NormaliseMbox(value.GetString()!));
        }

        return true;
    }

    private static bool TryWriteLowerCase(Utf8JsonWriter writer, JsonElement value)
    {
        if (value.ValueKind != JsonValueKind.String)
        {
            return false;
        }

        if (!TryGetUtf8(value, out var utf8) || !TryWriteLowerCase(writer, utf8))
        {
            writer.WriteStringValue(value.GetString()!.ToLowerInvariant());
        }

        return true;
    }

    private static bool TryWriteDuration(Utf8JsonWriter writer, JsonElement value)
    {
        if (value.ValueKind != JsonValueKind.String)
        {
            return false;
        }

        if (TryGetUtf8(value, out var utf8))
        {
            WriteDuration(writer, utf8);
        }
        else
        {
            writer.WriteStringValue(TruncateSeconds(value.GetString()!));
        }

        return true;
    }
}
