using LearnerVault.Privacy.Access;
using LearnerVault.Server.Api;
using LearnerVault.Storage;
using LearnerVault.Storage.People;

namespace LearnerVault.Server.Endpoints.Api;

/// <summary>
/// <c>/api/purposes</c> and <c>/api/policy</c>: the tenant's lawful basis per purpose, its age of digital consent and
/// what happens to new data about restricted learners (school administrators and DPOs).
/// </summary>
public static class PolicyEndpoints
{
    public sealed record PurposeView(string Name, bool BuiltIn, string LawfulBasis, IReadOnlyList<string> DeclaredBy);

    public sealed record PurposeRequest(string? LawfulBasis);

    public sealed record PolicyView(int AgeOfDigitalConsent, string RestrictedWrites, IReadOnlyDictionary<string, string> LawfulBases);

    public sealed record PolicyRequest(int? AgeOfDigitalConsent, string? RestrictedWrites);

    public static void MapPolicyEndpoints(this IEndpointRouteBuilder app)
    {
        var purposes = app.MapGroup("/api/purposes").WithTags("policy");
        purposes.MapGet("/", ListPurposesAsync).WithName("listPurposes")
            .WithSummary("Built-in purposes and the tenant's vendor purposes, with their lawful basis and the clients declaring them");
        purposes.MapPut("/{name}", SetPurposeAsync).WithName("setPurpose")
            .WithSummary("Set a purpose's lawful basis (consent, public-task, legal-obligation, legitimate-interest, contract); refused purposes get 422");

        var policy = app.MapGroup("/api/policy").WithTags("policy");
        policy.MapGet("/", GetPolicyAsync).WithName("getPolicy").WithSummary("The tenant's privacy policy");
        policy.MapPut("/", SetPolicyAsync).WithName("setPolicy")
            .WithSummary("Set the age of digital consent (13 to 16) and the restricted-writes policy (store-restricted or refuse)");
    }

    private static async Task<IResult> ListPurposesAsync(HttpContext context, IPrivacyStore store, IClientStore clients, CancellationToken ct)
    {
        var caller = context.Caller();
        caller.AsAny(Role.SchoolAdministrator, Role.DataProtectionOfficer);
        var policy = await store.GetPolicyAsync(caller.TenantId, ct);
        var declared = (await clients.ListClientsAsync(caller.TenantId, ct)).Where(c => c.Revoked is null).ToList();
        var names = Purpose.BuiltInNames
            .Concat(policy.ConfiguredBases.Keys.Where(p => p.IsVendor).Select(p => p.Name).Order(StringComparer.Ordinal))
            .Concat(declared.SelectMany(c => c.Purposes).Where(p => p.StartsWith(Purpose.VendorPrefix, StringComparison.Ordinal)).Order(StringComparer.Ordinal))
            .Distinct(StringComparer.Ordinal);
        return TypedResults.Ok(names.Select(name =>
        {
            var purpose = Purpose.Parse(name);
            return new PurposeView(
                name, !purpose.IsVendor, policy.BasisFor(purpose).Name(), [.. declared.Where(c => c.Purposes.Contains(name)).Select(c => c.Key)]);
        }).ToList());
    }

    private static async Task<IResult> SetPurposeAsync(string name, PurposeRequest? request, HttpContext context, IPrivacyStore store, CancellationToken ct)
    {
        var caller = context.Caller();
        caller.AsAny(Role.SchoolAdministrator, Role.DataProtectionOfficer);
        var purpose = ApiViews.ParsePurpose(Uri.UnescapeDataString(name));
        if (!ApiViews.TryParseBasis(request?.LawfulBasis, out var basis))
        {
            throw ApiProblems.Invalid("lawfulBasis is one of consent, public-task, legal-obligation, legitimate-interest, contract");
        }

        var policy = await store.GetPolicyAsync(caller.TenantId, ct);
        await store.SavePolicyAsync(policy.WithBasis(purpose, basis), ct);
        return TypedResults.Ok(new PurposeView(purpose.Name, !purpose.IsVendor, basis.Name(), []));
    }

    private static async Task<IResult> GetPolicyAsync(HttpContext context, IPrivacyStore store, CancellationToken ct)
    {
        var caller = context.Caller();
        caller.AsAny(Role.SchoolAdministrator, Role.DataProtectionOfficer);
        return TypedResults.Ok(View(await store.GetPolicyAsync(caller.TenantId, ct)));
    }

    private static async Task<IResult> SetPolicyAsync(PolicyRequest? request, HttpContext context, IPrivacyStore store, CancellationToken ct)
    {
        var caller = context.Caller();
        caller.AsAny(Role.SchoolAdministrator, Role.DataProtectionOfficer);
        var policy = await store.GetPolicyAsync(caller.TenantId, ct);
        if (request?.AgeOfDigitalConsent is { } age)
        {
            if (age is < TenantPolicy.MinimumAgeOfDigitalConsent or > TenantPolicy.MaximumAgeOfDigitalConsent)
            {
                throw ApiProblems.Invalid(
                    $"the age of digital consent is between {TenantPolicy.MinimumAgeOfDigitalConsent} and {TenantPolicy.MaximumAgeOfDigitalConsent} (GDPR Art. 8)");
            }

            policy = policy.WithAgeOfDigitalConsent(age);
        }

        if (request?.RestrictedWrites is { } writes)
        {
            policy = policy.WithRestrictedWrites(writes.Trim().ToLowerInvariant() switch
            {
                "store-restricted" => RestrictedWritePolicy.StoreRestricted,
                "refuse" => RestrictedWritePolicy.Refuse,
                _ => throw ApiProblems.Invalid("restrictedWrites is 'store-restricted' or 'refuse'"),
            });
        }

        await store.SavePolicyAsync(policy, ct);
        return TypedResults.Ok(View(policy));
    }

    private static PolicyView View(TenantPolicy policy) => new(
        policy.AgeOfDigitalConsent,
        policy.RestrictedWrites == RestrictedWritePolicy.StoreRestricted ? "store-restricted" : "refuse",
        policy.ConfiguredBases.OrderBy(p => p.Key.Name, StringComparer.Ordinal).ToDictionary(p => p.Key.Name, p => p.Value.Name()));
}
