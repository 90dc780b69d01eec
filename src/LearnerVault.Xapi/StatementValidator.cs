using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace LearnerVault.Xapi;

/// <summary>
/// Validates statements exactly as the LRS must before storing them: everything the xAPI specification says an LRS
/// MUST reject (and what the ADL conformance suite rejects) makes a statement invalid.
/// </summary>
/// <remarks>
/// The statement is walked once. Errors are built only on the failure path, while unwinding: each level prefixes its
/// own segment to the relative path returned by the level below ("." + name, or "[i]"), so a valid statement costs
/// no string allocation for paths. A relative error starts with "." or "[" (a child) or " " (the element itself).
/// Messages never contain values from the statement; unknown property names are echoed only when they look like
/// plain identifiers.
/// </remarks>
public static partial class StatementValidator
{
    public const string VoidedVerbId = "http://adlnet.gov/expapi/verbs/voided";

    private const string NotObject = " must be a JSON object";
    private const string NotString = " must be a string";
    private const string NotIri = " must be an absolute IRI";
    private const string NotUuid = " must be a UUID in standard string form";
    private const string Duplicate = " appears more than once";

    /// <summary>Full validation of one statement as received from a client (before the LRS adds stored/authority).</summary>
    public static ValidationResult Validate(JsonElement statement, XapiVersion version)
    {
        var error = ValidateStatement(statement, version, subStatement: false);
        return error is null ? ValidationResult.Ok : ValidationResult.Fail(Describe("statement", error));
    }

    /// <summary>
    /// Validates an "agent" parameter (statement queries, State and Agent Profile resources): an Agent, or an
    /// identified Group, with exactly one inverse functional identifier.
    /// </summary>
    public static ValidationResult ValidateAgentParameter(JsonElement agent)
    {
        var error = ValidateAgentOrGroup(agent, AgentRole.Parameter);
        return error is null ? ValidationResult.Ok : ValidationResult.Fail("agent" + error);
    }

    private static string Describe(string root, string relative) => relative[0] == '.' ? relative[1..] : root + relative;

    private static string? ValidateStatement(JsonElement s, XapiVersion version, bool subStatement)
    {
        if (s.ValueKind != JsonValueKind.Object)
        {
            return NotObject;
        }

        JsonElement id = default, actor = default, verb = default, obj = default, result = default, context = default;
        JsonElement timestamp = default, stored = default, authority = default, statementVersion = default, attachments = default;
        var seen = 0;
        foreach (var p in s.EnumerateObject())
        {
            int bit;
            if (p.NameEquals("actor"u8))
            {
                bit = 1 << 0;
                actor = p.Value;
            }
            else if (p.NameEquals("verb"u8))
            {
                bit = 1 << 1;
                verb = p.Value;
            }
            else if (p.NameEquals("object"u8))
            {
                bit = 1 << 2;
                obj = p.Value;
            }
            else if (p.NameEquals("id"u8))
            {
                bit = 1 << 3;
                id = p.Value;
            }
            else if (p.NameEquals("timestamp"u8))
            {
                bit = 1 << 4;
                timestamp = p.Value;
            }
            else if (p.NameEquals("result"u8))
            {
                bit = 1 << 5;
                result = p.Value;
            }
            else if (p.NameEquals("context"u8))
            {
                bit = 1 << 6;
                context = p.Value;
            }
            else if (p.NameEquals("stored"u8))
            {
                bit = 1 << 7;
                stored = p.Value;
            }
            else if (p.NameEquals("authority"u8))
            {
                bit = 1 << 8;
                authority = p.Value;
            }
            else if (p.NameEquals("version"u8))
            {
                bit = 1 << 9;
                statementVersion = p.Value;
            }
            else if (p.NameEquals("attachments"u8))
            {
                bit = 1 << 10;
                attachments = p.Value;
            }
            else if (subStatement && p.NameEquals("objectType"u8))
            {
                // The caller dispatched on objectType == "SubStatement"; only duplicates matter here.
                bit = 1 << 11;
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

        if (subStatement)
        {
            // A SubStatement MUST NOT have the "id", "stored", "version" or "authority" properties.
            if (id.ValueKind != JsonValueKind.Undefined)
            {
                return ".id must not be used in a SubStatement";
            }

            if (stored.ValueKind != JsonValueKind.Undefined)
            {
                return ".stored must not be used in a SubStatement";
            }

            if (statementVersion.ValueKind != JsonValueKind.Undefined)
            {
                return ".version must not be used in a SubStatement";
            }

            if (authority.ValueKind != JsonValueKind.Undefined)
            {
                return ".authority must not be used in a SubStatement";
            }
        }

        if (actor.ValueKind == JsonValueKind.Undefined)
        {
            return ".actor is required";
        }

        if (verb.ValueKind == JsonValueKind.Undefined)
        {
            return ".verb is required";
        }

        if (obj.ValueKind == JsonValueKind.Undefined)
        {
            return ".object is required";
        }

        if (id.ValueKind != JsonValueKind.Undefined && !StringIs(id, XapiFormats.IsUuid))
        {
            return ".id" + NotUuid;
        }

        var error = At("actor", ValidateAgentOrGroup(actor, AgentRole.Actor)) ?? At("verb", ValidateVerb(verb));
        if (error is not null)
        {
            return error;
        }

        if (At("object", ValidateObject(obj, version, subStatement, out var objectKind)) is { } objectError)
        {
            return objectError;
        }

        if (!subStatement && objectKind != ObjectKind.StatementRef && verb.TryGetProperty("id"u8, out var verbId) && Is(verbId, VoidedVerbIdUtf8))
        {
            return ".object must be a StatementRef when the verb is the voided verb";
        }

        if (result.ValueKind != JsonValueKind.Undefined && At("result", ValidateResult(result)) is { } resultError)
        {
            return resultError;
        }

        if (context.ValueKind != JsonValueKind.Undefined && At("context", ValidateContext(context, version, objectKind == ObjectKind.Activity)) is { } contextError)
        {
            return contextError;
        }

        if (timestamp.ValueKind != JsonValueKind.Undefined && !StringIs(timestamp, XapiTimestamp.IsValid))
        {
            return ".timestamp must be an ISO 8601 date and time";
        }

        if (stored.ValueKind != JsonValueKind.Undefined && !StringIs(stored, XapiTimestamp.IsValid))
        {
            return ".stored must be an ISO 8601 date and time";
        }

        if (authority.ValueKind != JsonValueKind.Undefined && At("authority", ValidateAgentOrGroup(authority, AgentRole.Authority)) is { } authorityError)
        {
            return authorityError;
        }

        if (statementVersion.ValueKind != JsonValueKind.Undefined)
        {
            if (statementVersion.ValueKind != JsonValueKind.String)
            {
                return ".version" + NotString;
            }

            if (!IsStatementVersion(statementVersion, version))
            {
                return version == XapiVersion.V2_0_0
                    ? ".version must start with 1.0 or 2.0"
                    : ".version must start with 1.0";
            }
        }

        if (attachments.ValueKind != JsonValueKind.Undefined)
        {
            return At("attachments", ValidateAttachments(attachments));
        }

        return null;
    }

    private static bool IsStatementVersion(JsonElement value, XapiVersion version)
    {
        var raw = Unquoted(value);
        return raw.IndexOf((byte)'\\') < 0
            ? XapiFormats.IsStatementVersion(raw, version)
            : XapiFormats.IsStatementVersion(value.GetString(), version);
    }

    private enum ObjectKind
    {
        Activity,
        Agent,
        StatementRef,
        SubStatement,
    }

    private static string? ValidateObject(JsonElement o, XapiVersion version, bool inSubStatement, out ObjectKind kind)
    {
        kind = ObjectKind.Activity;
        if (o.ValueKind != JsonValueKind.Object)
        {
            return NotObject;
        }

        if (!o.TryGetProperty("objectType"u8, out var objectType) || Is(objectType, "Activity"u8))
        {
            return ValidateActivity(o);
        }

        if (Is(objectType, "Agent"u8) || Is(objectType, "Group"u8))
        {
            kind = ObjectKind.Agent;
            return ValidateAgentOrGroup(o, AgentRole.Object);
        }

        if (Is(objectType, "StatementRef"u8))
        {
            kind = ObjectKind.StatementRef;
            return ValidateStatementRef(o);
        }

        if (Is(objectType, "SubStatement"u8))
        {
            kind = ObjectKind.SubStatement;
            return inSubStatement ? " must not be a SubStatement inside a SubStatement" : ValidateStatement(o, version, subStatement: true);
        }

        return objectType.ValueKind == JsonValueKind.String
            ? ".objectType must be Activity, Agent, Group, StatementRef or SubStatement"
            : ".objectType" + NotString;
    }

    private static string? ValidateStatementRef(JsonElement o)
    {
        if (o.ValueKind != JsonValueKind.Object)
        {
            return NotObject;
        }

        JsonElement objectType = default, id = default;
        var seen = 0;
        foreach (var p in o.EnumerateObject())
        {
            int bit;
            if (p.NameEquals("objectType"u8))
            {
                bit = 1;
                objectType = p.Value;
            }
            else if (p.NameEquals("id"u8))
            {
                bit = 2;
                id = p.Value;
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

        if (!Is(objectType, "StatementRef"u8))
        {
            return ".objectType must be StatementRef";
        }

        if (id.ValueKind == JsonValueKind.Undefined)
        {
            return ".id is required";
        }

        return StringIs(id, XapiFormats.IsUuid) ? null : ".id" + NotUuid;
    }

    private static string? ValidateVerb(JsonElement verb)
    {
        if (verb.ValueKind != JsonValueKind.Object)
        {
            return NotObject;
        }

        JsonElement id = default, display = default;
        var seen = 0;
        foreach (var p in verb.EnumerateObject())
        {
            int bit;
            if (p.NameEquals("id"u8))
            {
                bit = 1;
                id = p.Value;
            }
            else if (p.NameEquals("display"u8))
            {
                bit = 2;
                display = p.Value;
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

        return display.ValueKind == JsonValueKind.Undefined ? null : At("display", ValidateLanguageMap(display));
    }

    private static string? ValidateResult(JsonElement r)
    {
        if (r.ValueKind != JsonValueKind.Object)
        {
            return NotObject;
        }

        var seen = 0;
        foreach (var p in r.EnumerateObject())
        {
            int bit;
            string? error;
            if (p.NameEquals("score"u8))
            {
                bit = 1;
                error = At("score", ValidateScore(p.Value));
            }
            else if (p.NameEquals("success"u8))
            {
                bit = 2;
                error = IsBoolean(p.Value) ? null : ".success must be true or false";
            }
            else if (p.NameEquals("completion"u8))
            {
                bit = 4;
                error = IsBoolean(p.Value) ? null : ".completion must be true or false";
            }
            else if (p.NameEquals("response"u8))
            {
                bit = 8;
                error = p.Value.ValueKind == JsonValueKind.String ? null : ".response" + NotString;
            }
            else if (p.NameEquals("duration"u8))
            {
                bit = 16;
                error = StringIs(p.Value, XapiFormats.IsDuration) ? null : ".duration must be an ISO 8601 duration";
            }
            else if (p.NameEquals("extensions"u8))
            {
                bit = 32;
                error = At("extensions", ValidateExtensions(p.Value));
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

    private static string? ValidateScore(JsonElement score)
    {
        if (score.ValueKind != JsonValueKind.Object)
        {
            return NotObject;
        }

        double scaled = 0, raw = 0, min = 0, max = 0;
        var seen = 0;
        foreach (var p in score.EnumerateObject())
        {
            int bit;
            if (p.NameEquals("scaled"u8))
            {
                bit = 1;
            }
            else if (p.NameEquals("raw"u8))
            {
                bit = 2;
            }
            else if (p.NameEquals("min"u8))
            {
                bit = 4;
            }
            else if (p.NameEquals("max"u8))
            {
                bit = 8;
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
            if (p.Value.ValueKind != JsonValueKind.Number || !p.Value.TryGetDouble(out var number) || !double.IsFinite(number))
            {
                return "." + p.Name + " must be a number";
            }

            switch (bit)
            {
                case 1:
                    scaled = number;
                    break;
                case 2:
                    raw = number;
                    break;
                case 4:
                    min = number;
                    break;
                default:
                    max = number;
                    break;
            }
        }

        bool hasRaw = (seen & 2) != 0, hasMin = (seen & 4) != 0, hasMax = (seen & 8) != 0;
        if ((seen & 1) != 0 && scaled is < -1 or > 1)
        {
            return ".scaled must be between -1 and 1";
        }

        if (hasMin && hasMax && min >= max)
        {
            return ".min must be less than max";
        }

        if (hasRaw && hasMin && raw < min)
        {
            return ".raw must not be less than min";
        }

        if (hasRaw && hasMax && raw > max)
        {
            return ".raw must not be greater than max";
        }

        return null;
    }
    private static string? ValidateAttachments(JsonElement attachments)
    {
        if (attachments.ValueKind != JsonValueKind.Array)
        {
            return " must be an array";
        }

        var index = 0;
        foreach (var a in attachments.EnumerateArray())
        {
            if (At(index, ValidateAttachment(a)) is { } error)
            {
                return error;
            }

            index++;
        }

        return null;
    }

    private static string? ValidateAttachment(JsonElement a)
    {
        if (a.ValueKind != JsonValueKind.Object)
        {
            return NotObject;
        }

        var seen = 0;
        foreach (var p in a.EnumerateObject())
        {
            int bit;
            string? error;
            var v = p.Value;
            if (p.NameEquals("usageType"u8))
            {
                bit = 1;
                error = StringIs(v, XapiFormats.IsIri) ? null : ".usageType" + NotIri;
            }
            else if (p.NameEquals("display"u8))
            {
                bit = 2;
                error = At("display", ValidateLanguageMap(v));
            }
            else if (p.NameEquals("description"u8))
            {
                bit = 4;
                error = At("description", ValidateLanguageMap(v));
            }
            else if (p.NameEquals("contentType"u8))
            {
                bit = 8;
                error = StringIs(v, IsMediaType) ? null : ".contentType must be an Internet media type";
            }
            else if (p.NameEquals("length"u8))
            {
                bit = 16;
                error = IsNonNegativeInteger(v) ? null : ".length must be a non-negative integer";
            }
            else if (p.NameEquals("sha2"u8))
            {
                bit = 32;
                error = StringIs(v, XapiFormats.IsSha2Hex) ? null : ".sha2 must be a hexadecimal SHA-2 hash";
            }
            else if (p.NameEquals("fileUrl"u8))
            {
                bit = 64;
                error = StringIs(v, XapiFormats.IsIri) ? null : ".fileUrl" + NotIri;
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

        return (seen & 1) == 0 ? ".usageType is required"
            : (seen & 2) == 0 ? ".display is required"
            : (seen & 8) == 0 ? ".contentType is required"
            : (seen & 16) == 0 ? ".length is required"
            : (seen & 32) == 0 ? ".sha2 is required"
            : null;
    }

    private static bool IsMediaType(ReadOnlySpan<byte> s)
    {
        // type "/" subtype [";" parameters]; best effort: both parts non-empty, no whitespace or controls in them.
        var semicolon = s.IndexOf((byte)';');
        var essence = semicolon < 0 ? s : s[..semicolon];
        var slash = essence.IndexOf((byte)'/');
        if (slash <= 0 || slash == essence.Length - 1)
        {
            return false;
        }

        foreach (var c in essence)
        {
            if (c <= 0x20 || c >= 0x7F)
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsNonNegativeInteger(JsonElement v)
    {
        if (v.ValueKind != JsonValueKind.Number)
        {
            return false;
        }

        if (v.TryGetInt64(out var whole))
        {
            return whole >= 0;
        }

        // 27.0 or 2.7e1 are integers written differently.
        return v.TryGetDouble(out var d) && d >= 0 && d <= 9007199254740992d && Math.Floor(d) == d;
    }

    private static ReadOnlySpan<byte> VoidedVerbIdUtf8 => "http://adlnet.gov/expapi/verbs/voided"u8;

    private static bool Is(JsonElement value, ReadOnlySpan<byte> text) => value.ValueKind == JsonValueKind.String && value.ValueEquals(text);

    private static bool IsBoolean(JsonElement v) => v.ValueKind is JsonValueKind.True or JsonValueKind.False;

    private static string? At(string name, string? error) => error is null ? null : "." + name + error;

    private static string? At(int index, string? error) =>
        error is null ? null : "[" + index.ToString(CultureInfo.InvariantCulture) + "]" + error;

    private static string At(JsonProperty p, string error) => "." + SafeName(p) + error;

    private static string NotAllowed(JsonProperty p) =>
        IsPlainIdentifier(p) ? "." + p.Name + " is not an allowed property" : " has a property that is not allowed";

    /// <summary>Property names are echoed in errors only when they look like identifiers, never like data.</summary>
    private static string SafeName(JsonProperty p) => IsPlainIdentifier(p) ? p.Name : "(property)";

    private static bool IsPlainIdentifier(JsonProperty p)
    {
        var raw = JsonMarshal.GetRawUtf8PropertyName(p);
        if (raw.IsEmpty || raw.Length > 32)
        {
            return false;
        }

        foreach (var c in raw)
        {
            if (!(XapiFormats.IsAsciiLetter(c) || XapiFormats.IsDigit(c) || c == '_'))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The bytes of a JSON string between its quotes, still escaped.</summary>
    private static ReadOnlySpan<byte> Unquoted(JsonElement value)
    {
        var raw = JsonMarshal.GetRawUtf8Value(value);
        return raw[1..^1];
    }

    /// <summary>True when <paramref name="value"/> is a JSON string whose (unescaped) text passes <paramref name="check"/>.</summary>
    private static bool StringIs(JsonElement value, XapiFormats.Utf8Check check)
    {
        if (value.ValueKind != JsonValueKind.String)
        {
            return false;
        }

        var raw = Unquoted(value);
        return raw.IndexOf((byte)'\\') < 0 ? check(raw) : XapiFormats.With(value.GetString()!, check);
    }

    /// <summary>True when a property name, unescaped, passes <paramref name="check"/>.</summary>
    private static bool NameIs(JsonProperty p, XapiFormats.Utf8Check check)
    {
        var raw = JsonMarshal.GetRawUtf8PropertyName(p);
        return raw.IndexOf((byte)'\\') < 0 ? check(raw) : XapiFormats.With(p.Name, check);
    }
}
