using LearnerVault.Server.Accounts;
using LearnerVault.Server.Api;
using LearnerVault.Server.Options;
using LearnerVault.Storage;
using LearnerVault.Storage.People;

namespace LearnerVault.Server.Endpoints.Api;

/// <summary><c>/api/auth</c>: login and logout (session cookie), and bearer tokens for scripts.</summary>
public static class AuthEndpoints
{
    public const int MaxTokenDays = 365;

    public sealed record LoginRequest(Guid? Tenant, string? Login, string? Password, string? Totp);

    public sealed record TokenRequest(string? Label, int? ExpiresInDays);

    public sealed record IssuedToken(string Id, string Token, string? Label, DateTimeOffset Expires);

    public static RouteGroupBuilder MapAuthEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/auth").WithTags("auth");
        group.MapPost("/login", LoginAsync).WithName("login")
            .WithSummary("Log in with login name, password and (when enrolled) a TOTP code; sets the session cookie");
        group.MapPost("/logout", LogoutAsync).WithName("logout").WithSummary("End the current session (or revoke the bearer token used)");
        group.MapPost("/tokens", CreateTokenAsync).WithName("createToken").WithSummary("Create a bearer token, shown once");
        group.MapGet("/tokens", ListTokensAsync).WithName("listTokens").WithSummary("The caller's tokens (never the tokens themselves)");
        group.MapDelete("/tokens/{id}", RevokeTokenAsync).WithName("revokeToken").WithSummary("Revoke one of the caller's tokens by its id");
        return group;
    }

    private static async Task<IResult> LoginAsync(
        LoginRequest? request, HttpContext context, AccountService accounts, IClientStore clients, AccountCrypto crypto, CancellationToken ct)
    {
        if (request is null || string.IsNullOrEmpty(request.Login) || request.Password is null)
        {
            throw ApiProblems.BadRequest("give login and password");
        }

        // A tenant id from the request is looked up first: logging in to a made-up tenant must not create its keys.
        var tenants = await clients.ListTenantsAsync(ct);
        Guid tenantId;
        if (request.Tenant is { } given)
        {
            tenantId = given;
        }
        else
        {
            tenantId = tenants.Count == 1
                ? tenants[0].Id
                : throw new ApiProblemException(400, "tenant-required", "Name the tenant.", "this installation has several tenants: give tenant (its id)");
        }

        var (failure, person, _) = tenants.Any(t => t.Id == tenantId)
            ? await accounts.LoginAsync(tenantId, request.Login, request.Password, request.Totp, ct)
            : accounts.RejectUnknownTenant(request.Password);
        if (failure == LoginFailure.TotpRequired)
        {
            throw new ApiProblemException(401, "totp-required", "A one-time code is required.", "give totp: the code from your authenticator app");
        }

        if (person is null)
        {
            throw new ApiProblemException(401, "login-failed", "Login failed.", "wrong login or password, or the account is locked or disabled");
        }

        var (token, record) = await accounts.StartSessionAsync(person, ct);
        ApiPipeline.SetSessionCookie(context, token, record.Expires);
        return TypedResults.Ok(person.View(crypto));
    }

    private static async Task<IResult> LogoutAsync(HttpContext context, IPrivacyStore store, ServerOptions options, CancellationToken ct)
    {
        var caller = context.Caller();
        await store.RevokeTokenAsync(caller.Token.TokenHash, options.TimeProvider.GetUtcNow(), ct);
        ApiPipeline.ClearSessionCookie(context);
        return TypedResults.NoContent();
    }

    private static async Task<IResult> CreateTokenAsync(
        TokenRequest? request, HttpContext context, AccountService accounts, ServerOptions options, CancellationToken ct)
    {
        var caller = context.Caller();
        var days = request?.ExpiresInDays ?? 30;
        if (days is < 1 or > MaxTokenDays)
        {
            throw ApiProblems.Invalid($"expiresInDays is between 1 and {MaxTokenDays}");
        }

        var label = request?.Label?.Trim();
        if (label is { Length: > 100 } || label?.Any(char.IsControl) == true)
        {
            throw ApiProblems.Invalid("a label has at most 100 characters, with no control characters");
        }

        var now = options.TimeProvider.GetUtcNow();
        var (token, record) = await accounts.IssueTokenAsync(caller.TenantId, caller.Person.Id, AuthTokenKind.Bearer, label, now, now.AddDays(days), ct);
        return TypedResults.Created($"/api/auth/tokens/{AccountService.TokenId(record)}", new IssuedToken(AccountService.TokenId(record), token, label, record.Expires));
    }

    private static async Task<IResult> ListTokensAsync(HttpContext context, IPrivacyStore store, CancellationToken ct)
    {
        var caller = context.Caller();
        var tokens = await store.ListTokensAsync(caller.TenantId, caller.Person.Id, ct);
        return TypedResults.Ok(tokens.Select(t => t.View()).ToList());
    }

    private static async Task<IResult> RevokeTokenAsync(string id, HttpContext context, IPrivacyStore store, ServerOptions options, CancellationToken ct)
    {
        var caller = context.Caller();
        var prefix = (id ?? string.Empty).Trim().ToLowerInvariant();
        if (prefix.Length < 8)
        {
            throw ApiProblems.Invalid("give the token's id (at least its first 8 hex digits)");
        }

        var matches = (await store.ListTokensAsync(caller.TenantId, caller.Person.Id, ct))
            .Where(t => Convert.ToHexStringLower(t.TokenHash).StartsWith(prefix, StringComparison.Ordinal))
            .ToList();
        if (matches.Count == 0)
        {
            throw ApiProblems.NotFound("token");
        }

        if (matches.Count > 1)
        {
            throw ApiProblems.Conflict("several tokens start with this id: give more of it");
        }

        if (!await store.RevokeTokenAsync(matches[0].TokenHash, options.TimeProvider.GetUtcNow(), ct))
        {
            throw ApiProblems.Conflict("the token was already revoked");
        }

        return TypedResults.NoContent();
    }
}
