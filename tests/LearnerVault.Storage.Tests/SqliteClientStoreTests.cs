using System.Security.Cryptography;
using LearnerVault.Privacy;
using LearnerVault.Storage.Sqlite;

namespace LearnerVault.Storage.Tests;

public sealed class SqliteClientStoreTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Now = new(2026, 3, 1, 8, 0, 0, TimeSpan.Zero);

    private readonly TempFolder folder = new();
    private SqliteBackend? backend;

    private IClientStore Clients => backend!.Clients;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public ValueTask InitializeAsync()
    {
        backend = SqliteBackend.Open(folder.Path, MasterKey.FromBytes(KeyWrapping.NewKey()), new ManualTimeProvider(Now));
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        if (backend is not null)
        {
            await backend.DisposeAsync();
        }

        folder.Dispose();
    }

    private static ClientRecord Client(Guid tenant, string key, string name = "LMS") => new(
        0, tenant, name, key, RandomNumberGenerator.GetBytes(32), ["statements/write", "statements/read/mine"], ["instruction"], Now, null);

    [Fact]
    public async Task EnsureTenantAsync_Twice_KeepsTheFirstRecord()
    {
        var id = Guid.NewGuid();

        var first = await Clients.EnsureTenantAsync(id, "North School", Ct);
        var second = await Clients.EnsureTenantAsync(id, "Renamed", Ct);

        Assert.Equal(new TenantRecord(id, "North School", Now), first);
        Assert.Equal(first, second);
    }

    [Fact]
    public async Task ListTenantsAsync_ListsRegisteredTenantsOnly()
    {
        var registered = await Clients.EnsureTenantAsync(Guid.NewGuid(), "Registered", Ct);
        var seenByStorageOnly = Guid.NewGuid();
        await backend!.Statements.WriteAsync(seenByStorageOnly,
            [new StatementRecord(Guid.NewGuid(), 1, [1], [1], [], null, false, 1, true)], Ct);

        var tenants = await Clients.ListTenantsAsync(Ct);

        Assert.Equal([registered], tenants);
    }

    [Fact]
    public async Task EnsureTenantAsync_TenantFirstSeenThroughStatements_BecomesRegistered()
    {
        var id = Guid.NewGuid();
        await backend!.Statements.WriteAsync(id, [new StatementRecord(Guid.NewGuid(), 1, [1], [1], [], null, false, 1, true)], Ct);

        var tenant = await Clients.EnsureTenantAsync(id, "Late", Ct);

        Assert.Equal("Late", tenant.Name);
        Assert.Single(await Clients.ListTenantsAsync(Ct));
    }

    [Fact]
    public async Task AddClientAsync_ThenFindByKey_RoundTrips()
    {
        var tenant = (await Clients.EnsureTenantAsync(Guid.NewGuid(), "T", Ct)).Id;
        var client = Client(tenant, "key-1");

        var added = await Clients.AddClientAsync(client, Ct);
        var found = await Clients.FindClientByKeyAsync("key-1", Ct);

        Assert.True(added.Id > 0);
        Assert.NotNull(found);
        Assert.Equal(added.Id, found.Id);
        Assert.Equal(tenant, found.TenantId);
        Assert.Equal(client.SecretHash, found.SecretHash);
        Assert.Equal(client.Scopes, found.Scopes);
        Assert.Equal(client.Purposes, found.Purposes);
        Assert.Equal(Now, found.Created);
        Assert.Null(found.Revoked);
        Assert.Null(await Clients.FindClientByKeyAsync("no-such-key", Ct));
    }

    [Fact]
    public async Task AddClientAsync_KeyTaken_Throws()
    {
        var tenant = (await Clients.EnsureTenantAsync(Guid.NewGuid(), "T", Ct)).Id;
        await Clients.AddClientAsync(Client(tenant, "taken"), Ct);

        await Assert.ThrowsAsync<InvalidOperationException>(() => Clients.AddClientAsync(Client(tenant, "taken"), Ct));
    }

    [Fact]
    public async Task AddClientAsync_UnknownTenant_Throws()
    {
        await Assert.ThrowsAsync<InvalidOperationException>(() => Clients.AddClientAsync(Client(Guid.NewGuid(), "orphan"), Ct));
    }

    [Fact]
    public async Task ListClientsAsync_ReturnsOnlyThatTenantsClients()
    {
        var a = (await Clients.EnsureTenantAsync(Guid.NewGuid(), "A", Ct)).Id;
        var b = (await Clients.EnsureTenantAsync(Guid.NewGuid(), "B", Ct)).Id;
        await Clients.AddClientAsync(Client(a, "a-1"), Ct);
        await Clients.AddClientAsync(Client(b, "b-1"), Ct);
        await Clients.AddClientAsync(Client(a, "a-2"), Ct);

        Assert.Equal(["a-1", "a-2"], (await Clients.ListClientsAsync(a, Ct)).Select(c => c.Key));
        Assert.Equal(["b-1"], (await Clients.ListClientsAsync(b, Ct)).Select(c => c.Key));
    }

    [Fact]
    public async Task RevokeClientAsync_ActiveClient_RevokesOnceAndOnlyInItsTenant()
    {
        var tenant = (await Clients.EnsureTenantAsync(Guid.NewGuid(), "T", Ct)).Id;
        await Clients.AddClientAsync(Client(tenant, "to-revoke"), Ct);
        var when = Now.AddDays(1);

        Assert.False(await Clients.RevokeClientAsync(Guid.NewGuid(), "to-revoke", when, Ct));
        Assert.True(await Clients.RevokeClientAsync(tenant, "to-revoke", when, Ct));
        Assert.False(await Clients.RevokeClientAsync(tenant, "to-revoke", when.AddDays(1), Ct));
        Assert.Equal(when, (await Clients.FindClientByKeyAsync("to-revoke", Ct))!.Revoked);
    }
}
