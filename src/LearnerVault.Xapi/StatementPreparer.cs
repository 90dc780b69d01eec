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
    /// As <see cref="Prepare(JsonElement, XapiVersion, JsonObject, Guid)"/>, but what the result does not change it reads
    /// from <paramref name="statement"/>'s document rather than a copy (a copy was the statement's bytes again, and its
    /// parse rows, for every statement): use the result only while that document is alive, i.e. not disposed.
    /// </summary>
    public static JsonObject PrepareInPlace(JsonElement statement, XapiVersion version, JsonObject authority, Guid newId) =>
        PrepareFrom(statement, statement, version, authority, newId);

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

        // Parsed text without escapes: convert in place and allocate only when the UTC form differs.
        if (value.TryGetValue<JsonElement>(out var element)
            && JsonMarshal.GetRawUtf8Value(element) is var raw
            && raw[1..^1] is var utf8
            && !utf8.Contains((byte)'\\')
            && utf8.Length <= 200)
        {
            Span<byte> buffer = stackalloc byte[256];
            if (XapiTimestamp.TryFormatUtc(utf8, trimFraction: false, buffer, out var length) && !buffer[..length].SequenceEqual(utf8))
            {
                statement["timestamp"] = Encoding.ASCII.GetString(buffer[..length]);
            }

            return;
        }

        var timestamp = value.GetValue<string>();
        if (XapiTimestamp.ToUtc(timestamp) is { } utc && utc != timestamp)
        {
            statement["timestamp"] = utc;
        }
    }

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
