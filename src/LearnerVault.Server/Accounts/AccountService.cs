using System.Security.Cryptography;
using System.Text;
using LearnerVault.Privacy.Access;
using LearnerVault.Server.Options;
using LearnerVault.Storage.People;

namespace LearnerVault.Server.Accounts;

/// <summary>Why a login did not succeed. Every failure but <see cref="TotpRequired"/> answers the same 401.</summary>
public enum LoginFailure
{
    None,

    /// <summary>Unknown login, wrong password, wrong or replayed TOTP code, locked or disabled account.</summary>
    Rejected,

    /// <summary>The password was right and the account needs a TOTP code, which the request did not carry.</summary>
    TotpRequired,
}

/// <summary>A person's new account, as <see cref="AccountService.CreatePersonAsync"/> made it.</summary>
/// <param name="GeneratedPassword">The password, when it was generated (to be shown once); null when the caller gave one.</param>
public sealed record CreatedPerson(PersonRecord Person, string? GeneratedPassword);

/// <summary>
/// Local accounts: people with login names and passwords, login with lockout and TOTP, and the tokens (browser sessions
/// and bearer tokens) that authenticate the admin API. Tokens are 32 random bytes; only their SHA-256 is stored.
/// </summary>
public sealed class AccountService(IPrivacyStore store, AccountCrypto crypto, ServerOptions options)
{
    public const string TokenPrefix = "lv_";

    private readonly Lazy<string> dummyHash = new(() => PasswordHasher.Hash(PasswordHasher.Generate(), options.PasswordIterations));

    private TimeProvider Time => options.TimeProvider;

    /// <summary>
    /// Adds a person, with an account when <paramref name="login"/> is given (the password generated when none is given).
    /// </summary>
    /// <exception cref="AccountException">A bad login name, password, name or role list.</exception>
    /// <exception cref="PrivacyStoreConflictException">The login name is taken in the tenant.</exception>
    public async Task<CreatedPerson> CreatePersonAsync(
        Guid tenantId, string? login, string? password, IReadOnlyList<Role> roles, string? name, Guid? learnerId, CancellationToken ct)
    {
        if (roles.Count == 0 || roles.Contains(Role.ClientApp))
        {
            throw new AccountException("a person needs at least one role, and never client-app");
        }

        if (login is null && password is not null)
        {
            throw new AccountException("a password needs a login name");
        }

        if (login is not null && AccountCrypto.LoginProblem(login) is { } loginProblem)
        {
            throw new AccountException(loginProblem);
        }

        if (password is not null && PasswordHasher.Weakness(password) is { } weakness)
        {
            throw new AccountException(weakness);
        }

        if (AccountCrypto.NameProblem(name) is { } nameProblem)
        {
            throw new AccountException(nameProblem);
        }

        var trimmedName = name?.Trim();

        var id = Guid.NewGuid();
        var now = Time.GetUtcNow();
        var person = new PersonRecord(
            tenantId,
            id,
            roles,
            login is null ? null : crypto.LoginKey(tenantId, login),
            string.IsNullOrEmpty(trimmedName) ? null : crypto.SealProfile(tenantId, id, new PersonProfile(trimmedName)),
            learnerId,
            now,
            null);
        string? generated = null;
        if (login is not null)
        {
            generated = password is null ? PasswordHasher.Generate() : null;
            await store.AddPersonAsync(person, ct);
            await store.SetCredentialsAsync(
                new AccountCredentials(tenantId, id, PasswordHasher.Hash(password ?? generated!, options.PasswordIterations), 0, null, null, false, 0, now), ct);
        }
        else
        {
            await store.AddPersonAsync(person, ct);
        }

        return new CreatedPerson(person, generated);
    }

    /// <summary>
    /// Refuses a login to a tenant that does not exist at the cost of a wrong password (a dummy hash), without touching
    /// the store or the key store, so that neither answer nor timing tells a made-up tenant from a wrong password.
    /// </summary>
    public (LoginFailure Failure, PersonRecord? Person, long? TotpStep) RejectUnknownTenant(string password)
    {
        PasswordHasher.Verify(password.Length > PasswordHasher.MaximumLength ? string.Empty : password, dummyHash.Value, options.PasswordIterations);
        return (LoginFailure.Rejected, null, null);
    }

    /// <summary>
    /// Checks a login. An unknown login costs a hash of a dummy password, and a locked or disabled account is checked
    /// like any other, so that neither answer nor timing tells them apart from a wrong password.
    /// </summary>
    public async Task<(LoginFailure Failure, PersonRecord? Person, long? TotpStep)> LoginAsync(
        Guid tenantId, string login, string password, string? totpCode, CancellationToken ct)
    {
        var now = Time.GetUtcNow();
        if (AccountCrypto.LoginProblem(login) is not null || password.Length > PasswordHasher.MaximumLength)
        {
            PasswordHasher.Verify(password.Length > PasswordHasher.MaximumLength ? string.Empty : password, dummyHash.Value, options.PasswordIterations);
            return (LoginFailure.Rejected, null, null);
        }

        var person = await store.FindPersonByLoginAsync(tenantId, crypto.LoginKey(tenantId, login), ct);
        var credentials = person is null ? null : await store.GetCredentialsAsync(tenantId, person.Id, ct);
        if (person is null || credentials is null)
        {
            PasswordHasher.Verify(password, dummyHash.Value, options.PasswordIterations);
            return (LoginFailure.Rejected, null, null);
        }

        var check = PasswordHasher.Verify(password, credentials.PasswordHash, options.PasswordIterations);
        if (credentials.LockedUntil is { } until && until > now)
        {
            return (LoginFailure.Rejected, null, null);
        }

        if (!check.Matches || person.Disabled is not null)
        {
            if (person.Disabled is null)
            {
                await store.RegisterFailedLoginAsync(tenantId, person.Id, options.LoginMaxAttempts, options.LoginLockout, now, ct);
            }

            return (LoginFailure.Rejected, null, null);
        }

        long? step = null;
        if (credentials.TotpConfirmed && credentials.TotpSecret is { } sealedSecret)
        {
            if (string.IsNullOrWhiteSpace(totpCode))
            {
                return (LoginFailure.TotpRequired, null, null);
            }

            var secret = crypto.OpenTotp(tenantId, person.Id, sealedSecret);
            step = secret is null ? null : Totp.Verify(secret, totpCode, now, credentials.TotpLastStep);
            if (step is null)
            {
                await store.RegisterFailedLoginAsync(tenantId, person.Id, options.LoginMaxAttempts, options.LoginLockout, now, ct);
                return (LoginFailure.Rejected, null, null);
            }
        }

        await store.RegisterSuccessfulLoginAsync(tenantId, person.Id, step, ct);
        if (check.NeedsRehash)
        {
            var fresh = await store.GetCredentialsAsync(tenantId, person.Id, ct) ?? credentials;
            await store.SetCredentialsAsync(fresh with { PasswordHash = PasswordHasher.Hash(password, options.PasswordIterations), Updated = now }, ct);
        }

        return (LoginFailure.None, person, step);
    }

    /// <summary>
    /// Changes the caller's own password. The current password is checked like a login (a wrong one counts toward the
    /// lockout, and a locked account is refused whatever it gives); on success every other token of the person is
    /// revoked, so that whoever else held a session or bearer token is out, while <paramref name="current"/> stays valid.
    /// </summary>
    /// <returns>False when the current password is wrong or the account is locked; nothing changed then.</returns>
    /// <exception cref="AccountException">The new password is too short or long, or the same as the current one.</exception>
    public async Task<bool> ChangePasswordAsync(
        PersonRecord person, AuthTokenRecord current, string currentPassword, string newPassword, CancellationToken ct)
    {
        // Checked before the current password, which costs a hash and may count a failure.
        if (PasswordHasher.Weakness(newPassword) is { } weakness)
        {
            throw new AccountException(weakness);
        }

        if (string.Equals(newPassword, currentPassword, StringComparison.Ordinal))
        {
            throw new AccountException("the new password must differ from the current one");
        }

        var now = Time.GetUtcNow();
        var credentials = await store.GetCredentialsAsync(person.TenantId, person.Id, ct);
        if (credentials is null || currentPassword.Length > PasswordHasher.MaximumLength)
        {
            return false;
        }

        var check = PasswordHasher.Verify(currentPassword, credentials.PasswordHash, options.PasswordIterations);
        if (credentials.LockedUntil is { } until && until > now)
        {
            return false;
        }

        if (!check.Matches)
        {
            await store.RegisterFailedLoginAsync(person.TenantId, person.Id, options.LoginMaxAttempts, options.LoginLockout, now, ct);
            return false;
        }

        await store.SetCredentialsAsync(
            credentials with { PasswordHash = PasswordHasher.Hash(newPassword, options.PasswordIterations), FailedAttempts = 0, LockedUntil = null, Updated = now },
            ct);
        await store.RevokeOtherPersonTokensAsync(person.TenantId, person.Id, current.TokenHash, now, ct);
        return true;
    }

    /// <summary>
    /// Gives a person a generated password (to be shown once), lifts any lockout and revokes every token of theirs: for
    /// a forgotten password, or an account that may be in someone else's hands. The second factor is left as it is.
    /// </summary>
    /// <returns>The new password, or null when the person has no account (no login name).</returns>
    public async Task<string?> ResetPasswordAsync(Guid tenantId, Guid personId, CancellationToken ct)
    {
        var credentials = await store.GetCredentialsAsync(tenantId, personId, ct);
        if (credentials is null)
        {
            return null;
        }

        var now = Time.GetUtcNow();
        var password = PasswordHasher.Generate();
        await store.SetCredentialsAsync(
            credentials with { PasswordHash = PasswordHasher.Hash(password, options.PasswordIterations), FailedAttempts = 0, LockedUntil = null, Updated = now },
            ct);
        await store.RevokePersonTokensAsync(tenantId, personId, now, ct);
        return password;
    }

    /// <summary>
    /// Removes a person's second factor (confirmed or still waiting for confirmation), e.g. after a lost phone, and
    /// revokes every token of theirs; they log in with the password alone and may enrol again.
    /// </summary>
    /// <returns>False when the person has no second factor (or no account).</returns>
    public async Task<bool> RemoveTotpAsync(Guid tenantId, Guid personId, CancellationToken ct)
    {
        var credentials = await store.GetCredentialsAsync(tenantId, personId, ct);
        if (credentials is null || (credentials.TotpSecret is null && !credentials.TotpConfirmed))
        {
            return false;
        }

        var now = Time.GetUtcNow();
        // The last step used is kept: it only ever rises, whatever secret comes next.
        await store.SetCredentialsAsync(credentials with { TotpSecret = null, TotpConfirmed = false, Updated = now }, ct);
        await store.RevokePersonTokensAsync(tenantId, personId, now, ct);
        return true;
    }

    /// <summary>Issues a token; the token itself is returned once, only its hash is stored.</summary>
    public async Task<(string Token, AuthTokenRecord Record)> IssueTokenAsync(
        Guid tenantId, Guid personId, AuthTokenKind kind, string? label, DateTimeOffset created, DateTimeOffset expires, CancellationToken ct)
    {
        var token = TokenPrefix + Base64Url(RandomNumberGenerator.GetBytes(32));
        var record = new AuthTokenRecord(HashToken(token), tenantId, personId, kind, label, created, expires, null);
        await store.AddTokenAsync(record, ct);
        return (token, record);
    }

    /// <summary>A new browser session for a person who just logged in.</summary>
    public Task<(string Token, AuthTokenRecord Record)> StartSessionAsync(PersonRecord person, CancellationToken ct)
    {
        var now = Time.GetUtcNow();
        return IssueTokenAsync(person.TenantId, person.Id, AuthTokenKind.Session, null, now, SessionExpiry(now, now), ct);
    }

    /// <summary>
    /// When a session started at <paramref name="started"/> and used at <paramref name="now"/> expires: idle timeout
    /// from now, never past the absolute lifetime.
    /// </summary>
    public DateTimeOffset SessionExpiry(DateTimeOffset started, DateTimeOffset now)
    {
        var idle = now + options.SessionIdleTimeout;
        var absolute = started + options.SessionLifetime;
        return idle < absolute ? idle : absolute;
    }

    /// <summary>The live token and its person, or null when unknown, of the wrong kind, revoked, expired, or its person disabled.</summary>
    public async Task<(AuthTokenRecord Token, PersonRecord Person)?> AuthenticateAsync(string token, AuthTokenKind kind, CancellationToken ct)
    {
        if (!token.StartsWith(TokenPrefix, StringComparison.Ordinal) || token.Length > 100)
        {
            return null;
        }

        var record = await store.FindTokenAsync(HashToken(token), ct);
        if (record is null || record.Kind != kind || record.Revoked is not null || record.Expires <= Time.GetUtcNow())
        {
            return null;
        }

        var person = await store.GetPersonAsync(record.TenantId, record.PersonId, ct);
        return person is null || person.Disabled is not null ? null : (record, person);
    }

    public static byte[] HashToken(string token) => SHA256.HashData(Encoding.UTF8.GetBytes(token));

    /// <summary>The public id of a token: the first 16 hex digits of its hash (the token cannot be derived from it).</summary>
    public static string TokenId(AuthTokenRecord token) => Convert.ToHexStringLower(token.TokenHash)[..16];

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}

/// <summary>A person or account request that cannot be carried out as asked; the message is one line for the administrator.</summary>
public sealed class AccountException : Exception
{
    public AccountException()
    {
    }

    public AccountException(string message)
        : base(message)
    {
    }

    public AccountException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
