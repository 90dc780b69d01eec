using System.Buffers.Binary;
using System.Security.Cryptography;

namespace LearnerVault.Privacy;

/// <summary>
/// AES-256-GCM envelope: <c>version(1) | nonce(12) | tag(16) | ciphertext</c>. The associated data binds a
/// ciphertext to its place (tenant and record id), so a blob copied onto another row fails to decrypt.
/// </summary>
public static class EnvelopeCipher
{
    public const byte Version = 1;
    private const int NonceSize = 12;
    private const int TagSize = 16;
    private const int HeaderSize = 1 + NonceSize + TagSize;

    public static byte[] Encrypt(ReadOnlySpan<byte> key, ReadOnlySpan<byte> plaintext, ReadOnlySpan<byte> associatedData)
    {
        var output = new byte[HeaderSize + plaintext.Length];
        output[0] = Version;
        var nonce = output.AsSpan(1, NonceSize);
        NextNonce(nonce);
        using var aes = new AesGcm(key, TagSize);
        aes.Encrypt(nonce, plaintext, output.AsSpan(HeaderSize), output.AsSpan(1 + NonceSize, TagSize), associatedData);
        return output;
    }

    // Random nonces, drawn from the system's CSPRNG a few hundred at a time: one call per statement was about a
    // microsecond of OpenSSL's locking and dispatch, as much as encrypting a kilobyte. Each is handed out once.
    private const int NoncesPerDraw = 256;

    [ThreadStatic]
    private static byte[]? nonces;

    [ThreadStatic]
    private static int noncesTaken;

    private static void NextNonce(Span<byte> nonce)
    {
        if (nonces is null)
        {
            nonces = new byte[NonceSize * NoncesPerDraw];
            noncesTaken = nonces.Length;
        }

        if (noncesTaken == nonces.Length)
        {
            RandomNumberGenerator.Fill(nonces);
            noncesTaken = 0;
        }

        var next = nonces.AsSpan(noncesTaken, NonceSize);
        next.CopyTo(nonce);
        next.Clear();
        noncesTaken += NonceSize;
    }

    /// <exception cref="CryptographicException">The blob was altered, moved, or the key is wrong.</exception>
    public static byte[] Decrypt(ReadOnlySpan<byte> key, ReadOnlySpan<byte> envelope, ReadOnlySpan<byte> associatedData)
    {
        if (envelope.Length < HeaderSize || envelope[0] != Version)
        {
            throw new CryptographicException("Unknown envelope format.");
        }

        var plaintext = new byte[envelope.Length - HeaderSize];
        using var aes = new AesGcm(key, TagSize);
        aes.Decrypt(envelope.Slice(1, NonceSize), envelope[HeaderSize..], envelope.Slice(1 + NonceSize, TagSize), plaintext, associatedData);
        return plaintext;
    }

    /// <summary>Associated data for a record: tenant id followed by the record's id.</summary>
    public static byte[] AssociatedData(Guid tenantId, Guid recordId)
    {
        var ad = new byte[32];
        tenantId.TryWriteBytes(ad.AsSpan(0, 16));
        recordId.TryWriteBytes(ad.AsSpan(16, 16));
        return ad;
    }

    /// <summary>Associated data for a key wrapped in the key store: tenant id and the key's id.</summary>
    public static byte[] AssociatedData(Guid tenantId, long keyId)
    {
        var ad = new byte[24];
        tenantId.TryWriteBytes(ad.AsSpan(0, 16));
        BinaryPrimitives.WriteInt64BigEndian(ad.AsSpan(16), keyId);
        return ad;
    }
}
