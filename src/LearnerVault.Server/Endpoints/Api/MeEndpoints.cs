using LearnerVault.Privacy.Access;
using LearnerVault.Privacy.Audit;
using LearnerVault.Server.Access;
using LearnerVault.Server.Accounts;
using LearnerVault.Server.Api;
using LearnerVault.Server.Options;
using LearnerVault.Storage;
using LearnerVault.Storage.People;

namespace LearnerVault.Server.Endpoints.Api;

/// <summary>
/// <c>/api/me</c>: who the caller is, their second factor, and for a learner or guardian their rights: who accessed
/// their data (or their child's) and why, and their consents.
/// </summary>
public static class MeEndpoints
{
    public const int MaxLogPage = 500;

    public sealed record MeView(
        Guid Id, Guid Tenant, IReadOnlyList<string> Roles, string? Name, Guid? LearnerId, IReadOnlyList<Guid> Wards, bool TotpEnabled);

    public sealed record TotpEnrolment(string Secret, string Uri);

    public sealed record TotpConfirmRequest(string? Code);

    public sealed record PasswordChangeRequest(string? Current, string? New);

    public sealed record ConsentRequest(Guid? Learner, string? Purpose, string? Choice, string? NoticeVersion, string? Channel);

    public static RouteGroupBuilder MapMeEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/me").WithTags("me");
        group.MapGet("/", GetAsync).WithName("me").WithSummary("Who the caller is: roles, learner record, wards");
        group.MapPost("/totp", EnrolTotpAsync).WithName("enrolTotp")
            .WithSummary("Start TOTP enrolment (school administrators and DPOs): a secret and an otpauth:// URI");
        group.MapPost("/totp/confirm", ConfirmTotpAsync).WithName("confirmTotp")
            .WithSummary("Confirm TOTP enrolment with a code; from then on login needs a code");
        group.MapPost("/password", ChangePasswordAsync).WithName("changeMyPassword")
            .WithSummary("Change my password (the current one is checked and counts toward lockout); my other sessions and tokens are revoked");
        group.MapGet("/access-log", AccessLogAsync).WithName("myAccessLog")
            .WithSummary("Who accessed my data (or my child's: ?learner=), when, for what purpose, and what was decided; newest first");
        group.MapGet("/consents", ConsentsAsync).WithName("myConsents").WithSummary("My consent records (or my child's: ?learner=)");
        group.MapPut("/consents", RecordConsentAsync).WithName("recordMyConsent").WithSummary("Give or withdraw consent to a purpose");
        return group;
    }

    private static async Task<IResult> GetAsync(HttpContext context, IPrivacyStore store, AccountCrypto crypto, CancellationToken ct)
    {
        var caller = context.Caller();
        var person = caller.Person;
        var wards = caller.Has(Role.Guardian) ? await store.ListWardsAsync(caller.TenantId, person.Id, ct) : [];
        var credentials = await store.GetCredentialsAsync(caller.TenantId, person.Id, ct);
        return TypedResults.Ok(new MeView(
            person.Id,
            person.TenantId,
            [.. person.Roles.Select(RoleNames.Name)],
            crypto.OpenProfile(person.TenantId, person.Id, person.Profile).Name,
            person.LearnerId,
            wards,
            credentials?.TotpConfirmed == true));
    }

    private static async Task<IResult> EnrolTotpAsync(
        HttpContext context, IPrivacyStore store, AccountCrypto crypto, ServerOptions options, CancellationToken ct)
    {
        var caller = context.Caller();
        if (!caller.Has(Role.SchoolAdministrator) && !caller.Has(Role.DataProtectionOfficer))
        {
            throw ApiProblems.Forbidden("a second factor is offered to school administrators and data protection officers");
        }

        var credentials = await store.GetCredentialsAsync(caller.TenantId, caller.Person.Id, ct)
            ?? throw ApiProblems.Invalid("this person has no password to add a second factor to");
        if (credentials.TotpConfirmed)
        {
            throw ApiProblems.Conflict("TOTP is already enabled for this account");
        }

        var secret = Totp.GenerateSecret();
        await store.SetCredentialsAsync(
            credentials with { TotpSecret = crypto.SealTotp(caller.TenantId, caller.Person.Id, secret), TotpConfirmed = false, Updated = options.TimeProvider.GetUtcNow() },
            ct);
        var account = crypto.OpenProfile(caller.TenantId, caller.Person.Id, caller.Person.Profile).Name ?? caller.PrincipalId;
        return TypedResults.Ok(new TotpEnrolment(Totp.Base32(secret), Totp.Uri("LearnerVault", account, secret)));
    }

    private static async Task<IResult> ConfirmTotpAsync(
        TotpConfirmRequest? request, HttpContext context, IPrivacyStore store, AccountCrypto crypto, ServerOptions options, CancellationToken ct)
    {
        var caller = context.Caller();
        var credentials = await store.GetCredentialsAsync(caller.TenantId, caller.Person.Id, ct);
        if (credentials?.TotpSecret is not { } sealedSecret || credentials.TotpConfirmed)
        {
            throw ApiProblems.Conflict("no TOTP enrolment is waiting for confirmation: start one with POST /api/me/totp");
        }

        var secret = crypto.OpenTotp(caller.TenantId, caller.Person.Id, sealedSecret);
        var step = secret is null ? null : Totp.Verify(secret, request?.Code, options.TimeProvider.GetUtcNow(), credentials.TotpLastStep);
        if (step is null)
        {
            throw new ApiProblemException(422, "totp-invalid", "The code is not valid.", "the code does not match: check the authenticator app's clock and try the next code");
        }

        await store.SetCredentialsAsync(
            credentials with { TotpConfirmed = true, TotpLastStep = step.Value, Updated = options.TimeProvider.GetUtcNow() }, ct);
        return TypedResults.NoContent();
    }

    private static async Task<IResult> ChangePasswordAsync(
        PasswordChangeRequest? request, HttpContext context, AccountService accounts, ILogger<AccountService> logger, CancellationToken ct)
    {
        var caller = context.Caller();
        if (request?.Current is null || request.New is null)
        {
            throw ApiProblems.BadRequest("give current and new");
        }

        // A weak new password (AccountException) becomes a 422 in ApiPipeline, like every account rule.
        var changed = await accounts.ChangePasswordAsync(caller.Person, caller.Token, request.Current, request.New, ct);

        if (!changed)
        {
            throw new ApiProblemException(403, "wrong-password", "The current password is wrong.",
                "the current password is wrong, or the account is locked after too many failures");
        }

        logger.PasswordChanged(caller.Person.Id);
        return TypedResults.NoContent();
    }

    /// <summary>The learner a data subject names: the one given, else their own learner record, else their only ward.</summary>
    private static async Task<Guid> TargetLearnerAsync(ApiCaller caller, Guid? given, IPrivacyStore store, CancellationToken ct)
    {
        if (given is { } learner)
        {
            return learner;
        }

        if (caller.Has(Role.Learner) && caller.Person.LearnerId is { } own)
        {
            return own;
        }

        if (caller.Has(Role.Guardian))
        {
            var wards = await store.ListWardsAsync(caller.TenantId, caller.Person.Id, ct);
            return wards.Count == 1 ? wards[0] : throw ApiProblems.Invalid("name the learner (?learner=<id>): you are guardian of several, or of none");
        }

        throw ApiProblems.Forbidden("this is for learners and guardians");
    }

    private static async Task<IResult> AccessLogAsync(
        Guid? learner, long? before, int? limit, HttpContext context, IAccessGate gate, IPrivacyStore store, IAccessLogStore log, CancellationToken ct)
    {
        var caller = context.Caller();
        var pageSize = limit ?? 100;
        if (pageSize is < 1 or > MaxLogPage)
        {
            throw ApiProblems.Invalid($"limit is between 1 and {MaxLogPage}");
        }

        var learnerId = await TargetLearnerAsync(caller, learner, store, ct);
        await gate.RequireLearnerAsync(caller.AsDataSubject(learnerId), AccessAction.AccessLogRead, learnerId, ct);
        var pseudonyms = await LearnerLog.PseudonymsAsync(gate, caller.TenantId, learnerId, ct);
        return TypedResults.Ok(await LearnerLog.PageAsync(log, caller.TenantId, pseudonyms, before, pageSize, ct));
    }

    private static async Task<IResult> ConsentsAsync(Guid? learner, HttpContext context, IAccessGate gate, IPrivacyStore store, CancellationToken ct)
    {
        var caller = context.Caller();
        var learnerId = await TargetLearnerAsync(caller, learner, store, ct);
        await gate.RequireLearnerAsync(caller.AsDataSubject(learnerId), AccessAction.ConsentsRead, learnerId, ct);
        var consents = await store.ListConsentsAsync(caller.TenantId, learnerId, ct);
        return TypedResults.Ok(consents.Select(c => c.View()).ToList());
    }

    private static async Task<IResult> RecordConsentAsync(
        ConsentRequest? request, HttpContext context, IAccessGate gate, IPrivacyStore store, ServerOptions options, CancellationToken ct)
    {
        var caller = context.Caller();
        if (request is null)
        {
            throw ApiProblems.BadRequest("give purpose, choice, noticeVersion and channel");
        }

        var purpose = ApiViews.ParsePurpose(request.Purpose);
        var choice = ConsentInput.Choice(request.Choice);
        var noticeVersion = ConsentInput.NoticeVersion(request.NoticeVersion);
        var channel = request.Channel?.Trim().ToLowerInvariant() is "web" or "api"
            ? request.Channel.Trim().ToLowerInvariant()
            : throw ApiProblems.Invalid("channel is 'web' or 'api'");
        var learnerId = await TargetLearnerAsync(caller, request.Learner, store, ct);
        var principal = caller.AsDataSubject(learnerId);
        await gate.RequireLearnerAsync(principal, AccessAction.ConsentsWrite, learnerId, ct);
        var record = principal.Role == Role.Learner
            ? new ConsentRecord(purpose, choice, ConsentGiver.Learner, learnerId.ToString("D"), options.TimeProvider.GetUtcNow(), channel, noticeVersion)
            : new ConsentRecord(purpose, choice, ConsentGiver.Guardian, caller.PrincipalId, options.TimeProvider.GetUtcNow(), channel, noticeVersion);
        var stored = await store.AddConsentAsync(caller.TenantId, learnerId, record, "person:" + caller.PrincipalId, ct);
        return TypedResults.Created($"/api/me/consents?learner={learnerId:D}", stored.View());
    }
}

/// <summary>Reading one learner's entries of the access log, newest first, a page at a time.</summary>
public static class LearnerLog
{
    private const int MaxWindow = 100_000;

    /// <summary>The pseudonyms the learner's entries are written under (the gate knows which).</summary>
    public static Task<IReadOnlyList<byte[]>> PseudonymsAsync(IAccessGate gate, Guid tenantId, Guid learnerId, CancellationToken ct) =>
        gate.LearnerLogPseudonymsAsync(tenantId, learnerId, ct);

    /// <summary>Up to <paramref name="limit"/> entries with a position below <paramref name="before"/>, newest first.</summary>
    public static async Task<AccessLogPage> PageAsync(
        IAccessLogStore log, Guid tenantId, IReadOnlyList<byte[]> pseudonyms, long? before, int limit, CancellationToken ct)
    {
        // The store reads a learner's newest entries; a page further back reads a wider window until it holds the page.
        var window = limit * 2;
        while (true)
        {
            var merged = new Dictionary<long, AccessLogRecord>();
            var exhausted = true;
            foreach (var pseudonym in pseudonyms)
            {
                var records = await log.ReadLearnerAsync(tenantId, pseudonym, window, ct);
                exhausted &= records.Count < window;
                foreach (var record in records)
                {
                    merged.TryAdd(record.Position, record);
                }
            }

            var page = merged.Values
                .Where(r => before is null || r.Position < before)
                .OrderByDescending(r => r.Position)
                .Take(limit + 1)
                .ToList();
            if (page.Count > limit || exhausted || window >= MaxWindow)
            {
                var entries = page.Take(limit).Select(r => r.View()).ToList();
                return new AccessLogPage(entries, page.Count > limit ? entries[^1].Position : null);
            }

            window = Math.Min(window * 4, MaxWindow);
        }
    }
}

/// <summary>Checks of consent input shared by the data subject's and the DPO's endpoints.</summary>
public static class ConsentInput
{
    public static ConsentChoice Choice(string? text) => text?.Trim().ToLowerInvariant() switch
    {
        "given" => ConsentChoice.Given,
        "withdrawn" => ConsentChoice.Withdrawn,
        _ => throw ApiProblems.Invalid("choice is 'given' or 'withdrawn'"),
    };

    public static string NoticeVersion(string? text)
    {
        var trimmed = text?.Trim();
        return trimmed is { Length: > 0 and <= 100 } && !trimmed.Any(char.IsControl)
            ? trimmed
            : throw ApiProblems.Invalid("noticeVersion names the privacy notice shown (1 to 100 characters)");
    }
}
