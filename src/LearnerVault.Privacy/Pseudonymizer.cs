using System.Security.Cryptography;
using System.Text;

namespace LearnerVault.Privacy;

/// <summary>
/// Keyed pseudonyms: HMAC-SHA256 under the tenant's pseudonym key. The only form in which an inverse functional
/// identifier (or any other searchable value) reaches an index. Without the key, a pseudonym cannot be
/// reversed or even confirmed by guessing the identifier.
/// </summary>
public sealed class Pseudonymizer(byte[] key)
{
    /// <summary>Length of an index term: 128 bits of the HMAC, ample against collisions within a tenant.</summary>
    public const int TermLength = 16;

    /// <summary>The full 32-byte pseudonym of a normalised value in a namespace (e.g. "agent").</summary>
    public byte[] Pseudonym(string @namespace, string normalisedValue)
    {
        var input = Encoding.UTF8.GetBytes(@namespace + "\u0000" + normalisedValue);
        return HMACSHA256.HashData(key, input);
    }

    /// <summary>A 16-byte index term for a value in a namespace.</summary>
    public byte[] Term(string @namespace, string normalisedValue) => Pseudonym(@namespace, normalisedValue)[..TermLength];

    /// <summary>A keyed digest of arbitrary bytes (e.g. a statement's comparison form).</summary>
    /// <remarks>Every stored statement takes one, so each thread keeps a keyed HMAC and resets it rather than keying
    /// a new one per call (measured: 1.7 instead of 2.9 µs for a 1.5 KB form).</remarks>
    public byte[] Digest(ReadOnlySpan<byte> data)
    {
        var hmac = digestHmac;
        if (hmac is null || !ReferenceEquals(hmac.Owner, this))
        {
            hmac?.Hash.Dispose();
            hmac = new KeyedHmac(this, IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, key));
            digestHmac = hmac;
        }

        hmac.Hash.AppendData(data);
        return hmac.Hash.GetHashAndReset();
    }

    // The last pseudonymizer's keyed HMAC on this thread (one tenant at a time is the common case).
    [ThreadStatic]
    private static KeyedHmac? digestHmac;

    private sealed record KeyedHmac(Pseudonymizer Owner, IncrementalHash Hash);
}
