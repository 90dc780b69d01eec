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

    [Fact]
    public void Encrypt_ManyTimesOnOneThread_NeverRepeatsANonceAndAlwaysDecrypts()
    {
        // Nonces are drawn in bulk per thread: several draws' worth must still be distinct and usable.
        var nonces = new HashSet<string>();
        for (var i = 0; i < 2_000; i++)
        {
            var envelope = EnvelopeCipher.Encrypt(Key, [1, 2, 3], [4]);
            Assert.True(nonces.Add(Convert.ToHexString(envelope, 1, 12)), $"nonce repeated at encryption {i}");
            Assert.Equal([1, 2, 3], EnvelopeCipher.Decrypt(Key, envelope, [4]));
        }

        // All zeros would mean a draw was handed out before it was filled (or after it was cleared).
        Assert.DoesNotContain(new string('0', 24), nonces);
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
