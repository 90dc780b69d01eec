using System.Globalization;
using System.Text;
using System.Text.Json;
using LearnerVault.Server.Pipeline;
using LearnerVault.Storage;
using LearnerVault.Xapi;
using Microsoft.AspNetCore.WebUtilities;

namespace LearnerVault.Server.Statements;

/// <summary>A parsed GET /statements request: either a single statement or a filtered query.</summary>
public sealed record StatementRequest(
    Guid? StatementId,
    Guid? VoidedStatementId,
    StatementQuery Query,
    StatementFormat Format,
    bool Attachments,
    string QueryString);

/// <summary>
/// Parses and checks the Statements resource's GET parameters. Parameter names are case-sensitive, unknown ones
/// are refused, and every value is checked, so that a malformed query is a 400 and never a silent full scan.
/// </summary>
public static class StatementQueryParser
{
    private static readonly HashSet<string> Known = new(StringComparer.Ordinal)
    {
        "statementId", "voidedStatementId", "agent", "verb", "activity", "registration", "related_activities",
        "related_agents", "since", "until", "limit", "format", "attachments", "ascending", "more",
    };

    private static readonly HashSet<string> AllowedWithId = new(StringComparer.Ordinal) { "statementId", "voidedStatementId", "format", "attachments" };

    public static StatementRequest Parse(IQueryCollection query, Guid tenantId, TenantCrypto crypto, int maxPage)
    {
        foreach (var (name, values) in query)
        {
            if (!Known.Contains(name))
            {
                throw new XapiException(400, $"Unknown query parameter '{Truncate(name)}'.");
            }

            if (values.Count > 1)
            {
                throw new XapiException(400, $"The parameter '{name}' is given more than once.");
            }
        }

        if (query.TryGetValue("more", out var more))
        {
            if (query.Count > 1)
            {
                throw new XapiException(400, "The more parameter cannot be combined with other parameters.");
            }

            var (original, after) = MoreToken.Decode(more.ToString());
            var originalQuery = new QueryCollection(QueryHelpers.ParseQuery(original));
            if (originalQuery.ContainsKey("more"))
            {
                throw new XapiException(400, "The more token is not valid.");
            }

            var parsed = Parse(originalQuery, tenantId, crypto, maxPage);
            return parsed with { Query = parsed.Query with { After = after } };
        }

        var statementId = OptionalGuid(query, "statementId");
        var voidedId = OptionalGuid(query, "voidedStatementId");
        if (statementId is not null || voidedId is not null)
        {
            if (statementId is not null && voidedId is not null)
            {
                throw new XapiException(400, "statementId and voidedStatementId cannot be used together.");
            }

            foreach (var name in query.Keys)
            {
                if (!AllowedWithId.Contains(name))
                {
                    throw new XapiException(400, $"The parameter '{name}' cannot be used with statementId or voidedStatementId.");
                }
            }
        }

        var format = query.TryGetValue("format", out var f) ? f.ToString() switch
        {
            "exact" => StatementFormat.Exact,
            "ids" => StatementFormat.Ids,
            "canonical" => StatementFormat.Canonical,
            _ => throw new XapiException(400, "format must be ids, exact or canonical."),
        } : StatementFormat.Exact;

        var attachments = Bool(query, "attachments");
        var relatedAgents = Bool(query, "related_agents");
        var relatedActivities = Bool(query, "related_activities");

        var terms = new List<IndexTerm>();
        if (query.TryGetValue("agent", out var agentText))
        {
            string? ifi;
            try
            {
                using var doc = JsonDocument.Parse(agentText.ToString(), new JsonDocumentOptions { MaxDepth = 16 });
                ifi = doc.RootElement.ValueKind == JsonValueKind.Object ? Ifi.Normalise(doc.RootElement) : null;
            }
            catch (JsonException)
            {
                throw new XapiException(400, "agent must be a JSON Agent or identified Group.");
            }

            if (ifi is null)
            {
                throw new XapiException(400, "agent must carry exactly one inverse functional identifier.");
            }

            terms.Add(crypto.Term(tenantId, relatedAgents ? TermKind.RelatedAgent : TermKind.Agent, ifi));
        }

        if (query.TryGetValue("verb", out var verb))
        {
            terms.Add(crypto.Term(tenantId, TermKind.Verb, Iri(verb.ToString(), "verb")));
        }

        if (query.TryGetValue("activity", out var activity))
        {
            terms.Add(crypto.Term(tenantId, relatedActivities ? TermKind.RelatedActivity : TermKind.Activity, Iri(activity.ToString(), "activity")));
        }

        if (OptionalGuid(query, "registration") is { } registration)
        {
            terms.Add(crypto.Term(tenantId, TermKind.Registration, TermValues.Registration(registration)));
        }

        var limit = 0;
        if (query.TryGetValue("limit", out var limitText)
            && (!int.TryParse(limitText.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit < 0))
        {
            throw new XapiException(400, "limit must be a non-negative integer.");
        }

        var since = OptionalTime(query, "since");
        var until = OptionalTime(query, "until");

        return new StatementRequest(
            statementId,
            voidedId,
            new StatementQuery
            {
                Terms = terms,
                Since = since,
                Until = until,
                Limit = limit == 0 ? maxPage : Math.Min(limit, maxPage),
                Ascending = Bool(query, "ascending"),
            },
            format,
            attachments,
            QueryString.Create(query.Where(p => p.Key != "more")).ToUriComponent().TrimStart('?'));
    }

    private static bool Bool(IQueryCollection query, string name)
    {
        if (!query.TryGetValue(name, out var value))
        {
            return false;
        }

        return value.ToString() switch
        {
            "true" => true,
            "false" => false,
            _ => throw new XapiException(400, $"{name} must be true or false."),
        };
    }

    private static Guid? OptionalGuid(IQueryCollection query, string name)
    {
        if (!query.TryGetValue(name, out var value))
        {
            return null;
        }

        if (!Guid.TryParseExact(value.ToString(), "D", out var guid))
        {
            throw new XapiException(400, $"{name} must be a UUID.");
        }

        return guid;
    }

    private static DateTimeOffset? OptionalTime(IQueryCollection query, string name)
    {
        if (!query.TryGetValue(name, out var value))
        {
            return null;
        }

        if (!QueryTimestamp.TryParse(value.ToString(), out var time))
        {
            throw new XapiException(400, $"{name} must be an ISO 8601 timestamp with a time zone.");
        }

        return time;
    }

    private static string Iri(string value, string name)
    {
        if (!Uri.TryCreate(value, UriKind.Absolute, out _))
        {
            throw new XapiException(400, $"{name} must be an IRI.");
        }

        return value;
    }

    private static string Truncate(string name) => name.Length > 40 ? name[..40] : name;
}

/// <summary>
/// The continuation token of a paged query: the original parameters and the last sequence returned. It grants
/// nothing: the reader's scopes are applied again on every page.
/// </summary>
public static class MoreToken
{
    public static string Encode(string queryString, long after) =>
        Base64Url(Encoding.UTF8.GetBytes(after.ToString(CultureInfo.InvariantCulture) + "|" + queryString));

    public static (string Query, long After) Decode(string token)
    {
        try
        {
            var text = Encoding.UTF8.GetString(FromBase64Url(token));
            var bar = text.IndexOf('|', StringComparison.Ordinal);
            if (bar > 0 && long.TryParse(text.AsSpan(0, bar), NumberStyles.None, CultureInfo.InvariantCulture, out var after))
            {
                return (text[(bar + 1)..], after);
            }
        }
        catch (FormatException)
        {
        }

        throw new XapiException(400, "The more token is not valid.");
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static byte[] FromBase64Url(string text)
    {
        var s = text.Replace('-', '+').Replace('_', '/');
        s += (s.Length % 4) switch { 2 => "==", 3 => "=", 0 => string.Empty, _ => throw new FormatException() };
        return Convert.FromBase64String(s);
    }
}
