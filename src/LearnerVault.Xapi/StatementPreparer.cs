using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace LearnerVault.Xapi;

/// <summary>
/// Turns a validated client statement into the JSON object the LRS stores. Only the properties the LRS is required
/// or allowed to assign are touched (id, authority, version, stored, timestamp serialisation), plus the one
/// normalisation the specification requires on retrieval: single context activities become arrays of one.
/// </summary>
public static class StatementPreparer
{
    /// <param name="statement">A statement that passed <see cref="StatementValidator.Validate"/>.</param>
    /// <param name="version">The xAPI version the request is served as.</param>
    /// <param name="authority">The authority agent/group of the credentials used; it replaces any authority sent (it is copied, not attached).</param>
    /// <param name="newId">The id to assign when the statement has none.</param>
    public static JsonObject Prepare(JsonElement statement, XapiVersion version, JsonObject authority, Guid newId) =>
        // Clone so that the result outlives the caller's JsonDocument.
        PrepareFrom(statement, statement.Clone(), version, authority, newId);

    /// <summary>
    /// The id <see cref="Prepare(JsonElement, XapiVersion, JsonObject, Guid)"/> gives <paramref name="statement"/>: its
    /// own (a statement that passed validation has a UUID there, if any), or <paramref name="newId"/>.
    /// </summary>
    public static Guid PreparedId(JsonElement statement, Guid newId) =>
        statement.TryGetProperty("id"u8, out var id) && id.ValueKind == JsonValueKind.String
            ? Guid.Parse(id.GetString()!)
            : newId;

    /// <summary>
    /// Writes what <see cref="Prepare(JsonElement, XapiVersion, JsonObject, Guid)"/> makes of
    /// <paramref name="statement"/> to <paramref name="writer"/>, byte for byte what writing that object gives, without
    /// building it: the statement's own properties are copied from the parsed document in their order, and only what the
    /// LRS assigns or normalises is written anew (id, authority and version in place, or after the rest when absent;
    /// stored left out; UTC timestamps in 2.0; single context activities as arrays of one).
    /// </summary>
    public static void WritePrepared(JsonElement statement, XapiVersion version, JsonObject authority, Guid newId, Utf8JsonWriter writer)
    {
        ArgumentNullException.ThrowIfNull(authority);
        ArgumentNullException.ThrowIfNull(writer);
        if (statement.ValueKind != JsonValueKind.Object)
        {
            throw new ArgumentException("A statement must be a JSON object.", nameof(statement));
        }

        var v2 = version == XapiVersion.V2_0_0;
        var wrap = MayHaveSingleContextActivity(statement);
        var subStatement = MayHaveSubStatement(statement);
        bool hasId = false, hasAuthority = false, hasVersion = false;
        writer.WriteStartObject();
        foreach (var property in statement.EnumerateObject())
        {
            if (property.NameEquals("stored"u8))
            {
                continue;
            }

            if (property.NameEquals("id"u8))
            {
                hasId = true;
                WriteId(property.Value, newId, writer);
            }
            else if (property.NameEquals("authority"u8))
            {
                hasAuthority = true;
                writer.WritePropertyName("authority"u8);
                authority.WriteTo(writer);
            }
            else if (property.NameEquals("version"u8))
            {
                hasVersion = true;
                if (v2)
                {
                    writer.WriteString("version"u8, "2.0.0"u8);
                }
                else if (property.Value.ValueKind == JsonValueKind.String)
                {
                    property.WriteTo(writer);
                }
                else
                {
                    writer.WriteString("version"u8, "1.0.0"u8);
                }
            }
            else if (v2 && property.NameEquals("timestamp"u8))
            {
                WriteTimestamp(property, writer);
            }
            else if (wrap && property.NameEquals("context"u8) && property.Value.ValueKind == JsonValueKind.Object)
            {
                WriteContext(property, writer);
            }
            else if (subStatement && property.NameEquals("object"u8) && IsSubStatement(property.Value))
            {
                writer.WritePropertyName(property.Name);
                WriteSubStatement(property.Value, v2, writer);
            }
            else
            {
                property.WriteTo(writer);
            }
        }

        if (!hasId)
        {
            WriteId(default, newId, writer);
        }

        if (!hasAuthority)
        {
            writer.WritePropertyName("authority"u8);
            authority.WriteTo(writer);
        }

        if (!hasVersion)
        {
            writer.WriteString("version"u8, v2 ? "2.0.0"u8 : "1.0.0"u8);
        }

        writer.WriteEndObject();
    }

    private static void WriteId(JsonElement id, Guid newId, Utf8JsonWriter writer)
    {
        if (id.ValueKind == JsonValueKind.String)
        {
            writer.WriteString("id"u8, id.GetString()!.ToLowerInvariant());
        }
        else
        {
            Span<byte> text = stackalloc byte[36];
            newId.TryFormat(text, out _, "D");
            writer.WriteString("id"u8, text);
        }
    }

    /// <summary>As <see cref="ToUtc"/> does to a timestamp: written in UTC when it is a string whose UTC form differs.</summary>
    private static void WriteTimestamp(JsonProperty property, Utf8JsonWriter writer)
    {
        if (property.Value.ValueKind == JsonValueKind.String && ChangedToUtc(property.Value) is { } utc)
        {
            writer.WriteString("timestamp"u8, utc);
        }
        else
        {
            property.WriteTo(writer);
        }
    }

    /// <summary>A context with its single context activities written as arrays of one (<see cref="WrapContextActivities"/>).</summary>
    private static void WriteContext(JsonProperty context, Utf8JsonWriter writer)
    {
        writer.WritePropertyName(context.Name);
        writer.WriteStartObject();
        foreach (var property in context.Value.EnumerateObject())
        {
            if (!property.NameEquals("contextActivities"u8) || property.Value.ValueKind != JsonValueKind.Object)
            {
                property.WriteTo(writer);
                continue;
            }

            writer.WritePropertyName(property.Name);
            writer.WriteStartObject();
            foreach (var list in property.Value.EnumerateObject())
            {
                if (list.Value.ValueKind == JsonValueKind.Object
                    && (list.NameEquals("parent"u8) || list.NameEquals("grouping"u8) || list.NameEquals("category"u8) || list.NameEquals("other"u8)))
                {
                    writer.WritePropertyName(list.Name);
                    writer.WriteStartArray();
                    list.Value.WriteTo(writer);
                    writer.WriteEndArray();
                }
                else
                {
                    list.WriteTo(writer);
                }
            }

            writer.WriteEndObject();
        }

        writer.WriteEndObject();
    }

    private static bool IsSubStatement(JsonElement obj) =>
        obj.ValueKind == JsonValueKind.Object
        && obj.TryGetProperty("objectType"u8, out var type)
        && type.ValueKind == JsonValueKind.String
        && type.ValueEquals("SubStatement"u8);

    /// <summary>A sub-statement as <see cref="PrepareFrom"/> leaves it: UTC timestamp (2.0), single context activities wrapped.</summary>
    private static void WriteSubStatement(JsonElement subStatement, bool v2, Utf8JsonWriter writer)
    {
        writer.WriteStartObject();
        foreach (var property in subStatement.EnumerateObject())
        {
            if (v2 && property.NameEquals("timestamp"u8))
            {
                WriteTimestamp(property, writer);
            }
            else if (property.NameEquals("context"u8) && property.Value.ValueKind == JsonValueKind.Object)
            {
                WriteContext(property, writer);
            }
            else
            {
                property.WriteTo(writer);
            }
        }

        writer.WriteEndObject();
    }

    private static JsonObject PrepareFrom(JsonElement statement, JsonElement source, XapiVersion version, JsonObject authority, Guid newId)
    {
        ArgumentNullException.ThrowIfNull(authority);

        var prepared = JsonObject.Create(source)
            ?? throw new ArgumentException("A statement must be a JSON object.", nameof(statement));

        prepared["id"] = Ifi.StringOf(prepared["id"]) is { } id
            ? id.ToLowerInvariant()
            : newId.ToString("D", CultureInfo.InvariantCulture);

        // The LRS MUST overwrite any stored value; the store assigns the real one when the statement is read.
        prepared.Remove("stored");
        prepared["authority"] = authority.DeepClone();

        if (version == XapiVersion.V2_0_0)
        {
            prepared["version"] = "2.0.0";
            ToUtc(prepared);
        }
        else if (Ifi.StringOf(prepared["version"]) is null)
        {
            prepared["version"] = "1.0.0";
        }

        // The checks below read the JSON element first, so that nodes are only looked up when there may be work.
        if (MayHaveSingleContextActivity(statement))
        {
            WrapContextActivities(prepared);
        }

        if (MayHaveSubStatement(statement) && prepared["object"] is JsonObject subStatement && Ifi.StringOf(subStatement["objectType"]) == "SubStatement")
        {
            if (version == XapiVersion.V2_0_0)
            {
                ToUtc(subStatement);
            }

            WrapContextActivities(subStatement);
        }

        return prepared;
    }

    private static void ToUtc(JsonObject statement)
    {
        if (statement["timestamp"] is not JsonValue value || value.GetValueKind() != JsonValueKind.String)
        {
            return;
        }

        var utc = value.TryGetValue<JsonElement>(out var element) ? ChangedToUtc(element) : ChangedToUtc(value.GetValue<string>());
        if (utc is not null)
        {
            statement["timestamp"] = utc;
        }
    }

    /// <summary>
    /// The UTC form of a string timestamp when it differs from the text sent; null when it is the same or no timestamp.
    /// Parsed text without escapes is converted from its UTF-8 bytes, so only a timestamp that changes allocates.
    /// </summary>
    private static string? ChangedToUtc(JsonElement timestamp)
    {
        var utf8 = JsonMarshal.GetRawUtf8Value(timestamp)[1..^1];
        if (utf8.Contains((byte)'\\') || utf8.Length > 200)
        {
            return ChangedToUtc(timestamp.GetString()!);
        }

        Span<byte> buffer = stackalloc byte[256];
        return XapiTimestamp.TryFormatUtc(utf8, trimFraction: false, buffer, out var length) && !buffer[..length].SequenceEqual(utf8)
            ? Encoding.ASCII.GetString(buffer[..length])
            : null;
    }

    private static string? ChangedToUtc(string timestamp) =>
        XapiTimestamp.ToUtc(timestamp) is { } utc && utc != timestamp ? utc : null;

    /// <summary>
    /// False only when no "context" of <paramref name="statement"/> has a "contextActivities" object with a parent,
    /// grouping, category or other that is an object (every property is looked at, so duplicates cannot hide one).
    /// </summary>
    private static bool MayHaveSingleContextActivity(JsonElement statement)
    {
        foreach (var property in statement.EnumerateObject())
        {
            if (!property.NameEquals("context"u8) || property.Value.ValueKind != JsonValueKind.Object)
            {
                continue;
            }

            foreach (var contextProperty in property.Value.EnumerateObject())
            {
                if (!contextProperty.NameEquals("contextActivities"u8) || contextProperty.Value.ValueKind != JsonValueKind.Object)
                {
                    continue;
                }

                foreach (var list in contextProperty.Value.EnumerateObject())
                {
                    if (list.Value.ValueKind == JsonValueKind.Object
                        && (list.NameEquals("parent"u8) || list.NameEquals("grouping"u8) || list.NameEquals("category"u8) || list.NameEquals("other"u8)))
                    {
                        return true;
                    }
                }
            }
        }

        return false;
    }

    /// <summary>False only when no "object" of <paramref name="statement"/> has an objectType "SubStatement".</summary>
    private static bool MayHaveSubStatement(JsonElement statement)
    {
        foreach (var property in statement.EnumerateObject())
        {
            if (!property.NameEquals("object"u8) || property.Value.ValueKind != JsonValueKind.Object)
            {
                continue;
            }

            foreach (var objectProperty in property.Value.EnumerateObject())
            {
                if (objectProperty.NameEquals("objectType"u8) && objectProperty.Value.ValueKind == JsonValueKind.String
                    && objectProperty.Value.ValueEquals("SubStatement"u8))
                {
                    return true;
                }
            }
        }

        return false;
    }

    /// <summary>"The LRS MUST return every value in the contextActivities Object as an array."</summary>
    internal static void WrapContextActivities(JsonObject statement)
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
}
