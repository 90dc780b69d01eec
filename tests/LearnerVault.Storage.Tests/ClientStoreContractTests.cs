using System.Security.Cryptography;

namespace LearnerVault.Storage.Tests;

/// <summary>An opened client store, how storage can come to know a tenant without registering it, and how to close it.</summary>
/// <param name="seeTenant">Makes storage see the tenant through data written under it (statements, documents), as a
/// server does before the tenant is ever registered.</param>
public sealed class ClientStoreHandle(IClientStore clients, Func<Guid, CancellationToken, Task> seeTenant, Func<ValueTask> close) : IAsyncDisposable
{
    public IClientStore Clients { get; } = clients;

    public Task SeeTenantAsync(Guid tenantId, CancellationToken cancellationToken) => seeTenant(tenantId, cancellationToken);

    public ValueTask DisposeAsync() => close();
}

/// <summary>
/// The behaviour every <see cref="IClientStore"/> backend must have. Storage may be shared with other tests (one
/// PostgreSQL database per test process), so every test uses tenant ids and client keys of its own and looks at the
/// tenants it made only.
/// </summary>
public abstract class ClientStoreContractTests : StoreContractLifetime<ClientStoreHandle>
{
    private static readonly DateTimeOffset Now = new(2026, 3, 1, 8, 0, 0, TimeSpan.Zero);

    private readonly string suffix = Guid.NewGuid().ToString("N");
    private IClientStore Clients => Handle.Clients;

    /// <summary>Opens the store on this test class's storage.</summary>
    protected abstract ValueTask<ClientStoreHandle> OpenAsync(TimeProvider timeProvider);

    protected sealed override ValueTask<ClientStoreHandle> OpenHandleAsync() => OpenAsync(new ManualTimeProvider(Now));

    /// <summary>A client key unique to this test (keys are unique across the installation).</summary>
    private string Key(string name) => $"{name}-{suffix}";

    private ClientRecord Client(Guid tenant, string key, string name = "LMS") => new(
        0, tenant, name, Key(key), RandomNumberGenerator.GetBytes(32), ["statements/write", "statements/read/mine"], ["instruction"], Now, null);

    /// <summary>The listed tenants among <paramref name="mine"/>, in the store's order.</summary>
    private async Task<List<TenantRecord>> ListMyTenantsAsync(params Guid[] mine) =>
        [.. (await Clients.ListTenantsAsync(Ct)).Where(t => mine.Contains(t.Id))];

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
    public async Task EnsureTenantAsync_ConcurrentCallers_AllGetTheFirstRecord()
    {
        var id = Guid.NewGuid();

        var records = await Task.WhenAll(Enumerable.Range(0, 20).Select(i =>
            Task.Run(() => Clients.EnsureTenantAsync(id, "Name " + i, Ct), Ct)));

        Assert.Single(records.Distinct());
        Assert.Equal([records[0]], await ListMyTenantsAsync(id));
    }

    [Fact]
    public async Task ListTenantsAsync_ListsRegisteredTenantsOnly()
    {
        var registered = await Clients.EnsureTenantAsync(Guid.NewGuid(), "Registered", Ct);
        var seenByStorageOnly = Guid.NewGuid();
        await Handle.SeeTenantAsync(seenByStorageOnly, Ct);

        var tenants = await ListMyTenantsAsync(registered.Id, seenByStorageOnly);

        Assert.Equal([registered], tenants);
    }

    [Fact]
    public async Task ListTenantsAsync_OrderedByNameThenCreation()
    {
        var b = await Clients.EnsureTenantAsync(Guid.NewGuid(), "B", Ct);
        var a = await Clients.EnsureTenantAsync(Guid.NewGuid(), "A", Ct);
        var lower = await Clients.EnsureTenantAsync(Guid.NewGuid(), "a", Ct);

        Assert.Equal([a, b, lower], await ListMyTenantsAsync(b.Id, a.Id, lower.Id));
    }

    [Fact]
    public async Task EnsureTenantAsync_TenantFirstSeenThroughStatements_BecomesRegistered()
    {
        var id = Guid.NewGuid();
        await Handle.SeeTenantAsync(id, Ct);

        var tenant = await Clients.EnsureTenantAsync(id, "Late", Ct);

        Assert.Equal("Late", tenant.Name);
        Assert.Single(await ListMyTenantsAsync(id));
    }

    [Fact]
    public async Task AddClientAsync_ThenFindByKey_RoundTrips()
    {
        var tenant = (await Clients.EnsureTenantAsync(Guid.NewGuid(), "T", Ct)).Id;
        var client = Client(tenant, "key-1");

        var added = await Clients.AddClientAsync(client, Ct);
        var found = await Clients.FindClientByKeyAsync(Key("key-1"), Ct);

        Assert.True(added.Id > 0);
        Assert.NotNull(found);
        Assert.Equal(added.Id, found.Id);
        Assert.Equal(tenant, found.TenantId);
        Assert.Equal(client.SecretHash, found.SecretHash);
        Assert.Equal(client.Scopes, found.Scopes);
        Assert.Equal(client.Purposes, found.Purposes);
        Assert.Equal(Now, found.Created);
        Assert.Null(found.Revoked);
        Assert.Null(await Clients.FindClientByKeyAsync(Key("no-such-key"), Ct));
    }

    [Fact]
    public async Task AddClientAsync_KeyTaken_Throws()
    {
        var tenant = (await Clients.EnsureTenantAsync(Guid.NewGuid(), "T", Ct)).Id;
        await Clients.AddClientAsync(Client(tenant, "taken"), Ct);

        await Assert.ThrowsAsync<InvalidOperationException>(() => Clients.AddClientAsync(Client(tenant, "taken"), Ct));
    }

    [Fact]
    public async Task AddClientAsync_KeyTakenInAnotherTenant_Throws()
    {
        var a = (await Clients.EnsureTenantAsync(Guid.NewGuid(), "A", Ct)).Id;
        var b = (await Clients.EnsureTenantAsync(Guid.NewGuid(), "B", Ct)).Id;
        await Clients.AddClientAsync(Client(a, "shared"), Ct);

        await Assert.ThrowsAsync<InvalidOperationException>(() => Clients.AddClientAsync(Client(b, "shared"), Ct));
        Assert.Equal(a, (await Clients.FindClientByKeyAsync(Key("shared"), Ct))!.TenantId);
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

        Assert.Equal([Key("a-1"), Key("a-2")], (await Clients.ListClientsAsync(a, Ct)).Select(c => c.Key));
        Assert.Equal([Key("b-1")], (await Clients.ListClientsAsync(b, Ct)).Select(c => c.Key));
    }

    [Fact]
    public async Task RevokeClientAsync_ActiveClient_RevokesOnceAndOnlyInItsTenant()
    {
        var tenant = (await Clients.EnsureTenantAsync(Guid.NewGuid(), "T", Ct)).Id;
        await Clients.AddClientAsync(Client(tenant, "to-revoke"), Ct);
        var when = Now.AddDays(1);

        Assert.False(await Clients.RevokeClientAsync(Guid.NewGuid(), Key("to-revoke"), when, Ct));
        Assert.True(await Clients.RevokeClientAsync(tenant, Key("to-revoke"), when, Ct));
        Assert.False(await Clients.RevokeClientAsync(tenant, Key("to-revoke"), when.AddDays(1), Ct));
        Assert.Equal(when, (await Clients.FindClientByKeyAsync(Key("to-revoke"), Ct))!.Revoked);
    }
}
