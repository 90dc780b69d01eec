using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using LearnerVault.Privacy.Access;
using LearnerVault.Server.Accounts;
using LearnerVault.Server.Options;
using LearnerVault.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace LearnerVault.Server.Tests.Api;

/// <summary>
/// A real server for admin-API tests: a fake clock (lockouts and sessions without sleeping), cheap password hashing,
/// a school administrator, and clients that log in with a cookie (sending this origin) or a bearer token.
/// </summary>
public sealed class ApiHarness : IAsyncDisposable
{
    public const string AdminLogin = "head.teacher";
    public const string Password = "correct horse battery";

    private ApiHarness(LearnerVaultAppFactory factory, FakeTimeProvider time)
    {
        Factory = factory;
        Time = time;
    }

    public LearnerVaultAppFactory Factory { get; }

    public FakeTimeProvider Time { get; }

    public Guid TenantId => Factory.TenantId;

    public string Origin => Factory.BaseAddress.GetLeftPart(UriPartial.Authority);

    public static async Task<ApiHarness> StartAsync(Action<ServerOptions>? configure = null)
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var factory = await LearnerVaultAppFactory.StartAsync(options =>
        {
            options.TimeProvider = time;
            options.PasswordIterations = 1_000;
            configure?.Invoke(options);
        });
        var harness = new ApiHarness(factory, time);
        await harness.AddPersonAsync(AdminLogin, [Role.SchoolAdministrator]);
        return harness;
    }

    public AccountService Accounts => Factory.Services.GetRequiredService<AccountService>();

    /// <summary>Adds a person with the shared password directly (as the CLI does); returns their id.</summary>
    public async Task<Guid> AddPersonAsync(string login, IReadOnlyList<Role> roles, Guid? learnerId = null, Guid? tenantId = null)
    {
        var created = await Accounts.CreatePersonAsync(tenantId ?? TenantId, login, Password, roles, login, learnerId, CancellationToken.None);
        return created.Person.Id;
    }

    /// <summary>A second tenant with its keys, for cross-tenant tests.</summary>
    public async Task<Guid> AddTenantAsync(string name)
    {
        var id = Guid.NewGuid();
        await Factory.Services.GetRequiredService<IClientStore>().EnsureTenantAsync(id, name, CancellationToken.None);
        Factory.Services.GetRequiredService<IStorageBackend>().Keys.EnsureTenant(id);
        return id;
    }

    public HttpClient Anonymous() => new() { BaseAddress = Factory.BaseAddress };

    /// <summary>A browser-like client: logged in with the session cookie, sending this origin on every request.</summary>
    public async Task<HttpClient> CookieClientAsync(string login, Guid? tenant = null, string? totp = null, bool sendOrigin = true)
    {
        var handler = new HttpClientHandler { CookieContainer = new CookieContainer(), UseCookies = true };
        var http = new HttpClient(handler) { BaseAddress = Factory.BaseAddress };
        if (sendOrigin)
        {
            http.DefaultRequestHeaders.Add("Origin", Origin);
        }

        using var response = await http.PostAsJsonAsync("api/auth/login", new { tenant, login, password = Password, totp });
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"login {login}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return http;
    }

    /// <summary>A script-like client with a bearer token and no cookie.</summary>
    public async Task<HttpClient> BearerClientAsync(string login, Guid? tenant = null)
    {
        using var cookie = await CookieClientAsync(login, tenant);
        using var response = await cookie.PostAsJsonAsync("api/auth/tokens", new { label = "test", expiresInDays = 7 });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var token = (await response.Content.ReadFromJsonAsync<JsonObject>())!["token"]!.GetValue<string>();
        var http = new HttpClient { BaseAddress = Factory.BaseAddress };
        http.DefaultRequestHeaders.Authorization = new("Bearer", token);
        return http;
    }

    /// <summary>Registers a learner with one mbox and a birth year; returns the id.</summary>
    public static async Task<Guid> RegisterLearnerAsync(HttpClient admin, string mbox, int birthYear = 2000)
    {
        using var response = await admin.PostAsJsonAsync("api/learners", new { identifiers = new[] { new { mbox } }, birthYear });
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return Guid.Parse((await response.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>());
    }

    public async ValueTask DisposeAsync() => await Factory.DisposeAsync();
}

public static class ApiAssert
{
    /// <summary>Asserts a problem document with the status and type slug.</summary>
    public static async Task<JsonObject> ProblemAsync(HttpResponseMessage response, HttpStatusCode status, string slug)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"expected {(int)status} {slug}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var json = JsonNode.Parse(body)!.AsObject();
        Assert.Equal("urn:learnervault:problem:" + slug, json["type"]!.GetValue<string>());
        Assert.Equal((int)status, json["status"]!.GetValue<int>());
        return json;
    }

    public static async Task<JsonNode> OkAsync(HttpResponseMessage response, HttpStatusCode status = HttpStatusCode.OK)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"expected {(int)status}, got {(int)response.StatusCode}: {body}");
        return body.Length == 0 ? new JsonObject() : JsonNode.Parse(body)!;
    }
}
