using System.Buffers;
using System.Security.Cryptography;
using System.Text;

namespace LearnerVault.Privacy;

/// <summary>
/// Keyed pseudonyms: HMAC-SHA256 under the tenant's pseudonym key. The only form in which an inverse functional
/// identifier (or any other searchable value) reaches an index. Without the key, a pseudonym cannot be
/// reversed or even confirmed by guessing the identifier.
/// </summary>
/// <remarks>Every call takes one HMAC, so each thread keeps a keyed HMAC and resets it rather than keying a new one per
/// call (measured: 1.7 instead of 2.9 µs for a 1.5 KB comparison form), and a pseudonym's input (namespace, a zero
/// byte, the value in UTF-8) is encoded on the stack and wiped, not left behind in the heap.</remarks>
public sealed class Pseudonymizer(byte[] key)
{
    /// <summary>Length of an index term: 128 bits of the HMAC, ample against collisions within a tenant.</summary>
    public const int TermLength = 16;

    private const int StackInput = 512;

    /// <summary>The full 32-byte pseudonym of a normalised value in a namespace (e.g. "agent").</summary>
    public byte[] Pseudonym(string @namespace, string normalisedValue)
    {
        var pseudonym = new byte[HMACSHA256.HashSizeInBytes];
        Pseudonym(@namespace, normalisedValue, pseudonym);
        return pseudonym;
    }

    /// <summary>A 16-byte index term for a value in a namespace: the pseudonym's first half.</summary>
    public byte[] Term(string @namespace, string normalisedValue)
    {
        Span<byte> pseudonym = stackalloc byte[HMACSHA256.HashSizeInBytes];
        Pseudonym(@namespace, normalisedValue, pseudonym);
        return pseudonym[..TermLength].ToArray();
    }

    /// <summary>A keyed digest of arbitrary bytes (e.g. a statement's comparison form).</summary>
    public byte[] Digest(ReadOnlySpan<byte> data)
    {
        var hmac = KeyedHmac();
        hmac.AppendData(data);
        return hmac.GetHashAndReset();
    }

    private void Pseudonym(string @namespace, string normalisedValue, Span<byte> destination)
    {
        var most = Encoding.UTF8.GetMaxByteCount(@namespace.Length + 1 + normalisedValue.Length);
        byte[]? rented = null;
        var input = most <= StackInput ? stackalloc byte[StackInput] : (rented = ArrayPool<byte>.Shared.Rent(most));
        var length = Encoding.UTF8.GetBytes(@namespace, input);
        input[length++] = 0;
        length += Encoding.UTF8.GetBytes(normalisedValue, input[length..]);
        try
        {
            var hmac = KeyedHmac();
            hmac.AppendData(input[..length]);
            hmac.GetHashAndReset(destination);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(input[..length]);
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    /// <summary>This thread's HMAC keyed with this pseudonymizer's key, in its initial state.</summary>
    private IncrementalHash KeyedHmac()
    {
        var hmac = keyedHmac;
        if (hmac is null || !ReferenceEquals(hmac.Owner, this))
        {
            hmac?.Hash.Dispose();
            hmac = new KeyedHmacSlot(this, IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, key));
            keyedHmac = hmac;
        }

        return hmac.Hash;
    }

    // The last pseudonymizer's keyed HMAC on this thread (one tenant at a time is the common case).
    [ThreadStatic]
    private static KeyedHmacSlot? keyedHmac;

    private sealed record KeyedHmacSlot(Pseudonymizer Owner, IncrementalHash Hash);
}
