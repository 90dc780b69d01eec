using System.Text.Json;
using LearnerVault.Server.Accounts;
using LearnerVault.Server.Administration;
using LearnerVault.Server.Options;
using LearnerVault.Storage.People;

namespace LearnerVault.Server.Api;

/// <summary>
/// The steps every admin-API request passes: authenticate (bearer token or session cookie), refuse a cookie-borne
/// unsafe request from another origin (CSRF), run the endpoint, and turn what it refused into a problem document.
/// The xAPI rules (version header, HTTP Basic) never apply here.
/// </summary>
public sealed partial class ApiPipeline(RequestDelegate next, AccountService accounts, ServerOptions options, ILogger<ApiPipeline> logger)
{
    public const string Prefix = "/api";

    /// <summary>Sent by a same-origin script when the browser sends no Origin header; a cross-origin page cannot add it
    /// without a CORS preflight, which credentialed requests to /api never pass.</summary>
    public const string CsrfHeader = "X-LearnerVault-CSRF";

    public const string SecureCookieName = "__Host-lv_session";
    public const string PlainCookieName = "lv_session";

    public static string CookieName(HttpRequest request) => request.IsHttps ? SecureCookieName : PlainCookieName;

    public async Task InvokeAsync(HttpContext context)
    {
        var path = context.Request.Path;
        if (!path.StartsWithSegments(Prefix, StringComparison.Ordinal))
        {
            await next(context);
            return;
        }

        context.Response.Headers.CacheControl = "no-store";
        try
        {
            if (!IsAnonymous(context.Request))
            {
                var caller = await AuthenticateAsync(context);
                if (caller is null)
                {
                    context.Response.Headers.WWWAuthenticate = "Bearer realm=\"LearnerVault\"";
                    throw ApiProblems.Unauthenticated();
                }

                if (caller.ViaCookie && !IsSafe(context.Request.Method) && !IsSameOrigin(context.Request))
                {
                    LogCrossOrigin(logger, context.Request.Method);
                    throw new ApiProblemException(
                        403, "cross-origin", "Cross-origin request refused.", $"a request with the session cookie must come from this origin or carry {CsrfHeader}");
                }

                context.Features.Set(caller);
            }

            await next(context);
            if (!context.Response.HasStarted && context.Response.StatusCode is StatusCodes.Status404NotFound or StatusCodes.Status405MethodNotAllowed)
            {
                // No route matched (an unknown path, an id that is not a UUID, a method the resource lacks): a problem
                // document like every other /api error, not an empty body.
                await ApiProblems.WriteAsync(context, context.Response.StatusCode == StatusCodes.Status404NotFound
                    ? ApiProblems.NotFound("resource")
                    : new ApiProblemException(405, "method-not-allowed", "This resource does not take this method.", $"see {ApiDocument.Route}"));
            }
        }
        catch (ApiProblemException problem)
        {
            await ApiProblems.WriteAsync(context, problem);
        }
        catch (AccountException ex)
        {
            await ApiProblems.WriteAsync(context, ApiProblems.Invalid(ex.Message));
        }
        catch (AdministrationException ex)
        {
            await ApiProblems.WriteAsync(context, ApiProblems.Invalid(ex.Message));
        }
        catch (PrivacyStoreConflictException)
        {
            await ApiProblems.WriteAsync(context, ApiProblems.Conflict("a login name or an identifier given is already taken in this tenant"));
        }
        catch (BadHttpRequestException ex)
        {
            // The framework's message may quote the body; a fixed sentence instead.
            await ApiProblems.WriteAsync(context, ex.StatusCode == 413
                ? new ApiProblemException(413, "too-large", "The request body is too large.")
                : ApiProblems.BadRequest("the request body or a parameter could not be read: send the JSON the API describes (/api/openapi.json)"));
        }
        catch (JsonException)
        {
            await ApiProblems.WriteAsync(context, ApiProblems.BadRequest("the request body is not the JSON the API describes (/api/openapi.json)"));
        }
    }

    private static bool IsAnonymous(HttpRequest request) =>
        (HttpMethods.IsPost(request.Method) && request.Path.Equals(Prefix + "/auth/login", StringComparison.Ordinal))
        || (HttpMethods.IsGet(request.Method) && request.Path.Equals(Prefix + "/openapi.json", StringComparison.Ordinal));

    private static bool IsSafe(string method) => HttpMethods.IsGet(method) || HttpMethods.IsHead(method) || HttpMethods.IsOptions(method);

    private static bool IsSameOrigin(HttpRequest request)
    {
        var origin = request.Headers.Origin.ToString();
        if (origin.Length > 0)
        {
            return string.Equals(origin, $"{request.Scheme}://{request.Host}", StringComparison.OrdinalIgnoreCase);
        }

        return request.Headers.ContainsKey(CsrfHeader);
    }

    private async Task<ApiCaller?> AuthenticateAsync(HttpContext context)
    {
        var authorization = context.Request.Headers.Authorization.ToString();
        if (authorization.Length > 0)
        {
            if (!authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            {
                return null;
            }

            var bearer = await accounts.AuthenticateAsync(authorization["Bearer ".Length..].Trim(), Storage.People.AuthTokenKind.Bearer, context.RequestAborted);
            return bearer is { } b ? new ApiCaller(b.Person, b.Token, viaCookie: false) : null;
        }

        if (!context.Request.Cookies.TryGetValue(CookieName(context.Request), out var cookie) || string.IsNullOrEmpty(cookie))
        {
            return null;
        }

        var session = await accounts.AuthenticateAsync(cookie, Storage.People.AuthTokenKind.Session, context.RequestAborted);
        if (session is not { } s)
        {
            return null;
        }

        // Sliding idle timeout without rewriting a token row: past half its idle span, a session is continued under a
        // new token (same start, so the absolute lifetime still counts from login); the old one runs out on its own.
        var now = options.TimeProvider.GetUtcNow();
        var token = s.Token;
        if (token.Expires - now < options.SessionIdleTimeout / 2)
        {
            var expires = accounts.SessionExpiry(token.Created, now);
            if (expires > token.Expires)
            {
                var (fresh, record) = await accounts.IssueTokenAsync(
                    token.TenantId, token.PersonId, Storage.People.AuthTokenKind.Session, null, token.Created, expires, context.RequestAborted);
                SetSessionCookie(context, fresh, expires);
                token = record;
            }
        }

        return new ApiCaller(s.Person, token, viaCookie: true);
    }

    public static void SetSessionCookie(HttpContext context, string token, DateTimeOffset expires) =>
        context.Response.Cookies.Append(CookieName(context.Request), token, new CookieOptions
        {
            HttpOnly = true,
            Secure = context.Request.IsHttps,
            SameSite = SameSiteMode.Strict,
            Path = "/",
            Expires = expires,
            IsEssential = true,
        });

    public static void ClearSessionCookie(HttpContext context) =>
        context.Response.Cookies.Delete(CookieName(context.Request), new CookieOptions
        {
            HttpOnly = true,
            Secure = context.Request.IsHttps,
            SameSite = SameSiteMode.Strict,
            Path = "/",
        });

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refused a cookie-authenticated {Method} request from another origin")]
    private static partial void LogCrossOrigin(ILogger logger, string method);
}
