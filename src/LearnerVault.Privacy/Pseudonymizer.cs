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
    public byte[] Digest(ReadOnlySpan<byte> data) => HMACSHA256.HashData(key, data);
}
