using LearnerVault.Privacy.Access;
using LearnerVault.Server.Accounts;
using LearnerVault.Server.Options;
using LearnerVault.Server.Statements;
using LearnerVault.Storage;

namespace LearnerVault.Server.Administration;

/// <summary>Adding people with accounts from the CLI (<c>lvault people add</c>) and on the server's first start.</summary>
public static class PeopleAdmin
{
    /// <summary>The login of the school administrator the first start of the embedded default creates.</summary>
    public const string FirstAdministratorLogin = "admin";

    /// <summary>An account service over an opened store, as the CLI composes it (the server gets one from DI).</summary>
    public static AccountService Accounts(IStorageBackend backend, ServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(backend);
        return new AccountService(backend.Privacy, new AccountCrypto(new TenantCrypto(backend.Keys), backend.Keys), options);
    }

    /// <summary>Adds a person with an account; the password is generated (and returned, to be shown once) when none is given.</summary>
    /// <exception cref="AdministrationException">A bad login, role list, name or password, or a login already taken.</exception>
    public static async Task<CreatedPerson> AddAsync(
        IStorageBackend backend, ServerOptions options, Guid tenantId, string login, IEnumerable<string> roles, string? name, string? password, CancellationToken ct)
    {
        var parsed = RoleNames.Parse(roles, out var error) ?? throw new AdministrationException(error!);
        if (parsed.Contains(Role.Learner))
        {
            throw new AdministrationException("a learner's account is made in the admin API, linked to their learner record (POST /api/people with learnerId)");
        }

        try
        {
            return await Accounts(backend, options).CreatePersonAsync(tenantId, login, password, parsed, name, null, ct);
        }
        catch (AccountException ex)
        {
            throw new AdministrationException(ex.Message, ex);
        }
        catch (Storage.People.PrivacyStoreConflictException ex)
        {
            throw new AdministrationException("that login name is already taken in this tenant", ex);
        }
    }

    /// <summary>
    /// On a tenant with nobody in it yet: a school administrator <see cref="FirstAdministratorLogin"/> with a generated
    /// password (returned once); null when the tenant already has people.
    /// </summary>
    public static async Task<CreatedPerson?> EnsureFirstAdministratorAsync(IStorageBackend backend, ServerOptions options, Guid tenantId, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(backend);
        if ((await backend.Privacy.ListPeopleAsync(tenantId, ct)).Count > 0)
        {
            return null;
        }

        return await Accounts(backend, options).CreatePersonAsync(
            tenantId, FirstAdministratorLogin, null, [Role.SchoolAdministrator], "School administrator", null, ct);
    }
}
