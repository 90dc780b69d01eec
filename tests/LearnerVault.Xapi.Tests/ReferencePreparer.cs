using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace LearnerVault.Xapi.Tests;

/// <summary>
/// REFERENCE ONLY, do not use in production code: a frozen copy of the original StatementPreparer.Prepare, so that
/// the optimised implementation can be checked against it (see PreparerAndFactsEquivalenceTests).
/// </summary>
internal static class ReferencePreparer
{
    /// <param name="statement">A statement that passed <see cref="StatementValidator.Validate"/>.</param>
    /// <param name="version">The xAPI version the request is served as.</param>
    /// <param name="authority">The authority agent/group of the credentials used; it replaces any authority sent (it is copied, not attached).</param>
    /// <param name="newId">The id to assign when the statement has none.</param>
    public static JsonObject Prepare(JsonElement statement, XapiVersion version, JsonObject authority, Guid newId)
    {
        ArgumentNullException.ThrowIfNull(authority);

        // Clone so that the result outlives the caller's JsonDocument.
        var prepared = JsonObject.Create(statement.Clone())
            ?? throw new ArgumentException("A statement must be a JSON object.", nameof(statement));

        prepared["id"] = ReferenceFactsExtractor.StringOf(prepared["id"]) is { } id
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
        else if (ReferenceFactsExtractor.StringOf(prepared["version"]) is null)
        {
            prepared["version"] = "1.0.0";
        }

        WrapContextActivities(prepared);
        if (prepared["object"] is JsonObject subStatement && ReferenceFactsExtractor.StringOf(subStatement["objectType"]) == "SubStatement")
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
        if (ReferenceFactsExtractor.StringOf(statement["timestamp"]) is { } timestamp && XapiTimestamp.ToUtc(timestamp) is { } utc && utc != timestamp)
        {
            statement["timestamp"] = utc;
        }
    }

    /// <summary>"The LRS MUST return every value in the contextActivities Object as an array."</summary>
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
}
