using System.Security.Cryptography;
using System.Text;

namespace LearnerVault.Privacy;

/// <summary>What a key in the key store is for. Part of the associated data of its wrapping, so a wrapped key cannot
/// be passed off as a key of another purpose.</summary>
public enum KeyPurpose : byte
{
    /// <summary>The tenant's key-encryption key, wrapped under the master key.</summary>
    KeyEncryption = 0,
    /// <summary>The tenant's HMAC key for pseudonyms and index terms.</summary>
    Pseudonym = 1,
    /// <summary>The tenant's data key, for statements that describe no identifiable learner.</summary>
    TenantData = 2,
    /// <summary>One learner's data key.</summary>
    LearnerData = 3,
    // 4 is a key-encryption key being retired inside a rotation (the key stores' own use).
    /// <summary>The tenant's ECDSA P-256 key that signs access-log checkpoints (PKCS#8).</summary>
    AuditSigning = 5,
}

/// <summary>
/// How keys are wrapped in a key store (any backend): an <see cref="EnvelopeCipher"/> envelope whose associated data
/// binds the tenant, the key's id, its purpose and, for a learner key, the learner's pseudonym. A wrapped key moved
/// to another row, tenant, purpose or learner fails to unwrap.
/// </summary>
public static class KeyWrapping
{
    public const int KeySize = 32;

    private static readonly byte[] MasterCheckAssociatedData = Encoding.ASCII.GetBytes("learnervault:master-key-check:v1");
    private static readonly byte[] MasterCheckPlaintext = Encoding.ASCII.GetBytes("LearnerVault key store");

    /// <summary>A fresh random 256-bit key.</summary>
    public static byte[] NewKey() => RandomNumberGenerator.GetBytes(KeySize);

    public static byte[] AssociatedData(Guid tenantId, long keyId, KeyPurpose purpose, ReadOnlySpan<byte> learnerPseudonym)
    {
        var head = EnvelopeCipher.AssociatedData(tenantId, keyId);
        var ad = new byte[head.Length + 1 + learnerPseudonym.Length];
        head.CopyTo(ad, 0);
        ad[head.Length] = (byte)purpose;
        learnerPseudonym.CopyTo(ad.AsSpan(head.Length + 1));
        return ad;
    }

    public static byte[] Wrap(ReadOnlySpan<byte> wrappingKey, ReadOnlySpan<byte> key, Guid tenantId, long keyId, KeyPurpose purpose, ReadOnlySpan<byte> learnerPseudonym = default) =>
        EnvelopeCipher.Encrypt(wrappingKey, key, AssociatedData(tenantId, keyId, purpose, learnerPseudonym));

    /// <exception cref="CryptographicException">Wrong wrapping key, or the wrapped key was altered or moved.</exception>
    public static byte[] Unwrap(ReadOnlySpan<byte> wrappingKey, ReadOnlySpan<byte> wrapped, Guid tenantId, long keyId, KeyPurpose purpose, ReadOnlySpan<byte> learnerPseudonym = default) =>
        EnvelopeCipher.Decrypt(wrappingKey, wrapped, AssociatedData(tenantId, keyId, purpose, learnerPseudonym));

    /// <summary>A small sealed value that proves, at open, that a key store belongs to this master key.</summary>
    public static byte[] SealMasterKeyCheck(MasterKey masterKey) =>
        EnvelopeCipher.Encrypt(masterKey.Bytes, MasterCheckPlaintext, MasterCheckAssociatedData);

    /// <summary>True when <paramref name="sealedCheck"/> was sealed under <paramref name="masterKey"/>.</summary>
    public static bool VerifyMasterKeyCheck(MasterKey masterKey, ReadOnlySpan<byte> sealedCheck)
    {
        try
        {
            var plaintext = EnvelopeCipher.Decrypt(masterKey.Bytes, sealedCheck, MasterCheckAssociatedData);
            return CryptographicOperations.FixedTimeEquals(plaintext, MasterCheckPlaintext);
        }
        catch (CryptographicException)
        {
            return false;
        }
    }
}
