using System.Text.Json;
using LearnerVault.Server.Pipeline;
using LearnerVault.Server.Statements;
using LearnerVault.Storage;
using LearnerVault.Xapi;

namespace LearnerVault.Server.Documents;

/// <summary>What a document request asks for once its parameters are checked.</summary>
/// <param name="Address">The document (or, without <see cref="DocumentAddress.DocumentId"/>, the context).</param>
/// <param name="Since">For the multiple-document GET only.</param>
public sealed record DocumentRequest(DocumentAddress Address, DateTimeOffset? Since);

/// <summary>
/// The parameters of the document resources (xAPI Communication 2.3, 2.6, 2.7): which each method takes, which it
/// requires, and their formats. Names are case-sensitive, repeats and unknown names are refused, and errors never echo
/// a value (an agent is personal data).
/// </summary>
public static class DocumentParameters
{
    public const string ActivityId = "activityId";
    public const string Agent = "agent";
    public const string Registration = "registration";
    public const string StateId = "stateId";
    public const string ProfileId = "profileId";
    public const string Since = "since";

    /// <param name="idRequired">PUT and POST name one document; GET and DELETE may name the whole context.</param>
    public static DocumentRequest Parse(IQueryCollection query, DocumentKind kind, bool idRequired, bool isGet)
    {
        var idName = kind == DocumentKind.State ? StateId : ProfileId;
        var allowed = kind switch
        {
            DocumentKind.State => new[] { ActivityId, Agent, Registration, StateId },
            DocumentKind.ActivityProfile => [ActivityId, ProfileId],
            _ => [Agent, ProfileId],
        };

        foreach (var (name, values) in query)
        {
            if (!allowed.Contains(name, StringComparer.Ordinal) && !(isGet && name == Since))
            {
                throw new XapiException(400, $"This resource does not take the parameter '{Truncate(name)}' with this method.");
            }

            if (values.Count > 1)
            {
                throw new XapiException(400, $"The parameter '{name}' is given more than once.");
            }
        }

        var activityId = kind == DocumentKind.AgentProfile ? null : ActivityIri(query);
        var agentIfi = kind == DocumentKind.ActivityProfile ? null : AgentIfi(query, allowGroup: kind == DocumentKind.State);
        Guid? registration = null;
        if (query.TryGetValue(Registration, out var registrationText))
        {
            registration = Guid.TryParseExact(registrationText.ToString(), "D", out var parsed)
                ? parsed
                : throw new XapiException(400, "registration must be a UUID.");
        }

        string? documentId = null;
        if (query.TryGetValue(idName, out var idText))
        {
            documentId = idText.ToString();
            if (documentId.Length == 0)
            {
                throw new XapiException(400, $"{idName} must not be empty.");
            }
        }
        else if (idRequired)
        {
            throw new XapiException(400, $"The {idName} parameter is required.");
        }

        DateTimeOffset? since = null;
        if (query.TryGetValue(Since, out var sinceText))
        {
            since = QueryTimestamp.TryParse(sinceText.ToString(), out var parsed)
                ? parsed
                : throw new XapiException(400, "since must be an ISO 8601 timestamp with a time zone.");
        }

        return new DocumentRequest(new DocumentAddress(kind, activityId, agentIfi, registration, documentId), since);
    }

    /// <summary>The activityId parameter: required, an IRI.</summary>
    public static string ActivityIri(IQueryCollection query)
    {
        if (!query.TryGetValue(ActivityId, out var value))
        {
            throw new XapiException(400, "The activityId parameter is required.");
        }

        var text = value.ToString();
        return XapiFormats.IsIri(text) ? text : throw new XapiException(400, "activityId must be an IRI.");
    }

    /// <summary>The agent parameter's normalised IFI.</summary>
    public static string AgentIfi(IQueryCollection query, bool allowGroup)
    {
        using var agent = AgentParameter(query, allowGroup);
        return Ifi.Normalise(agent.RootElement)!;
    }

    /// <summary>
    /// The agent parameter: required, a JSON Agent with exactly one inverse functional identifier (or, where the resource
    /// allows it, an identified Group). The caller disposes the document.
    /// </summary>
    public static JsonDocument AgentParameter(IQueryCollection query, bool allowGroup)
    {
        if (!query.TryGetValue(Agent, out var value))
        {
            throw new XapiException(400, "The agent parameter is required.");
        }

        JsonDocument agent;
        try
        {
            agent = JsonDocument.Parse(value.ToString(), new JsonDocumentOptions { MaxDepth = 16, AllowDuplicateProperties = false });
        }
        catch (JsonException)
        {
            throw new XapiException(400, "agent must be a JSON Agent object.");
        }

        try
        {
            var root = agent.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !StatementValidator.ValidateAgentParameter(root).IsValid || Ifi.Normalise(root) is null)
            {
                throw new XapiException(400, "agent must be a valid Agent with exactly one inverse functional identifier.");
            }

            if (!allowGroup && root.TryGetProperty("objectType"u8, out var objectType) && objectType.ValueEquals("Group"u8))
            {
                throw new XapiException(400, "agent must be an Agent, not a Group.");
            }

            return agent;
        }
        catch
        {
            agent.Dispose();
            throw;
        }
    }

    private static string Truncate(string name) => name.Length > 40 ? name[..40] : name;
}
