using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using LearnerVault.Server.Auth;
using LearnerVault.Server.Options;
using LearnerVault.Server.Pipeline;
using LearnerVault.Server.Statements;
using LearnerVault.Xapi;
using Microsoft.Net.Http.Headers;

namespace LearnerVault.Server.Endpoints;

/// <summary>The xAPI Statements resource: PUT, POST, GET and HEAD on /xapi/statements.</summary>
public static class StatementsEndpoints
{
    /// <summary>Limits JSON nesting: deep enough for any real extension, shallow enough to bound work and stack.</summary>
    public const int MaxJsonDepth = 64;

    private static readonly JsonDocumentOptions ParseOptions = new() { MaxDepth = MaxJsonDepth, AllowDuplicateProperties = false };

    public static IEndpointRouteBuilder MapStatementsEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapMethods("/xapi/statements", [HttpMethods.Get, HttpMethods.Head], GetAsync);
        app.MapPut("/xapi/statements", PutAsync);
        app.MapPost("/xapi/statements", PostAsync);
        return app;
    }

    private static async Task PutAsync(HttpContext context, StatementService statements, ServerOptions options)
    {
        var client = context.Client();
        if (!Scopes.CanWriteStatements(client))
        {
            await XapiErrors.WriteAsync(context, 403, "The client has no scope to write statements.");
            return;
        }

        var query = context.Request.Query;
        if (query.Keys.Any(k => k != "statementId"))
        {
            await XapiErrors.WriteAsync(context, 400, "PUT /statements takes only the statementId parameter.");
            return;
        }

        if (!Guid.TryParseExact(query["statementId"].ToString(), "D", out var statementId))
        {
            await XapiErrors.WriteAsync(context, 400, "PUT /statements requires a statementId parameter holding a UUID.");
            return;
        }

        using var body = await StatementRequestBody.ReadAsync(context, options.MaxRequestBodyBytes);
        if (body.Document.RootElement.ValueKind != JsonValueKind.Object)
        {
            await XapiErrors.WriteAsync(context, 400, "PUT /statements takes a single statement object.");
            return;
        }

        await IngestAsync(context, statements, [body.Document.RootElement], statementId, body.Parts);
        if (!context.Response.HasStarted)
        {
            context.Response.StatusCode = StatusCodes.Status204NoContent;
        }
    }

    private static async Task PostAsync(HttpContext context, StatementService statements, ServerOptions options)
    {
        var client = context.Client();
        if (!Scopes.CanWriteStatements(client))
        {
            await XapiErrors.WriteAsync(context, 403, "The client has no scope to write statements.");
            return;
        }

        if (context.Request.Query.Count > 0)
        {
            await XapiErrors.WriteAsync(context, 400, "POST /statements takes no query parameters.");
            return;
        }

        using var body = await StatementRequestBody.ReadAsync(context, options.MaxRequestBodyBytes);
        var root = body.Document.RootElement;
        IReadOnlyList<JsonElement> batch = root.ValueKind switch
        {
            JsonValueKind.Object => [root],
            JsonValueKind.Array => [.. root.EnumerateArray()],
            _ => throw new XapiException(400, "POST /statements takes a statement object or an array of statements."),
        };

        var ids = await IngestAsync(context, statements, batch, null, body.Parts);
        if (ids is null)
        {
            return;
        }

        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "application/json; charset=utf-8";
        await using var writer = new Utf8JsonWriter(context.Response.Body);
        writer.WriteStartArray();
        foreach (var id in ids)
        {
            writer.WriteStringValue(id.ToString("D"));
        }

        writer.WriteEndArray();
    }

    private static async Task<IReadOnlyList<Guid>?> IngestAsync(
        HttpContext context, StatementService statements, IReadOnlyList<JsonElement> batch, Guid? putId, AttachmentParts? parts)
    {
        try
        {
            return await statements.IngestAsync(context.Access(), batch, context.Xapi().Version, putId, parts, context.RequestAborted);
        }
        catch (StatementRejectedException ex)
        {
            await XapiErrors.WriteAsync(context, ex.Status, ex.Message);
            return null;
        }
    }

    private static async Task GetAsync(HttpContext context, StatementService statements, TenantCrypto crypto, ServerOptions options)
    {
        var client = context.Client();
        if (!Scopes.CanReadOwnStatements(client))
        {
            await XapiErrors.WriteAsync(context, 403, "The client has no scope to read statements.");
            return;
        }

        var access = context.Access();
        var request = StatementQueryParser.Parse(context.Request.Query, client.TenantId, crypto, options.MaxPageSize);
        var languages = AcceptLanguages(context.Request);

        if (request.StatementId is { } || request.VoidedStatementId is { })
        {
            var wantVoided = request.VoidedStatementId is not null;
            var id = request.StatementId ?? request.VoidedStatementId!.Value;
            var found = await statements.GetAsync(access, id, wantVoided, context.RequestAborted);
            if (found is null)
            {
                await XapiErrors.WriteAsync(context, 404, "No such statement.");
                return;
            }

            context.Response.Headers.LastModified = found.Stored.Stored.ToString("R");
            var formatted = StatementFormatter.Format(found.Statement, request.Format, languages);
            if (request.Attachments)
            {
                var carried = HttpMethods.IsHead(context.Request.Method)
                    ? []
                    : await statements.Attachments.ReadAsync(client.TenantId, [(found.Statement, found.Stored.Sequence)], context.RequestAborted);
                await WriteMultipartAsync(context, formatted, static (writer, json) => json.WriteTo(writer), carried);
                return;
            }

            context.Response.ContentType = "application/json; charset=utf-8";
            await using var single = new Utf8JsonWriter(context.Response.Body);
            formatted.WriteTo(single);
            return;
        }

        var page = await statements.QueryAsync(access, request.Query, context.RequestAborted);

        DateTimeOffset? newest = null;
        var results = new List<JsonObject>(page.Statements.Count);
        var opened = request.Attachments ? new List<(JsonObject, long)>(page.Statements.Count) : null;
        foreach (var (stored, statement) in page.Statements)
        {
            opened?.Add((statement, stored.Sequence));
            results.Add(StatementFormatter.Format(statement, request.Format, languages));
            newest = newest is null || stored.Stored > newest ? stored.Stored : newest;
        }

        if (newest is { } lastModified)
        {
            context.Response.Headers.LastModified = lastModified.ToString("R");
        }

        // A page the gate shortened still leads on: the client follows more as usual.
        var more = page.ContinueAfter is { } after
            ? XapiPipeline.Prefix + "/statements?more=" + MoreToken.Encode(request.QueryString, after)
            : string.Empty;
        if (opened is not null)
        {
            var carried = HttpMethods.IsHead(context.Request.Method)
                ? []
                : await statements.Attachments.ReadAsync(client.TenantId, opened, context.RequestAborted);
            await WriteMultipartAsync(context, (results, more), static (writer, result) => WriteStatementResult(writer, result.results, result.more), carried);
            return;
        }

        context.Response.ContentType = "application/json; charset=utf-8";
        await using var json = new Utf8JsonWriter(context.Response.Body);
        WriteStatementResult(json, results, more);
    }

    private static void WriteStatementResult(Utf8JsonWriter writer, List<JsonObject> statements, string more)
    {
        writer.WriteStartObject();
        writer.WriteStartArray("statements");
        foreach (var statement in statements)
        {
            statement.WriteTo(writer);
        }

        writer.WriteEndArray();
        writer.WriteString("more", more);
        writer.WriteEndObject();
    }

    /// <summary>
    /// The multipart/mixed response of <c>attachments=true</c> (Communication 1.5.2): the JSON first, then one part per
    /// attachment, in binary. A HEAD request gets the same headers and no body.
    /// </summary>
    private static async Task WriteMultipartAsync<TJson>(HttpContext context, TJson json, Action<Utf8JsonWriter, TJson> writeJson, IReadOnlyList<AttachmentContent> attachments)
    {
        var boundary = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        context.Response.ContentType = "multipart/mixed; boundary=" + boundary;
        if (HttpMethods.IsHead(context.Request.Method))
        {
            return;
        }

        var body = context.Response.Body;
        var cancellationToken = context.RequestAborted;
        await body.WriteAsync(Encoding.ASCII.GetBytes($"--{boundary}\r\nContent-Type: application/json\r\n\r\n"), cancellationToken);
        await using (var writer = new Utf8JsonWriter(body))
        {
            writeJson(writer, json);
        }

        foreach (var attachment in attachments)
        {
            var header = $"\r\n--{boundary}\r\nContent-Type: {HeaderSafe(attachment.ContentType)}\r\nContent-Transfer-Encoding: binary\r\n"
                + $"X-Experience-API-Hash: {attachment.Sha2}\r\n\r\n";
            await body.WriteAsync(Encoding.ASCII.GetBytes(header), cancellationToken);
            await body.WriteAsync(attachment.Content, cancellationToken);
        }

        await body.WriteAsync(Encoding.ASCII.GetBytes($"\r\n--{boundary}--\r\n"), cancellationToken);
    }

    /// <summary>A stored content type goes into a part header only if it cannot break out of it.</summary>
    private static string HeaderSafe(string contentType) =>
        contentType.Length > 0 && contentType.All(c => c is >= ' ' and <= '~') ? contentType : "application/octet-stream";

    /// <summary>Reads a JSON body, bounded in size (by Kestrel) and depth; anything malformed is a 400. The document reads
    /// the rented body in place: dispose the document first, then the body.</summary>
    internal static async Task<(JsonDocument Document, RentedBody Body)> ReadJsonAsync(HttpContext context)
    {
        if (!MediaTypeHeaderValue.TryParse(context.Request.ContentType, out var mediaType)
            || !mediaType.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase))
        {
            throw new XapiException(400, "The request body must be application/json (or, for statements, multipart/mixed).");
        }

        var body = await RequestBody.RentAllAsync(context.Request, context.RequestAborted);
        try
        {
            return (ParseJson(body.Memory), body);
        }
        catch
        {
            body.Dispose();
            throw;
        }
    }

    /// <summary>Parses JSON bounded in depth, after checking it is UTF-8; anything malformed is a 400.</summary>
    internal static JsonDocument ParseJson(ReadOnlyMemory<byte> body)
    {
        if (!System.Text.Unicode.Utf8.IsValid(body.Span))
        {
            throw new XapiException(400, "The request body is not valid UTF-8.");
        }

        try
        {
            return JsonDocument.Parse(body, ParseOptions);
        }
        catch (JsonException)
        {
            throw new XapiException(400, "The request body is not valid JSON (or nests deeper than allowed, or repeats a property).");
        }
    }

    /// <summary>The Accept-Language header's tags, most preferred first.</summary>
    private static List<string> AcceptLanguages(HttpRequest request) =>
        StringWithQualityHeaderValue.TryParseList(request.Headers.AcceptLanguage, out var values)
            ? [.. values.OrderByDescending(v => v.Quality ?? 1).Select(v => v.Value.ToString()).Where(v => v != "*")]
            : [];
}
