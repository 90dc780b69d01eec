using System.Security.Cryptography;
using LearnerVault.Privacy;
using LearnerVault.Storage.Sqlite;
using Microsoft.Data.Sqlite;

namespace LearnerVault.Storage.Tests;

public sealed class SqliteKeyStoreTests : IDisposable
{
    private readonly TempFolder folder = new();
    private readonly MasterKey masterKey = MasterKey.FromBytes(KeyWrapping.NewKey());
    private readonly ManualTimeProvider time = new(new DateTimeOffset(2026, 3, 1, 8, 0, 0, TimeSpan.Zero));
    private readonly Guid tenant = Guid.NewGuid();

    private string KeyFile => Path.Combine(folder.Path, SqliteBackend.KeyStoreFileName);

    public void Dispose() => folder.Dispose();

    private SqliteKeyStore Open(MasterKey? key = null) => SqliteKeyStore.Open(KeyFile, key ?? masterKey, time);

    private static byte[] Learner() => RandomNumberGenerator.GetBytes(32);

    private byte[] FileBytes()
    {
        // Read through the file system, as a thief with a copy would.
        return File.ReadAllBytes(KeyFile);
    }

    private static bool Contains(byte[] haystack, byte[] needle) => haystack.AsSpan().IndexOf(needle) >= 0;

    [Fact]
    public void TenantKeys_AfterReopen_AreTheSame()
    {
        byte[] pseudonymKey;
        DataKey tenantKey;
        using (var store = Open())
        {
            store.EnsureTenant(tenant);
            pseudonymKey = store.GetPseudonymKey(tenant);
            tenantKey = store.GetTenantDataKey(tenant);
        }

        using var reopened = Open();
        Assert.Equal(pseudonymKey, reopened.GetPseudonymKey(tenant));
        Assert.Equal(tenantKey.Id, reopened.GetTenantDataKey(tenant).Id);
        Assert.Equal(tenantKey.Key, reopened.GetTenantDataKey(tenant).Key);
        Assert.Equal(tenantKey.Key, reopened.GetDataKey(tenant, tenantKey.Id)!.Key);
        Assert.Equal(KeyWrapping.KeySize, pseudonymKey.Length);
        Assert.NotEqual(pseudonymKey, tenantKey.Key);
    }

    [Fact]
    public void Tenants_GetDifferentKeys()
    {
        using var store = Open();
        var other = Guid.NewGuid();

        Assert.NotEqual(store.GetPseudonymKey(tenant), store.GetPseudonymKey(other));
        Assert.NotEqual(store.GetTenantDataKey(tenant).Key, store.GetTenantDataKey(other).Key);
    }

    [Fact]
    public void GetOrCreateLearnerKey_ThenGetDataKeyAfterReopen_ReturnsTheSameKey()
    {
        var learner = Learner();
        DataKey created;
        using (var store = Open())
        {
            created = store.GetOrCreateLearnerKey(tenant, learner);
            Assert.Equal(created.Key, store.GetOrCreateLearnerKey(tenant, learner).Key);
        }

        using var reopened = Open();
        Assert.Equal(created.Key, reopened.GetDataKey(tenant, created.Id)!.Key);
        Assert.Equal(created.Id, reopened.GetOrCreateLearnerKey(tenant, learner).Id);
        Assert.NotEqual(created.Id, reopened.GetOrCreateLearnerKey(tenant, Learner()).Id);
    }

    [Fact]
    public void KeyStoreFile_HoldsOnlyWrappedKeys()
    {
        var learner = Learner();
        byte[] pseudonymKey;
        DataKey tenantKey;
        DataKey learnerKey;
        using (var store = Open())
        {
            pseudonymKey = store.GetPseudonymKey(tenant);
            tenantKey = store.GetTenantDataKey(tenant);
            learnerKey = store.GetOrCreateLearnerKey(tenant, learner);
        }

        var file = FileBytes();
        Assert.False(Contains(file, pseudonymKey));
        Assert.False(Contains(file, tenantKey.Key));
        Assert.False(Contains(file, learnerKey.Key));
        Assert.False(Contains(file, masterKey.Bytes.ToArray()));
        Assert.True(Contains(file, learner)); // the pseudonym is the lookup key: stored as is
    }

    [Fact]
    public void Open_WrongMasterKey_ThrowsCryptographicException()
    {
        using (var store = Open())
        {
            store.EnsureTenant(tenant);
        }

        Assert.ThrowsAny<CryptographicException>(() => Open(MasterKey.FromBytes(KeyWrapping.NewKey())));
    }

    [Fact]
    public void GetOrCreateLearnerKey_ConcurrentCallersForANewLearner_AllGetOneKey()
    {
        using var store = Open();
        store.EnsureTenant(tenant);
        var learners = Enumerable.Range(0, 20).Select(_ => Learner()).ToList();
        var results = new DataKey[learners.Count, 8];

        Parallel.For(0, learners.Count * 8, new ParallelOptions { MaxDegreeOfParallelism = 16 }, i =>
            results[i / 8, i % 8] = store.GetOrCreateLearnerKey(tenant, learners[i / 8]));

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
    public void DestroyLearnerKey_ExistingKey_KeyIsGoneForGoodFromStoreAndFile()
    {
        var learner = Learner();
        DataKey key;
        byte[] wrapped;
        using (var store = Open())
        {
            key = store.GetOrCreateLearnerKey(tenant, learner);
            using (var connection = new SqliteConnection($"Data Source={KeyFile};Pooling=False;Mode=ReadOnly"))
            {
                connection.Open();
                using var command = connection.CreateCommand();
                command.CommandText = "SELECT wrapped FROM keys WHERE id = $id;";
                command.Parameters.AddWithValue("$id", key.Id);
                wrapped = (byte[])command.ExecuteScalar()!;
            }

            Assert.True(store.DestroyLearnerKey(tenant, learner));
            Assert.Null(store.GetDataKey(tenant, key.Id));
            Assert.False(store.DestroyLearnerKey(tenant, learner));
            var replacement = store.GetOrCreateLearnerKey(tenant, learner);
            Assert.NotEqual(key.Id, replacement.Id);
            Assert.NotEqual(key.Key, replacement.Key);
        }

        using var reopened = Open();
        Assert.Null(reopened.GetDataKey(tenant, key.Id));
        Assert.False(Contains(FileBytes(), wrapped));
    }

    [Fact]
    public void GetDataKey_IdOfAnotherTenantsKey_ReturnsNull()
    {
        using var store = Open();
        var key = store.GetOrCreateLearnerKey(tenant, Learner());

        Assert.Null(store.GetDataKey(Guid.NewGuid(), key.Id));
        Assert.Null(store.GetDataKey(tenant, 987_654));
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
            learnerKey = store.GetOrCreateLearnerKey(tenant, learner);
            tenantKey = store.GetTenantDataKey(tenant);
            pseudonymKey = store.GetPseudonymKey(tenant);

            store.RotateTenantKey(tenant);

            Assert.Equal(learnerKey.Key, store.GetOrCreateLearnerKey(tenant, learner).Key);
            afterRotation = store.GetOrCreateLearnerKey(tenant, Learner());
        }

        using var reopened = Open();
        Assert.Equal(learnerKey.Key, reopened.GetDataKey(tenant, learnerKey.Id)!.Key);
        Assert.Equal(afterRotation.Key, reopened.GetDataKey(tenant, afterRotation.Id)!.Key);
        Assert.Equal(tenantKey.Key, reopened.GetTenantDataKey(tenant).Key);
        Assert.Equal(pseudonymKey, reopened.GetPseudonymKey(tenant));
    }

    [Fact]
    public void RotateMasterKey_OnlyTheNewMasterKeyOpensTheStore()
    {
        var learner = Learner();
        var newMaster = MasterKey.FromBytes(KeyWrapping.NewKey());
        DataKey learnerKey;
        using (var store = Open())
        {
            learnerKey = store.GetOrCreateLearnerKey(tenant, learner);
            store.GetOrCreateLearnerKey(Guid.NewGuid(), learner);
            store.RotateMasterKey(newMaster);
            Assert.Equal(learnerKey.Key, store.GetDataKey(tenant, learnerKey.Id)!.Key);
        }

        Assert.ThrowsAny<CryptographicException>(() => Open(masterKey));
        using var reopened = Open(newMaster);
        Assert.Equal(learnerKey.Key, reopened.GetDataKey(tenant, learnerKey.Id)!.Key);
    }

    [Fact]
    public void GetOrCreateLearnerKey_EmptyPseudonym_Throws()
    {
        using var store = Open();

        Assert.Throws<ArgumentException>(() => store.GetOrCreateLearnerKey(tenant, []));
    }
}
