using System.Net;
using System.Net.Http.Json;
using LearnerVault.Privacy.Access;
using LearnerVault.Server.Accounts;
using LearnerVault.Storage.People;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace LearnerVault.Server.Tests.Api;

/// <summary>
/// Changing one's own password, an administrator's password reset and TOTP removal, and the purge of dead tokens: over
/// real HTTP, with the fake clock for lockouts and the purge's grace period.
/// </summary>
public sealed class AccountHygieneTests : IAsyncLifetime
{
    private const string NewPassword = "a brand new passphrase";

    private ApiHarness api = null!;

    public async ValueTask InitializeAsync() => api = await ApiHarness.StartAsync();

    public async ValueTask DisposeAsync() => await api.DisposeAsync();

    private IPrivacyStore Store => api.Factory.Services.GetRequiredService<IPrivacyStore>();

    private Task<HttpResponseMessage> LoginAsync(string login, string password, string? totp = null) =>
        api.Anonymous().PostAsJsonAsync("api/auth/login", new { login, password, totp });

    private static Task<HttpResponseMessage> ChangeAsync(HttpClient http, string? current, string? @new) =>
        http.PostAsJsonAsync("api/me/password", new { current, @new });

    [Fact]
    public async Task ChangeOwnPassword_RightCurrent_OldFailsNewWorksOtherTokensRevokedCurrentStays()
    {
        await api.AddPersonAsync("teacher.one", [Role.Teacher]);
        using var current = await api.CookieClientAsync("teacher.one");
        using var otherSession = await api.CookieClientAsync("teacher.one");
        using var bearer = await api.BearerClientAsync("teacher.one");

        await ApiAssert.OkAsync(await ChangeAsync(current, ApiHarness.Password, NewPassword), HttpStatusCode.NoContent);

        await ApiAssert.OkAsync(await current.GetAsync("api/me"));
        await ApiAssert.ProblemAsync(await otherSession.GetAsync("api/me"), HttpStatusCode.Unauthorized, "unauthenticated");
        await ApiAssert.ProblemAsync(await bearer.GetAsync("api/me"), HttpStatusCode.Unauthorized, "unauthenticated");
        await ApiAssert.ProblemAsync(await LoginAsync("teacher.one", ApiHarness.Password), HttpStatusCode.Unauthorized, "login-failed");
        await ApiAssert.OkAsync(await LoginAsync("teacher.one", NewPassword));
    }

    [Fact]
    public async Task ChangeOwnPassword_WithBearerToken_KeepsThatTokenAndRevokesTheSessions()
    {
        await api.AddPersonAsync("teacher.two", [Role.Teacher]);
        using var session = await api.CookieClientAsync("teacher.two");
        using var bearer = await api.BearerClientAsync("teacher.two");

        await ApiAssert.OkAsync(await ChangeAsync(bearer, ApiHarness.Password, NewPassword), HttpStatusCode.NoContent);

        await ApiAssert.OkAsync(await bearer.GetAsync("api/me"));
        await ApiAssert.ProblemAsync(await session.GetAsync("api/me"), HttpStatusCode.Unauthorized, "unauthenticated");
    }

    [Fact]
    public async Task ChangeOwnPassword_WrongCurrent_Is403AndCountsTowardLockout()
    {
        var id = await api.AddPersonAsync("teacher.three", [Role.Teacher]);
        using var teacher = await api.CookieClientAsync("teacher.three");

        for (var i = 0; i < 4; i++)
        {
            await ApiAssert.ProblemAsync(await ChangeAsync(teacher, "not the password " + i, NewPassword), HttpStatusCode.Forbidden, "wrong-password");
        }

        Assert.Equal(4, (await Store.GetCredentialsAsync(api.TenantId, id))!.FailedAttempts);
        // The fifth failure, at login, locks the account: the change counted with the logins.
        await ApiAssert.ProblemAsync(await LoginAsync("teacher.three", "still not it!"), HttpStatusCode.Unauthorized, "login-failed");
        await ApiAssert.ProblemAsync(await LoginAsync("teacher.three", ApiHarness.Password), HttpStatusCode.Unauthorized, "login-failed");
        // Locked, even the right current password changes nothing.
        await ApiAssert.ProblemAsync(await ChangeAsync(teacher, ApiHarness.Password, NewPassword), HttpStatusCode.Forbidden, "wrong-password");

        api.Time.Advance(TimeSpan.FromMinutes(16));
        await ApiAssert.OkAsync(await ChangeAsync(teacher, ApiHarness.Password, NewPassword), HttpStatusCode.NoContent);
        await ApiAssert.OkAsync(await LoginAsync("teacher.three", NewPassword));
    }

    [Fact]
    public async Task ChangeOwnPassword_WeakSameOrMissing_Is422Or400AndChangesNothing()
    {
        var id = await api.AddPersonAsync("teacher.four", [Role.Teacher]);
        using var teacher = await api.CookieClientAsync("teacher.four");
        using var other = await api.CookieClientAsync("teacher.four");

        await ApiAssert.ProblemAsync(await ChangeAsync(teacher, ApiHarness.Password, "too short"), (HttpStatusCode)422, "invalid");
        await ApiAssert.ProblemAsync(await ChangeAsync(teacher, ApiHarness.Password, ApiHarness.Password), (HttpStatusCode)422, "invalid");
        await ApiAssert.ProblemAsync(await ChangeAsync(teacher, null, NewPassword), HttpStatusCode.BadRequest, "bad-request");

        Assert.Equal(0, (await Store.GetCredentialsAsync(api.TenantId, id))!.FailedAttempts);
        await ApiAssert.OkAsync(await other.GetAsync("api/me"));
        await ApiAssert.OkAsync(await LoginAsync("teacher.four", ApiHarness.Password));
    }

    [Fact]
    public async Task ResetPassword_ByAdministrator_ShownOnceLockoutClearedTokensRevoked()
    {
        var id = await api.AddPersonAsync("teacher.five", [Role.Teacher]);
        using var teacher = await api.BearerClientAsync("teacher.five");
        for (var i = 0; i < 5; i++)
        {
            await LoginAsync("teacher.five", "wrong password " + i);
        }

        Assert.NotNull((await Store.GetCredentialsAsync(api.TenantId, id))!.LockedUntil);
        using var admin = await api.CookieClientAsync(ApiHarness.AdminLogin);

        var reset = await ApiAssert.OkAsync(await admin.PostAsync($"api/people/{id}/password", null));

        var password = reset["password"]!.GetValue<string>();
        Assert.Equal(20, password.Length);
        var credentials = (await Store.GetCredentialsAsync(api.TenantId, id))!;
        Assert.Equal((0, (DateTimeOffset?)null), (credentials.FailedAttempts, credentials.LockedUntil));
        await ApiAssert.ProblemAsync(await teacher.GetAsync("api/me"), HttpStatusCode.Unauthorized, "unauthenticated");
        Assert.All(await Store.ListTokensAsync(api.TenantId, id), t => Assert.NotNull(t.Revoked));
        var person = await admin.GetStringAsync($"api/people/{id}");
        Assert.DoesNotContain(password, person, StringComparison.Ordinal);
        await ApiAssert.ProblemAsync(await LoginAsync("teacher.five", ApiHarness.Password), HttpStatusCode.Unauthorized, "login-failed");
        await ApiAssert.OkAsync(await LoginAsync("teacher.five", password));

        var again = await ApiAssert.OkAsync(await admin.PostAsync($"api/people/{id}/password", null));
        Assert.NotEqual(password, again["password"]!.GetValue<string>());
    }

    [Fact]
    public async Task ResetPassword_NonAdministratorOwnIdNoAccountOrOtherTenant_IsRefused()
    {
        await api.AddPersonAsync("teacher.six", [Role.Teacher]);
        var adminId = (await Store.ListPeopleAsync(api.TenantId)).Single(p => p.Roles.Contains(Role.SchoolAdministrator)).Id;
        var noAccount = (await api.Accounts.CreatePersonAsync(api.TenantId, null, null, [Role.Teacher], "no login", null, CancellationToken.None)).Person.Id;
        using var teacher = await api.CookieClientAsync("teacher.six");
        using var admin = await api.CookieClientAsync(ApiHarness.AdminLogin);
        var otherTenant = await api.AddTenantAsync("other school");
        var stranger = await api.AddPersonAsync("stranger", [Role.Teacher], tenantId: otherTenant);

        await ApiAssert.ProblemAsync(await teacher.PostAsync($"api/people/{adminId}/password", null), HttpStatusCode.Forbidden, "forbidden");
        await ApiAssert.ProblemAsync(await admin.PostAsync($"api/people/{adminId}/password", null), HttpStatusCode.Forbidden, "forbidden");
        await ApiAssert.ProblemAsync(await admin.PostAsync($"api/people/{noAccount}/password", null), (HttpStatusCode)422, "invalid");
        await ApiAssert.ProblemAsync(await admin.PostAsync($"api/people/{stranger}/password", null), HttpStatusCode.NotFound, "not-found");
        await ApiAssert.ProblemAsync(await admin.PostAsync($"api/people/{Guid.NewGuid()}/password", null), HttpStatusCode.NotFound, "not-found");

        // Nothing changed: every session lives on and the passwords still work.
        await ApiAssert.OkAsync(await admin.GetAsync("api/me"));
        await ApiAssert.OkAsync(await teacher.GetAsync("api/me"));
        using var strangerLogin = await api.Anonymous().PostAsJsonAsync(
            "api/auth/login", new { tenant = otherTenant, login = "stranger", password = ApiHarness.Password });
        await ApiAssert.OkAsync(strangerLogin);
    }

    [Fact]
    public async Task RemoveTotp_ByAdministrator_LoginNeedsNoCodeAndTokensRevoked()
    {
        var deputyId = await api.AddPersonAsync("deputy.head", [Role.SchoolAdministrator]);
        using var deputy = await api.BearerClientAsync("deputy.head");
        var crypto = api.Factory.Services.GetRequiredService<AccountCrypto>();
        var credentials = (await Store.GetCredentialsAsync(api.TenantId, deputyId))!;
        await Store.SetCredentialsAsync(credentials with { TotpSecret = crypto.SealTotp(api.TenantId, deputyId, Totp.GenerateSecret()), TotpConfirmed = true });
        await ApiAssert.ProblemAsync(await LoginAsync("deputy.head", ApiHarness.Password), HttpStatusCode.Unauthorized, "totp-required");
        using var admin = await api.CookieClientAsync(ApiHarness.AdminLogin);

        await ApiAssert.ProblemAsync(await deputy.DeleteAsync($"api/people/{deputyId}/totp"), HttpStatusCode.Forbidden, "forbidden");
        await ApiAssert.OkAsync(await admin.DeleteAsync($"api/people/{deputyId}/totp"), HttpStatusCode.NoContent);

        await ApiAssert.ProblemAsync(await deputy.GetAsync("api/me"), HttpStatusCode.Unauthorized, "unauthenticated");
        var after = (await Store.GetCredentialsAsync(api.TenantId, deputyId))!;
        Assert.Equal((null, false), (after.TotpSecret, after.TotpConfirmed));
        var me = await ApiAssert.OkAsync(await LoginAsync("deputy.head", ApiHarness.Password));
        Assert.NotNull(me["id"]);
        await ApiAssert.ProblemAsync(await admin.DeleteAsync($"api/people/{deputyId}/totp"), HttpStatusCode.NotFound, "not-found");
    }

    [Fact]
    public async Task RemoveTotp_NonAdministrator_Is403()
    {
        var adminId = (await Store.ListPeopleAsync(api.TenantId)).Single(p => p.Roles.Contains(Role.SchoolAdministrator)).Id;
        await api.AddPersonAsync("teacher.seven", [Role.Teacher]);
        using var teacher = await api.CookieClientAsync("teacher.seven");

        await ApiAssert.ProblemAsync(await teacher.DeleteAsync($"api/people/{adminId}/totp"), HttpStatusCode.Forbidden, "forbidden");
    }

    [Fact]
    public async Task Purge_AfterTheGracePeriod_RemovesExpiredAndRevokedTokensAndKeepsLiveOnes()
    {
        var purger = api.Factory.Services.GetRequiredService<AuthTokenPurger>();
        Assert.Contains(api.Factory.Services.GetServices<IHostedService>(), s => ReferenceEquals(s, purger));
        var id = await api.AddPersonAsync("teacher.eight", [Role.Teacher]);
        using var session = await api.CookieClientAsync("teacher.eight");
        using var bearer = await api.BearerClientAsync("teacher.eight");
        using (var loggedOut = await api.CookieClientAsync("teacher.eight"))
        {
            await ApiAssert.OkAsync(await loggedOut.PostAsync("api/auth/logout", null), HttpStatusCode.NoContent);
        }

        var before = await Store.ListTokensAsync(api.TenantId, id);
        Assert.Equal(4, before.Count);
        Assert.Single(before, t => t.Revoked is not null);

        // The sessions expired after 30 idle minutes and one was revoked at once: within a day they are all kept.
        api.Time.Advance(TimeSpan.FromHours(23));
        await purger.RunOnceAsync(CancellationToken.None);
        Assert.Equal(4, (await Store.ListTokensAsync(api.TenantId, id)).Count);

        api.Time.Advance(TimeSpan.FromHours(2));
        using var fresh = await api.CookieClientAsync("teacher.eight");
        await purger.RunOnceAsync(CancellationToken.None);

        // The hosted purger may have run on the same tick of the fake clock: what is left is what counts.
        var left = await Store.ListTokensAsync(api.TenantId, id);
        Assert.Equal([AuthTokenKind.Session, AuthTokenKind.Bearer], left.Select(t => t.Kind));
        Assert.All(left, t => Assert.Null(t.Revoked));
        await ApiAssert.OkAsync(await bearer.GetAsync("api/me"));
        await ApiAssert.OkAsync(await fresh.GetAsync("api/me"));
        Assert.Equal(0, await purger.RunOnceAsync(CancellationToken.None));
    }
}
