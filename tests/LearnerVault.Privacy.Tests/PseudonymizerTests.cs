using System.Security.Cryptography;

namespace LearnerVault.Privacy.Tests;

/// <summary>The digest is HMAC-SHA256 under the pseudonymizer's own key, however calls interleave.</summary>
public sealed class PseudonymizerTests
{
    [Fact]
    public void Digest_InterleavedTenantsOnOneThread_IsEachTenantsHmac()
    {
        // Each thread keeps one keyed HMAC for reuse: switching tenants must rekey it, repeating must reset it.
        var (keyA, keyB) = (RandomNumberGenerator.GetBytes(32), RandomNumberGenerator.GetBytes(32));
        var (a, b) = (new Pseudonymizer(keyA), new Pseudonymizer(keyB));
        byte[][] inputs = [[], [1], RandomNumberGenerator.GetBytes(1500), [1]];

        foreach (var data in inputs)
        {
            Assert.Equal(HMACSHA256.HashData(keyA, data), a.Digest(data));
            Assert.Equal(HMACSHA256.HashData(keyA, data), a.Digest(data));
            Assert.Equal(HMACSHA256.HashData(keyB, data), b.Digest(data));
            Assert.Equal(HMACSHA256.HashData(keyA, data), a.Digest(data));
        }
    }

    [Fact]
    public void Digest_ManyThreadsAtOnce_IsTheHmac()
    {
        var key = RandomNumberGenerator.GetBytes(32);
        var pseudonymizer = new Pseudonymizer(key);
        var wrong = 0;
        Parallel.For(0, 4_000, i =>
        {
            var data = BitConverter.GetBytes(i);
            if (!pseudonymizer.Digest(data).AsSpan().SequenceEqual(HMACSHA256.HashData(key, data)))
            {
                Interlocked.Increment(ref wrong);
            }
        });

        Assert.Equal(0, wrong);
    }
}
