using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using LearnerVault.Privacy;
using LearnerVault.Server.Statements;

namespace LearnerVault.Server.Accounts;

/// <summary>What a person's encrypted profile holds.</summary>
/// <param name="Name">The display name, or null.</param>
public sealed record PersonProfile(string? Name);

/// <summary>
/// What the accounts keep out of the store's sight: login names become a keyed hash under the tenant's pseudonym key
/// (the store can find a login but never list one), and the profile and TOTP secret are sealed with the tenant data
/// key, bound to tenant and person so that a blob copied onto another row fails to open.
/// </summary>
public sealed class AccountCrypto(TenantCrypto crypto, IKeyStore keys)
{
    public const int MaxLoginLength = 100;
    public const int MaxNameLength = 200;

    /// <summary>Trimmed, NFKC, lower-case: "Ana.Silva " and "ana.silva" are one login.</summary>
    public static string NormaliseLogin(string login) =>
        (login ?? string.Empty).Trim().Normalize(NormalizationForm.FormKC).ToLowerInvariant();

    /// <summary>Why a login name is refused, or null.</summary>
    public static string? LoginProblem(string? login)
    {
        var normalised = NormaliseLogin(login ?? string.Empty);
        return normalised.Length == 0 || normalised.Length > MaxLoginLength || normalised.Any(char.IsControl)
            ? $"a login name has 1 to {MaxLoginLength} characters, with no control characters"
            : null;
    }

    /// <summary>Why a display name (trimmed) is refused, or null. An empty name means "none".</summary>
    public static string? NameProblem(string? name)
    {
        var trimmed = name?.Trim();
        return trimmed is { Length: > MaxNameLength } || trimmed?.Any(char.IsControl) == true
            ? $"a name has at most {MaxNameLength} characters, with no control characters"
            : null;
    }

    public byte[] LoginKey(Guid tenantId, string login) => crypto.For(tenantId).Pseudonym("login", NormaliseLogin(login));

    public byte[] SealProfile(Guid tenantId, Guid personId, PersonProfile profile) =>
        Seal(tenantId, personId, "profile", JsonSerializer.SerializeToUtf8Bytes(profile));

    /// <summary>The profile, or an empty one when none was stored or it cannot be opened (its key was destroyed).</summary>
    public PersonProfile OpenProfile(Guid tenantId, Guid personId, byte[]? sealedProfile)
    {
        if (sealedProfile is null)
        {
            return new PersonProfile(null);
        }

        var plaintext = Open(tenantId, personId, "profile", sealedProfile);
        return plaintext is null ? new PersonProfile(null) : JsonSerializer.Deserialize<PersonProfile>(plaintext) ?? new PersonProfile(null);
    }

    public byte[] SealTotp(Guid tenantId, Guid personId, byte[] secret) => Seal(tenantId, personId, "totp", secret);

    public byte[]? OpenTotp(Guid tenantId, Guid personId, byte[] sealedSecret) => Open(tenantId, personId, "totp", sealedSecret);

    // key id (8 bytes, big-endian) | envelope: the key id lets a later rotation of the tenant data key still open it.
    private byte[] Seal(Guid tenantId, Guid personId, string label, byte[] plaintext)
    {
        var key = keys.GetTenantDataKey(tenantId);
        var envelope = EnvelopeCipher.Encrypt(key.Key, plaintext, AssociatedData(tenantId, personId, label));
        var output = new byte[8 + envelope.Length];
        BinaryPrimitives.WriteInt64BigEndian(output, key.Id);
        envelope.CopyTo(output.AsSpan(8));
        return output;
    }

    private byte[]? Open(Guid tenantId, Guid personId, string label, byte[] sealedData)
    {
        if (sealedData.Length < 9 || keys.GetDataKey(tenantId, BinaryPrimitives.ReadInt64BigEndian(sealedData)) is not { } key)
        {
            return null;
        }

        try
        {
            return EnvelopeCipher.Decrypt(key.Key, sealedData.AsSpan(8), AssociatedData(tenantId, personId, label));
        }
        catch (System.Security.Cryptography.CryptographicException)
        {
            return null;
        }
    }

    private static byte[] AssociatedData(Guid tenantId, Guid personId, string label) =>
        [.. EnvelopeCipher.AssociatedData(tenantId, personId), .. Encoding.ASCII.GetBytes(label)];
}
