using LearnerVault.Privacy.Access;
using LearnerVault.Server.Access;
using LearnerVault.Server.Accounts;
using LearnerVault.Server.Api;
using LearnerVault.Server.Options;
using LearnerVault.Storage.People;

namespace LearnerVault.Server.Endpoints.Api;

/// <summary><c>/api/people</c>: the tenant's people and their accounts (school administrators).</summary>
public static class PeopleEndpoints
{
    public sealed record CreatePersonRequest(string? Login, string? Password, IReadOnlyList<string>? Roles, string? Name, Guid? LearnerId);

    public sealed record CreatedPersonView(PersonView Person, string? Password);

    public sealed record ResetPasswordView(string Password);

    public sealed record UpdatePersonRequest(IReadOnlyList<string>? Roles, bool? Disabled, string? Name);

    public static RouteGroupBuilder MapPeopleEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/people").WithTags("people");
        group.MapGet("/", ListAsync).WithName("listPeople").WithSummary("The tenant's people");
        group.MapPost("/", CreateAsync).WithName("createPerson")
            .WithSummary("Add a person with roles; with a login, an account (password given, or generated and shown once)");
        group.MapGet("/{id:guid}", GetAsync).WithName("getPerson").WithSummary("One person");
        group.MapPatch("/{id:guid}", UpdateAsync).WithName("updatePerson")
            .WithSummary("Change a person's roles, name, or disable them (which revokes their sessions and tokens)");
        group.MapPost("/{id:guid}/password", ResetPasswordAsync).WithName("resetPassword")
            .WithSummary("Give a person a generated password (shown once), lift their lockout and revoke their sessions and tokens");
        group.MapDelete("/{id:guid}/totp", RemoveTotpAsync).WithName("removeTotp")
            .WithSummary("Remove a person's TOTP second factor (a lost phone) and revoke their sessions and tokens");
        return group;
    }

    private static async Task<IResult> ListAsync(HttpContext context, IPrivacyStore store, AccountCrypto crypto, CancellationToken ct)
    {
        var caller = context.Caller();
        caller.As(Role.SchoolAdministrator);
        var people = await store.ListPeopleAsync(caller.TenantId, ct);
        return TypedResults.Ok(people.Select(p => p.View(crypto)).ToList());
    }

    private static async Task<IResult> CreateAsync(
        CreatePersonRequest? request, HttpContext context, AccountService accounts, AccountCrypto crypto, IAccessGate gate, CancellationToken ct)
    {
        var caller = context.Caller();
        var admin = caller.As(Role.SchoolAdministrator);
        if (request is null)
        {
            throw ApiProblems.BadRequest("give at least roles");
        }

        var roles = RoleNames.Parse(request.Roles, out var error) ?? throw ApiProblems.Invalid(error!);
        if (request.LearnerId is { } learnerId)
        {
            if (!roles.Contains(Role.Learner))
            {
                throw ApiProblems.Invalid("learnerId links a person with the role learner to their learner record");
            }

            await gate.RequireLearnerAsync(admin, AccessAction.LearnerRecordWrite, learnerId, ct);
        }
        else if (roles.Contains(Role.Learner))
        {
            throw ApiProblems.Invalid("a person with the role learner needs learnerId (register the learner first: POST /api/learners)");
        }

        var created = await accounts.CreatePersonAsync(
            caller.TenantId, string.IsNullOrEmpty(request.Login) ? null : request.Login, request.Password, roles, request.Name, request.LearnerId, ct);
        return TypedResults.Created($"/api/people/{created.Person.Id:D}", new CreatedPersonView(created.Person.View(crypto), created.GeneratedPassword));
    }

    private static async Task<IResult> GetAsync(Guid id, HttpContext context, IPrivacyStore store, AccountCrypto crypto, CancellationToken ct)
    {
        var caller = context.Caller();
        caller.As(Role.SchoolAdministrator);
        var person = await store.GetPersonAsync(caller.TenantId, id, ct) ?? throw ApiProblems.NotFound("person");
        return TypedResults.Ok(person.View(crypto));
    }

    private static async Task<IResult> ResetPasswordAsync(
        Guid id, HttpContext context, IPrivacyStore store, AccountService accounts, ILogger<AccountService> logger, CancellationToken ct)
    {
        var caller = context.Caller();
        caller.As(Role.SchoolAdministrator);
        if (id == caller.Person.Id)
        {
            // A stolen session must not be enough to take the account over: one's own password needs the current one.
            throw ApiProblems.Forbidden("change your own password with POST /api/me/password");
        }

        _ = await store.GetPersonAsync(caller.TenantId, id, ct) ?? throw ApiProblems.NotFound("person");
        var password = await accounts.ResetPasswordAsync(caller.TenantId, id, ct)
            ?? throw ApiProblems.Invalid("this person has no account (no login name) to set a password for");
        logger.PasswordReset(caller.Person.Id, id);
        return TypedResults.Ok(new ResetPasswordView(password));
    }

    private static async Task<IResult> RemoveTotpAsync(
        Guid id, HttpContext context, IPrivacyStore store, AccountService accounts, ILogger<AccountService> logger, CancellationToken ct)
    {
        var caller = context.Caller();
        caller.As(Role.SchoolAdministrator);
        if (id == caller.Person.Id)
        {
            // A stolen session must not be enough to strip the second factor off the account it came from.
            throw ApiProblems.Forbidden("another school administrator removes your second factor");
        }

        _ = await store.GetPersonAsync(caller.TenantId, id, ct) ?? throw ApiProblems.NotFound("person");
        if (!await accounts.RemoveTotpAsync(caller.TenantId, id, ct))
        {
            throw ApiProblems.NotFound("second factor");
        }

        logger.TotpRemoved(caller.Person.Id, id);
        return TypedResults.NoContent();
    }

    private static async Task<IResult> UpdateAsync(
        Guid id, UpdatePersonRequest? request, HttpContext context, IPrivacyStore store, AccountCrypto crypto, ServerOptions options, CancellationToken ct)
    {
        var caller = context.Caller();
        caller.As(Role.SchoolAdministrator);
        var person = await store.GetPersonAsync(caller.TenantId, id, ct) ?? throw ApiProblems.NotFound("person");
        if (request is null)
        {
            throw ApiProblems.BadRequest("give roles, name or disabled");
        }

        var now = options.TimeProvider.GetUtcNow();
        var updated = person;
        if (request.Roles is not null)
        {
            var roles = RoleNames.Parse(request.Roles, out var error) ?? throw ApiProblems.Invalid(error!);
            if (roles.Contains(Role.Learner) && person.LearnerId is null)
            {
                throw ApiProblems.Invalid("the role learner needs a learner record: create the person with learnerId");
            }

            updated = updated with { Roles = roles };
        }

        if (request.Name is not null)
        {
            if (AccountCrypto.NameProblem(request.Name) is { } problem)
            {
                throw ApiProblems.Invalid(problem);
            }

            var name = request.Name.Trim();

            updated = updated with { Profile = name.Length == 0 ? null : crypto.SealProfile(caller.TenantId, id, new PersonProfile(name)) };
        }

        if (request.Disabled is { } disabled)
        {
            updated = updated with { Disabled = disabled ? person.Disabled ?? now : null };
        }

        await store.UpdatePersonAsync(updated, ct);
        if (updated.Disabled is not null && person.Disabled is null)
        {
            await store.RevokePersonTokensAsync(caller.TenantId, id, now, ct);
        }

        return TypedResults.Ok(updated.View(crypto));
    }
}
