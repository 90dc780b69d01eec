using System.Security.Cryptography;
using LearnerVault.Privacy;
using LearnerVault.Privacy.Audit;

namespace LearnerVault.Storage.Tests;

/// <summary>An opened key store (both of its faces) and how to close it.</summary>
public sealed class KeyStoreUnderTest(IKeyStore keys, IKeyAdministration administration, Action close) : IKeyStore, IKeyAdministration, IDisposable
{
    public void EnsureTenant(Guid tenantId) => keys.EnsureTenant(tenantId);

    public byte[] GetPseudonymKey(Guid tenantId) => keys.GetPseudonymKey(tenantId);

    public DataKey GetTenantDataKey(Guid tenantId) => keys.GetTenantDataKey(tenantId);

    public DataKey GetOrCreateLearnerKey(Guid tenantId, ReadOnlySpan<byte> learnerPseudonym) => keys.GetOrCreateLearnerKey(tenantId, learnerPseudonym);

    public IReadOnlyList<DataKey> GetOrCreateLearnerKeys(Guid tenantId, IReadOnlyList<byte[]> learnerPseudonyms) =>
        keys.GetOrCreateLearnerKeys(tenantId, learnerPseudonyms);

    public DataKey? GetDataKey(Guid tenantId, long keyId) => keys.GetDataKey(tenantId, keyId);

    public byte[] GetAuditSigningKey(Guid tenantId) => keys.GetAuditSigningKey(tenantId);

    public bool DestroyLearnerKey(Guid tenantId, ReadOnlySpan<byte> learnerPseudonym) => administration.DestroyLearnerKey(tenantId, learnerPseudonym);

    public void RotateTenantKey(Guid tenantId) => administration.RotateTenantKey(tenantId);

    public void RotateMasterKey(MasterKey newMasterKey) => administration.RotateMasterKey(newMasterKey);

    public void Dispose() => close();
}

/// <summary>
/// The behaviour every key store backend must have. A backend's test class derives from this and says how to open the
/// store on storage it owns (or shares, separated by tenant id), and how to look at what the storage holds.
/// </summary>
public abstract class KeyStoreContractTests : IAsyncLifetime
{
    protected ManualTimeProvider Time { get; } = new(new DateTimeOffset(2026, 3, 1, 8, 0, 0, TimeSpan.Zero));

    protected Guid Tenant { get; } = Guid.NewGuid();

    /// <summary>The master key the store is sealed to.</summary>
    protected abstract MasterKey MasterKey { get; }

    /// <summary>Opens the store; opening again after the previous one was disposed must find everything written before.</summary>
    protected abstract KeyStoreUnderTest Open(MasterKey? key = null);

    /// <summary>Moves this test to storage of its own, for a test that seals the store to another master key.</summary>
    protected virtual ValueTask UseOwnStorageAsync() => ValueTask.CompletedTask;

    /// <summary>The wrapped bytes stored for a key, read past the store; null when there is no such row.</summary>
    protected abstract byte[]? ReadWrapped(long keyId);

    /// <summary>Everything the storage holds for <see cref="Tenant"/> (and the store itself), as a thief with a copy would read it.</summary>
    protected abstract byte[] StoredBytes();

    public virtual ValueTask InitializeAsync() => ValueTask.CompletedTask;

    public virtual ValueTask DisposeAsync()
    {
        GC.SuppressFinalize(this);
        return ValueTask.CompletedTask;
    }

    protected static byte[] Learner() => RandomNumberGenerator.GetBytes(32);

    protected static bool Contains(byte[] haystack, byte[] needle) => haystack.AsSpan().IndexOf(needle) >= 0;

    [Fact]
    public void TenantKeys_AfterReopen_AreTheSame()
    {
        byte[] pseudonymKey;
        DataKey tenantKey;
        using (var store = Open())
        {
            store.EnsureTenant(Tenant);
            pseudonymKey = store.GetPseudonymKey(Tenant);
            tenantKey = store.GetTenantDataKey(Tenant);
        }

        using var reopened = Open();
        Assert.Equal(pseudonymKey, reopened.GetPseudonymKey(Tenant));
        Assert.Equal(tenantKey.Id, reopened.GetTenantDataKey(Tenant).Id);
        Assert.Equal(tenantKey.Key, reopened.GetTenantDataKey(Tenant).Key);
        Assert.Equal(tenantKey.Key, reopened.GetDataKey(Tenant, tenantKey.Id)!.Key);
        Assert.Equal(KeyWrapping.KeySize, pseudonymKey.Length);
        Assert.NotEqual(pseudonymKey, tenantKey.Key);
    }

    [Fact]
    public void Tenants_GetDifferentKeys()
    {
        using var store = Open();
        var other = Guid.NewGuid();

        Assert.NotEqual(store.GetPseudonymKey(Tenant), store.GetPseudonymKey(other));
        Assert.NotEqual(store.GetTenantDataKey(Tenant).Key, store.GetTenantDataKey(other).Key);
    }

    [Fact]
    public void GetOrCreateLearnerKey_ThenGetDataKeyAfterReopen_ReturnsTheSameKey()
    {
        var learner = Learner();
        DataKey created;
        using (var store = Open())
        {
            created = store.GetOrCreateLearnerKey(Tenant, learner);
            Assert.Equal(created.Key, store.GetOrCreateLearnerKey(Tenant, learner).Key);
        }

        using var reopened = Open();
        Assert.Equal(created.Key, reopened.GetDataKey(Tenant, created.Id)!.Key);
        Assert.Equal(created.Id, reopened.GetOrCreateLearnerKey(Tenant, learner).Id);
        Assert.NotEqual(created.Id, reopened.GetOrCreateLearnerKey(Tenant, Learner()).Id);
    }

    [Fact]
    public void GetOrCreateLearnerKeys_Batch_MatchesSingleLookupsInOrder()
    {
        using var store = Open();
        var known = Learner();
        var knownKey = store.GetOrCreateLearnerKey(Tenant, known);
        var fresh = Learner();

        var keys = store.GetOrCreateLearnerKeys(Tenant, [fresh, known, fresh]);

        Assert.Equal(knownKey.Id, keys[1].Id);
        Assert.Equal(keys[0].Id, keys[2].Id);
        Assert.NotEqual(knownKey.Id, keys[0].Id);
        Assert.Equal(keys[0].Key, store.GetOrCreateLearnerKey(Tenant, fresh).Key);
    }

    [Fact]
    public void KeyStore_HoldsOnlyWrappedKeys()
    {
        var learner = Learner();
        byte[] pseudonymKey;
        DataKey tenantKey;
        DataKey learnerKey;
        using (var store = Open())
        {
            pseudonymKey = store.GetPseudonymKey(Tenant);
            tenantKey = store.GetTenantDataKey(Tenant);
            learnerKey = store.GetOrCreateLearnerKey(Tenant, learner);
        }

        var stored = StoredBytes();
        Assert.False(Contains(stored, pseudonymKey));
        Assert.False(Contains(stored, tenantKey.Key));
        Assert.False(Contains(stored, learnerKey.Key));
        Assert.False(Contains(stored, MasterKey.Bytes.ToArray()));
        Assert.True(Contains(stored, learner)); // the pseudonym is the lookup key: stored as is
    }

    [Fact]
    public void Open_WrongMasterKey_ThrowsCryptographicException()
    {
        using (var store = Open())
        {
            store.EnsureTenant(Tenant);
        }

        Assert.ThrowsAny<CryptographicException>(() => Open(MasterKey.FromBytes(KeyWrapping.NewKey())));
    }

    [Fact]
    public void GetOrCreateLearnerKey_ConcurrentCallersForANewLearner_AllGetOneKey()
    {
        using var store = Open();
        store.EnsureTenant(Tenant);
        var learners = Enumerable.Range(0, 20).Select(_ => Learner()).ToList();
        var results = new DataKey[learners.Count, 8];

        Parallel.For(0, learners.Count * 8, new ParallelOptions { MaxDegreeOfParallelism = 16 }, i =>
            results[i / 8, i % 8] = store.GetOrCreateLearnerKey(Tenant, learners[i / 8]));

        var ids = new HashSet<long>();
        for (var l = 0; l < learners.Count; l++)
        {
            for (var c = 1; c < 8; c++)
            {
                Assert.Equal(results[l, 0].Id, results[l, c].Id);
                Assert.Equal(results[l, 0].Key, results[l, c].Key);
            }

            Assert.True(ids.Add(results[l, 0].Id));
        }
    }

    [Fact]
    public void DestroyLearnerKey_ExistingKey_KeyIsGoneForGoodFromStoreAndStorage()
    {
        var learner = Learner();
        DataKey key;
        byte[] wrapped;
        using (var store = Open())
        {
            key = store.GetOrCreateLearnerKey(Tenant, learner);
            wrapped = ReadWrapped(key.Id)!;
            Assert.NotNull(wrapped);

            Assert.True(store.DestroyLearnerKey(Tenant, learner));
            Assert.Null(store.GetDataKey(Tenant, key.Id));
            Assert.False(store.DestroyLearnerKey(Tenant, learner));
            var replacement = store.GetOrCreateLearnerKey(Tenant, learner);
            Assert.NotEqual(key.Id, replacement.Id);
            Assert.NotEqual(key.Key, replacement.Key);
        }

        using var reopened = Open();
        Assert.Null(reopened.GetDataKey(Tenant, key.Id));
        Assert.Null(ReadWrapped(key.Id));
        Assert.False(Contains(StoredBytes(), wrapped));
    }

    [Fact]
    public void GetDataKey_IdOfAnotherTenantsKey_ReturnsNull()
    {
        using var store = Open();
        var key = store.GetOrCreateLearnerKey(Tenant, Learner());

        Assert.Null(store.GetDataKey(Guid.NewGuid(), key.Id));
        Assert.Null(store.GetDataKey(Tenant, 987_654));
    }

    [Fact]
    public void RotateTenantKey_DataKeysUnchangedAndReadableAfterReopen()
    {
        var learner = Learner();
        DataKey learnerKey;
        DataKey afterRotation;
        DataKey tenantKey;
        byte[] pseudonymKey;
        using (var store = Open())
        {
            learnerKey = store.GetOrCreateLearnerKey(Tenant, learner);
            tenantKey = store.GetTenantDataKey(Tenant);
            pseudonymKey = store.GetPseudonymKey(Tenant);

            store.RotateTenantKey(Tenant);

            Assert.Equal(learnerKey.Key, store.GetOrCreateLearnerKey(Tenant, learner).Key);
            afterRotation = store.GetOrCreateLearnerKey(Tenant, Learner());
        }

        using var reopened = Open();
        Assert.Equal(learnerKey.Key, reopened.GetDataKey(Tenant, learnerKey.Id)!.Key);
        Assert.Equal(afterRotation.Key, reopened.GetDataKey(Tenant, afterRotation.Id)!.Key);
        Assert.Equal(tenantKey.Key, reopened.GetTenantDataKey(Tenant).Key);
        Assert.Equal(pseudonymKey, reopened.GetPseudonymKey(Tenant));
    }

    [Fact]
    public async Task RotateMasterKey_OnlyTheNewMasterKeyOpensTheStore()
    {
        await UseOwnStorageAsync();
        var learner = Learner();
        var newMaster = MasterKey.FromBytes(KeyWrapping.NewKey());
        DataKey learnerKey;
        using (var store = Open())
        {
            learnerKey = store.GetOrCreateLearnerKey(Tenant, learner);
            store.GetOrCreateLearnerKey(Guid.NewGuid(), learner);
            store.RotateMasterKey(newMaster);
            Assert.Equal(learnerKey.Key, store.GetDataKey(Tenant, learnerKey.Id)!.Key);
        }

        Assert.ThrowsAny<CryptographicException>(() => Open(MasterKey));
        using var reopened = Open(newMaster);
        Assert.Equal(learnerKey.Key, reopened.GetDataKey(Tenant, learnerKey.Id)!.Key);
    }

    [Fact]
    public void GetOrCreateLearnerKey_EmptyPseudonym_Throws()
    {
        using var store = Open();

        Assert.Throws<ArgumentException>(() => store.GetOrCreateLearnerKey(Tenant, []));
    }

    [Fact]
    public void GetAuditSigningKey_AfterReopen_IsTheSameP256KeyAndOnlyWrappedInStorage()
    {
        byte[] pkcs8;
        using (var store = Open())
        {
            pkcs8 = store.GetAuditSigningKey(Tenant);
            Assert.Equal(pkcs8, store.GetAuditSigningKey(Tenant));
        }

        using var reopened = Open();
        Assert.Equal(pkcs8, reopened.GetAuditSigningKey(Tenant));
        using var key = AccessLogSigning.ImportSigningKey(pkcs8);
        Assert.Equal(256, key.KeySize);
        Assert.NotEqual(pkcs8, reopened.GetAuditSigningKey(Guid.NewGuid()));
        Assert.False(Contains(StoredBytes(), pkcs8));
        Assert.False(Contains(StoredBytes(), key.ExportECPrivateKey()));
    }

    [Fact]
    public void GetAuditSigningKey_ConcurrentFirstUse_AllGetOneKey()
    {
        using var storeA = Open();
        using var storeB = Open();
        var results = new byte[8][];

        Parallel.For(0, results.Length, i => results[i] = (i % 2 == 0 ? storeA : storeB).GetAuditSigningKey(Tenant));

        Assert.All(results, r => Assert.Equal(results[0], r));
    }

    [Fact]
    public async Task RotateKeys_AuditSigningKeyUnchangedAfterReopen()
    {
        await UseOwnStorageAsync();
        var newMaster = MasterKey.FromBytes(KeyWrapping.NewKey());
        byte[] pkcs8;
        using (var store = Open())
        {
            pkcs8 = store.GetAuditSigningKey(Tenant);
            store.RotateTenantKey(Tenant);
            Assert.Equal(pkcs8, store.GetAuditSigningKey(Tenant));
            store.RotateMasterKey(newMaster);
            Assert.Equal(pkcs8, store.GetAuditSigningKey(Tenant));
        }

        using var reopened = Open(newMaster);
        Assert.Equal(pkcs8, reopened.GetAuditSigningKey(Tenant));
    }
}
