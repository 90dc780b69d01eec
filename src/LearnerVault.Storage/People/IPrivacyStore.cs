using LearnerVault.Privacy.Access;

namespace LearnerVault.Storage.People;

/// <summary>
/// A person of a tenant: staff, a learner with an account, or a guardian. The store sees no name or login in clear:
/// <see cref="LoginKey"/> is a keyed hash of the normalised login name (under the tenant's pseudonym key) and
/// <see cref="Profile"/> an envelope the server encrypts (display name and the like).
/// </summary>
/// <param name="TenantId">The tenant the person belongs to.</param>
/// <param name="Id">The person's id.</param>
/// <param name="Roles">The roles the person holds (a teacher may also be a guardian). Never <see cref="Role.ClientApp"/>.</param>
/// <param name="LoginKey">Keyed hash of the login name, unique per tenant; null for a person without an account.</param>
/// <param name="Profile">Encrypted profile (display name…), or null.</param>
/// <param name="LearnerId">When the person is a learner: the learner record they are.</param>
/// <param name="Created">When the person was added.</param>
/// <param name="Disabled">When the person was disabled (cannot log in, tokens refused), or null.</param>
public sealed record PersonRecord(
    Guid TenantId,
    Guid Id,
    IReadOnlyList<Role> Roles,
    byte[]? LoginKey,
    byte[]? Profile,
    Guid? LearnerId,
    DateTimeOffset Created,
    DateTimeOffset? Disabled);

/// <summary>
/// A person's local account: the password hash (a self-describing string, e.g. <c>pbkdf2-sha256$600000$salt$hash</c>),
/// the failed-attempt counter and lockout, and the TOTP secret (encrypted by the server) when enrolled.
/// </summary>
public sealed record AccountCredentials(
    Guid TenantId,
    Guid PersonId,
    string PasswordHash,
    int FailedAttempts,
    DateTimeOffset? LockedUntil,
    byte[]? TotpSecret,
    bool TotpConfirmed,
    long TotpLastStep,
    DateTimeOffset Updated);

/// <summary>
/// A learner in the identity vault: the keyed pseudonyms of their xAPI identifiers (the same learner pseudonyms the
/// statement path computes, never an IFI), their age (birth year or age band, for the age of digital consent), and
/// the restriction and objections they obtained.
/// </summary>
public sealed record LearnerRecord(
    Guid TenantId,
    Guid Id,
    IReadOnlyList<byte[]> Pseudonyms,
    int? BirthYear,
    AgeBand? AgeBand,
    bool Restricted,
    IReadOnlyList<Purpose> Objections,
    DateTimeOffset Created);

/// <summary>A class (teaching group). Its name is a label such as "7B", not personal data.</summary>
public sealed record ClassRecord(Guid TenantId, Guid Id, string Name, DateTimeOffset Created);

/// <summary>A consent record as stored: the event, the learner it concerns, and who recorded it (a principal id).</summary>
public sealed record StoredConsent(long Id, Guid TenantId, Guid LearnerId, ConsentRecord Record, string RecordedBy);

/// <summary>What an authentication token is for.</summary>
public enum AuthTokenKind
{
    /// <summary>A browser session (cookie).</summary>
    Session = 1,

    /// <summary>A bearer token for scripts.</summary>
    Bearer = 2,
}

/// <summary>An authentication token. Only the SHA-256 of the token is stored.</summary>
public sealed record AuthTokenRecord(
    byte[] TokenHash,
    Guid TenantId,
    Guid PersonId,
    AuthTokenKind Kind,
    string? Label,
    DateTimeOffset Created,
    DateTimeOffset Expires,
    DateTimeOffset? Revoked);

/// <summary>A uniqueness rule was broken (a login name or a learner pseudonym already taken in the tenant). Nothing changed.</summary>
public sealed class PrivacyStoreConflictException : Exception
{
    public PrivacyStoreConflictException()
    {
    }

    public PrivacyStoreConflictException(string message)
        : base(message)
    {
    }

    public PrivacyStoreConflictException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// People, accounts, tokens, learners (identity vault), guardian links, classes, consents and tenant policies: what the
/// access decision reads and the admin API manages. Every method is scoped by tenant except the lookups that must find
/// the tenant (<see cref="FindTokenAsync"/>, <see cref="FindLearnerTenantAsync"/>, <see cref="FindPersonTenantAsync"/>,
/// <see cref="FindClassTenantAsync"/>: they let the server recognise — and log — a cross-tenant attempt).
/// Both backends pass the same contract tests.
/// </summary>
public interface IPrivacyStore
{
    // People and accounts
    /// <exception cref="PrivacyStoreConflictException">The login key is taken in the tenant.</exception>
    Task AddPersonAsync(PersonRecord person, CancellationToken cancellationToken = default);

    /// <summary>Replaces roles, login key, profile, learner link and disabled; false when no such person.</summary>
    /// <exception cref="PrivacyStoreConflictException">The login key is taken in the tenant.</exception>
    Task<bool> UpdatePersonAsync(PersonRecord person, CancellationToken cancellationToken = default);

    Task<PersonRecord?> GetPersonAsync(Guid tenantId, Guid personId, CancellationToken cancellationToken = default);

    Task<PersonRecord?> FindPersonByLoginAsync(Guid tenantId, byte[] loginKey, CancellationToken cancellationToken = default);

    /// <summary>The people of the tenant, ordered by id.</summary>
    Task<IReadOnlyList<PersonRecord>> ListPeopleAsync(Guid tenantId, CancellationToken cancellationToken = default);

    /// <summary>The tenant a person id belongs to, whatever tenant asks; null when none.</summary>
    Task<Guid?> FindPersonTenantAsync(Guid personId, CancellationToken cancellationToken = default);

    Task<AccountCredentials?> GetCredentialsAsync(Guid tenantId, Guid personId, CancellationToken cancellationToken = default);

    /// <summary>Inserts or replaces the person's credentials.</summary>
    Task SetCredentialsAsync(AccountCredentials credentials, CancellationToken cancellationToken = default);

    /// <summary>
    /// Atomically counts one failed login: increments the counter and, when it reaches <paramref name="maxAttempts"/>,
    /// locks the account until <paramref name="now"/> + <paramref name="lockout"/> and resets the counter. Returns the
    /// credentials after the change; null when the person has none.
    /// </summary>
    Task<AccountCredentials?> RegisterFailedLoginAsync(
        Guid tenantId, Guid personId, int maxAttempts, TimeSpan lockout, DateTimeOffset now, CancellationToken cancellationToken = default);

    /// <summary>Resets the failed-attempt counter and, when given, records the TOTP step just used (never lowers it).</summary>
    Task RegisterSuccessfulLoginAsync(Guid tenantId, Guid personId, long? totpStep, CancellationToken cancellationToken = default);

    // Tokens
    Task AddTokenAsync(AuthTokenRecord token, CancellationToken cancellationToken = default);

    /// <summary>The token with this hash in any tenant, revoked or expired ones included; null when none.</summary>
    Task<AuthTokenRecord?> FindTokenAsync(byte[] tokenHash, CancellationToken cancellationToken = default);

    /// <summary>Revokes one token; false when no such unrevoked token.</summary>
    Task<bool> RevokeTokenAsync(byte[] tokenHash, DateTimeOffset when, CancellationToken cancellationToken = default);

    /// <summary>Revokes every token of the person (password change, disabling); returns how many.</summary>
    Task<int> RevokePersonTokensAsync(Guid tenantId, Guid personId, DateTimeOffset when, CancellationToken cancellationToken = default);

    /// <summary>
    /// Revokes every token of the person but <paramref name="keepTokenHash"/> (the one a password change was made with),
    /// in one statement; returns how many.
    /// </summary>
    Task<int> RevokeOtherPersonTokensAsync(
        Guid tenantId, Guid personId, byte[] keepTokenHash, DateTimeOffset when, CancellationToken cancellationToken = default);

    /// <summary>The person's tokens, newest first.</summary>
    Task<IReadOnlyList<AuthTokenRecord>> ListTokensAsync(Guid tenantId, Guid personId, CancellationToken cancellationToken = default);

    /// <summary>
    /// Deletes, in every tenant, the tokens that expired before <paramref name="before"/> or were revoked before it;
    /// returns how many. Such a token can never authenticate again: the row only serves a look at recent sessions.
    /// </summary>
    Task<int> PurgeTokensAsync(DateTimeOffset before, CancellationToken cancellationToken = default);

    // Learners (identity vault)
    /// <exception cref="PrivacyStoreConflictException">One of the pseudonyms already belongs to a learner of the tenant.</exception>
    Task AddLearnerAsync(LearnerRecord learner, CancellationToken cancellationToken = default);

    /// <summary>Replaces pseudonyms, age, restriction and objections; false when no such learner.</summary>
    /// <exception cref="PrivacyStoreConflictException">One of the pseudonyms belongs to another learner of the tenant.</exception>
    Task<bool> UpdateLearnerAsync(LearnerRecord learner, CancellationToken cancellationToken = default);

    Task<LearnerRecord?> GetLearnerAsync(Guid tenantId, Guid learnerId, CancellationToken cancellationToken = default);

    /// <summary>Up to <paramref name="limit"/> learners with an id greater than <paramref name="after"/>, ordered by id.</summary>
    Task<IReadOnlyList<LearnerRecord>> ListLearnersAsync(Guid tenantId, Guid? after, int limit, CancellationToken cancellationToken = default);

    /// <summary>The tenant a learner id belongs to, whatever tenant asks; null when none.</summary>
    Task<Guid?> FindLearnerTenantAsync(Guid learnerId, CancellationToken cancellationToken = default);

    /// <summary>
    /// For each pseudonym (in order), the learner it belongs to, or null. The hot path of every xAPI request: one
    /// round trip, and cheap when (as usual) no pseudonym is registered.
    /// </summary>
    Task<IReadOnlyList<Guid?>> FindLearnersAsync(Guid tenantId, IReadOnlyList<byte[]> pseudonyms, CancellationToken cancellationToken = default);

    /// <summary>
    /// Everything the access decision needs about these learners (age, guardians, classes, every consent record,
    /// restriction, objections) in a fixed number of round trips. Learners not found are left out.
    /// <see cref="LearnerFacts.Pseudonym"/> is left null (the caller knows which pseudonym it asked about);
    /// guardian and class ids are <see cref="Guid"/>s in "D" format.
    /// </summary>
    Task<IReadOnlyDictionary<Guid, LearnerFacts>> GetLearnerFactsAsync(
        Guid tenantId, IReadOnlyCollection<Guid> learnerIds, CancellationToken cancellationToken = default);

    // Guardians
    /// <summary>Links a guardian (a person) to a learner; idempotent.</summary>
    Task LinkGuardianAsync(Guid tenantId, Guid learnerId, Guid guardianId, CancellationToken cancellationToken = default);

    /// <summary>False when there was no such link.</summary>
    Task<bool> UnlinkGuardianAsync(Guid tenantId, Guid learnerId, Guid guardianId, CancellationToken cancellationToken = default);

    /// <summary>The learners a person is guardian of, ordered by id.</summary>
    Task<IReadOnlyList<Guid>> ListWardsAsync(Guid tenantId, Guid guardianId, CancellationToken cancellationToken = default);

    // Classes
    Task AddClassAsync(ClassRecord schoolClass, CancellationToken cancellationToken = default);

    Task<ClassRecord?> GetClassAsync(Guid tenantId, Guid classId, CancellationToken cancellationToken = default);

    /// <summary>The tenant's classes ordered by name, then id.</summary>
    Task<IReadOnlyList<ClassRecord>> ListClassesAsync(Guid tenantId, CancellationToken cancellationToken = default);

    /// <summary>The tenant a class id belongs to, whatever tenant asks; null when none.</summary>
    Task<Guid?> FindClassTenantAsync(Guid classId, CancellationToken cancellationToken = default);

    /// <summary>Adds (true) or removes (false) a learner's membership of a class; idempotent.</summary>
    Task SetClassMemberAsync(Guid tenantId, Guid classId, Guid learnerId, bool member, CancellationToken cancellationToken = default);

    /// <summary>Adds (true) or removes (false) a teacher (person) of a class; idempotent.</summary>
    Task SetClassTeacherAsync(Guid tenantId, Guid classId, Guid teacherId, bool teaches, CancellationToken cancellationToken = default);

    Task<IReadOnlyList<Guid>> ListClassMembersAsync(Guid tenantId, Guid classId, CancellationToken cancellationToken = default);

    Task<IReadOnlyList<Guid>> ListClassTeachersAsync(Guid tenantId, Guid classId, CancellationToken cancellationToken = default);

    /// <summary>The classes a person teaches.</summary>
    Task<IReadOnlyList<Guid>> ListTaughtClassesAsync(Guid tenantId, Guid teacherId, CancellationToken cancellationToken = default);

    // Consents (append-only)
    /// <summary>Appends a consent record; returns it with its id.</summary>
    Task<StoredConsent> AddConsentAsync(
        Guid tenantId, Guid learnerId, ConsentRecord record, string recordedBy, CancellationToken cancellationToken = default);

    /// <summary>The learner's consent records in the order they were recorded.</summary>
    Task<IReadOnlyList<StoredConsent>> ListConsentsAsync(Guid tenantId, Guid learnerId, CancellationToken cancellationToken = default);

    // Tenant policy
    /// <summary>The tenant's policy; <see cref="TenantPolicy.CreateDefault"/> when none was saved.</summary>
    Task<TenantPolicy> GetPolicyAsync(Guid tenantId, CancellationToken cancellationToken = default);

    Task SavePolicyAsync(TenantPolicy policy, CancellationToken cancellationToken = default);
}
