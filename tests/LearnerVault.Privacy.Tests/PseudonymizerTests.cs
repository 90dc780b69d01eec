using System.Security.Cryptography;

namespace LearnerVault.Privacy.Tests;

/// <summary>Digests, pseudonyms and terms are HMAC-SHA256 under the pseudonymizer's own key, however calls interleave.</summary>
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
        AssertRightFromManyThreads(i =>
        {
            var data = BitConverter.GetBytes(i);
            return pseudonymizer.Digest(data).AsSpan().SequenceEqual(HMACSHA256.HashData(key, data));
        });
    }

    [Fact]
    public void PseudonymAndTerm_InterleavedWithDigestsAndTenants_AreEachTenantsHmacOfNamespaceZeroValue()
    {
        // One keyed HMAC per thread serves digests and pseudonyms: each call must start from the keyed state.
        var (keyA, keyB) = (RandomNumberGenerator.GetBytes(32), RandomNumberGenerator.GetBytes(32));
        var (a, b) = (new Pseudonymizer(keyA), new Pseudonymizer(keyB));
        string[] values = ["", "mailto:ana@example.org", "https://sso.example.org::élève-42 ✓", new string('x', 400), new string('é', 3000)];
        static byte[] Expected(byte[] key, string ns, string value) => HMACSHA256.HashData(key, System.Text.Encoding.UTF8.GetBytes(ns + "\0" + value));

        foreach (var value in values)
        {
            Assert.Equal(Expected(keyA, "agent", value), a.Pseudonym("agent", value));
            Assert.Equal(HMACSHA256.HashData(keyA, new byte[] { 1, 2 }), a.Digest([1, 2]));
            Assert.Equal(Expected(keyB, "agent", value)[..Pseudonymizer.TermLength], b.Term("agent", value));
            Assert.Equal(Expected(keyA, "learner", value)[..Pseudonymizer.TermLength], a.Term("learner", value));
            Assert.Equal(Expected(keyA, "learner", value), a.Pseudonym("learner", value));
        }
    }

    [Fact]
    public void Pseudonym_ManyThreadsAtOnce_IsTheHmac()
    {
        var key = RandomNumberGenerator.GetBytes(32);
        var pseudonymizer = new Pseudonymizer(key);
        AssertRightFromManyThreads(i =>
        {
            var value = "mailto:learner" + i + "@example.org";
            var expected = HMACSHA256.HashData(key, System.Text.Encoding.UTF8.GetBytes("agent\0" + value));
            return pseudonymizer.Pseudonym("agent", value).AsSpan().SequenceEqual(expected);
        });
    }

    /// <summary>Runs <paramref name="right"/> for 4,000 inputs from the thread pool at once; every call must be right.</summary>
    private static void AssertRightFromManyThreads(Func<int, bool> right)
    {
        var wrong = 0;
        Parallel.For(0, 4_000, i =>
        {
            if (!right(i))
            {
                Interlocked.Increment(ref wrong);
            }
        });

        Assert.Equal(0, wrong);
    }
}
