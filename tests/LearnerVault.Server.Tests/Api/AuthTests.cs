using System.Net;
using System.Net.Http.Json;
using LearnerVault.Privacy.Access;
using LearnerVault.Server.Accounts;
using LearnerVault.Storage.People;
using Microsoft.Extensions.DependencyInjection;

namespace LearnerVault.Server.Tests.Api;

public sealed class AuthTests : IAsyncLifetime
{
    private ApiHarness api = null!;

    public async ValueTask InitializeAsync() => api = await ApiHarness.StartAsync();

    public async ValueTask DisposeAsync() => await api.DisposeAsync();

    private Task<HttpResponseMessage> LoginAsync(string login, string password, string? totp = null) =>
        api.Anonymous().PostAsJsonAsync("api/auth/login", new { login, password, totp });

    [Fact]
    public async Task Login_RightPassword_SetsHttpOnlyStrictSessionCookieAndReturnsThePerson()
    {
        using var response = await LoginAsync(ApiHarness.AdminLogin, ApiHarness.Password);

        var person = await ApiAssert.OkAsync(response);
        Assert.Equal(["school-administrator"], person["roles"]!.AsArray().Select(r => r!.GetValue<string>()));
        var cookie = Assert.Single(response.Headers.GetValues("Set-Cookie"));
        Assert.StartsWith("lv_session=lv_", cookie, StringComparison.Ordinal);
        Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", cookie, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Login_MadeUpTenant_SameProblemAndNoKeysCreated()
    {
        var keysBefore = await KeyCountAsync();

        using var response = await api.Anonymous().PostAsJsonAsync(
            "api/auth/login", new { login = ApiHarness.AdminLogin, password = ApiHarness.Password, tenant = Guid.NewGuid() });

        var madeUp = await ApiAssert.ProblemAsync(response, HttpStatusCode.Unauthorized, "login-failed");
        var wrong = await ApiAssert.ProblemAsync(await LoginAsync(ApiHarness.AdminLogin, "not the password!"), HttpStatusCode.Unauthorized, "login-failed");
        Assert.Equal(wrong.ToJsonString(), madeUp.ToJsonString());
        Assert.Equal(keysBefore, await KeyCountAsync());
    }

    /// <summary>Rows in the key store, read from the database itself.</summary>
    private async Task<long> KeyCountAsync()
    {
        var store = api.Factory.Store;
        if (store.IsPostgres)
        {
            await using var pg = new Npgsql.NpgsqlConnection(store.KeyStoreConnectionString ?? store.ConnectionString);
            await pg.OpenAsync(TestContext.Current.CancellationToken);
            await using var count = new Npgsql.NpgsqlCommand("SELECT count(*) FROM learnervault_keys.keys", pg);
            return (long)(await count.ExecuteScalarAsync(TestContext.Current.CancellationToken))!;
        }

        await using var sqlite = new Microsoft.Data.Sqlite.SqliteConnection(
            $"Data Source={Path.Combine(api.Factory.DataDirectory, "keys.db")};Mode=ReadOnly;Pooling=False");
        await sqlite.OpenAsync(TestContext.Current.CancellationToken);
        await using var command = sqlite.CreateCommand();
        command.CommandText = "SELECT count(*) FROM keys";
        return (long)(await command.ExecuteScalarAsync(TestContext.Current.CancellationToken))!;
    }

    [Fact]
    public async Task Login_WrongPasswordUnknownLoginAndMissingBody_SameProblemOrBadRequest()
    {
        var wrong = await ApiAssert.ProblemAsync(await LoginAsync(ApiHarness.AdminLogin, "not the password!"), HttpStatusCode.Unauthorized, "login-failed");
        var unknown = await ApiAssert.ProblemAsync(await LoginAsync("nobody.here", ApiHarness.Password), HttpStatusCode.Unauthorized, "login-failed");
        Assert.Equal(wrong.ToJsonString(), unknown.ToJsonString());

        using var empty = await api.Anonymous().PostAsync("api/auth/login", new StringContent("{", System.Text.Encoding.UTF8, "application/json"));
        await ApiAssert.ProblemAsync(empty, HttpStatusCode.BadRequest, "bad-request");
    }

    [Fact]
    public async Task Login_FiveFailures_LocksForFifteenMinutesThenUnlocks()
    {
        for (var i = 0; i < 5; i++)
        {
            await ApiAssert.ProblemAsync(await LoginAsync(ApiHarness.AdminLogin, "wrong password " + i), HttpStatusCode.Unauthorized, "login-failed");
        }

        // Locked: even the right password gets the same answer.
        await ApiAssert.ProblemAsync(await LoginAsync(ApiHarness.AdminLogin, ApiHarness.Password), HttpStatusCode.Unauthorized, "login-failed");
        api.Time.Advance(TimeSpan.FromMinutes(14));
        await ApiAssert.ProblemAsync(await LoginAsync(ApiHarness.AdminLogin, ApiHarness.Password), HttpStatusCode.Unauthorized, "login-failed");

        api.Time.Advance(TimeSpan.FromMinutes(2));
        await ApiAssert.OkAsync(await LoginAsync(ApiHarness.AdminLogin, ApiHarness.Password));
    }

    [Fact]
    public async Task Login_LoginNameInAnotherCase_IsTheSameAccount()
    {
        await ApiAssert.OkAsync(await LoginAsync("  HEAD.Teacher ", ApiHarness.Password));
    }

    [Fact]
    public async Task Request_WithoutCredentials_Is401Problem()
    {
        using var response = await api.Anonymous().GetAsync("api/me");

        await ApiAssert.ProblemAsync(response, HttpStatusCode.Unauthorized, "unauthenticated");
        Assert.Contains("Bearer", response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Request_WithXapiBasicCredentials_IsNotAcceptedAndNeedsNoVersionHeader()
    {
        using var http = api.Anonymous();
        http.DefaultRequestHeaders.Authorization = LearnerVaultAppFactory.Basic(api.Factory.Admin.Key, api.Factory.Admin.Secret);

        using var response = await http.GetAsync("api/me");

        await ApiAssert.ProblemAsync(response, HttpStatusCode.Unauthorized, "unauthenticated");
        Assert.False(response.Headers.Contains("X-Experience-API-Version"));
    }

    [Fact]
    public async Task BearerToken_CreatedListedAndRevoked_StopsWorking()
    {
        using var cookie = await api.CookieClientAsync(ApiHarness.AdminLogin);
        var issued = await ApiAssert.OkAsync(await cookie.PostAsJsonAsync("api/auth/tokens", new { label = "backup script", expiresInDays = 30 }), HttpStatusCode.Created);
        var token = issued["token"]!.GetValue<string>();
        var id = issued["id"]!.GetValue<string>();
        using var bearer = api.Anonymous();
        bearer.DefaultRequestHeaders.Authorization = new("Bearer", token);

        await ApiAssert.OkAsync(await bearer.GetAsync("api/me"));
        var list = (await ApiAssert.OkAsync(await bearer.GetAsync("api/auth/tokens"))).AsArray();
        Assert.Contains(list, t => t!["id"]!.GetValue<string>() == id && t["label"]!.GetValue<string>() == "backup script");
        Assert.DoesNotContain(token, list.ToJsonString(), StringComparison.Ordinal);

        await ApiAssert.OkAsync(await cookie.DeleteAsync($"api/auth/tokens/{id}"), HttpStatusCode.NoContent);
        await ApiAssert.ProblemAsync(await bearer.GetAsync("api/me"), HttpStatusCode.Unauthorized, "unauthenticated");
        await ApiAssert.ProblemAsync(await cookie.DeleteAsync($"api/auth/tokens/{id}"), HttpStatusCode.Conflict, "conflict");
    }

    [Fact]
    public async Task BearerToken_LongerThanAYear_Is422()
    {
        using var cookie = await api.CookieClientAsync(ApiHarness.AdminLogin);

        await ApiAssert.ProblemAsync(await cookie.PostAsJsonAsync("api/auth/tokens", new { label = "x", expiresInDays = 366 }), (HttpStatusCode)422, "invalid");
    }

    [Fact]
    public async Task BearerToken_OnlyItsHashIsStored()
    {
        using var cookie = await api.CookieClientAsync(ApiHarness.AdminLogin);
        var token = (await ApiAssert.OkAsync(await cookie.PostAsJsonAsync("api/auth/tokens", new { label = "x" }), HttpStatusCode.Created))["token"]!.GetValue<string>();

        var stored = await api.Factory.ReadStoredBytesAsync(CancellationToken.None);

        var needle = System.Text.Encoding.UTF8.GetBytes(token);
        Assert.All(stored, s => Assert.True(s.Bytes.AsSpan().IndexOf(needle) < 0, $"the token is in {s.Name}"));
        var login = System.Text.Encoding.UTF8.GetBytes(ApiHarness.AdminLogin);
        Assert.All(stored, s => Assert.True(s.Bytes.AsSpan().IndexOf(login) < 0, $"the login name is in clear in {s.Name}"));
    }

    [Fact]
    public async Task CookieUnsafeRequest_FromAnotherOriginOrWithoutOrigin_IsRefused()
    {
        using var noOrigin = await api.CookieClientAsync(ApiHarness.AdminLogin, sendOrigin: false);

        // A safe method needs no origin.
        await ApiAssert.OkAsync(await noOrigin.GetAsync("api/me"));
        await ApiAssert.ProblemAsync(await noOrigin.PostAsJsonAsync("api/classes", new { name = "7B" }), HttpStatusCode.Forbidden, "cross-origin");

        using var foreign = new HttpRequestMessage(HttpMethod.Post, "api/classes") { Content = JsonContent.Create(new { name = "7B" }) };
        foreign.Headers.Add("Origin", "https://evil.example");
        await ApiAssert.ProblemAsync(await noOrigin.SendAsync(foreign), HttpStatusCode.Forbidden, "cross-origin");

        using var custom = new HttpRequestMessage(HttpMethod.Post, "api/classes") { Content = JsonContent.Create(new { name = "7B" }) };
        custom.Headers.Add("X-LearnerVault-CSRF", "1");
        await ApiAssert.OkAsync(await noOrigin.SendAsync(custom), HttpStatusCode.Created);

        using var sameOrigin = await api.CookieClientAsync(ApiHarness.AdminLogin);
        await ApiAssert.OkAsync(await sameOrigin.PostAsJsonAsync("api/classes", new { name = "7C" }), HttpStatusCode.Created);
    }

    [Fact]
    public async Task Bearer_UnsafeRequestWithoutOrigin_IsAccepted()
    {
        using var bearer = await api.BearerClientAsync(ApiHarness.AdminLogin);

        await ApiAssert.OkAsync(await bearer.PostAsJsonAsync("api/classes", new { name = "8A" }), HttpStatusCode.Created);
    }

    [Fact]
    public async Task Session_IdleForLongerThanTheTimeout_Expires_ButUseKeepsItAliveUpToTheAbsoluteLimit()
    {
        using var idle = await api.CookieClientAsync(ApiHarness.AdminLogin);
        using var active = await api.CookieClientAsync(ApiHarness.AdminLogin);

        for (var i = 0; i < 4; i++)
        {
            api.Time.Advance(TimeSpan.FromMinutes(20));
            await ApiAssert.OkAsync(await active.GetAsync("api/me"));
        }

        await ApiAssert.ProblemAsync(await idle.GetAsync("api/me"), HttpStatusCode.Unauthorized, "unauthenticated");

        // 80 minutes so far; active every 20 minutes up to 11 h 40 min, then the 12-hour limit ends it.
        for (var i = 0; i < 31; i++)
        {
            api.Time.Advance(TimeSpan.FromMinutes(20));
            await ApiAssert.OkAsync(await active.GetAsync("api/me"));
        }

        api.Time.Advance(TimeSpan.FromMinutes(20));
        await ApiAssert.ProblemAsync(await active.GetAsync("api/me"), HttpStatusCode.Unauthorized, "unauthenticated");
    }

    [Fact]
    public async Task Logout_EndsTheSession()
    {
        using var cookie = await api.CookieClientAsync(ApiHarness.AdminLogin);

        await ApiAssert.OkAsync(await cookie.PostAsync("api/auth/logout", null), HttpStatusCode.NoContent);

        await ApiAssert.ProblemAsync(await cookie.GetAsync("api/me"), HttpStatusCode.Unauthorized, "unauthenticated");
    }

    [Fact]
    public async Task DisablingAPerson_RevokesTheirTokensAndRefusesLogin()
    {
        var teacherId = await api.AddPersonAsync("teacher.one", [Role.Teacher]);
        using var teacher = await api.BearerClientAsync("teacher.one");
        using var admin = await api.CookieClientAsync(ApiHarness.AdminLogin);

        await ApiAssert.OkAsync(await admin.PatchAsJsonAsync($"api/people/{teacherId}", new { disabled = true }));

        await ApiAssert.ProblemAsync(await teacher.GetAsync("api/me"), HttpStatusCode.Unauthorized, "unauthenticated");
        await ApiAssert.ProblemAsync(await LoginAsync("teacher.one", ApiHarness.Password), HttpStatusCode.Unauthorized, "login-failed");
    }

    [Fact]
    public async Task Totp_EnrolConfirmLogin_NeedsACodeAndRefusesAReplayedOne()
    {
        using var admin = await api.CookieClientAsync(ApiHarness.AdminLogin);
        var enrolment = await ApiAssert.OkAsync(await admin.PostAsync("api/me/totp", null));
        var secret = Base32Decode(enrolment["secret"]!.GetValue<string>());
        Assert.StartsWith("otpauth://totp/", enrolment["uri"]!.GetValue<string>(), StringComparison.Ordinal);

        await ApiAssert.ProblemAsync(await admin.PostAsJsonAsync("api/me/totp/confirm", new { code = "000000" == Code(secret, 0) ? "111111" : "000000" }), (HttpStatusCode)422, "totp-invalid");
        await ApiAssert.OkAsync(await admin.PostAsJsonAsync("api/me/totp/confirm", new { code = Code(secret, 0) }), HttpStatusCode.NoContent);
        Assert.True((await ApiAssert.OkAsync(await admin.GetAsync("api/me")))["totpEnabled"]!.GetValue<bool>());

        await ApiAssert.ProblemAsync(await LoginAsync(ApiHarness.AdminLogin, ApiHarness.Password), HttpStatusCode.Unauthorized, "totp-required");
        // The code used to confirm cannot log in: a step is never accepted twice.
        await ApiAssert.ProblemAsync(await LoginAsync(ApiHarness.AdminLogin, ApiHarness.Password, Code(secret, 0)), HttpStatusCode.Unauthorized, "login-failed");

        api.Time.Advance(TimeSpan.FromSeconds(30));
        var next = Code(secret, 0);
        await ApiAssert.OkAsync(await LoginAsync(ApiHarness.AdminLogin, ApiHarness.Password, next));
        await ApiAssert.ProblemAsync(await LoginAsync(ApiHarness.AdminLogin, ApiHarness.Password, next), HttpStatusCode.Unauthorized, "login-failed");
    }

    [Fact]
    public async Task Totp_ForATeacher_IsNotOffered()
    {
        await api.AddPersonAsync("teacher.two", [Role.Teacher]);
        using var teacher = await api.CookieClientAsync("teacher.two");

        await ApiAssert.ProblemAsync(await teacher.PostAsync("api/me/totp", null), HttpStatusCode.Forbidden, "forbidden");
    }

    [Fact]
    public async Task Login_HashWithOtherIterations_IsRehashedOnSuccess()
    {
        var store = api.Factory.Services.GetRequiredService<IPrivacyStore>();
        var id = await api.AddPersonAsync("old.hash", [Role.Teacher]);
        var credentials = (await store.GetCredentialsAsync(api.TenantId, id))!;
        await store.SetCredentialsAsync(credentials with { PasswordHash = PasswordHasher.Hash(ApiHarness.Password, 2_000) });

        await ApiAssert.OkAsync(await LoginAsync("old.hash", ApiHarness.Password));

        Assert.StartsWith("pbkdf2-sha256$1000$", (await store.GetCredentialsAsync(api.TenantId, id))!.PasswordHash, StringComparison.Ordinal);
    }

    private string Code(byte[] secret, int offsetSteps) => Totp.Code(secret, Totp.StepAt(api.Time.GetUtcNow()) + offsetSteps);

    private static byte[] Base32Decode(string text)
    {
        const string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
        var bytes = new List<byte>();
        int buffer = 0, bits = 0;
        foreach (var c in text)
        {
            buffer = (buffer << 5) | alphabet.IndexOf(c, StringComparison.Ordinal);
            bits += 5;
            if (bits >= 8)
            {
                bytes.Add((byte)(buffer >> (bits - 8)));
                bits -= 8;
            }
        }

        return [.. bytes];
    }
}
