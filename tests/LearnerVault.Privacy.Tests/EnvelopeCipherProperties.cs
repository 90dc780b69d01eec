using System.Security.Cryptography;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace LearnerVault.Privacy.Tests;

/// <summary>Properties of the AES-GCM envelope: it round-trips, and any tampering or any other context is refused.</summary>
public sealed class EnvelopeCipherProperties
{
    private static readonly byte[] Key = RandomNumberGenerator.GetBytes(32);

    [Property]
    public bool Decrypt_OfEncrypt_ReturnsThePlaintext(byte[] plaintext, byte[] associatedData)
    {
        var envelope = EnvelopeCipher.Encrypt(Key, plaintext, associatedData);

        return EnvelopeCipher.Decrypt(Key, envelope, associatedData).AsSpan().SequenceEqual(plaintext);
    }

    [Property]
    public bool Encrypt_SamePlaintextTwice_GivesDifferentEnvelopes(byte[] plaintext, byte[] associatedData) =>
        !EnvelopeCipher.Encrypt(Key, plaintext, associatedData).AsSpan().SequenceEqual(EnvelopeCipher.Encrypt(Key, plaintext, associatedData));

    [Property]
    public bool Decrypt_AnySingleByteFlipped_Fails(byte[] plaintext, byte[] associatedData, NonNegativeInt position, byte mask)
    {
        var envelope = EnvelopeCipher.Encrypt(Key, plaintext, associatedData);
        envelope[position.Get % envelope.Length] ^= mask == 0 ? (byte)1 : mask;

        return Fails(() => EnvelopeCipher.Decrypt(Key, envelope, associatedData));
    }

    [Property]
    public Property Decrypt_OtherAssociatedData_Fails(byte[] plaintext, byte[] associatedData, byte[] otherAssociatedData) =>
        Prop.When(!associatedData.AsSpan().SequenceEqual(otherAssociatedData), () =>
        {
            var envelope = EnvelopeCipher.Encrypt(Key, plaintext, associatedData);
            return Fails(() => EnvelopeCipher.Decrypt(Key, envelope, otherAssociatedData));
        });

    [Property]
    public bool Decrypt_OtherKey_Fails(byte[] plaintext, byte[] associatedData)
    {
        var envelope = EnvelopeCipher.Encrypt(Key, plaintext, associatedData);

        return Fails(() => EnvelopeCipher.Decrypt(RandomNumberGenerator.GetBytes(32), envelope, associatedData));
    }

    [Property]
    public bool Decrypt_Truncated_Fails(byte[] plaintext, byte[] associatedData, NonNegativeInt cut)
    {
        var envelope = EnvelopeCipher.Encrypt(Key, plaintext, associatedData);

        return Fails(() => EnvelopeCipher.Decrypt(Key, envelope.AsSpan(0, cut.Get % envelope.Length), associatedData));
    }

    private static bool Fails(Action decrypt)
    {
        try
        {
            decrypt();
            return false;
        }
        catch (CryptographicException)
        {
            return true;
        }
    }
}
