using LearnerVault.Privacy.Access;
using LearnerVault.Storage.People;

namespace LearnerVault.Server.Api;

/// <summary>The authenticated person behind an admin-API request, and how they authenticated.</summary>
public sealed class ApiCaller(PersonRecord person, AuthTokenRecord token, bool viaCookie)
{
    public Guid TenantId => Person.TenantId;

    public PersonRecord Person { get; } = person;

    public AuthTokenRecord Token { get; } = token;

    /// <summary>Authenticated by the session cookie (so unsafe methods need the same-origin check) rather than a bearer token.</summary>
    public bool ViaCookie { get; } = viaCookie;

    public bool Has(Role role) => Person.Roles.Contains(role);

    /// <summary>The principal for a role that needs no further facts (school administrator, DPO, analyst, researcher).</summary>
    /// <exception cref="ApiProblemException">403 when the person does not hold the role.</exception>
    public Principal As(Role role) =>
        Has(role)
            ? Principal.Person(TenantId, PrincipalId, role)
            : throw ApiProblems.Forbidden($"this needs the role {Accounts.RoleNames.Name(role)}");

    /// <summary>The principal for the first of <paramref name="roles"/> the person holds.</summary>
    public Principal AsAny(params Role[] roles) =>
        roles.FirstOrDefault(Has) is var role && Has(role)
            ? Principal.Person(TenantId, PrincipalId, role)
            : throw ApiProblems.Forbidden($"this needs one of the roles {string.Join(", ", roles.Select(Accounts.RoleNames.Name))}");

    /// <summary>The principal a learner or guardian acts as on <paramref name="learnerId"/>: themself when it is their own
    /// learner record, else a guardian (the gate checks the link).</summary>
    public Principal AsDataSubject(Guid learnerId)
    {
        if (Has(Role.Learner) && Person.LearnerId == learnerId)
        {
            return Principal.Learner(TenantId, PrincipalId, learnerId.ToString("D"));
        }

        if (Has(Role.Guardian))
        {
            return Principal.Guardian(TenantId, PrincipalId);
        }

        if (Has(Role.Learner) && Person.LearnerId is { } own)
        {
            return Principal.Learner(TenantId, PrincipalId, own.ToString("D"));
        }

        throw ApiProblems.Forbidden("this is for learners and guardians");
    }

    /// <summary>The person id as the access decision and the log name it (guardian links and consent givers use it too).</summary>
    public string PrincipalId => Person.Id.ToString("D");
}

/// <summary>Reaching the caller from a request.</summary>
public static class ApiCallerExtensions
{
    public static ApiCaller Caller(this HttpContext context) =>
        context.Features.Get<ApiCaller>() ?? throw ApiProblems.Unauthenticated();
}
