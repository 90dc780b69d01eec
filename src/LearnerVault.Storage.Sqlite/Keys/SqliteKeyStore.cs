using System.Collections.Concurrent;
using System.Security.Cryptography;
using Dapper;
using LearnerVault.Privacy;
using LearnerVault.Storage.Keys;
using Microsoft.Data.Sqlite;

namespace LearnerVault.Storage.Sqlite;

/// <summary>
/// The key store in its own SQLite file (<see cref="SqliteBackend.KeyStoreFileName"/>), apart from the data. Per
/// tenant: a key-encryption key (KEK) wrapped under the master key, and a pseudonym key and a tenant data key wrapped
/// under the KEK; per learner: a data key wrapped under the KEK, found by the learner's pseudonym. Rows hold only
/// wrapped keys and pseudonyms. Unwrapped keys are cached in memory (bounded), as lookups sit on the ingest path.
/// </summary>
/// <remarks>
/// The file is opened with <c>secure_delete</c>, and a destroyed or rotated key is followed by a WAL checkpoint, so
/// the wrapped bytes do not linger in the file. Copies of the key store made earlier (backups) still hold a destroyed
/// learner key until the tenant KEK or the master key they were wrapped under is rotated and retired.
/// </remarks>
public sealed class SqliteKeyStore : KeyStoreBase, IKeyAdministration, IDisposable
{
    public const int DefaultCacheCapacity = 100_000;

    private readonly SqliteConnection writeConnection;
    private readonly SqliteConnection readConnection;
    private readonly Lock writeLock = new();
    private readonly Lock readLock = new();
    private readonly ConcurrentQueue<KeyCreation> pendingCreations = new();
    private readonly TimeProvider timeProvider;
    private readonly ConcurrentDictionary<Guid, TenantKeys> tenants = new();
    private readonly DataKeyCache cache;
    private MasterKey masterKey;
    private bool disposed;

    private SqliteKeyStore(SqliteConnection writeConnection, SqliteConnection readConnection, MasterKey masterKey, TimeProvider timeProvider, int cacheCapacity)
    {
        this.writeConnection = writeConnection;
        this.readConnection = readConnection;
        this.masterKey = masterKey;
        this.timeProvider = timeProvider;
        cache = new(cacheCapacity);
    }

    /// <summary>Opens (creating and migrating) the key store file.</summary>
    /// <exception cref="CryptographicException">The master key is not the one this key store was created with.</exception>
    public static SqliteKeyStore Open(string path, MasterKey masterKey, TimeProvider timeProvider, int cacheCapacity = DefaultCacheCapacity)
    {
        ArgumentNullException.ThrowIfNull(masterKey);
        ArgumentNullException.ThrowIfNull(timeProvider);
        SqliteConnections.CreateFilePrivately(path);
        var write = SqliteConnections.Open(path, ConnectionRole.Writer, secureDelete: true);
        SqliteConnection? read = null;
        try
        {
            SchemaMigrator.Migrate(write, SchemaMigrator.KeysSet, timeProvider);
            using (var transaction = write.BeginTransaction(deferred: false))
            {
                var sealedCheck = write.ExecuteScalar<byte[]?>("SELECT sealed FROM master_key_check WHERE id = 1;", transaction: transaction);
                if (sealedCheck is null)
                {
                    write.Execute("INSERT INTO master_key_check (id, sealed) VALUES (1, @sealed);",
                        new { @sealed = KeyWrapping.SealMasterKeyCheck(masterKey) }, transaction);
                }
                else if (!KeyWrapping.VerifyMasterKeyCheck(masterKey, sealedCheck))
                {
                    throw new CryptographicException("The master key does not match this key store.");
                }

                transaction.Commit();
            }

            read = SqliteConnections.Open(path, ConnectionRole.Reader, secureDelete: true);
            return new SqliteKeyStore(write, read, masterKey, timeProvider, cacheCapacity);
        }
        catch
        {
            read?.Dispose();
            write.Dispose();
            throw;
        }
    }

    public override IReadOnlyList<DataKey> GetOrCreateLearnerKeys(Guid tenantId, IReadOnlyList<byte[]> learnerPseudonyms)
    {
        var result = new DataKey[learnerPseudonyms.Count];
        if (cache.TryGetLearners(tenantId, learnerPseudonyms, result) is not { } misses)
        {
            return result;
        }

        var epoch = cache.Epoch;
        var tenant = GetTenantKeys(tenantId);
        List<KeyCreation>? toCreate = null;
        lock (readLock)
        {
            ThrowIfDisposed();
            foreach (var i in misses)
            {
                var row = FindLearnerRow(readConnection, null, tenantId, learnerPseudonyms[i]);
                if (row is null)
                {
                    (toCreate ??= []).Add(new KeyCreation(tenantId, learnerPseudonyms[i]));
                }
                else
                {
                    result[i] = UnwrapDataKey(tenantId, tenant, row);
                    cache.Add(epoch, tenantId, result[i], learnerPseudonyms[i]);
                }
            }
        }

        if (toCreate is not null)
        {
            foreach (var creation in toCreate)
            {
                pendingCreations.Enqueue(creation);
            }

            CreatePending(toCreate);
            var created = new Dictionary<string, DataKey>(StringComparer.Ordinal);
            foreach (var creation in toCreate)
            {
                created[Convert.ToHexString(creation.Learner)] = creation.Key!;
            }

            foreach (var i in misses)
            {
                result[i] ??= created[Convert.ToHexString(learnerPseudonyms[i])];
            }
        }

        return result;
    }

    /// <summary>
    /// Flat combining: whoever takes the write lock creates every key queued so far in one transaction (one fsync),
    /// so concurrent requests from new learners share a durable write instead of queueing one fsync each.
    /// </summary>
    private void CreatePending(List<KeyCreation> mine)
    {
        lock (writeLock)
        {
            ThrowIfDisposed();
            if (mine.TrueForAll(c => c.Key is not null))
            {
                return;
            }

            var batch = new List<KeyCreation>();
            while (pendingCreations.TryDequeue(out var creation))
            {
                batch.Add(creation);
            }

            var epoch = cache.Epoch;
            var made = new Dictionary<(Guid, string), DataKey>();
            using (var transaction = writeConnection.BeginTransaction(deferred: false))
            {
                foreach (var creation in batch)
                {
                    var learnerHex = Convert.ToHexString(creation.Learner);
                    if (made.TryGetValue((creation.Tenant, learnerHex), out var already))
                    {
                        creation.Pending = already;
                        continue;
                    }

                    var tenant = GetTenantKeys(creation.Tenant);
                    // Checked again inside the write transaction: of two callers racing for a new learner, the
                    // second finds the first one's key.
                    var row = FindLearnerRow(writeConnection, transaction, creation.Tenant, creation.Learner);
                    DataKey key;
                    if (row is not null)
                    {
                        key = UnwrapDataKey(creation.Tenant, tenant, row);
                    }
                    else
                    {
                        var raw = KeyWrapping.NewKey();
                        var id = InsertWrapped(transaction, creation.Tenant, KeyPurpose.LearnerData, creation.Learner, tenant.KekId, tenant.Kek, raw);
                        key = new DataKey(id, raw);
                    }

                    made[(creation.Tenant, learnerHex)] = key;
                    creation.Pending = key;
                }

                transaction.Commit();
            }

            // Published only after the commit: no statement is encrypted under a key that is not yet durable.
            foreach (var creation in batch)
            {
                creation.Key = creation.Pending;
                cache.Add(epoch, creation.Tenant, creation.Key!, creation.Learner);
            }

            if (!mine.TrueForAll(c => c.Key is not null))
            {
                // Another caller took these requests into a transaction that failed.
                throw new CryptographicException("The key store could not create a learner key.");
            }
        }
    }

    private sealed class KeyCreation(Guid tenant, byte[] learner)
    {
        public Guid Tenant { get; } = tenant;

        public byte[] Learner { get; } = learner;

        public DataKey? Pending { get; set; }

        public DataKey? Key { get; set; }
    }

    public override DataKey? GetDataKey(Guid tenantId, long keyId)
    {
        if (cache.TryGet(tenantId, keyId, out var cached))
        {
            return cached;
        }

        var epoch = cache.Epoch;
        StoredKey? row;
        lock (readLock)
        {
            ThrowIfDisposed();
            row = readConnection.QuerySingleOrDefault<StoredKey>("""
                SELECT id AS Id, purpose AS Purpose, learner AS Learner, wrapping_key_id AS WrappingKeyId, wrapped AS Wrapped
                FROM keys WHERE id = @keyId AND tenant_id = @tenantId AND purpose IN (2, 3);
                """, new { keyId, tenantId = SqliteValues.GuidBytes(tenantId) });
        }

        if (row is null)
        {
            return null;
        }

        var key = UnwrapDataKey(tenantId, GetTenantKeys(tenantId), row);
        cache.Add(epoch, tenantId, key, row.Learner);
        return key;
    }

    public bool DestroyLearnerKey(Guid tenantId, ReadOnlySpan<byte> learnerPseudonym)
    {
        var learner = learnerPseudonym.ToArray();
        long? destroyed;
        lock (writeLock)
        {
            ThrowIfDisposed();
            destroyed = writeConnection.ExecuteScalar<long?>(
                "DELETE FROM keys WHERE tenant_id = @tenantId AND learner = @learner AND purpose = 3 RETURNING id;",
                new { tenantId = SqliteValues.GuidBytes(tenantId), learner });
            if (destroyed is not null)
            {
                Checkpoint();
            }
        }

        if (destroyed is not { } id)
        {
            return false;
        }

        cache.Forget(tenantId, id, learner);
        return true;
    }

    public void RotateTenantKey(Guid tenantId)
    {
        GetTenantKeys(tenantId);
        lock (writeLock)
        {
            ThrowIfDisposed();
            using var transaction = writeConnection.BeginTransaction(deferred: false);
            var rows = TenantRows(writeConnection, transaction, tenantId, includeLearners: true);
            var oldKekRow = rows.Single(r => r.Purpose == (long)KeyPurpose.KeyEncryption);
            var oldKek = KeyRing.UnwrapKek(masterKey, tenantId, oldKekRow);
            try
            {
                // The old KEK steps aside so the new one can take the tenant's single KEK slot.
                writeConnection.Execute("UPDATE keys SET purpose = @retiring WHERE id = @id;", new { retiring = KeyRing.RetiringKek, id = oldKekRow.Id }, transaction);
                var newKek = KeyWrapping.NewKey();
                var newKekId = InsertWrapped(transaction, tenantId, KeyPurpose.KeyEncryption, null, null, masterKey.Bytes, newKek);
                var (updates, tenantKeys) = KeyRing.RewrapUnderNewKek(tenantId, rows, oldKekRow.Id, oldKek, newKekId, newKek);
                foreach (var (id, rewrapped) in updates)
                {
                    writeConnection.Execute("UPDATE keys SET wrapped = @rewrapped, wrapping_key_id = @newKekId WHERE id = @id;",
                        new { rewrapped, newKekId, id }, transaction);
                }

                writeConnection.Execute("DELETE FROM keys WHERE id = @id;", new { id = oldKekRow.Id }, transaction);
                transaction.Commit();
                tenants[tenantId] = tenantKeys;
            }
            finally
            {
                CryptographicOperations.ZeroMemory(oldKek);
            }

            Checkpoint();
        }
    }

    public void RotateMasterKey(MasterKey newMasterKey)
    {
        ArgumentNullException.ThrowIfNull(newMasterKey);
        lock (writeLock)
        {
            ThrowIfDisposed();
            using var transaction = writeConnection.BeginTransaction(deferred: false);
            var keks = writeConnection.Query<KekRow>("""
                SELECT id AS Id, tenant_id AS TenantId, purpose AS Purpose, learner AS Learner, wrapping_key_id AS WrappingKeyId, wrapped AS Wrapped
                FROM keys WHERE wrapping_key_id IS NULL;
                """, transaction: transaction).ToList();
            foreach (var row in keks)
            {
                var rewrapped = KeyRing.RewrapKek(masterKey, newMasterKey, SqliteValues.ToGuid(row.TenantId), row);
                writeConnection.Execute("UPDATE keys SET wrapped = @rewrapped WHERE id = @id;", new { rewrapped, id = row.Id }, transaction);
            }

            writeConnection.Execute("UPDATE master_key_check SET sealed = @sealed WHERE id = 1;",
                new { @sealed = KeyWrapping.SealMasterKeyCheck(newMasterKey) }, transaction);
            transaction.Commit();
            masterKey = newMasterKey;
            Checkpoint();
        }
    }

    internal override TenantKeys GetTenantKeys(Guid tenantId)
    {
        if (tenants.TryGetValue(tenantId, out var cached))
        {
            return cached;
        }

        List<StoredKey> rows;
        lock (readLock)
        {
            ThrowIfDisposed();
            rows = TenantRows(readConnection, null, tenantId);
        }

        var keys = TryUnwrapTenant(tenantId, rows);
        if (keys is null)
        {
            lock (writeLock)
            {
                ThrowIfDisposed();
                using var transaction = writeConnection.BeginTransaction(deferred: false);
                rows = TenantRows(transaction, tenantId);
                keys = TryUnwrapTenant(tenantId, rows) ?? CreateTenantKeys(transaction, tenantId, rows);
                transaction.Commit();
            }
        }

        return tenants.GetOrAdd(tenantId, keys);
    }

    private TenantKeys? TryUnwrapTenant(Guid tenantId, List<StoredKey> rows) => KeyRing.TryUnwrapTenant(masterKey, tenantId, rows);

    private TenantKeys CreateTenantKeys(SqliteTransaction transaction, Guid tenantId, List<StoredKey> rows)
    {
        var kekRow = rows.Find(r => r.Purpose == (long)KeyPurpose.KeyEncryption);
        long kekId;
        byte[] kek;
        if (kekRow is null)
        {
            kek = KeyWrapping.NewKey();
            kekId = InsertWrapped(transaction, tenantId, KeyPurpose.KeyEncryption, null, null, masterKey.Bytes, kek);
        }
        else
        {
            kekId = kekRow.Id;
            kek = KeyRing.UnwrapKek(masterKey, tenantId, kekRow);
        }

        (long Id, byte[] Key) Singleton(KeyPurpose purpose)
        {
            if (rows.Find(r => r.Purpose == (long)purpose) is { } row)
            {
                return (row.Id, KeyWrapping.Unwrap(kek, row.Wrapped, tenantId, row.Id, purpose));
            }

            var key = KeyRing.NewTenantKey(purpose);
            return (InsertWrapped(transaction, tenantId, purpose, null, kekId, kek, key), key);
        }

        var pseudonym = Singleton(KeyPurpose.Pseudonym);
        var data = Singleton(KeyPurpose.TenantData);
        var audit = Singleton(KeyPurpose.AuditSigning);
        return new TenantKeys(kekId, kek, pseudonym.Key, new DataKey(data.Id, data.Key), audit.Key);
    }

    /// <summary>Inserts a key; its wrapping binds the id that the insert assigns, so the row is written in two steps
    /// inside the caller's transaction.</summary>
    private long InsertWrapped(SqliteTransaction transaction, Guid tenantId, KeyPurpose purpose, byte[]? learner, long? wrappingKeyId, ReadOnlySpan<byte> wrappingKey, byte[] key)
    {
        var id = writeConnection.ExecuteScalar<long>("""
            INSERT INTO keys (tenant_id, purpose, learner, wrapping_key_id, wrapped, created)
            VALUES (@tenantId, @purpose, @learner, @wrappingKeyId, x'', @created)
            RETURNING id;
            """, new
        {
            tenantId = SqliteValues.GuidBytes(tenantId),
            purpose = (long)purpose,
            learner,
            wrappingKeyId,
            created = SqliteValues.ToUnixMicroseconds(timeProvider.GetUtcNow()),
        }, transaction);
        var wrapped = KeyWrapping.Wrap(wrappingKey, key, tenantId, id, purpose, learner);
        writeConnection.Execute("UPDATE keys SET wrapped = @wrapped WHERE id = @id;", new { wrapped, id }, transaction);
        return id;
    }

    private DataKey UnwrapDataKey(Guid tenantId, TenantKeys tenant, StoredKey row)
    {
        if (row.WrappingKeyId != tenant.KekId)
        {
            // The KEK was rotated since the tenant's keys were cached: reload them.
            tenants.TryRemove(tenantId, out _);
            tenant = GetTenantKeys(tenantId);
        }

        return KeyRing.UnwrapDataKey(tenant, tenantId, row);
    }

    private static StoredKey? FindLearnerRow(SqliteConnection connection, SqliteTransaction? transaction, Guid tenantId, byte[] learner) =>
        connection.QuerySingleOrDefault<StoredKey>("""
            SELECT id AS Id, purpose AS Purpose, learner AS Learner, wrapping_key_id AS WrappingKeyId, wrapped AS Wrapped
            FROM keys WHERE tenant_id = @tenantId AND learner = @learner AND purpose = 3;
            """, new { tenantId = SqliteValues.GuidBytes(tenantId), learner }, transaction);

    private List<StoredKey> TenantRows(SqliteTransaction transaction, Guid tenantId) => TenantRows(writeConnection, transaction, tenantId);

    /// <summary>The tenant's KEK, pseudonym key, tenant data key and audit signing key rows; with <paramref name="includeLearners"/>, its learner keys too.</summary>
    private static List<StoredKey> TenantRows(SqliteConnection connection, SqliteTransaction? transaction, Guid tenantId, bool includeLearners = false) =>
        connection.Query<StoredKey>($"""
            SELECT id AS Id, purpose AS Purpose, learner AS Learner, wrapping_key_id AS WrappingKeyId, wrapped AS Wrapped
            FROM keys WHERE tenant_id = @tenantId AND (purpose IN ({KeyRing.TenantPurposes}) OR (@includeLearners AND purpose = 3));
            """, new { tenantId = SqliteValues.GuidBytes(tenantId), includeLearners }, transaction).ToList();

    /// <summary>Folds the WAL into the file and truncates it, so destroyed or superseded wrapped keys are overwritten
    /// (secure_delete) rather than left in old WAL frames.</summary>
    private void Checkpoint()
    {
        try
        {
            SqliteConnections.Execute(writeConnection, "PRAGMA wal_checkpoint(TRUNCATE);");
        }
        catch (SqliteException)
        {
            // A busy reader can delay the checkpoint; the next one completes it.
        }
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(disposed, this);

    public void Dispose()
    {
        lock (writeLock)
        {
            lock (readLock)
            {
                if (disposed)
                {
                    return;
                }

                disposed = true;
                SqliteConnections.Close(readConnection);
                Checkpoint();
                SqliteConnections.Close(writeConnection);
            }
        }
    }

    private sealed class KekRow : StoredKey
    {
        public byte[] TenantId { get; set; } = [];
    }
}
