using System.Security.Cryptography;
using LearnerVault.Privacy;
using LearnerVault.Storage.Postgres;
using LearnerVault.Tests.Shared;
using Npgsql;

namespace LearnerVault.Storage.Tests;

/// <summary>
/// The key store contract against PostgreSQL, on the database shared by the test process (every test under tenant ids
/// of its own), and what only a store shared by several server processes must do: each "node" here is a store on a
/// data source of its own.
/// </summary>
[Trait("Backend", "postgres")]
public sealed class PostgresKeyStoreContractTests : KeyStoreContractTests
{
    private PostgresStoreOptions? options;

    protected override MasterKey MasterKey => PostgresTestServer.MasterKey;

    private PostgresStoreOptions Options => options ?? throw new InvalidOperationException("Not initialised.");

    public override async ValueTask InitializeAsync() => options = await PostgresTestServer.SharedDatabaseAsync();

    protected override async ValueTask UseOwnStorageAsync() => options = await PostgresTestServer.CreateMigratedDatabaseAsync("keys");

    private NpgsqlDataSource CreateDataSource() =>
        PostgresBackend.CreateDataSource(Options.KeyStoreConnectionString ?? Options.ConnectionString, Options.KeySchema);

    protected override KeyStoreUnderTest Open(MasterKey? key = null) => OpenNode(key);

    private KeyStoreUnderTest OpenNode(MasterKey? key = null, TimeProvider? time = null)
    {
        var source = CreateDataSource();
        try
        {
            var store = PostgresKeyStore.Open(source, key ?? MasterKey, time ?? Time);
            return new KeyStoreUnderTest(store, store, () =>
            {
                store.Dispose();
                source.Dispose();
            });
        }
        catch
        {
            source.Dispose();
            throw;
        }
    }

    protected override byte[]? ReadWrapped(long keyId)
    {
        using var source = CreateDataSource();
        using var command = source.CreateCommand("SELECT wrapped FROM keys WHERE tenant_id = @tenant AND id = @id;");
        command.Parameters.AddWithValue("tenant", Tenant);
        command.Parameters.AddWithValue("id", keyId);
        return command.ExecuteScalar() as byte[];
    }

    /// <summary>Every byte of the tenant's rows and of the master-key check, as a dump of the key schema would hold them.</summary>
    protected override byte[] StoredBytes()
    {
        using var source = CreateDataSource();
        using var command = source.CreateCommand("""
            SELECT coalesce(learner, ''::bytea) || wrapped FROM keys WHERE tenant_id = @tenant
            UNION ALL SELECT sealed FROM master_key_check;
            """);
        command.Parameters.AddWithValue("tenant", Tenant);
        using var stream = new MemoryStream();
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            stream.Write(reader.GetFieldValue<byte[]>(0));
        }

        return stream.ToArray();
    }

    [Fact]
    public void GetOrCreateLearnerKeys_TwoNodesAtOnce_BothEndWithTheSameKeys()
    {
        using var nodeA = Open();
        using var nodeB = Open();
        for (var round = 0; round < 5; round++)
        {
            var learners = Enumerable.Range(0, 40).Select(_ => Learner()).ToList();
            var reversed = learners.AsEnumerable().Reverse().ToList();
            var results = new IReadOnlyList<DataKey>[8];

            // Four callers per node, half of them asking in the opposite order, all for the same new learners.
            Parallel.For(0, results.Length, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i =>
            {
                var node = i % 2 == 0 ? nodeA : nodeB;
                var asked = i % 4 < 2 ? learners : reversed;
                var keys = node.GetOrCreateLearnerKeys(Tenant, asked);
                results[i] = asked == learners ? keys : [.. keys.Reverse()];
            });

            for (var l = 0; l < learners.Count; l++)
            {
                for (var i = 1; i < results.Length; i++)
                {
                    Assert.Equal(results[0][l].Id, results[i][l].Id);
                    Assert.Equal(results[0][l].Key, results[i][l].Key);
                }
            }

            Assert.Equal(learners.Count, results[0].Select(k => k.Id).Distinct().Count());
        }
    }

    [Fact]
    public void EnsureTenant_TwoNodesAtOnce_BothGetTheSameTenantKeys()
    {
        using var nodeA = Open();
        using var nodeB = Open();
        var tenants = Enumerable.Range(0, 10).Select(_ => Guid.NewGuid()).ToList();
        var pseudonymKeys = new byte[tenants.Count, 2][];
        var dataKeys = new DataKey[tenants.Count, 2];

        Parallel.For(0, tenants.Count * 2, new ParallelOptions { MaxDegreeOfParallelism = 8 }, i =>
        {
            var node = i % 2 == 0 ? nodeA : nodeB;
            pseudonymKeys[i / 2, i % 2] = node.GetPseudonymKey(tenants[i / 2]);
            dataKeys[i / 2, i % 2] = node.GetTenantDataKey(tenants[i / 2]);
        });

        for (var t = 0; t < tenants.Count; t++)
        {
            Assert.Equal(pseudonymKeys[t, 0], pseudonymKeys[t, 1]);
            Assert.Equal(dataKeys[t, 0].Id, dataKeys[t, 1].Id);
            Assert.Equal(dataKeys[t, 0].Key, dataKeys[t, 1].Key);
        }
    }

    [Fact]
    public void DestroyLearnerKey_OnAnotherNode_ForgottenThereWithinTheCacheLifetime()
    {
        var learner = Learner();
        using var nodeA = Open();
        using var nodeB = Open();
        var key = nodeB.GetOrCreateLearnerKey(Tenant, learner);
        Assert.Equal(key.Key, nodeA.GetDataKey(Tenant, key.Id)!.Key);

        Assert.True(nodeA.DestroyLearnerKey(Tenant, learner));

        // The destroying node forgets at once; the other may serve its cached copy until the lifetime runs out.
        Assert.Null(nodeA.GetDataKey(Tenant, key.Id));
        Assert.NotNull(nodeB.GetDataKey(Tenant, key.Id));
        Time.Advance(PostgresKeyStore.DefaultCacheLifetime);
        Assert.Null(nodeB.GetDataKey(Tenant, key.Id));
        var replacement = nodeB.GetOrCreateLearnerKey(Tenant, learner);
        Assert.NotEqual(key.Id, replacement.Id);
        Assert.Equal(replacement.Key, nodeA.GetOrCreateLearnerKey(Tenant, learner).Key);
    }

    [Fact]
    public void RotateTenantKey_OnAnotherNode_NewKeysOnThisNodeAreWrappedUnderTheNewKek()
    {
        using var nodeA = Open();
        using var nodeB = Open();
        var before = nodeB.GetOrCreateLearnerKey(Tenant, Learner());

        nodeA.RotateTenantKey(Tenant);

        // Node B still caches the old KEK: its insert under it fails the foreign key, and it retries under the new one.
        var after = nodeB.GetOrCreateLearnerKey(Tenant, Learner());
        using var reopened = Open();
        Assert.Equal(before.Key, reopened.GetDataKey(Tenant, before.Id)!.Key);
        Assert.Equal(after.Key, reopened.GetDataKey(Tenant, after.Id)!.Key);
    }

    [Fact]
    public async Task RotateMasterKey_OnAnotherNode_ThisNodeRefusesToWrapUnderTheOldOne()
    {
        await UseOwnStorageAsync();
        using var nodeA = Open();
        using var nodeB = Open();
        nodeB.EnsureTenant(Tenant);

        nodeA.RotateMasterKey(MasterKey.FromBytes(KeyWrapping.NewKey()));

        Assert.ThrowsAny<CryptographicException>(() => nodeB.EnsureTenant(Guid.NewGuid()));
        Assert.ThrowsAny<CryptographicException>(() => nodeB.RotateTenantKey(Tenant));
    }
}
