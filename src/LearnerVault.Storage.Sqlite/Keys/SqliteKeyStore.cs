using System.Collections.Concurrent;
using System.Security.Cryptography;
using Dapper;
using LearnerVault.Privacy;
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
public sealed class SqliteKeyStore : IKeyStore, IKeyAdministration, IDisposable
{
    public const int DefaultCacheCapacity = 100_000;

    private readonly SqliteConnection writeConnection;
    private readonly SqliteConnection readConnection;
    private readonly Lock writeLock = new();
    private readonly Lock readLock = new();
    private readonly Lock cacheLock = new();
    private readonly ConcurrentQueue<KeyCreation> pendingCreations = new();
    private readonly TimeProvider timeProvider;
    private readonly ConcurrentDictionary<Guid, TenantKeys> tenants = new();
    private readonly KeyCache<(Guid Tenant, long Id), DataKey> keysById;
    private readonly KeyCache<(Guid Tenant, string Learner), DataKey> keysByLearner;
    private MasterKey masterKey;

    // Bumped under cacheLock whenever a key is destroyed, so a lookup that raced with the destruction never caches it.
    private long destroyEpoch;
    private bool disposed;

    private SqliteKeyStore(SqliteConnection writeConnection, SqliteConnection readConnection, MasterKey masterKey, TimeProvider timeProvider, int cacheCapacity)
    {
        this.writeConnection = writeConnection;
        this.readConnection = readConnection;
        this.masterKey = masterKey;
        this.timeProvider = timeProvider;
        keysById = new(cacheCapacity);
        keysByLearner = new(cacheCapacity);
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

    public void EnsureTenant(Guid tenantId) => GetTenant(tenantId);

    /// <remarks>Creates the tenant's keys if needed.</remarks>
    public byte[] GetPseudonymKey(Guid tenantId) => GetTenant(tenantId).PseudonymKey;

    /// <remarks>Creates the tenant's keys if needed.</remarks>
    public DataKey GetTenantDataKey(Guid tenantId) => GetTenant(tenantId).TenantDataKey;

    public DataKey GetOrCreateLearnerKey(Guid tenantId, ReadOnlySpan<byte> learnerPseudonym)
    {
        if (learnerPseudonym.IsEmpty)
        {
            throw new ArgumentException("A learner pseudonym is required.", nameof(learnerPseudonym));
        }

        return GetOrCreateLearnerKeys(tenantId, [learnerPseudonym.ToArray()])[0];
    }

    public IReadOnlyList<DataKey> GetOrCreateLearnerKeys(Guid tenantId, IReadOnlyList<byte[]> learnerPseudonyms)
    {
        var result = new DataKey[learnerPseudonyms.Count];
        List<int>? misses = null;
        for (var i = 0; i < result.Length; i++)
        {
            if (learnerPseudonyms[i] is not { Length: > 0 } learner)
            {
                throw new ArgumentException("A learner pseudonym is required.", nameof(learnerPseudonyms));
            }

            if (keysByLearner.TryGet((tenantId, Convert.ToHexString(learner)), out var cached))
            {
                result[i] = cached;
            }
            else
            {
                (misses ??= []).Add(i);
            }
        }

        if (misses is null)
        {
            return result;
        }

        var epoch = Volatile.Read(ref destroyEpoch);
        var tenant = GetTenant(tenantId);
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
                    Cache(epoch, tenantId, result[i], (tenantId, Convert.ToHexString(learnerPseudonyms[i])));
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

            var epoch = Volatile.Read(ref destroyEpoch);
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

                    var tenant = GetTenant(creation.Tenant);
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
                Cache(epoch, creation.Tenant, creation.Key!, (creation.Tenant, Convert.ToHexString(creation.Learner)));
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

    public DataKey? GetDataKey(Guid tenantId, long keyId)
    {
        if (keysById.TryGet((tenantId, keyId), out var cached))
        {
            return cached;
        }

        var epoch = Volatile.Read(ref destroyEpoch);
        KeyRow? row;
        lock (readLock)
        {
            ThrowIfDisposed();
            row = readConnection.QuerySingleOrDefault<KeyRow>("""
                SELECT id AS Id, purpose AS Purpose, learner AS Learner, wrapping_key_id AS WrappingKeyId, wrapped AS Wrapped
                FROM keys WHERE id = @keyId AND tenant_id = @tenantId AND purpose IN (2, 3);
                """, new { keyId, tenantId = SqliteValues.GuidBytes(tenantId) });
        }

        if (row is null)
        {
            return null;
        }

        var key = UnwrapDataKey(tenantId, GetTenant(tenantId), row);
        Cache(epoch, tenantId, key, row.Learner is { } learner ? (tenantId, Convert.ToHexString(learner)) : null);
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

        lock (cacheLock)
        {
            destroyEpoch++;
            keysById.Remove((tenantId, id));
            keysByLearner.Remove((tenantId, Convert.ToHexString(learner)));
        }

        return true;
    }

    public void RotateTenantKey(Guid tenantId)
    {
        GetTenant(tenantId);
        lock (writeLock)
        {
            ThrowIfDisposed();
            using var transaction = writeConnection.BeginTransaction(deferred: false);
            var rows = TenantRows(writeConnection, transaction, tenantId, includeLearners: true);
            var oldKekRow = rows.Single(r => r.Purpose == (long)KeyPurpose.KeyEncryption);
            var oldKek = KeyWrapping.Unwrap(masterKey.Bytes, oldKekRow.Wrapped, tenantId, oldKekRow.Id, KeyPurpose.KeyEncryption);
            try
            {
                // The old KEK steps aside (purpose 4) so the new one can take the tenant's single KEK slot.
                writeConnection.Execute("UPDATE keys SET purpose = 4 WHERE id = @id;", new { id = oldKekRow.Id }, transaction);
                var newKek = KeyWrapping.NewKey();
                var newKekId = InsertWrapped(transaction, tenantId, KeyPurpose.KeyEncryption, null, null, masterKey.Bytes, newKek);
                byte[]? pseudonymKey = null;
                DataKey? tenantDataKey = null;
                foreach (var row in rows.Where(r => r.WrappingKeyId == oldKekRow.Id))
                {
                    var purpose = (KeyPurpose)row.Purpose;
                    var raw = KeyWrapping.Unwrap(oldKek, row.Wrapped, tenantId, row.Id, purpose, row.Learner);
                    var rewrapped = KeyWrapping.Wrap(newKek, raw, tenantId, row.Id, purpose, row.Learner);
                    writeConnection.Execute("UPDATE keys SET wrapped = @rewrapped, wrapping_key_id = @newKekId WHERE id = @id;",
                        new { rewrapped, newKekId, id = row.Id }, transaction);
                    if (purpose == KeyPurpose.Pseudonym)
                    {
                        pseudonymKey = raw;
                    }
                    else if (purpose == KeyPurpose.TenantData)
                    {
                        tenantDataKey = new DataKey(row.Id, raw);
                    }
                    else
                    {
                        CryptographicOperations.ZeroMemory(raw);
                    }
                }

                writeConnection.Execute("DELETE FROM keys WHERE id = @id;", new { id = oldKekRow.Id }, transaction);
                transaction.Commit();
                tenants[tenantId] = new TenantKeys(
                    newKekId,
                    newKek,
                    pseudonymKey ?? throw new InvalidOperationException("The tenant has no pseudonym key."),
                    tenantDataKey ?? throw new InvalidOperationException("The tenant has no data key."));
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
            var keks = writeConnection.Query<KeyRow>("""
                SELECT id AS Id, tenant_id AS TenantId, purpose AS Purpose, learner AS Learner, wrapping_key_id AS WrappingKeyId, wrapped AS Wrapped
                FROM keys WHERE wrapping_key_id IS NULL;
                """, transaction: transaction).ToList();
            foreach (var row in keks)
            {
                var tenantId = SqliteValues.ToGuid(row.TenantId);
                var kek = KeyWrapping.Unwrap(masterKey.Bytes, row.Wrapped, tenantId, row.Id, KeyPurpose.KeyEncryption);
                var rewrapped = KeyWrapping.Wrap(newMasterKey.Bytes, kek, tenantId, row.Id, KeyPurpose.KeyEncryption);
                CryptographicOperations.ZeroMemory(kek);
                writeConnection.Execute("UPDATE keys SET wrapped = @rewrapped WHERE id = @id;", new { rewrapped, id = row.Id }, transaction);
            }

            writeConnection.Execute("UPDATE master_key_check SET sealed = @sealed WHERE id = 1;",
                new { @sealed = KeyWrapping.SealMasterKeyCheck(newMasterKey) }, transaction);
            transaction.Commit();
            masterKey = newMasterKey;
            Checkpoint();
        }
    }

    private TenantKeys GetTenant(Guid tenantId)
    {
        if (tenants.TryGetValue(tenantId, out var cached))
        {
            return cached;
        }

        List<KeyRow> rows;
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

    private TenantKeys? TryUnwrapTenant(Guid tenantId, List<KeyRow> rows)
    {
        var kekRow = rows.Find(r => r.Purpose == (long)KeyPurpose.KeyEncryption);
        var pseudonymRow = rows.Find(r => r.Purpose == (long)KeyPurpose.Pseudonym);
        var dataRow = rows.Find(r => r.Purpose == (long)KeyPurpose.TenantData);
        if (kekRow is null || pseudonymRow is null || dataRow is null)
        {
            return null;
        }

        var kek = KeyWrapping.Unwrap(masterKey.Bytes, kekRow.Wrapped, tenantId, kekRow.Id, KeyPurpose.KeyEncryption);
        var pseudonymKey = KeyWrapping.Unwrap(kek, pseudonymRow.Wrapped, tenantId, pseudonymRow.Id, KeyPurpose.Pseudonym);
        var dataKey = KeyWrapping.Unwrap(kek, dataRow.Wrapped, tenantId, dataRow.Id, KeyPurpose.TenantData);
        return new TenantKeys(kekRow.Id, kek, pseudonymKey, new DataKey(dataRow.Id, dataKey));
    }

    private TenantKeys CreateTenantKeys(SqliteTransaction transaction, Guid tenantId, List<KeyRow> rows)
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
            kek = KeyWrapping.Unwrap(masterKey.Bytes, kekRow.Wrapped, tenantId, kekRow.Id, KeyPurpose.KeyEncryption);
        }

        (long Id, byte[] Key) Singleton(KeyPurpose purpose)
        {
            if (rows.Find(r => r.Purpose == (long)purpose) is { } row)
            {
                return (row.Id, KeyWrapping.Unwrap(kek, row.Wrapped, tenantId, row.Id, purpose));
            }

            var key = KeyWrapping.NewKey();
            return (InsertWrapped(transaction, tenantId, purpose, null, kekId, kek, key), key);
        }

        var pseudonym = Singleton(KeyPurpose.Pseudonym);
        var data = Singleton(KeyPurpose.TenantData);
        return new TenantKeys(kekId, kek, pseudonym.Key, new DataKey(data.Id, data.Key));
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

    private DataKey UnwrapDataKey(Guid tenantId, TenantKeys tenant, KeyRow row)
    {
        if (row.WrappingKeyId != tenant.KekId)
        {
            // The KEK was rotated since the tenant's keys were cached: reload them.
            tenants.TryRemove(tenantId, out _);
            tenant = GetTenant(tenantId);
        }

        var purpose = (KeyPurpose)row.Purpose;
        return new DataKey(row.Id, KeyWrapping.Unwrap(tenant.Kek, row.Wrapped, tenantId, row.Id, purpose, row.Learner));
    }

    private void Cache(long epoch, Guid tenantId, DataKey key, (Guid, string)? learnerCacheKey)
    {
        lock (cacheLock)
        {
            if (destroyEpoch != epoch)
            {
                return;
            }

            keysById.Set((tenantId, key.Id), key);
            if (learnerCacheKey is { } learnerKey)
            {
                keysByLearner.Set(learnerKey, key);
            }
        }
    }

    private static KeyRow? FindLearnerRow(SqliteConnection connection, SqliteTransaction? transaction, Guid tenantId, byte[] learner) =>
        connection.QuerySingleOrDefault<KeyRow>("""
            SELECT id AS Id, purpose AS Purpose, learner AS Learner, wrapping_key_id AS WrappingKeyId, wrapped AS Wrapped
            FROM keys WHERE tenant_id = @tenantId AND learner = @learner AND purpose = 3;
            """, new { tenantId = SqliteValues.GuidBytes(tenantId), learner }, transaction);

    private List<KeyRow> TenantRows(SqliteTransaction transaction, Guid tenantId) => TenantRows(writeConnection, transaction, tenantId);

    /// <summary>The tenant's KEK, pseudonym key and tenant data key rows; with <paramref name="includeLearners"/>, its learner keys too.</summary>
    private static List<KeyRow> TenantRows(SqliteConnection connection, SqliteTransaction? transaction, Guid tenantId, bool includeLearners = false) =>
        connection.Query<KeyRow>("""
            SELECT id AS Id, purpose AS Purpose, learner AS Learner, wrapping_key_id AS WrappingKeyId, wrapped AS Wrapped
            FROM keys WHERE tenant_id = @tenantId AND (purpose IN (0, 1, 2) OR (@includeLearners AND purpose = 3));
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

    private sealed record TenantKeys(long KekId, byte[] Kek, byte[] PseudonymKey, DataKey TenantDataKey);

    private sealed class KeyRow
    {
        public long Id { get; set; }
        public byte[] TenantId { get; set; } = [];
        public long Purpose { get; set; }
        public byte[]? Learner { get; set; }
        public long? WrappingKeyId { get; set; }
        public byte[] Wrapped { get; set; } = [];
    }
}
