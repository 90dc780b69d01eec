using System.Text.Json;
using System.Text.Json.Nodes;
using LearnerVault.Privacy.Access;
using LearnerVault.Server.Access;
using LearnerVault.Server.Api;
using LearnerVault.Server.Options;
using LearnerVault.Server.Statements;
using LearnerVault.Storage.People;
using LearnerVault.Xapi;

namespace LearnerVault.Server.Endpoints.Api;

/// <summary>
/// <c>/api/learners</c>: the identity vault. Learners are registered with their xAPI identifiers, which are kept only as
/// the same keyed pseudonyms the statement path computes; the register also holds age, guardians, restriction and
/// objections, and consents. Every read and write goes through the access gate.
/// </summary>
public static class LearnersEndpoints
{
    public const int MaxPage = 500;
    public const int MaxIdentifiers = 20;

    public sealed record AgeBandInput(int MinAge, int? MaxAge);

    public sealed record RegisterLearnerRequest(IReadOnlyList<JsonObject?>? Identifiers, int? BirthYear, AgeBandInput? AgeBand, Guid? PersonId);

    public sealed record UpdateLearnerRequest(int? BirthYear, AgeBandInput? AgeBand);

    public sealed record RestrictionRequest(bool? Restricted, IReadOnlyList<string>? Objections);

    public sealed record LearnerPage(IReadOnlyList<LearnerView> Learners, Guid? Next);

    public sealed record DpoConsentRequest(
        string? Purpose, string? Choice, string? GivenBy, Guid? GuardianId, DateTimeOffset? At, string? Channel, string? NoticeVersion);

    public static RouteGroupBuilder MapLearnersEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/learners").WithTags("learners");
        group.MapGet("/", ListAsync).WithName("listLearners").WithSummary("The tenant's learners, by id, a page at a time (?after=, ?limit=)");
        group.MapPost("/", RegisterAsync).WithName("registerLearner")
            .WithSummary("Register a learner by their xAPI identifiers (mbox, mbox_sha1sum, openid, account), with birth year or age band");
        group.MapGet("/{id:guid}", GetAsync).WithName("getLearner").WithSummary("A learner's identity record");
        group.MapPatch("/{id:guid}", UpdateAsync).WithName("updateLearner").WithSummary("Change a learner's birth year or age band");
        group.MapPut("/{id:guid}/guardians/{personId:guid}", LinkGuardianAsync).WithName("linkGuardian")
            .WithSummary("Link a guardian (a person with the role guardian) to the learner");
        group.MapDelete("/{id:guid}/guardians/{personId:guid}", UnlinkGuardianAsync).WithName("unlinkGuardian").WithSummary("Remove a guardian link");
        group.MapPut("/{id:guid}/restriction", RestrictAsync).WithName("setRestriction")
            .WithSummary("Record the learner's restriction of processing and objections (data protection officer)");
        group.MapGet("/{id:guid}/consents", ConsentsAsync).WithName("learnerConsents").WithSummary("The learner's consent records (data protection officer)");
        group.MapPost("/{id:guid}/consents", RecordConsentAsync).WithName("recordLearnerConsent")
            .WithSummary("Record a consent given or withdrawn through another channel, e.g. a paper form (data protection officer)");
        return group;
    }

    private static async Task<IResult> ListAsync(Guid? after, int? limit, HttpContext context, IPrivacyStore store, IAccessGate gate, CancellationToken ct)
    {
        var caller = context.Caller();
        var admin = caller.As(Role.SchoolAdministrator);
        var pageSize = limit ?? 100;
        if (pageSize is < 1 or > MaxPage)
        {
            throw ApiProblems.Invalid($"limit is between 1 and {MaxPage}");
        }

        var learners = await store.ListLearnersAsync(caller.TenantId, after, pageSize, ct);
        if (learners.Count > 0)
        {
            // One decision (and one log entry) per learner listed.
            var outcome = await gate.DecideRecordsAsync(
                admin, AccessAction.LearnerRecordRead, ApiGate.Purpose, [.. learners.Select(l => l.Pseudonyms.Count > 0 ? l.Pseudonyms[0] : null)], ct);
            if (outcome.FirstDenial is { } denial)
            {
                throw ApiProblems.Denied(denial.Reason);
            }
        }

        var facts = await store.GetLearnerFactsAsync(caller.TenantId, [.. learners.Select(l => l.Id)], ct);
        return TypedResults.Ok(new LearnerPage(
            [.. learners.Select(l => l.View(facts.GetValueOrDefault(l.Id)))], learners.Count == pageSize ? learners[^1].Id : null));
    }

    private static async Task<IResult> RegisterAsync(
        RegisterLearnerRequest? request, HttpContext context, IPrivacyStore store, IAccessGate gate, TenantCrypto crypto, ServerOptions options, CancellationToken ct)
    {
        var caller = context.Caller();
        var admin = caller.As(Role.SchoolAdministrator);
        if (request?.Identifiers is not { Count: > 0 } identifiers)
        {
            throw ApiProblems.Invalid("a learner is registered with at least one xAPI identifier (identifiers: [{\"mbox\": \"mailto:…\"}, …])");
        }

        if (identifiers.Count > MaxIdentifiers)
        {
            throw ApiProblems.Invalid($"at most {MaxIdentifiers} identifiers");
        }

        var pseudonyms = new List<byte[]>();
        foreach (var identifier in identifiers)
        {
            var ifi = NormaliseIdentifier(identifier);
            var pseudonym = crypto.LearnerPseudonym(caller.TenantId, ifi);
            if (!pseudonyms.Any(p => p.AsSpan().SequenceEqual(pseudonym)))
            {
                pseudonyms.Add(pseudonym.ToArray());
            }
        }

        var (birthYear, ageBand) = Age(request.BirthYear, request.AgeBand, options.TimeProvider);
        PersonRecord? person = null;
        if (request.PersonId is { } personId)
        {
            person = await store.GetPersonAsync(caller.TenantId, personId, ct) ?? throw ApiProblems.NotFound("person");
            if (person.LearnerId is not null)
            {
                throw ApiProblems.Conflict("the person is already linked to a learner record");
            }
        }

        // Decided before anything is stored: a denial leaves no record behind.
        await gate.RequireNewLearnerAsync(admin, pseudonyms[0], ct);
        var learner = new LearnerRecord(caller.TenantId, Guid.NewGuid(), pseudonyms, birthYear, ageBand, false, [], options.TimeProvider.GetUtcNow());
        await store.AddLearnerAsync(learner, ct);
        if (person is not null)
        {
            await store.UpdatePersonAsync(person with { LearnerId = learner.Id, Roles = [.. person.Roles.Append(Role.Learner).Distinct()] }, ct);
        }

        return TypedResults.Created($"/api/learners/{learner.Id:D}", learner.View(null));
    }

    private static async Task<IResult> GetAsync(Guid id, HttpContext context, IPrivacyStore store, IAccessGate gate, CancellationToken ct)
    {
        var caller = context.Caller();
        var principal = caller.AsAny(Role.SchoolAdministrator, Role.DataProtectionOfficer);
        await gate.RequireLearnerAsync(principal, AccessAction.LearnerRecordRead, id, ct);
        return TypedResults.Ok(await ViewAsync(store, caller.TenantId, id, ct));
    }

    private static async Task<IResult> UpdateAsync(
        Guid id, UpdateLearnerRequest? request, HttpContext context, IPrivacyStore store, IAccessGate gate, ServerOptions options, CancellationToken ct)
    {
        var caller = context.Caller();
        var admin = caller.As(Role.SchoolAdministrator);
        var (birthYear, ageBand) = Age(request?.BirthYear, request?.AgeBand, options.TimeProvider);
        await gate.RequireLearnerAsync(admin, AccessAction.LearnerRecordWrite, id, ct);
        var learner = await store.GetLearnerAsync(caller.TenantId, id, ct) ?? throw ApiProblems.NotFound("learner");
        await store.UpdateLearnerAsync(learner with { BirthYear = birthYear, AgeBand = ageBand }, ct);
        return TypedResults.Ok(await ViewAsync(store, caller.TenantId, id, ct));
    }

    private static async Task<IResult> LinkGuardianAsync(Guid id, Guid personId, HttpContext context, IPrivacyStore store, IAccessGate gate, CancellationToken ct)
    {
        var caller = context.Caller();
        var admin = caller.As(Role.SchoolAdministrator);
        await gate.RequireLearnerAsync(admin, AccessAction.LearnerRecordWrite, id, ct);
        var person = await store.GetPersonAsync(caller.TenantId, personId, ct) ?? throw ApiProblems.NotFound("person");
        if (!person.Roles.Contains(Role.Guardian))
        {
            throw ApiProblems.Invalid("only a person with the role guardian can be linked as a guardian");
        }

        await store.LinkGuardianAsync(caller.TenantId, id, personId, ct);
        return TypedResults.Ok(await ViewAsync(store, caller.TenantId, id, ct));
    }

    private static async Task<IResult> UnlinkGuardianAsync(Guid id, Guid personId, HttpContext context, IPrivacyStore store, IAccessGate gate, CancellationToken ct)
    {
        var caller = context.Caller();
        var admin = caller.As(Role.SchoolAdministrator);
        await gate.RequireLearnerAsync(admin, AccessAction.LearnerRecordWrite, id, ct);
        return await store.UnlinkGuardianAsync(caller.TenantId, id, personId, ct)
            ? TypedResults.NoContent()
            : throw ApiProblems.NotFound("guardian link");
    }

    private static async Task<IResult> RestrictAsync(
        Guid id, RestrictionRequest? request, HttpContext context, IPrivacyStore store, IAccessGate gate, CancellationToken ct)
    {
        var caller = context.Caller();
        var dpo = caller.As(Role.DataProtectionOfficer);
        if (request is null || (request.Restricted is null && request.Objections is null))
        {
            throw ApiProblems.BadRequest("give restricted, objections or both");
        }

        var objections = request.Objections?.Select(ApiViews.ParsePurpose).Distinct().ToList();
        await gate.RequireLearnerAsync(dpo, AccessAction.RestrictionWrite, id, ct);
        var learner = await store.GetLearnerAsync(caller.TenantId, id, ct) ?? throw ApiProblems.NotFound("learner");
        await store.UpdateLearnerAsync(
            learner with { Restricted = request.Restricted ?? learner.Restricted, Objections = objections ?? learner.Objections }, ct);
        return TypedResults.Ok(await ViewAsync(store, caller.TenantId, id, ct));
    }

    private static async Task<IResult> ConsentsAsync(Guid id, HttpContext context, IPrivacyStore store, IAccessGate gate, CancellationToken ct)
    {
        var caller = context.Caller();
        var dpo = caller.As(Role.DataProtectionOfficer);
        await gate.RequireLearnerAsync(dpo, AccessAction.ConsentsRead, id, ct);
        var consents = await store.ListConsentsAsync(caller.TenantId, id, ct);
        return TypedResults.Ok(consents.Select(c => c.View()).ToList());
    }

    private static async Task<IResult> RecordConsentAsync(
        Guid id, DpoConsentRequest? request, HttpContext context, IPrivacyStore store, IAccessGate gate, ServerOptions options, CancellationToken ct)
    {
        var caller = context.Caller();
        var dpo = caller.As(Role.DataProtectionOfficer);
        if (request is null)
        {
            throw ApiProblems.BadRequest("give purpose, choice, givenBy, channel and noticeVersion");
        }

        var purpose = ApiViews.ParsePurpose(request.Purpose);
        var choice = ConsentInput.Choice(request.Choice);
        var noticeVersion = ConsentInput.NoticeVersion(request.NoticeVersion);
        var channel = request.Channel?.Trim();
        if (channel is not { Length: > 0 and <= 100 } || channel.Any(char.IsControl))
        {
            throw ApiProblems.Invalid("channel says how the consent was received, e.g. 'paper form' (1 to 100 characters)");
        }

        var now = options.TimeProvider.GetUtcNow();
        var at = request.At ?? now;
        if (at > now)
        {
            throw ApiProblems.Invalid("at cannot be in the future");
        }

        await gate.RequireLearnerAsync(dpo, AccessAction.ConsentsWrite, id, ct);
        ConsentRecord record;
        switch (request.GivenBy?.Trim().ToLowerInvariant())
        {
            case "learner":
                record = new ConsentRecord(purpose, choice, ConsentGiver.Learner, id.ToString("D"), at, channel, noticeVersion);
                break;
            case "guardian":
                var guardians = await store.GetLearnerFactsAsync(caller.TenantId, [id], ct);
                if (request.GuardianId is not { } guardianId || !guardians.TryGetValue(id, out var facts) || !facts.GuardianIds.Contains(guardianId.ToString("D")))
                {
                    throw ApiProblems.Invalid("a consent given by a guardian names guardianId, one of the learner's linked guardians");
                }

                record = new ConsentRecord(purpose, choice, ConsentGiver.Guardian, guardianId.ToString("D"), at, channel, noticeVersion);
                break;
            default:
                throw ApiProblems.Invalid("givenBy is 'learner' or 'guardian'");
        }

        var stored = await store.AddConsentAsync(caller.TenantId, id, record, "person:" + caller.PrincipalId, ct);
        return TypedResults.Created($"/api/learners/{id:D}/consents", stored.View());
    }

    private static async Task<LearnerView> ViewAsync(IPrivacyStore store, Guid tenantId, Guid id, CancellationToken ct)
    {
        var learner = await store.GetLearnerAsync(tenantId, id, ct) ?? throw ApiProblems.NotFound("learner");
        var facts = await store.GetLearnerFactsAsync(tenantId, [id], ct);
        return learner.View(facts.GetValueOrDefault(id));
    }

    /// <summary>Birth year or age band, checked; both may be given, neither is a 422.</summary>
    private static (int? BirthYear, AgeBand? AgeBand) Age(int? birthYear, AgeBandInput? band, TimeProvider time)
    {
        var year = time.GetUtcNow().Year;
        if (birthYear is null && band is null)
        {
            throw ApiProblems.Invalid("give birthYear or ageBand (the age of digital consent depends on it)");
        }

        if (birthYear is { } y && (y < year - 120 || y > year))
        {
            throw ApiProblems.Invalid($"birthYear is between {year - 120} and {year}");
        }

        if (band is not null && (band.MinAge is < 0 or > 120 || (band.MaxAge is { } max && (max < band.MinAge || max > 120))))
        {
            throw ApiProblems.Invalid("ageBand has 0 ≤ minAge ≤ maxAge ≤ 120 (maxAge may be left out: 'and over')");
        }

        return (birthYear, band is null ? null : new AgeBand(band.MinAge, band.MaxAge));
    }

    /// <summary>
    /// The normalised IFI of one identifier object, which must carry exactly one IFI, well-formed by the same rules as
    /// an xAPI agent (so that a learner is registered only under identifiers statements can carry).
    /// </summary>
    private static string NormaliseIdentifier(JsonObject? identifier)
    {
        string[] ifiKeys = ["mbox", "mbox_sha1sum", "openid", "account"];
        if (identifier is null || identifier.Count != 1 || !ifiKeys.Contains(identifier.First().Key, StringComparer.Ordinal))
        {
            throw ApiProblems.Invalid("each identifier has exactly one of mbox, mbox_sha1sum, openid, account");
        }

        var element = JsonSerializer.SerializeToElement(identifier);
        var validation = StatementValidator.ValidateAgentParameter(element);
        if (!validation.IsValid)
        {
            // The validator names the rule broken ("agent.mbox must be a mailto IRI"), never the value.
            throw ApiProblems.Invalid("identifier" + validation.Error!["agent".Length..]);
        }

        return Ifi.Normalise(element) ?? throw ApiProblems.Invalid("the identifier is not an xAPI inverse functional identifier");
    }
}
