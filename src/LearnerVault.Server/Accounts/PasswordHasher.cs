using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace LearnerVault.Server.Accounts;

/// <summary>
/// Password hashes as self-describing strings, <c>pbkdf2-sha256$&lt;iterations&gt;$&lt;salt b64&gt;$&lt;hash b64&gt;</c>:
/// PBKDF2-HMAC-SHA256 from the platform (no home-made primitive), a 16-byte random salt, a 32-byte hash, compared in
/// constant time. The iteration count travels with the hash, so raising it later only makes old hashes
/// <see cref="PasswordCheck.NeedsRehash"/> on their next successful login.
/// </summary>
public static class PasswordHasher
{
    public const string Scheme = "pbkdf2-sha256";

    /// <summary>OWASP's 2023 figure for PBKDF2-HMAC-SHA256.</summary>
    public const int DefaultIterations = 600_000;

    /// <summary>Shortest password accepted. Length, not composition rules, is what makes a password hard to guess (NIST SP 800-63B).</summary>
    public const int MinimumLength = 12;

    /// <summary>Longest password accepted: PBKDF2 hashes the whole password on every iteration, so an unbounded one is a cheap denial of service.</summary>
    public const int MaximumLength = 1024;

    private const int SaltBytes = 16;
    private const int HashBytes = 32;

    public static string Hash(string password, int iterations)
    {
        ArgumentNullException.ThrowIfNull(password);
        ArgumentOutOfRangeException.ThrowIfLessThan(iterations, 1);
        var salt = RandomNumberGenerator.GetBytes(SaltBytes);
        var hash = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), salt, iterations, HashAlgorithmName.SHA256, HashBytes);
        return string.Join('$', Scheme, iterations.ToString(CultureInfo.InvariantCulture), Convert.ToBase64String(salt), Convert.ToBase64String(hash));
    }

    /// <summary>Checks <paramref name="password"/> against <paramref name="encoded"/>; a malformed hash never matches.</summary>
    /// <param name="currentIterations">The configured count: a match under another count asks for a rehash.</param>
    public static PasswordCheck Verify(string password, string encoded, int currentIterations)
    {
        ArgumentNullException.ThrowIfNull(password);
        var parts = (encoded ?? string.Empty).Split('$');
        if (parts.Length != 4 || parts[0] != Scheme
            || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var iterations) || iterations < 1
            || !TryBase64(parts[2], out var salt) || !TryBase64(parts[3], out var expected) || expected.Length == 0)
        {
            return new PasswordCheck(false, false);
        }

        var actual = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), salt, iterations, HashAlgorithmName.SHA256, expected.Length);
        var matches = CryptographicOperations.FixedTimeEquals(actual, expected);
        return new PasswordCheck(matches, matches && (iterations != currentIterations || expected.Length != HashBytes));
    }

    /// <summary>Why a new password is refused, or null when it is acceptable.</summary>
    public static string? Weakness(string? password) =>
        password is null || password.Length < MinimumLength
            ? $"a password has at least {MinimumLength} characters"
            : password.Length > MaximumLength
                ? $"a password has at most {MaximumLength} characters"
                : null;

    /// <summary>A random password of 20 characters from an unambiguous alphabet (about 115 bits).</summary>
    public static string Generate()
    {
        const string alphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
        return RandomNumberGenerator.GetString(alphabet, 20);
    }

    private static bool TryBase64(string text, out byte[] bytes)
    {
        bytes = new byte[text.Length];
        if (Convert.TryFromBase64String(text, bytes, out var written))
        {
            bytes = bytes[..written];
            return true;
        }

        return false;
    }
}

/// <summary>The outcome of <see cref="PasswordHasher.Verify"/>.</summary>
/// <param name="Matches">The password is right.</param>
/// <param name="NeedsRehash">It is right, and the hash should be replaced by one under the configured iteration count.</param>
public readonly record struct PasswordCheck(bool Matches, bool NeedsRehash);
