using System.Security.Cryptography;
using LearnerVault.Privacy;

namespace LearnerVault.Storage.Keys;

/// <summary>
/// One row of a key store (any backend): a key wrapped under its wrapping key (the master key when
/// <see cref="WrappingKeyId"/> is null). Settable properties, so that a row mapper can fill it.
/// </summary>
/// <remarks>purpose: the <see cref="KeyPurpose"/> values, and <see cref="KeyRing.RetiringKek"/> for a key-encryption
/// key that is being replaced (inside a rotation's transaction only).</remarks>
internal class StoredKey
{
    public long Id { get; set; }

    public long Purpose { get; set; }

    public byte[]? Learner { get; set; }

    public long? WrappingKeyId { get; set; }

    public byte[] Wrapped { get; set; } = [];
}

/// <summary>A tenant's unwrapped keys, as a key store caches them.</summary>
internal sealed record TenantKeys(long KekId, byte[] Kek, byte[] PseudonymKey, DataKey TenantDataKey, byte[] AuditSigningKey);

/// <summary>The backend-neutral unwrapping and re-wrapping of a key store's rows (the crypto is <see cref="KeyWrapping"/>'s).</summary>
internal static class KeyRing
{
    /// <summary>The purpose a tenant's old key-encryption key takes while a rotation replaces it, freeing the tenant's
    /// single KEK slot for the new one.</summary>
    public const long RetiringKek = 4;

    /// <summary>The purposes of the tenant's single keys (one row each per tenant), as the key stores' SQL lists them.</summary>
    public const string TenantPurposes = "0, 1, 2, 5";

    /// <summary>Creates a new key of a tenant purpose: 32 random bytes, or a P-256 signing key for the access log.</summary>
    public static byte[] NewTenantKey(KeyPurpose purpose) =>
        purpose == KeyPurpose.AuditSigning ? Privacy.Audit.AccessLogSigning.NewSigningKey() : KeyWrapping.NewKey();

    /// <summary>The tenant's keys, or null when the KEK, pseudonym key, tenant data key or audit signing key row is missing.</summary>
    public static TenantKeys? TryUnwrapTenant(MasterKey masterKey, Guid tenantId, IReadOnlyList<StoredKey> rows)
    {
        var kekRow = Find(rows, KeyPurpose.KeyEncryption);
        var pseudonymRow = Find(rows, KeyPurpose.Pseudonym);
        var dataRow = Find(rows, KeyPurpose.TenantData);
        var auditRow = Find(rows, KeyPurpose.AuditSigning);
        if (kekRow is null || pseudonymRow is null || dataRow is null || auditRow is null)
        {
            return null;
        }

        var kek = UnwrapKek(masterKey, tenantId, kekRow);
        var pseudonymKey = KeyWrapping.Unwrap(kek, pseudonymRow.Wrapped, tenantId, pseudonymRow.Id, KeyPurpose.Pseudonym);
        var dataKey = KeyWrapping.Unwrap(kek, dataRow.Wrapped, tenantId, dataRow.Id, KeyPurpose.TenantData);
        var auditKey = KeyWrapping.Unwrap(kek, auditRow.Wrapped, tenantId, auditRow.Id, KeyPurpose.AuditSigning);
        return new TenantKeys(kekRow.Id, kek, pseudonymKey, new DataKey(dataRow.Id, dataKey), auditKey);
    }

    public static StoredKey? Find(IReadOnlyList<StoredKey> rows, KeyPurpose purpose)
    {
        foreach (var row in rows)
        {
            if (row.Purpose == (long)purpose)
            {
                return row;
            }
        }

        return null;
    }

    public static byte[] UnwrapKek(MasterKey masterKey, Guid tenantId, StoredKey kekRow) =>
        KeyWrapping.Unwrap(masterKey.Bytes, kekRow.Wrapped, tenantId, kekRow.Id, KeyPurpose.KeyEncryption);

    /// <summary>A tenant or learner data key; the caller checks that <paramref name="tenant"/>'s KEK is the row's.</summary>
    public static DataKey UnwrapDataKey(TenantKeys tenant, Guid tenantId, StoredKey row) =>
        new(row.Id, KeyWrapping.Unwrap(tenant.Kek, row.Wrapped, tenantId, row.Id, (KeyPurpose)row.Purpose, row.Learner));

    /// <summary>
    /// Re-wraps every row wrapped under the old KEK under the new one (the keys themselves do not change); returns the
    /// new wrapped bytes by row id and the tenant's keys under the new KEK.
    /// </summary>
    public static (List<(long Id, byte[] Wrapped)> Updates, TenantKeys Tenant) RewrapUnderNewKek(
        Guid tenantId, IReadOnlyList<StoredKey> rows, long oldKekId, byte[] oldKek, long newKekId, byte[] newKek)
    {
        var updates = new List<(long, byte[])>();
        byte[]? pseudonymKey = null;
        DataKey? tenantDataKey = null;
        byte[]? auditKey = null;
        foreach (var row in rows)
        {
            if (row.WrappingKeyId != oldKekId)
            {
                continue;
            }

            var purpose = (KeyPurpose)row.Purpose;
            var raw = KeyWrapping.Unwrap(oldKek, row.Wrapped, tenantId, row.Id, purpose, row.Learner);
            updates.Add((row.Id, KeyWrapping.Wrap(newKek, raw, tenantId, row.Id, purpose, row.Learner)));
            if (purpose == KeyPurpose.Pseudonym)
            {
                pseudonymKey = raw;
            }
            else if (purpose == KeyPurpose.TenantData)
            {
                tenantDataKey = new DataKey(row.Id, raw);
            }
            else if (purpose == KeyPurpose.AuditSigning)
            {
                auditKey = raw;
            }
            else
            {
                CryptographicOperations.ZeroMemory(raw);
            }
        }

        return (updates, new TenantKeys(
            newKekId,
            newKek,
            pseudonymKey ?? throw new InvalidOperationException("The tenant has no pseudonym key."),
            tenantDataKey ?? throw new InvalidOperationException("The tenant has no data key."),
            auditKey ?? throw new InvalidOperationException("The tenant has no audit signing key.")));
    }

    /// <summary>A tenant KEK row's wrapped bytes re-wrapped from <paramref name="oldMaster"/> to <paramref name="newMaster"/>.</summary>
    public static byte[] RewrapKek(MasterKey oldMaster, MasterKey newMaster, Guid tenantId, StoredKey kekRow)
    {
        var kek = UnwrapKek(oldMaster, tenantId, kekRow);
        try
        {
            return KeyWrapping.Wrap(newMaster.Bytes, kek, tenantId, kekRow.Id, KeyPurpose.KeyEncryption);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(kek);
        }
    }
}
