using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using LearnerVault.Privacy.Access;
using LearnerVault.Privacy.Audit;
using LearnerVault.Server.Audit;
using LearnerVault.Server.Statements;
using LearnerVault.Storage;
using LearnerVault.Storage.People;
using LearnerVault.Xapi;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace LearnerVault.Server.Tests.Access;

/// <summary>
/// One server on a fake clock for a test class, and intent methods over its real privacy store: tenants, clients with
/// declared purposes, learners, guardians, consents, policies, and the access log. Each test works in a tenant of its
/// own, so tests of a class share the server without sharing data.
/// </summary>
public sealed class AccessKit : IAsyncLifetime
{
    public static readonly string[] ReadScopes = ["statements/read", "state", "profile"];
    public static readonly string[] WriteScopes = ["statements/write", "state", "profile"];

    public FakeTimeProvider Clock { get; } = new(new DateTimeOffset(2030, 3, 1, 8, 0, 0, TimeSpan.Zero));

    public LearnerVaultAppFactory Factory { get; private set; } = null!;

    public IPrivacyStore Privacy => Factory.Services.GetRequiredService<IPrivacyStore>();

    public IStatementStore Statements => Factory.Services.GetRequiredService<IStatementStore>();

    public static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => Factory = await LearnerVaultAppFactory.StartAsync(o => o.TimeProvider = Clock);

    public async ValueTask DisposeAsync() => await Factory.DisposeAsync();

    public Task<Guid> TenantAsync() => Factory.AddTenantAsync("school " + Guid.NewGuid().ToString("N")[..6]);

    /// <summary>An HTTP client for a new xAPI client of the tenant with these scopes and purposes.</summary>
    public async Task<HttpClient> ClientAsync(Guid tenant, IReadOnlyList<string> scopes, params string[] purposes) =>
        Factory.CreateClient(await Factory.AddClientAsync("app", scopes, purposes, tenant));

    /// <summary>The learner pseudonym the statement path computes for a mailbox in the tenant.</summary>
    public byte[] Pseudonym(Guid tenant, string mbox) =>
        Factory.Services.GetRequiredService<TenantCrypto>().LearnerPseudonym(tenant, Ifi.Normalise(new JsonObject { ["mbox"] = mbox })!);

    /// <summary>Registers a learner known by <paramref name="mbox"/> in the identity vault.</summary>
    public async Task<Guid> LearnerAsync(Guid tenant, string mbox, int? birthYear = 1990)
    {
        var id = Guid.NewGuid();
        await Privacy.AddLearnerAsync(new LearnerRecord(tenant, id, [Pseudonym(tenant, mbox)], birthYear, null, false, [], Clock.GetUtcNow()), Ct);
        return id;
    }

    /// <summary>Adds a guardian person and links them to the learner; returns the guardian's id.</summary>
    public async Task<Guid> GuardianAsync(Guid tenant, Guid learner)
    {
        var guardian = Guid.NewGuid();
        await Privacy.AddPersonAsync(new PersonRecord(tenant, guardian, [Role.Guardian], null, null, null, Clock.GetUtcNow(), null), Ct);
        await Privacy.LinkGuardianAsync(tenant, learner, guardian, Ct);
        return guardian;
    }

    /// <summary>Records a consent given or withdrawn now by the learner themself or by a guardian.</summary>
    public Task ConsentAsync(Guid tenant, Guid learner, Purpose purpose, ConsentChoice choice, Guid? guardian = null) =>
        Privacy.AddConsentAsync(
            tenant,
            learner,
            new ConsentRecord(
                purpose,
                choice,
                guardian is null ? ConsentGiver.Learner : ConsentGiver.Guardian,
                (guardian ?? learner).ToString("D"),
                Clock.GetUtcNow(),
                "test",
                "v1"),
            "test",
            Ct);

    public async Task UpdateLearnerAsync(Guid tenant, Guid learner, Func<LearnerRecord, LearnerRecord> change)
    {
        var record = await Privacy.GetLearnerAsync(tenant, learner, Ct) ?? throw new InvalidOperationException("no such learner");
        Assert.True(await Privacy.UpdateLearnerAsync(change(record), Ct));
    }

    public async Task PolicyAsync(Guid tenant, Func<TenantPolicy, TenantPolicy> change) =>
        await Privacy.SavePolicyAsync(change(await Privacy.GetPolicyAsync(tenant, Ct)), Ct);

    /// <summary>Every entry of the tenant's access log, in order.</summary>
    public async Task<IReadOnlyList<AccessLogEntry>> LogAsync(Guid tenant) =>
        [.. (await Factory.Services.GetRequiredService<IAccessLogStore>().ReadAsync(tenant, 1, 100_000, Ct)).Select(r => r.Entry)];

    /// <summary>Asserts the tenant's log chain and checkpoints verify.</summary>
    public async Task AssertLogVerifiesAsync(Guid tenant)
    {
        var verification = await Factory.Services.GetRequiredService<AccessLog>().VerifyAsync(tenant, Ct);
        Assert.True(verification.IsClean, verification.Fault?.Description);
    }

    public static JsonObject Statement(string mbox, Guid? id = null) =>
        XapiJson.Statement(mbox: mbox, id: id ?? Guid.NewGuid());

    /// <summary>POSTs statements; returns the status.</summary>
    public static async Task<HttpStatusCode> PostAsync(HttpClient http, params JsonObject[] statements)
    {
        using var response = await http.PostAsync("statements", XapiJson.Content(new JsonArray([.. statements])), Ct);
        return response.StatusCode;
    }

    /// <summary>The ids of the statements a query returns, following more to the end.</summary>
    public static async Task<List<Guid>> QueryIdsAsync(HttpClient http, string query = "limit=500", string? purpose = null)
    {
        var ids = new List<Guid>();
        var next = "statements?" + query;
        while (next.Length > 0)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, next);
            if (purpose is not null)
            {
                request.Headers.Add("X-LearnerVault-Purpose", purpose);
            }

            using var response = await http.SendAsync(request, Ct);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct));
            ids.AddRange(body.RootElement.GetProperty("statements").EnumerateArray().Select(s => s.GetProperty("id").GetGuid()));
            var more = body.RootElement.GetProperty("more").GetString() ?? string.Empty;
            next = more.Length == 0 ? string.Empty : more["/xapi/".Length..];
        }

        return ids;
    }

    /// <summary>GET /statements?statementId=…: the status.</summary>
    public static async Task<HttpStatusCode> GetByIdAsync(HttpClient http, Guid id, string? purpose = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "statements?statementId=" + id);
        if (purpose is not null)
        {
            request.Headers.Add("X-LearnerVault-Purpose", purpose);
        }

        using var response = await http.SendAsync(request, Ct);
        return response.StatusCode;
    }

    public static string AgentParameter(string mbox) =>
        Uri.EscapeDataString(new JsonObject { ["objectType"] = "Agent", ["mbox"] = mbox }.ToJsonString());
}
