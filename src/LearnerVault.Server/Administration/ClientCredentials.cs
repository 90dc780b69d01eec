using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace LearnerVault.Server.Administration;

/// <summary>Generates client keys and secrets, and hashes and verifies secrets.</summary>
public static class ClientCredentials
{
    public const int KeyLength = 20;
    public const int SecretBytes = 32;

    // Letters and digits only: a key can be pasted into a URL, a shell, a config file or an HTTP Basic header unquoted.
    private const string KeyAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

    /// <summary>A new client key: public, it identifies the client (about 119 bits, so keys never collide in practice).</summary>
    public static string GenerateKey() => RandomNumberGenerator.GetString(KeyAlphabet, KeyLength);

    /// <summary>A new client secret: 256 random bits, base64url without padding (43 characters).</summary>
    public static string GenerateSecret() => Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(SecretBytes));

    /// <summary>The hash under which a secret is stored; the secret itself is never stored.</summary>
    /// <remarks>
    /// A plain SHA-256 is the right tool here, not a slow password KDF (PBKDF2, Argon2): these secrets are generated
    /// by us with 256 bits of entropy, so there is no dictionary to attack and brute force is out of reach however fast
    /// the hash is. A slow KDF would only make every authenticated request (Basic auth on each xAPI call) expensive.
    /// Human-chosen passwords, if the product ever takes them, need a slow KDF instead.
    /// </remarks>
    public static byte[] HashSecret(string secret)
    {
        ArgumentException.ThrowIfNullOrEmpty(secret);
        return SHA256.HashData(Encoding.UTF8.GetBytes(secret));
    }

    /// <summary>Whether <paramref name="secret"/> hashes to <paramref name="hash"/>, in time independent of where they differ.</summary>
    public static bool Verify(string secret, byte[] hash)
    {
        if (string.IsNullOrEmpty(secret) || hash is null || hash.Length != SHA256.HashSizeInBytes)
        {
            return false;
        }

        Span<byte> actual = stackalloc byte[SHA256.HashSizeInBytes];
        var bytes = Encoding.UTF8.GetBytes(secret);
        SHA256.HashData(bytes, actual);
        return CryptographicOperations.FixedTimeEquals(actual, hash);
    }
}
