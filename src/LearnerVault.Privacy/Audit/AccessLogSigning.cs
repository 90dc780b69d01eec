using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace LearnerVault.Privacy.Audit;

/// <summary>
/// Signing and checking checkpoints with the platform's ECDSA (P-256, SHA-256, IEEE P1363 signatures). The signed payload
/// binds the tenant, the position, the head hash and the time, so a checkpoint cannot be moved to another tenant or
/// position.
/// </summary>
public static class AccessLogSigning
{
    private static readonly byte[] Label = Encoding.ASCII.GetBytes("learnervault:access-log:checkpoint:v1");

    /// <summary>A new P-256 signing key, as PKCS#8.</summary>
    public static byte[] NewSigningKey()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        return key.ExportPkcs8PrivateKey();
    }

    /// <summary>The key behind a PKCS#8 private key (the caller disposes it).</summary>
    public static ECDsa ImportSigningKey(ReadOnlySpan<byte> pkcs8)
    {
        var key = ECDsa.Create();
        try
        {
            key.ImportPkcs8PrivateKey(pkcs8, out _);
            if (key.KeySize != 256)
            {
                throw new CryptographicException("The audit signing key is not a P-256 key.");
            }

            return key;
        }
        catch
        {
            key.Dispose();
            throw;
        }
    }

    /// <summary>What a checkpoint signs.</summary>
    public static byte[] Payload(Guid tenantId, long position, ReadOnlySpan<byte> headHash, DateTimeOffset time)
    {
        var payload = new byte[Label.Length + 16 + 8 + 4 + headHash.Length + 8];
        var span = payload.AsSpan();
        Label.CopyTo(span);
        span = span[Label.Length..];
        tenantId.TryWriteBytes(span, bigEndian: true, out _);
        span = span[16..];
        BinaryPrimitives.WriteInt64BigEndian(span, position);
        span = span[8..];
        BinaryPrimitives.WriteInt32BigEndian(span, headHash.Length);
        span = span[4..];
        headHash.CopyTo(span);
        span = span[headHash.Length..];
        BinaryPrimitives.WriteInt64BigEndian(span, AccessLogChain.UnixMicroseconds(time));
        return payload;
    }

    /// <summary>A checkpoint of <paramref name="head"/> at <paramref name="time"/>, signed with <paramref name="signingKey"/>.</summary>
    public static AccessLogCheckpoint Sign(ECDsa signingKey, Guid tenantId, AccessLogHead head, DateTimeOffset time)
    {
        ArgumentNullException.ThrowIfNull(signingKey);
        ArgumentNullException.ThrowIfNull(head);
        var when = AccessLogChain.Truncate(time);
        var signature = signingKey.SignData(Payload(tenantId, head.Position, head.Hash, when), HashAlgorithmName.SHA256);
        return new AccessLogCheckpoint(head.Position, head.Hash.ToArray(), when, signature);
    }

    /// <summary>True when the checkpoint was signed by the key whose public part is <paramref name="verificationKey"/>.</summary>
    public static bool Verify(ECDsa verificationKey, Guid tenantId, AccessLogCheckpoint checkpoint)
    {
        ArgumentNullException.ThrowIfNull(verificationKey);
        ArgumentNullException.ThrowIfNull(checkpoint);
        return verificationKey.VerifyData(
            Payload(tenantId, checkpoint.Position, checkpoint.HeadHash, checkpoint.Time), checkpoint.Signature, HashAlgorithmName.SHA256);
    }
}
