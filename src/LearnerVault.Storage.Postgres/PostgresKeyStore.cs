using System.Collections.Concurrent;
using System.Security.Cryptography;
using LearnerVault.Privacy;
using LearnerVault.Storage.Keys;
using Npgsql;
using NpgsqlTypes;

namespace LearnerVault.Storage.Postgres;

/// <summary>
/// The key store in its own PostgreSQL schema (<see cref="PostgresStoreOptions.KeySchema"/>), apart from the data, with
/// the behaviour of the SQLite key store: per tenant, a key-encryption key (KEK) wrapped under the master key, and a
/// pseudonym key and a tenant data key wrapped under the KEK; per learner, a data key wrapped under the KEK, found by the
/// learner's pseudonym. Rows hold only wrapped keys and pseudonyms. Unwrapped keys are cached in memory (bounded).
/// </summary>
/// <remarks>
/// <para>Several server processes share the store, so every invariant is the database's: keys are created with
/// <c>INSERT … ON CONFLICT DO NOTHING</c> and read back, so two processes creating the same learner's (or tenant's) keys
/// at once both end up with the one that was committed first. A key is written complete in one statement (its id is
/// drawn from the sequence first, because its wrapping binds the id), so no process ever sees a half-written key, and a
/// key is handed out only once its insert has committed.</para>
/// <para>Cache staleness across processes: a key destroyed here is dropped from this process's cache at once, but
/// another process may still hold it for up to the cache lifetime (<see cref="DefaultCacheLifetime"/>), and in that
/// window may decrypt with it or encrypt that learner's new statements under it. The tenant keys are cached for good:
/// they never change (a KEK rotation re-wraps them), and a KEK rotated by another process is noticed when a row
/// wrapped under the new one is read, or when an insert under the old one fails its foreign key.</para>
/// <para>No flat combining as in SQLite: each call writes its own statement, and PostgreSQL's group commit shares the
/// WAL flushes. No <c>secure_delete</c> either: a deleted row's bytes stay in the table's pages until vacuum reuses
/// them, and in WAL archives and base backups until those expire; like the SQLite store's backups, they stay readable
/// only while the KEK and master key they were wrapped under are in use, so erase for good by rotating both and
/// retiring the old master key.</para>
/// <para>A master key rotated by another process leaves this one's master key stale: it fails (with a
/// <see cref="CryptographicException"/>) whenever it needs the master key, until restarted with the new one.</para>
/// </remarks>
internal sealed class PostgresKeyStore : KeyStoreBase, IKeyAdministration, IDisposable
{
    public const int DefaultCacheCapacity = 100_000;

    /// <summary>How long another process may go on handing out a key destroyed by this one.</summary>
    public static readonly TimeSpan DefaultCacheLifetime = TimeSpan.FromMinutes(1);

    private const int Attempts = 3;
    private const string Columns = "id, purpose, learner, wrapping_key_id, wrapped";
    private const string SelectSealedForShare = "SELECT sealed FROM master_key_check WHERE tenant_id = @store FOR SHARE;";
    private const string SelectSealedForUpdate = "SELECT sealed FROM master_key_check WHERE tenant_id = @store FOR UPDATE;";

    /// <summary>The master-key check row's tenant id: the store itself.</summary>
    private static readonly Guid StoreRow = Guid.Empty;

    private readonly NpgsqlDataSource dataSource;
    private readonly TimeProvider time;
    private readonly ConcurrentDictionary<Guid, TenantKeys> tenants = new();
    private readonly DataKeyCache cache;
    private readonly Lock masterLock = new();
    private volatile MasterState master;
    private volatile bool disposed;

    private PostgresKeyStore(NpgsqlDataSource dataSource, MasterState master, TimeProvider time, int cacheCapacity, TimeSpan cacheLifetime)
    {
        this.dataSource = dataSource;
        this.master = master;
        this.time = time;
        cache = new DataKeyCache(cacheCapacity, time, cacheLifetime);
    }

    /// <summary>Opens the key store in a migrated schema; seals it to <paramref name="masterKey"/> if it is new. The data
    /// source stays the caller's.</summary>
    /// <exception cref="CryptographicException">The master key is not the one this key store is sealed to.</exception>
    public static PostgresKeyStore Open(NpgsqlDataSource keys, MasterKey masterKey, TimeProvider time) =>
        Open(keys, masterKey, time, DefaultCacheCapacity, DefaultCacheLifetime);

    internal static PostgresKeyStore Open(NpgsqlDataSource keys, MasterKey masterKey, TimeProvider time, int cacheCapacity, TimeSpan cacheLifetime)
    {
        ArgumentNullException.ThrowIfNull(keys);
        ArgumentNullException.ThrowIfNull(masterKey);
        ArgumentNullException.ThrowIfNull(time);
        using var connection = keys.OpenConnection();
        using (var insert = new NpgsqlCommand(
            "INSERT INTO master_key_check (tenant_id, sealed) VALUES (@store, @sealed) ON CONFLICT (tenant_id) DO NOTHING;", connection))
        {
            insert.Parameters.AddWithValue("store", StoreRow);
            insert.Parameters.AddWithValue("sealed", KeyWrapping.SealMasterKeyCheck(masterKey));
            insert.ExecuteNonQuery();
        }

        byte[] sealedCheck;
        using (var select = new NpgsqlCommand("SELECT sealed FROM master_key_check WHERE tenant_id = @store;", connection))
        {
            select.Parameters.AddWithValue("store", StoreRow);
            sealedCheck = (byte[])select.ExecuteScalar()!;
        }

        if (!KeyWrapping.VerifyMasterKeyCheck(masterKey, sealedCheck))
        {
            throw new CryptographicException("The master key does not match this key store.");
        }

        return new PostgresKeyStore(keys, new MasterState(masterKey, sealedCheck), time, cacheCapacity, cacheLifetime);
    }

    internal override TenantKeys GetTenantKeys(Guid tenantId) => GetTenant(tenantId);

    public override IReadOnlyList<DataKey> GetOrCreateLearnerKeys(Guid tenantId, IReadOnlyList<byte[]> learnerPseudonyms)
    {
        ArgumentNullException.ThrowIfNull(learnerPseudonyms);
        var result = new DataKey[learnerPseudonyms.Count];
        if (cache.TryGetLearners(tenantId, learnerPseudonyms, result) is not { } misses)
        {
            return result;
        }

        ThrowIfDisposed();
        var epoch = cache.Epoch;
        var wanted = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var i in misses)
        {
            wanted.TryAdd(Convert.ToHexString(learnerPseudonyms[i]), learnerPseudonyms[i]);
        }

        var keys = new Dictionary<string, DataKey>(StringComparer.Ordinal);
        using (var connection = dataSource.OpenConnection())
        {
            GetTenant(tenantId, connection);
            foreach (var row in FindLearnerRows(connection, tenantId, [.. wanted.Values]))
            {
                keys[Convert.ToHexString(row.Learner!)] = UnwrapDataKey(connection, tenantId, row);
            }

            var missing = wanted.Where(w => !keys.ContainsKey(w.Key)).Select(w => w.Value).ToList();
            if (missing.Count > 0)
            {
                CreateLearnerKeys(connection, tenantId, missing, keys);
            }
        }

        foreach (var (learnerHex, key) in keys)
        {
            cache.Add(epoch, tenantId, key, wanted[learnerHex]);
        }

        foreach (var i in misses)
        {
            result[i] = keys[Convert.ToHexString(learnerPseudonyms[i])];
        }

        return result;
    }

    /// <summary>
    /// Creates the keys of learners that had none, in one autocommitted statement; where another process created a
    /// learner's key first, the insert skips it (ON CONFLICT DO NOTHING) and that key is read back instead.
    /// </summary>
    private void CreateLearnerKeys(NpgsqlConnection connection, Guid tenantId, List<byte[]> missing, Dictionary<string, DataKey> keys)
    {
        for (var attempt = 1; ; attempt++)
        {
            // Every process inserts in pseudonym order, so two overlapping batches wait on each other instead of deadlocking.
            missing.Sort((a, b) => a.AsSpan().SequenceCompareTo(b));
            var tenant = GetTenant(tenantId, connection);
            var ids = NextIds(connection, null, missing.Count);
            var raw = new byte[missing.Count][];
            var wrapped = new byte[missing.Count][];
            for (var i = 0; i < raw.Length; i++)
            {
                raw[i] = KeyWrapping.NewKey();
                wrapped[i] = KeyWrapping.Wrap(tenant.Kek, raw[i], tenantId, ids[i], KeyPurpose.LearnerData, missing[i]);
            }

            HashSet<long> inserted;
            try
            {
                using var command = new NpgsqlCommand("""
                    INSERT INTO keys (tenant_id, id, purpose, learner, wrapping_key_id, wrapped, created)
                    SELECT @tenant, k.id, 3, k.learner, @kek, k.wrapped, @created
                    FROM unnest(@ids, @learners, @wrapped) AS k (id, learner, wrapped)
                    ON CONFLICT (tenant_id, learner) DO NOTHING
                    RETURNING id;
                    """, connection);
                command.Parameters.AddWithValue("tenant", tenantId);
                command.Parameters.AddWithValue("kek", tenant.KekId);
                command.Parameters.AddWithValue("created", time.GetUtcNow());
                command.Parameters.AddWithValue("ids", ids);
                command.Parameters.Add(ByteaArray("learners", [.. missing]));
                command.Parameters.Add(ByteaArray("wrapped", wrapped));
                inserted = [.. ReadLongs(command)];
            }
            catch (PostgresException e) when (attempt < Attempts && e.SqlState is PostgresErrorCodes.ForeignKeyViolation or PostgresErrorCodes.DeadlockDetected)
            {
                // A foreign key violation: another process rotated the tenant's KEK since it was cached here.
                Array.ForEach(raw, r => CryptographicOperations.ZeroMemory(r));
                tenants.TryRemove(tenantId, out _);
                continue;
            }

            var lost = new List<byte[]>();
            for (var i = 0; i < raw.Length; i++)
            {
                if (inserted.Contains(ids[i]))
                {
                    keys[Convert.ToHexString(missing[i])] = new DataKey(ids[i], raw[i]);
                }
                else
                {
                    CryptographicOperations.ZeroMemory(raw[i]);
                    lost.Add(missing[i]);
                }
            }

            if (lost.Count == 0)
            {
                return;
            }

            // Another process created these keys between our read and our insert: theirs is the learner's key.
            foreach (var row in FindLearnerRows(connection, tenantId, [.. lost]))
            {
                keys[Convert.ToHexString(row.Learner!)] = UnwrapDataKey(connection, tenantId, row);
            }

            missing = lost.FindAll(l => !keys.ContainsKey(Convert.ToHexString(l)));
            if (missing.Count == 0)
            {
                return;
            }

            if (attempt >= Attempts)
            {
                // Created elsewhere and destroyed again before it could be read, each time.
                throw new CryptographicException("The key store could not create a learner key.");
            }
        }
    }

    public override DataKey? GetDataKey(Guid tenantId, long keyId)
    {
        if (cache.TryGet(tenantId, keyId, out var cached))
        {
            return cached;
        }

        ThrowIfDisposed();
        var epoch = cache.Epoch;
        using var connection = dataSource.OpenConnection();
        using var command = new NpgsqlCommand(
            $"SELECT {Columns} FROM keys WHERE tenant_id = @tenant AND id = @id AND purpose IN (2, 3);", connection);
        command.Parameters.AddWithValue("tenant", tenantId);
        command.Parameters.AddWithValue("id", keyId);
        if (ReadKeys(command) is not [var row])
        {
            return null;
        }

        var key = UnwrapDataKey(connection, tenantId, row);
        cache.Add(epoch, tenantId, key, row.Learner);
        return key;
    }

    /// <remarks>The row is deleted and this process's cache forgets the key at once; other processes sharing the store
    /// forget it within <see cref="DefaultCacheLifetime"/> (see the class remarks).</remarks>
    public bool DestroyLearnerKey(Guid tenantId, ReadOnlySpan<byte> learnerPseudonym)
    {
        var learner = learnerPseudonym.ToArray();
        ThrowIfDisposed();
        object? destroyed;
        using (var connection = dataSource.OpenConnection())
        using (var command = new NpgsqlCommand(
            "DELETE FROM keys WHERE tenant_id = @tenant AND learner = @learner AND purpose = 3 RETURNING id;", connection))
        {
            command.Parameters.AddWithValue("tenant", tenantId);
            command.Parameters.AddWithValue("learner", learner);
            destroyed = command.ExecuteScalar();
        }

        if (destroyed is not long id)
        {
            return false;
        }

        cache.Forget(tenantId, id, learner);
        return true;
    }

    public void RotateTenantKey(Guid tenantId)
    {
        GetTenant(tenantId);
        ThrowIfDisposed();
        using var connection = dataSource.OpenConnection();
        using var transaction = connection.BeginTransaction();
        var masterKey = LockMasterKey(connection, transaction, forUpdate: false);

        // Locked before the rows are read: a learner key inserted under the old KEK holds a key-share lock on it until
        // it commits, so once this lock is granted the next statement sees every key wrapped under the old KEK, and an
        // insert under it from now on fails its foreign key (and is retried under the new KEK).
        using (var lockKek = new NpgsqlCommand("SELECT id FROM keys WHERE tenant_id = @tenant AND purpose = 0 FOR UPDATE;", connection, transaction))
        {
            lockKek.Parameters.AddWithValue("tenant", tenantId);
            lockKek.ExecuteNonQuery();
        }

        var rows = TenantRows(connection, transaction, tenantId, includeLearners: true);
        var oldKekRow = rows.Single(r => r.Purpose == (long)KeyPurpose.KeyEncryption);
        var oldKek = KeyRing.UnwrapKek(masterKey, tenantId, oldKekRow);
        try
        {
            // The old KEK steps aside so the new one can take the tenant's single KEK slot.
            Execute(connection, transaction, "UPDATE keys SET purpose = @retiring WHERE tenant_id = @tenant AND id = @id;",
                tenantId, ("retiring", (short)KeyRing.RetiringKek), ("id", oldKekRow.Id));
            var newKek = KeyWrapping.NewKey();
            var newKekId = NextIds(connection, transaction, 1)[0];
            InsertTenantKeys(connection, transaction, tenantId,
                [(newKekId, KeyPurpose.KeyEncryption, null, KeyWrapping.Wrap(masterKey.Bytes, newKek, tenantId, newKekId, KeyPurpose.KeyEncryption))]);
            var (updates, tenantKeys) = KeyRing.RewrapUnderNewKek(tenantId, rows, oldKekRow.Id, oldKek, newKekId, newKek);
            using (var update = new NpgsqlCommand("""
                UPDATE keys SET wrapped = u.wrapped, wrapping_key_id = @kek
                FROM unnest(@ids, @wrapped) AS u (id, wrapped)
                WHERE keys.tenant_id = @tenant AND keys.id = u.id;
                """, connection, transaction))
            {
                update.Parameters.AddWithValue("tenant", tenantId);
                update.Parameters.AddWithValue("kek", newKekId);
                update.Parameters.AddWithValue("ids", updates.Select(u => u.Id).ToArray());
                update.Parameters.Add(ByteaArray("wrapped", [.. updates.Select(u => u.Wrapped)]));
                update.ExecuteNonQuery();
            }

            Execute(connection, transaction, "DELETE FROM keys WHERE tenant_id = @tenant AND id = @id;", tenantId, ("id", oldKekRow.Id));
            transaction.Commit();
            tenants[tenantId] = tenantKeys;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(oldKek);
        }
    }

    public void RotateMasterKey(MasterKey newMasterKey)
    {
        ArgumentNullException.ThrowIfNull(newMasterKey);
        ThrowIfDisposed();
        lock (masterLock)
        {
            using var connection = dataSource.OpenConnection();
            using var transaction = connection.BeginTransaction();
            var oldMasterKey = LockMasterKey(connection, transaction, forUpdate: true);
            var tenantIds = new List<Guid>();
            var ids = new List<long>();
            var rewrapped = new List<byte[]>();
            using (var select = new NpgsqlCommand("SELECT tenant_id, id, wrapped FROM keys WHERE wrapping_key_id IS NULL FOR UPDATE;", connection, transaction))
            using (var reader = select.ExecuteReader())
            {
                while (reader.Read())
                {
                    var row = new StoredKey { Id = reader.GetInt64(1), Purpose = (long)KeyPurpose.KeyEncryption, Wrapped = reader.GetFieldValue<byte[]>(2) };
                    tenantIds.Add(reader.GetGuid(0));
                    ids.Add(row.Id);
                    rewrapped.Add(KeyRing.RewrapKek(oldMasterKey, newMasterKey, tenantIds[^1], row));
                }
            }

            using (var update = new NpgsqlCommand("""
                UPDATE keys SET wrapped = u.wrapped
                FROM unnest(@tenants, @ids, @wrapped) AS u (tenant_id, id, wrapped)
                WHERE keys.tenant_id = u.tenant_id AND keys.id = u.id;
                """, connection, transaction))
            {
                update.Parameters.AddWithValue("tenants", tenantIds.ToArray());
                update.Parameters.AddWithValue("ids", ids.ToArray());
                update.Parameters.Add(ByteaArray("wrapped", [.. rewrapped]));
                update.ExecuteNonQuery();
            }

            var sealedCheck = KeyWrapping.SealMasterKeyCheck(newMasterKey);
            using (var seal = new NpgsqlCommand("UPDATE master_key_check SET sealed = @sealed WHERE tenant_id = @store;", connection, transaction))
            {
                seal.Parameters.AddWithValue("store", StoreRow);
                seal.Parameters.AddWithValue("sealed", sealedCheck);
                seal.ExecuteNonQuery();
            }

            transaction.Commit();
            master = new MasterState(newMasterKey, sealedCheck);
        }
    }

    private TenantKeys GetTenant(Guid tenantId, NpgsqlConnection? connection = null)
    {
        if (tenants.TryGetValue(tenantId, out var cached))
        {
            return cached;
        }

        ThrowIfDisposed();
        TenantKeys keys;
        if (connection is null)
        {
            using var own = dataSource.OpenConnection();
            keys = LoadTenant(own, tenantId);
        }
        else
        {
            keys = LoadTenant(connection, tenantId);
        }

        return tenants.GetOrAdd(tenantId, keys);
    }

    /// <summary>Reads the tenant's keys, creating the missing ones; a creation that loses a race to another process
    /// inserts nothing (ON CONFLICT DO NOTHING), and the next read finds the winner's keys.</summary>
    private TenantKeys LoadTenant(NpgsqlConnection connection, Guid tenantId)
    {
        for (var attempt = 1; ; attempt++)
        {
            var rows = TenantRows(connection, null, tenantId, includeLearners: false);
            if (KeyRing.TryUnwrapTenant(master.Key, tenantId, rows) is { } keys)
            {
                return keys;
            }

            if (attempt > Attempts)
            {
                throw new InvalidOperationException("The key store could not create the tenant's keys.");
            }

            try
            {
                CreateTenantKeys(connection, tenantId, rows);
            }
            catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.ForeignKeyViolation)
            {
                // The KEK these keys were wrapped under was replaced meanwhile (a rotation elsewhere): read again.
            }
        }
    }

    /// <summary>Inserts whichever of the tenant's KEK, pseudonym key, tenant data key and audit signing key are missing, in one statement.</summary>
    private void CreateTenantKeys(NpgsqlConnection connection, Guid tenantId, List<StoredKey> rows)
    {
        using var transaction = connection.BeginTransaction();
        // Shared lock on the master-key check: a master-key rotation cannot commit between the KEK's wrapping and its insert.
        var masterKey = LockMasterKey(connection, transaction, forUpdate: false);
        var ids = NextIds(connection, transaction, 4);
        var inserts = new List<(long, KeyPurpose, long?, byte[])>();
        long kekId;
        byte[] kek;
        if (KeyRing.Find(rows, KeyPurpose.KeyEncryption) is { } kekRow)
        {
            kekId = kekRow.Id;
            kek = KeyRing.UnwrapKek(masterKey, tenantId, kekRow);
        }
        else
        {
            kekId = ids[0];
            kek = KeyWrapping.NewKey();
            inserts.Add((kekId, KeyPurpose.KeyEncryption, null, KeyWrapping.Wrap(masterKey.Bytes, kek, tenantId, kekId, KeyPurpose.KeyEncryption)));
        }

        foreach (var (purpose, id) in new[] { (KeyPurpose.Pseudonym, ids[1]), (KeyPurpose.TenantData, ids[2]), (KeyPurpose.AuditSigning, ids[3]) })
        {
            if (KeyRing.Find(rows, purpose) is null)
            {
                var key = KeyRing.NewTenantKey(purpose);
                inserts.Add((id, purpose, kekId, KeyWrapping.Wrap(kek, key, tenantId, id, purpose)));
                CryptographicOperations.ZeroMemory(key);
            }
        }

        CryptographicOperations.ZeroMemory(kek);
        InsertTenantKeys(connection, transaction, tenantId, inserts);
        transaction.Commit();
    }

    /// <summary>Inserts tenant keys (KEK, pseudonym, tenant data, audit signing), skipping any the tenant already has.</summary>
    private void InsertTenantKeys(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid tenantId, List<(long Id, KeyPurpose Purpose, long? WrappingKeyId, byte[] Wrapped)> keys)
    {
        using var command = new NpgsqlCommand($"""
            INSERT INTO keys (tenant_id, id, purpose, learner, wrapping_key_id, wrapped, created)
            SELECT @tenant, k.id, k.purpose, NULL, k.wrapping_key_id, k.wrapped, @created
            FROM unnest(@ids, @purposes, @wrappingKeyIds, @wrapped) AS k (id, purpose, wrapping_key_id, wrapped)
            ON CONFLICT (tenant_id, purpose) WHERE purpose IN ({KeyRing.TenantPurposes}) DO NOTHING;
            """, connection, transaction);
        command.Parameters.AddWithValue("tenant", tenantId);
        command.Parameters.AddWithValue("created", time.GetUtcNow());
        command.Parameters.AddWithValue("ids", keys.Select(k => k.Id).ToArray());
        command.Parameters.AddWithValue("purposes", keys.Select(k => (short)k.Purpose).ToArray());
        command.Parameters.Add(new NpgsqlParameter("wrappingKeyIds", NpgsqlDbType.Array | NpgsqlDbType.Bigint) { Value = keys.Select(k => k.WrappingKeyId).ToArray() });
        command.Parameters.Add(ByteaArray("wrapped", [.. keys.Select(k => k.Wrapped)]));
        command.ExecuteNonQuery();
    }

    /// <summary>
    /// Locks the master-key check row (shared by KEK writers, exclusive for a master-key rotation) and returns this
    /// process's master key, having checked that it is still the store's.
    /// </summary>
    /// <exception cref="CryptographicException">Another process rotated the master key.</exception>
    private MasterKey LockMasterKey(NpgsqlConnection connection, NpgsqlTransaction transaction, bool forUpdate)
    {
        using var command = new NpgsqlCommand(forUpdate ? SelectSealedForUpdate : SelectSealedForShare, connection, transaction);
        command.Parameters.AddWithValue("store", StoreRow);
        var sealedCheck = command.ExecuteScalar() as byte[];
        var current = master;
        if (sealedCheck is null || !sealedCheck.AsSpan().SequenceEqual(current.SealedCheck))
        {
            throw new CryptographicException("The key store's master key was rotated by another process: restart this one with the new master key.");
        }

        return current.Key;
    }

    private DataKey UnwrapDataKey(NpgsqlConnection connection, Guid tenantId, StoredKey row)
    {
        var tenant = GetTenant(tenantId, connection);
        if (row.WrappingKeyId != tenant.KekId)
        {
            // The KEK was rotated (here or by another process) since the tenant's keys were cached: reload them.
            tenants.TryRemove(tenantId, out _);
            tenant = GetTenant(tenantId, connection);
        }

        return KeyRing.UnwrapDataKey(tenant, tenantId, row);
    }

    private static List<StoredKey> FindLearnerRows(NpgsqlConnection connection, Guid tenantId, byte[][] learners)
    {
        using var command = new NpgsqlCommand(
            $"SELECT {Columns} FROM keys WHERE tenant_id = @tenant AND learner = ANY (@learners) AND purpose = 3;", connection);
        command.Parameters.AddWithValue("tenant", tenantId);
        command.Parameters.Add(ByteaArray("learners", learners));
        return ReadKeys(command);
    }

    /// <summary>The tenant's KEK, pseudonym key, tenant data key and audit signing key rows; with <paramref name="includeLearners"/>, its learner keys too.</summary>
    private static List<StoredKey> TenantRows(NpgsqlConnection connection, NpgsqlTransaction? transaction, Guid tenantId, bool includeLearners)
    {
        using var command = new NpgsqlCommand(
            $"SELECT {Columns} FROM keys WHERE tenant_id = @tenant AND (purpose IN ({KeyRing.TenantPurposes}) OR (@includeLearners AND purpose = 3));",
            connection, transaction);
        command.Parameters.AddWithValue("tenant", tenantId);
        command.Parameters.AddWithValue("includeLearners", includeLearners);
        return ReadKeys(command);
    }

    /// <summary>Draws ids for new keys: a key's wrapping binds its id, so the id is known before its row is written.</summary>
    private static long[] NextIds(NpgsqlConnection connection, NpgsqlTransaction? transaction, int count)
    {
        using var command = new NpgsqlCommand("SELECT nextval('key_ids') FROM generate_series(1, @count);", connection, transaction);
        command.Parameters.AddWithValue("count", count);
        return [.. ReadLongs(command)];
    }

    private static List<StoredKey> ReadKeys(NpgsqlCommand command)
    {
        var rows = new List<StoredKey>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            rows.Add(new StoredKey
            {
                Id = reader.GetInt64(0),
                Purpose = reader.GetInt16(1),
                Learner = reader.IsDBNull(2) ? null : reader.GetFieldValue<byte[]>(2),
                WrappingKeyId = reader.IsDBNull(3) ? null : reader.GetInt64(3),
                Wrapped = reader.GetFieldValue<byte[]>(4),
            });
        }

        return rows;
    }

    private static List<long> ReadLongs(NpgsqlCommand command)
    {
        var values = new List<long>();
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            values.Add(reader.GetInt64(0));
        }

        return values;
    }

    private static void Execute(NpgsqlConnection connection, NpgsqlTransaction transaction, string sql, Guid tenantId, params (string Name, object Value)[] parameters)
    {
        using var command = new NpgsqlCommand(sql, connection, transaction);
        command.Parameters.AddWithValue("tenant", tenantId);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        command.ExecuteNonQuery();
    }

    private static NpgsqlParameter ByteaArray(string name, byte[][] values) =>
        new(name, NpgsqlDbType.Array | NpgsqlDbType.Bytea) { Value = values };

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(disposed, this);

    /// <summary>Stops the store; the data source (and its pooled connections) is the caller's to dispose.</summary>
    public void Dispose() => disposed = true;

    /// <summary>The master key and the check value it sealed, swapped together when the master key is rotated.</summary>
    private sealed record MasterState(MasterKey Key, byte[] SealedCheck);
}
