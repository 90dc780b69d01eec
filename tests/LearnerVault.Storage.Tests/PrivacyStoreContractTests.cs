using System.Security.Cryptography;
using LearnerVault.Privacy.Access;
using LearnerVault.Storage.People;

namespace LearnerVault.Storage.Tests;

/// <summary>One opened backend whose privacy store is under test, and how to close it.</summary>
public sealed class PrivacyStoreHandle(IPrivacyStore store, Func<ValueTask> close) : IAsyncDisposable
{
    public IPrivacyStore Store { get; } = store;

    public ValueTask DisposeAsync() => close();
}

/// <summary>
/// The behaviour every <see cref="IPrivacyStore"/> backend must have. Storage may be shared with other tests (one
/// PostgreSQL database per test process), so every test works in two tenants of its own (A and B) with fresh ids.
/// </summary>
public abstract class PrivacyStoreContractTests : StoreContractLifetime<PrivacyStoreHandle>
{
    // 7 ticks past the microsecond: both backends keep microseconds, so what comes back is floored.
    private static readonly DateTimeOffset Now = new DateTimeOffset(2026, 3, 1, 8, 0, 0, TimeSpan.Zero).AddTicks(7);

    private readonly Guid tenantA = Guid.NewGuid();
    private readonly Guid tenantB = Guid.NewGuid();

    private IPrivacyStore Store => Handle.Store;

    protected abstract ValueTask<PrivacyStoreHandle> OpenAsync();

    protected sealed override ValueTask<PrivacyStoreHandle> OpenHandleAsync() => OpenAsync();

    private static DateTimeOffset Micro(DateTimeOffset time) => new(time.UtcTicks - (time.UtcTicks % 10), TimeSpan.Zero);

    private static byte[] Bytes() => RandomNumberGenerator.GetBytes(32);

    private static PersonRecord Person(Guid tenant, params Role[] roles) =>
        new(tenant, Guid.NewGuid(), roles, Bytes(), Bytes(), null, Now, null);

    private static LearnerRecord Learner(Guid tenant, params byte[][] pseudonyms) =>
        new(tenant, Guid.NewGuid(), pseudonyms, 2012, new AgeBand(13, 15), false, [], Now);

    private static AccountCredentials Credentials(Guid tenant, Guid person) =>
        new(tenant, person, "pbkdf2-sha256$600000$c2FsdA$aGFzaA", 0, null, Bytes(), true, 1000, Now);

    private static ConsentRecord Consent(Purpose purpose, ConsentChoice choice, ConsentGiver by, string giver, int minute) =>
        new(purpose, choice, by, giver, Now.AddMinutes(minute), "web", "2026-01");

    private static void AssertSame(PersonRecord expected, PersonRecord? actual)
    {
        Assert.NotNull(actual);
        Assert.Equal(expected.TenantId, actual.TenantId);
        Assert.Equal(expected.Id, actual.Id);
        Assert.Equal(expected.Roles, actual.Roles);
        Assert.Equal(expected.LoginKey, actual.LoginKey);
        Assert.Equal(expected.Profile, actual.Profile);
        Assert.Equal(expected.LearnerId, actual.LearnerId);
        Assert.Equal(Micro(expected.Created), actual.Created);
        Assert.Equal(expected.Disabled is { } d ? Micro(d) : null, actual.Disabled);
    }

    private static void AssertSame(LearnerRecord expected, LearnerRecord? actual)
    {
        Assert.NotNull(actual);
        Assert.Equal(expected.TenantId, actual.TenantId);
        Assert.Equal(expected.Id, actual.Id);
        Assert.Equal(expected.Pseudonyms, actual.Pseudonyms);
        Assert.Equal(expected.BirthYear, actual.BirthYear);
        Assert.Equal(expected.AgeBand, actual.AgeBand);
        Assert.Equal(expected.Restricted, actual.Restricted);
        Assert.Equal(expected.Objections, actual.Objections);
        Assert.Equal(Micro(expected.Created), actual.Created);
    }

    private static void AssertSame(AccountCredentials expected, AccountCredentials? actual)
    {
        Assert.NotNull(actual);
        Assert.Equal(expected with { TotpSecret = null, LockedUntil = null, Updated = default },
            actual with { TotpSecret = null, LockedUntil = null, Updated = default });
        Assert.Equal(expected.TotpSecret, actual.TotpSecret);
        Assert.Equal(expected.LockedUntil is { } l ? Micro(l) : null, actual.LockedUntil);
        Assert.Equal(Micro(expected.Updated), actual.Updated);
    }

    // People

    [Fact]
    public async Task AddPerson_ThenGet_RoundTripsEveryField()
    {
        var learner = Guid.NewGuid();
        var person = Person(tenantA, Role.Teacher, Role.Guardian) with { LearnerId = learner, Disabled = Now.AddDays(1) };
        var bare = new PersonRecord(tenantA, Guid.NewGuid(), [Role.DataProtectionOfficer], null, null, null, Now, null);

        await Store.AddPersonAsync(person, Ct);
        await Store.AddPersonAsync(bare, Ct);

        AssertSame(person, await Store.GetPersonAsync(tenantA, person.Id, Ct));
        AssertSame(bare, await Store.GetPersonAsync(tenantA, bare.Id, Ct));
        AssertSame(person, await Store.FindPersonByLoginAsync(tenantA, person.LoginKey!, Ct));
        Assert.Null(await Store.GetPersonAsync(tenantA, Guid.NewGuid(), Ct));
        Assert.Null(await Store.FindPersonByLoginAsync(tenantA, Bytes(), Ct));
    }

    [Fact]
    public async Task AddPerson_LoginKeyTaken_ThrowsConflictAndAddsNothing()
    {
        var first = Person(tenantA, Role.Teacher);
        await Store.AddPersonAsync(first, Ct);
        var second = Person(tenantA, Role.Learner) with { LoginKey = first.LoginKey };

        await Assert.ThrowsAsync<PrivacyStoreConflictException>(() => Store.AddPersonAsync(second, Ct));

        Assert.Null(await Store.GetPersonAsync(tenantA, second.Id, Ct));
        Assert.Equal([first.Id], (await Store.ListPeopleAsync(tenantA, Ct)).Select(p => p.Id));
        AssertSame(first, await Store.FindPersonByLoginAsync(tenantA, first.LoginKey!, Ct));
    }

    [Fact]
    public async Task AddPerson_SameLoginKeyInTwoTenants_KeepsThemApart()
    {
        var inA = Person(tenantA, Role.Teacher);
        var inB = Person(tenantB, Role.Guardian) with { LoginKey = inA.LoginKey };

        await Store.AddPersonAsync(inA, Ct);
        await Store.AddPersonAsync(inB, Ct);

        AssertSame(inA, await Store.FindPersonByLoginAsync(tenantA, inA.LoginKey!, Ct));
        AssertSame(inB, await Store.FindPersonByLoginAsync(tenantB, inA.LoginKey!, Ct));
        Assert.Equal(tenantA, await Store.FindPersonTenantAsync(inA.Id, Ct));
        Assert.Equal(tenantB, await Store.FindPersonTenantAsync(inB.Id, Ct));
        Assert.Null(await Store.FindPersonTenantAsync(Guid.NewGuid(), Ct));
    }

    [Fact]
    public async Task ManyPeopleWithoutLogin_AreAllowed()
    {
        var one = Person(tenantA, Role.Guardian) with { LoginKey = null };
        var two = Person(tenantA, Role.Guardian) with { LoginKey = null };

        await Store.AddPersonAsync(one, Ct);
        await Store.AddPersonAsync(two, Ct);

        Assert.Equal(2, (await Store.ListPeopleAsync(tenantA, Ct)).Count);
    }

    [Fact]
    public async Task UpdatePerson_ReplacesRolesLoginProfileLearnerAndDisabled()
    {
        var person = Person(tenantA, Role.Teacher);
        await Store.AddPersonAsync(person, Ct);
        var changed = person with
        {
            Roles = [Role.SchoolAdministrator, Role.Teacher],
            LoginKey = Bytes(),
            Profile = null,
            LearnerId = Guid.NewGuid(),
            Disabled = Now.AddHours(3),
            Created = Now.AddYears(-1), // not replaced: when the person was added stays
        };

        Assert.True(await Store.UpdatePersonAsync(changed, Ct));

        AssertSame(changed with { Created = person.Created }, await Store.GetPersonAsync(tenantA, person.Id, Ct));
        Assert.Null(await Store.FindPersonByLoginAsync(tenantA, person.LoginKey!, Ct));
        Assert.False(await Store.UpdatePersonAsync(Person(tenantA, Role.Teacher), Ct));
        Assert.False(await Store.UpdatePersonAsync(changed with { TenantId = tenantB }, Ct));
    }

    [Fact]
    public async Task UpdatePerson_LoginKeyTaken_ThrowsConflictAndChangesNothing()
    {
        var first = Person(tenantA, Role.Teacher);
        var second = Person(tenantA, Role.Teacher);
        await Store.AddPersonAsync(first, Ct);
        await Store.AddPersonAsync(second, Ct);

        await Assert.ThrowsAsync<PrivacyStoreConflictException>(
            () => Store.UpdatePersonAsync(second with { LoginKey = first.LoginKey, Roles = [Role.Analyst] }, Ct));

        AssertSame(second, await Store.GetPersonAsync(tenantA, second.Id, Ct));
    }

    [Fact]
    public async Task ListPeople_OrdersById()
    {
        var people = Enumerable.Range(0, 5).Select(_ => Person(tenantA, Role.Teacher)).ToList();
        foreach (var person in people)
        {
            await Store.AddPersonAsync(person, Ct);
        }

        await Store.AddPersonAsync(Person(tenantB, Role.Teacher), Ct);

        Assert.Equal(people.Select(p => p.Id).Order(), (await Store.ListPeopleAsync(tenantA, Ct)).Select(p => p.Id));
    }

    // Accounts

    [Fact]
    public async Task SetCredentials_InsertsThenReplaces()
    {
        var person = Guid.NewGuid();
        Assert.Null(await Store.GetCredentialsAsync(tenantA, person, Ct));
        var credentials = Credentials(tenantA, person);

        await Store.SetCredentialsAsync(credentials, Ct);
        AssertSame(credentials, await Store.GetCredentialsAsync(tenantA, person, Ct));

        var replaced = credentials with
        {
            PasswordHash = "pbkdf2-sha256$600000$bmV3$bmV3",
            FailedAttempts = 2,
            LockedUntil = Now.AddMinutes(15),
            TotpSecret = null,
            TotpConfirmed = false,
            TotpLastStep = 0,
            Updated = Now.AddDays(1),
        };
        await Store.SetCredentialsAsync(replaced, Ct);
        AssertSame(replaced, await Store.GetCredentialsAsync(tenantA, person, Ct));
        Assert.Null(await Store.GetCredentialsAsync(tenantB, person, Ct));
    }

    [Fact]
    public async Task RegisterFailedLogin_CountsThenLocksAndResets()
    {
        var person = Guid.NewGuid();
        await Store.SetCredentialsAsync(Credentials(tenantA, person), Ct);

        var first = await Store.RegisterFailedLoginAsync(tenantA, person, 3, TimeSpan.FromMinutes(15), Now, Ct);
        var second = await Store.RegisterFailedLoginAsync(tenantA, person, 3, TimeSpan.FromMinutes(15), Now, Ct);
        var third = await Store.RegisterFailedLoginAsync(tenantA, person, 3, TimeSpan.FromMinutes(15), Now.AddSeconds(1), Ct);

        Assert.Equal((1, (DateTimeOffset?)null), (first!.FailedAttempts, first.LockedUntil));
        Assert.Equal((2, (DateTimeOffset?)null), (second!.FailedAttempts, second.LockedUntil));
        Assert.Equal((0, (DateTimeOffset?)Micro(Now.AddSeconds(1).AddMinutes(15))), (third!.FailedAttempts, third.LockedUntil));
        AssertSame(third, await Store.GetCredentialsAsync(tenantA, person, Ct));
        Assert.Null(await Store.RegisterFailedLoginAsync(tenantA, Guid.NewGuid(), 3, TimeSpan.FromMinutes(15), Now, Ct));
        Assert.Null(await Store.RegisterFailedLoginAsync(tenantB, person, 3, TimeSpan.FromMinutes(15), Now, Ct));
    }

    [Fact]
    public async Task RegisterFailedLogin_TwentyAtOnce_CountsEveryOneExactlyOnce()
    {
        var person = Guid.NewGuid();
        await Store.SetCredentialsAsync(Credentials(tenantA, person), Ct);

        var results = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ =>
            Task.Run(() => Store.RegisterFailedLoginAsync(tenantA, person, 5, TimeSpan.FromMinutes(15), Now, Ct), Ct)));

        // Each attempt saw its own row version: 1, 2, 3, 4 then a lock (counter back to 0), four times over.
        Assert.Equal([0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4], results.Select(r => r!.FailedAttempts).Order());
        Assert.Equal(4, results.Count(r => r!.FailedAttempts == 0 && r.LockedUntil == Micro(Now.AddMinutes(15))));
        var final = await Store.GetCredentialsAsync(tenantA, person, Ct);
        Assert.Equal(0, final!.FailedAttempts);
        Assert.Equal(Micro(Now.AddMinutes(15)), final.LockedUntil);
    }

    [Fact]
    public async Task RegisterSuccessfulLogin_ResetsCounterAndNeverLowersTheTotpStep()
    {
        var person = Guid.NewGuid();
        await Store.SetCredentialsAsync(Credentials(tenantA, person) with { FailedAttempts = 2 }, Ct);

        await Store.RegisterSuccessfulLoginAsync(tenantA, person, 1005, Ct);
        var afterRaise = await Store.GetCredentialsAsync(tenantA, person, Ct);
        await Store.RegisterSuccessfulLoginAsync(tenantA, person, 900, Ct);
        var afterLower = await Store.GetCredentialsAsync(tenantA, person, Ct);
        await Store.RegisterFailedLoginAsync(tenantA, person, 5, TimeSpan.FromMinutes(1), Now, Ct);
        await Store.RegisterSuccessfulLoginAsync(tenantA, person, null, Ct);
        var afterNone = await Store.GetCredentialsAsync(tenantA, person, Ct);
        await Store.RegisterSuccessfulLoginAsync(tenantB, person, 5000, Ct);

        Assert.Equal((0, 1005L), (afterRaise!.FailedAttempts, afterRaise.TotpLastStep));
        Assert.Equal(1005L, afterLower!.TotpLastStep);
        Assert.Equal((0, 1005L), (afterNone!.FailedAttempts, afterNone.TotpLastStep));
        Assert.Equal(1005L, (await Store.GetCredentialsAsync(tenantA, person, Ct))!.TotpLastStep);
    }

    // Tokens

    [Fact]
    public async Task Tokens_AddFindListAndRevoke()
    {
        var person = Guid.NewGuid();
        var older = new AuthTokenRecord(Bytes(), tenantA, person, AuthTokenKind.Session, null, Now, Now.AddHours(8), null);
        var newer = new AuthTokenRecord(Bytes(), tenantA, person, AuthTokenKind.Bearer, "backup script", Now.AddMinutes(1), Now.AddDays(90), null);
        var other = new AuthTokenRecord(Bytes(), tenantA, Guid.NewGuid(), AuthTokenKind.Session, null, Now, Now.AddHours(8), null);
        await Store.AddTokenAsync(older, Ct);
        await Store.AddTokenAsync(newer, Ct);
        await Store.AddTokenAsync(other, Ct);

        var found = await Store.FindTokenAsync(newer.TokenHash, Ct);
        Assert.Equal(newer with { TokenHash = [], Created = Micro(newer.Created) }, found! with { TokenHash = [] }, TokenComparer.Instance);
        Assert.Null(await Store.FindTokenAsync(Bytes(), Ct));
        Assert.Equal([newer.TokenHash, older.TokenHash], (await Store.ListTokensAsync(tenantA, person, Ct)).Select(t => t.TokenHash));
        Assert.Empty(await Store.ListTokensAsync(tenantB, person, Ct));

        Assert.True(await Store.RevokeTokenAsync(older.TokenHash, Now.AddMinutes(5), Ct));
        Assert.False(await Store.RevokeTokenAsync(older.TokenHash, Now.AddMinutes(6), Ct));
        Assert.False(await Store.RevokeTokenAsync(Bytes(), Now, Ct));
        Assert.Equal(Micro(Now.AddMinutes(5)), (await Store.FindTokenAsync(older.TokenHash, Ct))!.Revoked);

        Assert.Equal(0, await Store.RevokePersonTokensAsync(tenantB, person, Now.AddMinutes(7), Ct));
        Assert.Equal(1, await Store.RevokePersonTokensAsync(tenantA, person, Now.AddMinutes(7), Ct));
        var tokens = await Store.ListTokensAsync(tenantA, person, Ct);
        Assert.Equal([Micro(Now.AddMinutes(7)), Micro(Now.AddMinutes(5))], tokens.Select(t => t.Revoked!.Value));
        Assert.Null((await Store.FindTokenAsync(other.TokenHash, Ct))!.Revoked);
    }

    [Fact]
    public async Task RevokeOtherPersonTokens_KeepsTheGivenTokenAndOtherPeoples()
    {
        var person = Guid.NewGuid();
        var kept = new AuthTokenRecord(Bytes(), tenantA, person, AuthTokenKind.Session, null, Now, Now.AddHours(8), null);
        var session = new AuthTokenRecord(Bytes(), tenantA, person, AuthTokenKind.Session, null, Now, Now.AddHours(8), null);
        var bearer = new AuthTokenRecord(Bytes(), tenantA, person, AuthTokenKind.Bearer, "script", Now, Now.AddDays(30), null);
        var revoked = new AuthTokenRecord(Bytes(), tenantA, person, AuthTokenKind.Bearer, "old", Now, Now.AddDays(30), Now.AddMinutes(1));
        var other = new AuthTokenRecord(Bytes(), tenantA, Guid.NewGuid(), AuthTokenKind.Session, null, Now, Now.AddHours(8), null);
        foreach (var token in new[] { kept, session, bearer, revoked, other })
        {
            await Store.AddTokenAsync(token, Ct);
        }

        Assert.Equal(0, await Store.RevokeOtherPersonTokensAsync(tenantB, person, kept.TokenHash, Now.AddMinutes(5), Ct));
        Assert.Equal(2, await Store.RevokeOtherPersonTokensAsync(tenantA, person, kept.TokenHash, Now.AddMinutes(5), Ct));

        Assert.Null((await Store.FindTokenAsync(kept.TokenHash, Ct))!.Revoked);
        Assert.Equal(Micro(Now.AddMinutes(5)), (await Store.FindTokenAsync(session.TokenHash, Ct))!.Revoked);
        Assert.Equal(Micro(Now.AddMinutes(5)), (await Store.FindTokenAsync(bearer.TokenHash, Ct))!.Revoked);
        Assert.Equal(Micro(Now.AddMinutes(1)), (await Store.FindTokenAsync(revoked.TokenHash, Ct))!.Revoked);
        Assert.Null((await Store.FindTokenAsync(other.TokenHash, Ct))!.Revoked);
    }

    [Fact]
    public async Task PurgeTokens_ExpiredOrRevokedBeforeTheCutoff_AreDeletedInEveryTenant()
    {
        // Long before every other test's tokens (the database may be shared), so that the purge touches only these.
        var cutoff = new DateTimeOffset(2001, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var start = cutoff.AddDays(-3);
        var person = Guid.NewGuid();
        AuthTokenRecord Token(Guid tenant, DateTimeOffset expires, DateTimeOffset? revoked) =>
            new(Bytes(), tenant, person, AuthTokenKind.Session, null, start, expires, revoked);
        var expiredA = Token(tenantA, cutoff.AddHours(-1), null);
        var expiredB = Token(tenantB, cutoff.AddTicks(-10), null);
        var revokedA = Token(tenantA, cutoff.AddYears(1), cutoff.AddHours(-2));
        var expiresAtCutoff = Token(tenantA, cutoff, null);
        var live = Token(tenantB, cutoff.AddHours(1), null);
        var revokedAfter = Token(tenantA, cutoff.AddHours(1), cutoff.AddMinutes(1));
        AuthTokenRecord[] all = [expiredA, expiredB, revokedA, expiresAtCutoff, live, revokedAfter];
        foreach (var token in all)
        {
            await Store.AddTokenAsync(token, Ct);
        }

        Assert.Equal(3, await Store.PurgeTokensAsync(cutoff, Ct));

        var left = new List<AuthTokenRecord>();
        foreach (var token in all)
        {
            if (await Store.FindTokenAsync(token.TokenHash, Ct) is { } found)
            {
                left.Add(token);
            }
        }

        Assert.Equal([expiresAtCutoff, live, revokedAfter], left);
        Assert.Equal(0, await Store.PurgeTokensAsync(cutoff, Ct));
    }

    private sealed class TokenComparer : IEqualityComparer<AuthTokenRecord>
    {
        public static readonly TokenComparer Instance = new();

        public bool Equals(AuthTokenRecord? x, AuthTokenRecord? y) =>
            x is not null && y is not null && x.TenantId == y.TenantId && x.PersonId == y.PersonId && x.Kind == y.Kind && x.Label == y.Label
            && Micro(x.Created) == y.Created && Micro(x.Expires) == y.Expires && x.Revoked == y.Revoked;

        public int GetHashCode(AuthTokenRecord obj) => obj.PersonId.GetHashCode();
    }

    // Learners

    [Fact]
    public async Task AddLearner_ThenGet_RoundTripsEveryField()
    {
        var learner = Learner(tenantA, Bytes(), Bytes(), Bytes()) with
        {
            BirthYear = null,
            AgeBand = new AgeBand(18, null),
            Restricted = true,
            Objections = [Purpose.Research, Purpose.Vendor("kolibri")],
        };
        var plain = new LearnerRecord(tenantA, Guid.NewGuid(), [], null, null, false, [], Now);

        await Store.AddLearnerAsync(learner, Ct);
        await Store.AddLearnerAsync(plain, Ct);

        AssertSame(learner, await Store.GetLearnerAsync(tenantA, learner.Id, Ct));
        AssertSame(plain, await Store.GetLearnerAsync(tenantA, plain.Id, Ct));
        Assert.Null(await Store.GetLearnerAsync(tenantA, Guid.NewGuid(), Ct));
        Assert.Equal(tenantA, await Store.FindLearnerTenantAsync(learner.Id, Ct));
        Assert.Null(await Store.FindLearnerTenantAsync(Guid.NewGuid(), Ct));
    }

    [Fact]
    public async Task AddLearner_PseudonymTaken_ThrowsConflictAndAddsNothing()
    {
        var shared = Bytes();
        var first = Learner(tenantA, shared);
        await Store.AddLearnerAsync(first, Ct);
        var fresh = Bytes();
        var second = Learner(tenantA, fresh, shared);

        await Assert.ThrowsAsync<PrivacyStoreConflictException>(() => Store.AddLearnerAsync(second, Ct));

        Assert.Null(await Store.GetLearnerAsync(tenantA, second.Id, Ct));
        Assert.Equal([first.Id, null], await Store.FindLearnersAsync(tenantA, [shared, fresh], Ct));
    }

    [Fact]
    public async Task UpdateLearner_ReplacesPseudonymsAgeRestrictionAndObjections()
    {
        var (keep, drop, add) = (Bytes(), Bytes(), Bytes());
        var learner = Learner(tenantA, keep, drop);
        await Store.AddLearnerAsync(learner, Ct);
        var changed = learner with
        {
            Pseudonyms = [add, keep],
            BirthYear = 2010,
            AgeBand = null,
            Restricted = true,
            Objections = [Purpose.Assessment],
        };

        Assert.True(await Store.UpdateLearnerAsync(changed, Ct));

        AssertSame(changed, await Store.GetLearnerAsync(tenantA, learner.Id, Ct));
        Assert.Equal([learner.Id, null, learner.Id], await Store.FindLearnersAsync(tenantA, [keep, drop, add], Ct));
        Assert.False(await Store.UpdateLearnerAsync(Learner(tenantA, Bytes()), Ct));
        Assert.False(await Store.UpdateLearnerAsync(changed with { TenantId = tenantB }, Ct));
    }

    [Fact]
    public async Task UpdateLearner_PseudonymOfAnother_ThrowsConflictAndChangesNothing()
    {
        var other = Learner(tenantA, Bytes());
        var learner = Learner(tenantA, Bytes());
        await Store.AddLearnerAsync(other, Ct);
        await Store.AddLearnerAsync(learner, Ct);

        await Assert.ThrowsAsync<PrivacyStoreConflictException>(() => Store.UpdateLearnerAsync(
            learner with { Pseudonyms = [Bytes(), other.Pseudonyms[0]], Restricted = true }, Ct));

        AssertSame(learner, await Store.GetLearnerAsync(tenantA, learner.Id, Ct));
        AssertSame(other, await Store.GetLearnerAsync(tenantA, other.Id, Ct));
    }

    [Fact]
    public async Task ListLearners_PagesInIdOrder()
    {
        var learners = Enumerable.Range(0, 7).Select(_ => Learner(tenantA, Bytes(), Bytes())).ToList();
        foreach (var learner in learners)
        {
            await Store.AddLearnerAsync(learner, Ct);
        }

        await Store.AddLearnerAsync(Learner(tenantB, Bytes()), Ct);
        var expected = learners.OrderBy(l => l.Id).ToList();

        var first = await Store.ListLearnersAsync(tenantA, null, 3, Ct);
        var second = await Store.ListLearnersAsync(tenantA, first[^1].Id, 3, Ct);
        var third = await Store.ListLearnersAsync(tenantA, second[^1].Id, 3, Ct);
        var beyond = await Store.ListLearnersAsync(tenantA, third[^1].Id, 3, Ct);

        var all = first.Concat(second).Concat(third).ToList();
        Assert.Equal(expected.Select(l => l.Id), all.Select(l => l.Id));
        for (var i = 0; i < expected.Count; i++)
        {
            AssertSame(expected[i], all[i]);
        }

        Assert.Empty(beyond);
    }

    [Fact]
    public async Task FindLearners_ManyPseudonyms_AnswersEachInOrder()
    {
        var learners = Enumerable.Range(0, 10).Select(_ => Learner(tenantA, Bytes(), Bytes())).ToList();
        foreach (var learner in learners)
        {
            await Store.AddLearnerAsync(learner, Ct);
        }

        var asked = new List<byte[]>();
        var expected = new List<Guid?>();
        foreach (var learner in learners)
        {
            asked.Add(Bytes());
            expected.Add(null);
            asked.Add(learner.Pseudonyms[1]);
            expected.Add(learner.Id);
        }

        asked.Add(learners[0].Pseudonyms[1]); // asked twice
        expected.Add(learners[0].Id);

        Assert.Equal(expected, await Store.FindLearnersAsync(tenantA, asked, Ct));
        Assert.Equal(expected.Take(3), await Store.FindLearnersAsync(tenantA, asked.Take(3).ToList(), Ct));
        Assert.Empty(await Store.FindLearnersAsync(tenantA, [], Ct));
        Assert.Equal([null, null], await Store.FindLearnersAsync(Guid.NewGuid(), [asked[1], asked[3]], Ct));
    }

    [Fact]
    public async Task SamePseudonymAndLearnerIdInTwoTenants_DoNotMix()
    {
        var pseudonym = Bytes();
        var inA = Learner(tenantA, pseudonym);
        var inB = Learner(tenantB, pseudonym) with { Id = inA.Id, Restricted = true, BirthYear = 2000 };

        await Store.AddLearnerAsync(inA, Ct);
        await Store.AddLearnerAsync(inB, Ct);
        await Store.AddConsentAsync(tenantB, inA.Id, Consent(Purpose.Research, ConsentChoice.Given, ConsentGiver.Learner, inA.Id.ToString("D"), 0), "person:dpo", Ct);

        AssertSame(inA, await Store.GetLearnerAsync(tenantA, inA.Id, Ct));
        AssertSame(inB, await Store.GetLearnerAsync(tenantB, inA.Id, Ct));
        Assert.Equal([inA.Id], await Store.FindLearnersAsync(tenantA, [pseudonym], Ct));
        Assert.Equal([inB.Id], await Store.FindLearnersAsync(tenantB, [pseudonym], Ct));
        var factsA = await Store.GetLearnerFactsAsync(tenantA, [inA.Id], Ct);
        var factsB = await Store.GetLearnerFactsAsync(tenantB, [inA.Id], Ct);
        Assert.Equal((tenantA, false, 2012, 0), (factsA[inA.Id].TenantId, factsA[inA.Id].Restricted, factsA[inA.Id].BirthYear, factsA[inA.Id].Consents.Count));
        Assert.Equal((tenantB, true, 2000, 1), (factsB[inA.Id].TenantId, factsB[inA.Id].Restricted, factsB[inA.Id].BirthYear, factsB[inA.Id].Consents.Count));
    }

    // Facts

    [Fact]
    public async Task GetLearnerFacts_AssemblesAgeGuardiansClassesConsentsRestrictionAndObjections()
    {
        var learner = Learner(tenantA, Bytes()) with { Restricted = true, Objections = [Purpose.Vendor("kolibri"), Purpose.Research] };
        var sibling = Learner(tenantA, Bytes()) with { BirthYear = null, AgeBand = null };
        await Store.AddLearnerAsync(learner, Ct);
        await Store.AddLearnerAsync(sibling, Ct);
        var (mother, father, classA, classB) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());
        await Store.LinkGuardianAsync(tenantA, learner.Id, mother, Ct);
        await Store.LinkGuardianAsync(tenantA, learner.Id, father, Ct);
        await Store.LinkGuardianAsync(tenantA, sibling.Id, mother, Ct);
        await Store.SetClassMemberAsync(tenantA, classA, learner.Id, true, Ct);
        await Store.SetClassMemberAsync(tenantA, classB, learner.Id, true, Ct);
        // Recorded out of time order: the facts keep the order of recording.
        ConsentRecord[] records =
        [
            Consent(Purpose.Research, ConsentChoice.Given, ConsentGiver.Guardian, mother.ToString("D"), 10),
            Consent(Purpose.Research, ConsentChoice.Withdrawn, ConsentGiver.Learner, learner.Id.ToString("D"), 5),
            Consent(Purpose.Vendor("kolibri"), ConsentChoice.Given, ConsentGiver.Guardian, father.ToString("D"), 20),
        ];
        foreach (var record in records)
        {
            await Store.AddConsentAsync(tenantA, learner.Id, record, "person:dpo", Ct);
        }

        var missing = Guid.NewGuid();
        var facts = await Store.GetLearnerFactsAsync(tenantA, [learner.Id, sibling.Id, missing], Ct);

        Assert.Equal(new[] { learner.Id, sibling.Id }.Order(), facts.Keys.Order());
        var f = facts[learner.Id];
        Assert.Equal(tenantA, f.TenantId);
        Assert.Equal(learner.Id.ToString("D"), f.LearnerId);
        Assert.Null(f.Pseudonym);
        Assert.Equal((2012, new AgeBand(13, 15)), (f.BirthYear, f.AgeBand));
        Assert.True(f.Restricted);
        Assert.Equal(new HashSet<Purpose> { Purpose.Research, Purpose.Vendor("kolibri") }, f.Objections);
        Assert.Equal(new HashSet<string> { mother.ToString("D"), father.ToString("D") }, f.GuardianIds);
        Assert.Equal(new HashSet<string> { classA.ToString("D"), classB.ToString("D") }, f.ClassIds);
        Assert.Equal(records.Select(r => r with { At = Micro(r.At) }), f.Consents);
        var s = facts[sibling.Id];
        Assert.Equal(((int?)null, (AgeBand?)null, false), (s.BirthYear, s.AgeBand, s.Restricted));
        Assert.Equal([mother.ToString("D")], s.GuardianIds);
        Assert.Empty(s.ClassIds);
        Assert.Empty(s.Consents);
        Assert.Empty(s.Objections);
        Assert.Empty(await Store.GetLearnerFactsAsync(tenantA, [], Ct));
        Assert.Empty(await Store.GetLearnerFactsAsync(tenantB, [learner.Id, sibling.Id], Ct));
    }

    // Guardians

    [Fact]
    public async Task Guardians_LinkIsIdempotentAndUnlinkSaysWhetherThereWasOne()
    {
        var guardian = Guid.NewGuid();
        var wards = new[] { Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid() };
        foreach (var ward in wards)
        {
            await Store.LinkGuardianAsync(tenantA, ward, guardian, Ct);
        }

        await Store.LinkGuardianAsync(tenantA, wards[0], guardian, Ct);

        Assert.Equal(wards.Order(), await Store.ListWardsAsync(tenantA, guardian, Ct));
        Assert.True(await Store.UnlinkGuardianAsync(tenantA, wards[1], guardian, Ct));
        Assert.False(await Store.UnlinkGuardianAsync(tenantA, wards[1], guardian, Ct));
        Assert.False(await Store.UnlinkGuardianAsync(tenantB, wards[0], guardian, Ct));
        Assert.Equal(new[] { wards[0], wards[2] }.Order(), await Store.ListWardsAsync(tenantA, guardian, Ct));
        Assert.Empty(await Store.ListWardsAsync(tenantB, guardian, Ct));
    }

    // Classes

    [Fact]
    public async Task Classes_AddGetListAndLinks()
    {
        var seven = new ClassRecord(tenantA, Guid.NewGuid(), "7B", Now);
        var eightA = new ClassRecord(tenantA, Guid.NewGuid(), "8A", Now.AddDays(1));
        var eightB = new ClassRecord(tenantA, Guid.NewGuid(), "8A", Now.AddDays(2));
        var upper = new ClassRecord(tenantA, Guid.NewGuid(), "Zeta", Now);
        var lower = new ClassRecord(tenantA, Guid.NewGuid(), "alpha", Now);
        foreach (var c in new[] { eightA, upper, seven, lower, eightB })
        {
            await Store.AddClassAsync(c, Ct);
        }

        Assert.Equal(seven with { Created = Micro(Now) }, await Store.GetClassAsync(tenantA, seven.Id, Ct));
        Assert.Null(await Store.GetClassAsync(tenantA, Guid.NewGuid(), Ct));
        var eights = new[] { eightA, eightB }.OrderBy(c => c.Id).Select(c => c.Id);
        // Bytewise (ordinal) name order on both backends: upper case before lower case.
        Assert.Equal([seven.Id, .. eights, upper.Id, lower.Id], (await Store.ListClassesAsync(tenantA, Ct)).Select(c => c.Id));
        Assert.Equal(tenantA, await Store.FindClassTenantAsync(seven.Id, Ct));
        Assert.Null(await Store.FindClassTenantAsync(Guid.NewGuid(), Ct));
        await Assert.ThrowsAsync<PrivacyStoreConflictException>(() => Store.AddClassAsync(seven with { Name = "other" }, Ct));
        Assert.Equal("7B", (await Store.GetClassAsync(tenantA, seven.Id, Ct))!.Name);

        var (l1, l2, teacher) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());
        await Store.SetClassMemberAsync(tenantA, seven.Id, l1, true, Ct);
        await Store.SetClassMemberAsync(tenantA, seven.Id, l2, true, Ct);
        await Store.SetClassMemberAsync(tenantA, seven.Id, l2, true, Ct);
        await Store.SetClassTeacherAsync(tenantA, seven.Id, teacher, true, Ct);
        await Store.SetClassTeacherAsync(tenantA, eightA.Id, teacher, true, Ct);
        await Store.SetClassTeacherAsync(tenantA, eightA.Id, teacher, true, Ct);

        Assert.Equal(new[] { l1, l2 }.Order(), await Store.ListClassMembersAsync(tenantA, seven.Id, Ct));
        Assert.Equal([teacher], await Store.ListClassTeachersAsync(tenantA, seven.Id, Ct));
        Assert.Equal(new[] { seven.Id, eightA.Id }.Order(), await Store.ListTaughtClassesAsync(tenantA, teacher, Ct));

        await Store.SetClassMemberAsync(tenantA, seven.Id, l1, false, Ct);
        await Store.SetClassMemberAsync(tenantA, seven.Id, l1, false, Ct);
        await Store.SetClassTeacherAsync(tenantA, eightA.Id, teacher, false, Ct);
        await Store.SetClassTeacherAsync(tenantB, seven.Id, teacher, false, Ct);

        Assert.Equal([l2], await Store.ListClassMembersAsync(tenantA, seven.Id, Ct));
        Assert.Equal([seven.Id], await Store.ListTaughtClassesAsync(tenantA, teacher, Ct));
    }

    // Consents

    [Fact]
    public async Task Consents_AppendInOrderWithIncreasingIds()
    {
        var learner = Guid.NewGuid();
        var given = Consent(Purpose.Research, ConsentChoice.Given, ConsentGiver.Guardian, Guid.NewGuid().ToString("D"), 30);
        var withdrawn = Consent(Purpose.Research, ConsentChoice.Withdrawn, ConsentGiver.Learner, learner.ToString("D"), 1) with
        {
            Channel = "paper form",
            NoticeVersion = "v2",
        };

        var first = await Store.AddConsentAsync(tenantA, learner, given, "person:guardian", Ct);
        var second = await Store.AddConsentAsync(tenantA, learner, withdrawn, "person:dpo", Ct);

        Assert.True(second.Id > first.Id);
        Assert.Equal((tenantA, learner, given with { At = Micro(given.At) }, "person:guardian"), (first.TenantId, first.LearnerId, first.Record, first.RecordedBy));
        var listed = await Store.ListConsentsAsync(tenantA, learner, Ct);
        Assert.Equal([first, second], listed);
        Assert.Empty(await Store.ListConsentsAsync(tenantA, Guid.NewGuid(), Ct));
        Assert.Empty(await Store.ListConsentsAsync(tenantB, learner, Ct));
    }

    // Policy

    [Fact]
    public async Task GetPolicy_NoneSaved_IsTheDefault()
    {
        var policy = await Store.GetPolicyAsync(tenantA, Ct);

        AssertSame(TenantPolicy.CreateDefault(tenantA), policy);
    }

    [Fact]
    public async Task SavePolicy_ThenGet_RoundTripsBasesAgeAndRestrictedWrites()
    {
        var policy = TenantPolicy.CreateDefault(tenantA)
            .WithBasis(Purpose.Vendor("kolibri"), LawfulBasis.Contract)
            .WithBasis(Purpose.Instruction, LawfulBasis.LegitimateInterest)
            .WithAgeOfDigitalConsent(13)
            .WithRestrictedWrites(RestrictedWritePolicy.Refuse);

        await Store.SavePolicyAsync(policy, Ct);
        AssertSame(policy, await Store.GetPolicyAsync(tenantA, Ct));
        AssertSame(TenantPolicy.CreateDefault(tenantB), await Store.GetPolicyAsync(tenantB, Ct));

        var again = TenantPolicy.CreateDefault(tenantA).WithAgeOfDigitalConsent(14);
        await Store.SavePolicyAsync(again, Ct);
        AssertSame(again, await Store.GetPolicyAsync(tenantA, Ct));
    }

    private static void AssertSame(TenantPolicy expected, TenantPolicy actual)
    {
        Assert.Equal(expected.TenantId, actual.TenantId);
        Assert.Equal(expected.AgeOfDigitalConsent, actual.AgeOfDigitalConsent);
        Assert.Equal(expected.RestrictedWrites, actual.RestrictedWrites);
        Assert.Equal(
            expected.ConfiguredBases.OrderBy(b => b.Key.Name, StringComparer.Ordinal),
            actual.ConfiguredBases.OrderBy(b => b.Key.Name, StringComparer.Ordinal));
    }

    // Tenant isolation and durability

    [Fact]
    public async Task EveryTenantScopedRead_InAnotherTenant_FindsNothing()
    {
        var learner = Learner(tenantA, Bytes());
        var person = Person(tenantA, Role.Teacher, Role.Guardian) with { LearnerId = learner.Id };
        var schoolClass = new ClassRecord(tenantA, Guid.NewGuid(), "7B", Now);
        await Store.AddLearnerAsync(learner, Ct);
        await Store.AddPersonAsync(person, Ct);
        await Store.SetCredentialsAsync(Credentials(tenantA, person.Id), Ct);
        await Store.AddTokenAsync(new AuthTokenRecord(Bytes(), tenantA, person.Id, AuthTokenKind.Session, null, Now, Now.AddHours(1), null), Ct);
        await Store.LinkGuardianAsync(tenantA, learner.Id, person.Id, Ct);
        await Store.AddClassAsync(schoolClass, Ct);
        await Store.SetClassMemberAsync(tenantA, schoolClass.Id, learner.Id, true, Ct);
        await Store.SetClassTeacherAsync(tenantA, schoolClass.Id, person.Id, true, Ct);
        await Store.AddConsentAsync(tenantA, learner.Id, Consent(Purpose.Research, ConsentChoice.Given, ConsentGiver.Guardian, person.Id.ToString("D"), 0), "x", Ct);
        await Store.SavePolicyAsync(TenantPolicy.CreateDefault(tenantA).WithAgeOfDigitalConsent(13), Ct);
        await Store.AddPersonAsync(Person(tenantB, Role.Teacher), Ct); // tenant B exists in storage

        foreach (var other in new[] { tenantB, Guid.NewGuid() })
        {
            Assert.Null(await Store.GetPersonAsync(other, person.Id, Ct));
            Assert.Null(await Store.FindPersonByLoginAsync(other, person.LoginKey!, Ct));
            Assert.DoesNotContain(await Store.ListPeopleAsync(other, Ct), p => p.Id == person.Id);
            Assert.Null(await Store.GetCredentialsAsync(other, person.Id, Ct));
            Assert.Null(await Store.RegisterFailedLoginAsync(other, person.Id, 3, TimeSpan.FromMinutes(1), Now, Ct));
            Assert.Empty(await Store.ListTokensAsync(other, person.Id, Ct));
            Assert.Equal(0, await Store.RevokePersonTokensAsync(other, person.Id, Now, Ct));
            Assert.Null(await Store.GetLearnerAsync(other, learner.Id, Ct));
            Assert.Empty(await Store.ListLearnersAsync(other, null, 100, Ct));
            Assert.Equal([null], await Store.FindLearnersAsync(other, [learner.Pseudonyms[0]], Ct));
            Assert.Empty(await Store.GetLearnerFactsAsync(other, [learner.Id], Ct));
            Assert.Empty(await Store.ListWardsAsync(other, person.Id, Ct));
            Assert.False(await Store.UnlinkGuardianAsync(other, learner.Id, person.Id, Ct));
            Assert.Null(await Store.GetClassAsync(other, schoolClass.Id, Ct));
            Assert.Empty(await Store.ListClassesAsync(other, Ct));
            Assert.Empty(await Store.ListClassMembersAsync(other, schoolClass.Id, Ct));
            Assert.Empty(await Store.ListClassTeachersAsync(other, schoolClass.Id, Ct));
            Assert.Empty(await Store.ListTaughtClassesAsync(other, person.Id, Ct));
            Assert.Empty(await Store.ListConsentsAsync(other, learner.Id, Ct));
            AssertSame(TenantPolicy.CreateDefault(other), await Store.GetPolicyAsync(other, Ct));
        }

        // The global lookups name the owning tenant, whoever asks.
        Assert.Equal(tenantA, await Store.FindPersonTenantAsync(person.Id, Ct));
        Assert.Equal(tenantA, await Store.FindLearnerTenantAsync(learner.Id, Ct));
        Assert.Equal(tenantA, await Store.FindClassTenantAsync(schoolClass.Id, Ct));
        Assert.NotNull(await Store.GetCredentialsAsync(tenantA, person.Id, Ct));
        Assert.Single(await Store.ListTokensAsync(tenantA, person.Id, Ct));
    }

    [Fact]
    public async Task Reopen_KeepsEverythingWritten()
    {
        var learner = Learner(tenantA, Bytes(), Bytes());
        var person = Person(tenantA, Role.Guardian);
        var token = new AuthTokenRecord(Bytes(), tenantA, person.Id, AuthTokenKind.Bearer, "cli", Now, Now.AddDays(1), null);
        var schoolClass = new ClassRecord(tenantA, Guid.NewGuid(), "7B", Now);
        var policy = TenantPolicy.CreateDefault(tenantA).WithBasis(Purpose.Vendor("acme"), LawfulBasis.PublicTask);
        await Store.AddLearnerAsync(learner, Ct);
        await Store.AddPersonAsync(person, Ct);
        await Store.SetCredentialsAsync(Credentials(tenantA, person.Id), Ct);
        await Store.AddTokenAsync(token, Ct);
        await Store.LinkGuardianAsync(tenantA, learner.Id, person.Id, Ct);
        await Store.AddClassAsync(schoolClass, Ct);
        await Store.SetClassMemberAsync(tenantA, schoolClass.Id, learner.Id, true, Ct);
        await Store.SetClassTeacherAsync(tenantA, schoolClass.Id, person.Id, true, Ct);
        var consent = await Store.AddConsentAsync(
            tenantA, learner.Id, Consent(Purpose.Research, ConsentChoice.Given, ConsentGiver.Guardian, person.Id.ToString("D"), 0), "x", Ct);
        await Store.SavePolicyAsync(policy, Ct);

        await ReopenAsync();

        AssertSame(learner, await Store.GetLearnerAsync(tenantA, learner.Id, Ct));
        AssertSame(person, await Store.GetPersonAsync(tenantA, person.Id, Ct));
        AssertSame(Credentials(tenantA, person.Id) with { TotpSecret = null }, (await Store.GetCredentialsAsync(tenantA, person.Id, Ct))! with { TotpSecret = null });
        Assert.Equal(token.TokenHash, (await Store.FindTokenAsync(token.TokenHash, Ct))!.TokenHash);
        Assert.Equal([learner.Id], await Store.ListWardsAsync(tenantA, person.Id, Ct));
        Assert.Equal([schoolClass.Id], (await Store.ListClassesAsync(tenantA, Ct)).Select(c => c.Id));
        Assert.Equal([learner.Id], await Store.ListClassMembersAsync(tenantA, schoolClass.Id, Ct));
        Assert.Equal([person.Id], await Store.ListClassTeachersAsync(tenantA, schoolClass.Id, Ct));
        Assert.Equal([consent], await Store.ListConsentsAsync(tenantA, learner.Id, Ct));
        AssertSame(policy, await Store.GetPolicyAsync(tenantA, Ct));
        Assert.Equal([learner.Id, learner.Id], await Store.FindLearnersAsync(tenantA, learner.Pseudonyms, Ct));
    }
}
