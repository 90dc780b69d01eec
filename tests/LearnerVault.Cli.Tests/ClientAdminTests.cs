using System.Security.Cryptography;
using System.Text;
using LearnerVault.Privacy;
using LearnerVault.Server.Administration;
using LearnerVault.Storage;
using LearnerVault.Storage.Sqlite;
using Microsoft.Extensions.Time.Testing;

namespace LearnerVault.Cli.Tests;

/// <summary>The administration logic over the real SQLite client store, in a data folder of its own.</summary>
public sealed class ClientAdminTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Now = new(2026, 11, 28, 9, 30, 0, TimeSpan.Zero);
    private readonly FakeTimeProvider time = new(Now);
    private readonly Guid tenant = Guid.NewGuid();
    private readonly string folder = Path.Combine(Path.GetTempPath(), "lv-admin-" + Guid.NewGuid().ToString("N")[..12]);
    private SqliteBackend backend = null!;

    private IClientStore store => backend.Clients;

    public async ValueTask InitializeAsync()
    {
        backend = SqliteBackend.Open(folder, MasterKey.FromBytes(RandomNumberGenerator.GetBytes(MasterKey.Size)), time);
        await backend.Clients.EnsureTenantAsync(tenant, "test", TestContext.Current.CancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        await backend.DisposeAsync();
        Directory.Delete(folder, recursive: true);
    }

    private async Task<IReadOnlyList<ClientRecord>> StoredClientsAsync() =>
        await store.ListClientsAsync(tenant, TestContext.Current.CancellationToken);

    [Fact]
    public async Task AddAsync_ValidClient_StoresHashOfSecretOnly()
    {
        var (client, secret) = await ClientAdmin.AddAsync(store, tenant, " LMS ", ["all"], [], time, TestContext.Current.CancellationToken);

        var stored = Assert.Single(await StoredClientsAsync());
        Assert.Equal(client.Id, stored.Id);
        Assert.Equal(client.Key, stored.Key);
        Assert.Equal(["all"], stored.Scopes);
        Assert.Equal("LMS", stored.Name);
        Assert.Equal(tenant, stored.TenantId);
        Assert.Equal(Now, stored.Created);
        Assert.Null(stored.Revoked);
        Assert.True(ClientCredentials.Verify(secret, stored.SecretHash));
        Assert.True(stored.SecretHash.AsSpan().IndexOf(Encoding.UTF8.GetBytes(secret)) < 0);
        Assert.Equal(["instruction"], stored.Purposes);
    }

    [Fact]
    public async Task AddAsync_TwoClients_GetDifferentKeysAndSecrets()
    {
        var ct = TestContext.Current.CancellationToken;
        var (first, firstSecret) = await ClientAdmin.AddAsync(store, tenant, "a", ["all"], [], time, ct);
        var (second, secondSecret) = await ClientAdmin.AddAsync(store, tenant, "b", ["all"], [], time, ct);

        Assert.NotEqual(first.Key, second.Key);
        Assert.NotEqual(firstSecret, secondSecret);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("tab\there")]
    public async Task AddAsync_BadName_ThrowsAndStoresNothing(string name)
    {
        await Assert.ThrowsAsync<AdministrationException>(
            () => ClientAdmin.AddAsync(store, tenant, name, ["all"], [], time, TestContext.Current.CancellationToken));

        Assert.Empty(await StoredClientsAsync());
    }

    [Fact]
    public async Task AddAsync_BadScope_ThrowsAndStoresNothing()
    {
        await Assert.ThrowsAsync<AdministrationException>(
            () => ClientAdmin.AddAsync(store, tenant, "x", ["statements/write", "root"], [], time, TestContext.Current.CancellationToken));

        Assert.Empty(await StoredClientsAsync());
    }

    [Fact]
    public async Task RevokeAsync_ActiveClient_SetsRevokedTime()
    {
        var ct = TestContext.Current.CancellationToken;
        var (client, _) = await ClientAdmin.AddAsync(store, tenant, "x", ["all"], [], time, ct);
        time.Advance(TimeSpan.FromHours(1));

        var revoked = await ClientAdmin.RevokeAsync(store, tenant, client.Key, time, ct);

        Assert.Equal(Now.AddHours(1), revoked.Revoked);
        Assert.Equal(Now.AddHours(1), Assert.Single(await StoredClientsAsync()).Revoked);
    }

    [Fact]
    public async Task RevokeAsync_ClientOfAnotherTenant_Throws()
    {
        var ct = TestContext.Current.CancellationToken;
        var other = Guid.NewGuid();
        await store.EnsureTenantAsync(other, "other", ct);
        var (client, _) = await ClientAdmin.AddAsync(store, other, "x", ["all"], [], time, ct);

        await Assert.ThrowsAsync<AdministrationException>(() => ClientAdmin.RevokeAsync(store, tenant, client.Key, time, ct));

        Assert.Null(Assert.Single(await store.ListClientsAsync(other, ct)).Revoked);
    }
}
