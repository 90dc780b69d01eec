using System.Text.Json;
using LearnerVault.Server.Auth;
using LearnerVault.Server.Pipeline;
using LearnerVault.Storage;
using LearnerVault.Xapi;

namespace LearnerVault.Server.Documents;

/// <summary>
/// The HTTP behaviour the three document resources share (xAPI Communication 2.2 and 3.1): scopes, parameters,
/// preconditions and status codes. Each resource's endpoint class maps its routes onto these handlers with its kind.
/// </summary>
public static class DocumentResource
{
    private const string DefaultContentType = "application/octet-stream";

    public static async Task GetAsync(HttpContext context, DocumentService documents, DocumentKind kind)
    {
        var access = Authorise(context, kind, write: false);
        var request = DocumentParameters.Parse(context.Request.Query, kind, idRequired: false, isGet: true);
        var address = request.Address;
        if (address.DocumentId is null)
        {
            var list = await documents.ListAsync(access, address, anyRegistration: address.Registration is null, request.Since, context.RequestAborted);
            if (list.LastModified is { } lastModified)
            {
                context.Response.Headers.LastModified = lastModified.ToString("R");
            }

            var json = JsonSerializer.SerializeToUtf8Bytes(list.Ids);
            await WriteBodyAsync(context, "application/json; charset=utf-8", json);
            return;
        }

        var document = await documents.GetAsync(access, address, context.RequestAborted);
        if (document is null)
        {
            throw new XapiException(404, "No such document.");
        }

        context.Response.Headers.ETag = DocumentETag.Quote(document.ETag);
        context.Response.Headers.LastModified = document.Updated.ToString("R");
        await WriteBodyAsync(context, document.ContentType, document.Content);
    }

    public static async Task PutAsync(HttpContext context, DocumentService documents, DocumentKind kind)
    {
        var access = Authorise(context, kind, write: true);
        var request = DocumentParameters.Parse(context.Request.Query, kind, idRequired: true, isGet: false);
        var content = await RequestBody.ReadAllAsync(context.Request, context.RequestAborted);
        var conditions = RequestPreconditions.From(context.Request);
        if (!conditions.Any && kind != DocumentKind.State)
        {
            // xAPI Communication 3.1: a PUT to a profile resource MUST carry If-Match or If-None-Match; without either,
            // an existing document is a 409 and a new one a 400 (as the 1.0.3 conformance suite checks). Nothing is written.
            var exists = await documents.ExistsAsync(access, request.Address, context.RequestAborted);
            throw exists ? Conflict() : new XapiException(400, "A PUT to a profile resource requires an If-Match or If-None-Match header.");
        }

        // 1.0.3 lets State be overwritten without a precondition ("state conflicts are unlikely"); 2.0 answers a PUT
        // without one on an existing State document with 409 as for profiles (the 2.0 conformance suite checks this).
        var conflictIfExists = kind == DocumentKind.State && context.Xapi().Version == XapiVersion.V2_0_0;
        var outcome = await documents.PutAsync(
            access, request.Address, ContentType(context), content, conditions, conflictIfExists, context.RequestAborted);
        Answer(context, outcome);
    }

    public static async Task PostAsync(HttpContext context, DocumentService documents, DocumentKind kind)
    {
        var access = Authorise(context, kind, write: true);
        var request = DocumentParameters.Parse(context.Request.Query, kind, idRequired: true, isGet: false);
        var content = await RequestBody.ReadAllAsync(context.Request, context.RequestAborted);
        var outcome = await documents.PostAsync(
            access, request.Address, ContentType(context), content, RequestPreconditions.From(context.Request), context.RequestAborted);
        Answer(context, outcome);
    }

    public static async Task DeleteAsync(HttpContext context, DocumentService documents, DocumentKind kind)
    {
        var access = Authorise(context, kind, write: true);
        // Only State deletes a whole context; the profile resources name one document.
        var request = DocumentParameters.Parse(context.Request.Query, kind, idRequired: kind != DocumentKind.State, isGet: false);
        if (request.Address.DocumentId is null)
        {
            await documents.DeleteAllAsync(access, request.Address, context.RequestAborted);
            context.Response.StatusCode = StatusCodes.Status204NoContent;
            return;
        }

        var outcome = await documents.DeleteAsync(access, request.Address, RequestPreconditions.From(context.Request), context.RequestAborted);
        Answer(context, new DocumentWriteOutcome(outcome, null));
    }

    /// <summary>The scope check; the access decision per learner follows in <see cref="DocumentService"/>.</summary>
    private static Access.ClientAccess Authorise(HttpContext context, DocumentKind kind, bool write)
    {
        var client = context.Client();
        var allowed = (kind, write) switch
        {
            (DocumentKind.State, true) => Scopes.CanUseState(client),
            (DocumentKind.State, false) => Scopes.CanReadState(client),
            (_, true) => Scopes.CanUseProfiles(client),
            _ => Scopes.CanReadProfiles(client),
        };

        return allowed
            ? context.Access()
            : throw new XapiException(403, kind == DocumentKind.State
                ? "The client has no scope to use the State resource."
                : "The client has no scope to use the profile resources.");
    }

    private static void Answer(HttpContext context, DocumentWriteOutcome outcome)
    {
        switch (outcome.Outcome)
        {
            case DocumentOutcome.Created or DocumentOutcome.Replaced or DocumentOutcome.Deleted or DocumentOutcome.NotFound:
                if (outcome.ETag is { } etag)
                {
                    context.Response.Headers.ETag = DocumentETag.Quote(etag);
                }

                // Deleting a document that is not there leaves the LRS as asked: 204, as for any DELETE.
                context.Response.StatusCode = StatusCodes.Status204NoContent;
                break;
            case DocumentOutcome.PreconditionFailed:
                throw new XapiException(412, "The document does not match the If-Match or If-None-Match precondition; nothing was changed.");
            case DocumentOutcome.Conflict:
                throw Conflict();
            default:
                throw new InvalidOperationException("Unexpected document outcome.");
        }
    }

    private static XapiException Conflict() => new(409,
        "The document already exists and the request has neither If-Match nor If-None-Match. Fetch the document, "
        + "check its current state, and send If-Match with its ETag to replace it. Nothing was changed.");

    private static string ContentType(HttpContext context)
    {
        var contentType = context.Request.ContentType;
        return string.IsNullOrWhiteSpace(contentType) ? DefaultContentType : contentType.Trim();
    }

    /// <summary>A GET writes the body; a HEAD sends the same headers (Content-Length included) and no body.</summary>
    private static async Task WriteBodyAsync(HttpContext context, string contentType, byte[] body)
    {
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = contentType;
        context.Response.ContentLength = body.Length;
        if (!HttpMethods.IsHead(context.Request.Method))
        {
            await context.Response.Body.WriteAsync(body, context.RequestAborted);
        }
    }
}
