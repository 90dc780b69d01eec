using System.Globalization;
using LearnerVault.Privacy.Access;
using LearnerVault.Server.Auth;
using LearnerVault.Server.Options;
using LearnerVault.Storage;
using LearnerVault.Xapi;

namespace LearnerVault.Server.Pipeline;

/// <summary>
/// The steps every xAPI request passes, in order: alternate syntax → version header → authentication → purpose. Errors
/// are answered here with the status the specification names, and the negotiated version is echoed on every
/// response, errors included.
/// </summary>
public sealed class XapiPipeline(RequestDelegate next, ClientAuthenticator authenticator, IStatementStore statements, ServerOptions options)
{
    public const string Prefix = "/xapi";

    public async Task InvokeAsync(HttpContext context)
    {
        if (!context.Request.Path.StartsWithSegments(Prefix, StringComparison.Ordinal) || HttpMethods.IsOptions(context.Request.Method))
        {
            await next(context);
            return;
        }

        var xapi = context.Xapi();
        xapi.Version = options.XapiVersions[0];
        context.Response.OnStarting(static state =>
        {
            var ctx = (HttpContext)state;
            ctx.Response.Headers[XapiVersions.HeaderName] = ctx.Xapi().Version.ToHeader();
            return Task.CompletedTask;
        }, context);

        try
        {
            var alternate = await AlternateRequestSyntax.TryRewriteAsync(context);
            if (alternate is { } error)
            {
                await XapiErrors.WriteAsync(context, error.Status, error.Message);
                return;
            }

            var isAbout = context.Request.Path.Equals(Prefix + "/about", StringComparison.Ordinal);
            var isStatementRead = context.Request.Path.Equals(Prefix + "/statements", StringComparison.Ordinal)
                && (HttpMethods.IsGet(context.Request.Method) || HttpMethods.IsHead(context.Request.Method));

            var header = context.Request.Headers[XapiVersions.HeaderName].ToString();
            if (XapiVersions.TryNegotiate(header, out var version) && options.XapiVersions.Contains(version))
            {
                xapi.Version = version;
            }
            else if (!isAbout)
            {
                await AddConsistentThroughAsync(context, isStatementRead, null);
                await XapiErrors.WriteAsync(context, 400, string.IsNullOrEmpty(header)
                    ? "The X-Experience-API-Version header is required."
                    : "The X-Experience-API-Version header names an unsupported version.");
                return;
            }

            if (!isAbout)
            {
                var client = await authenticator.AuthenticateAsync(context.Request.Headers.Authorization.ToString(), context.RequestAborted);
                if (client is null)
                {
                    await AddConsistentThroughAsync(context, isStatementRead, null);
                    await XapiErrors.WriteAsync(context, 401, "Valid client credentials are required (HTTP Basic).");
                    return;
                }

                xapi.Client = client;
                // The purpose every access of this request is decided and logged for: refused here (400/403) when the
                // header names no purpose or one the client did not declare, before anything is read or written.
                var requested = context.Request.Headers[Access.ClientAccess.PurposeHeader].ToString();
                if (Access.ClientAccess.UndeclaredPurpose(client, requested) is { } undeclared && GatedAction(context.Request) is { } action)
                {
                    // Asking for learner data for a purpose the client never declared is a denial like any other: it is
                    // decided (purpose_not_declared) and logged, then refused below.
                    var principal = Principal.Client(client.TenantId, client.Key, Access.ClientAccess.DeclaredPurposes(client));
                    await context.RequestServices.GetRequiredService<Access.IAccessGate>()
                        .DecideRecordsAsync(principal, action, undeclared, [(byte[]?)null], context.RequestAborted);
                }

                xapi.Access = Access.ClientAccess.For(client, requested);
                await AddConsistentThroughAsync(context, isStatementRead, client.TenantId);
            }

            await next(context);
        }
        catch (XapiException ex)
        {
            await XapiErrors.WriteAsync(context, ex.Status, ex.Message);
        }
        catch (BadHttpRequestException ex)
        {
            await XapiErrors.WriteAsync(context, ex.StatusCode, "The request could not be read.");
        }
    }

    /// <summary>What a request to a gated resource asks to do with learner data; null for the resources about no learner
    /// (About, Activities, Activity Profile).</summary>
    private static AccessAction? GatedAction(HttpRequest request)
    {
        var path = request.Path;
        var reads = HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method);
        if (path.StartsWithSegments(Prefix + "/statements", StringComparison.Ordinal))
        {
            return reads ? AccessAction.StatementsRead : AccessAction.StatementsWrite;
        }

        if (path.StartsWithSegments(Prefix + "/activities/state", StringComparison.Ordinal)
            || path.StartsWithSegments(Prefix + "/agents/profile", StringComparison.Ordinal))
        {
            return reads ? AccessAction.DocumentsRead : AccessAction.DocumentsWrite;
        }

        return path.Equals(Prefix + "/agents", StringComparison.Ordinal) ? AccessAction.StatementsRead : null;
    }

    private async Task AddConsistentThroughAsync(HttpContext context, bool isStatementRead, Guid? tenantId)
    {
        if (!isStatementRead)
        {
            return;
        }

        DateTimeOffset? through = tenantId is { } tenant ? await statements.ConsistentThroughAsync(tenant, context.RequestAborted) : null;
        context.Response.Headers["X-Experience-API-Consistent-Through"] =
            XapiTime.Format(through ?? DateTimeOffset.UnixEpoch);
    }
}

/// <summary>How the LRS writes the times it sets: UTC, ISO 8601, full precision so that since/until round-trip.</summary>
public static class XapiTime
{
    public static string Format(DateTimeOffset value) =>
        value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture);
}
