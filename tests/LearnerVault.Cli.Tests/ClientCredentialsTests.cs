using System.Buffers.Text;
using LearnerVault.Server.Administration;

namespace LearnerVault.Cli.Tests;

public sealed class ClientCredentialsTests
{
    [Fact]
    public void GenerateKey_Called_ReturnsTwentyUrlSafeCharacters()
    {
        var key = ClientCredentials.GenerateKey();

        Assert.Equal(20, key.Length);
        Assert.All(key, c => Assert.True(char.IsAsciiLetterOrDigit(c), $"'{c}'"));
    }

    [Fact]
    public void GenerateKey_ManyCalls_NeverRepeats()
    {
        var keys = Enumerable.Range(0, 1000).Select(_ => ClientCredentials.GenerateKey()).ToHashSet();

        Assert.Equal(1000, keys.Count);
    }

    [Fact]
    public void GenerateSecret_Called_HoldsAtLeast256BitsAsBase64Url()
    {
        var secret = ClientCredentials.GenerateSecret();

        Assert.True(Base64Url.IsValid(secret));
        Assert.True(Base64Url.DecodeFromChars(secret).Length >= 32);
        Assert.DoesNotContain('+', secret);
        Assert.DoesNotContain('/', secret);
        Assert.DoesNotContain('=', secret);
    }

    [Fact]
    public void Verify_RightSecret_ReturnsTrue()
    {
        var secret = ClientCredentials.GenerateSecret();

        Assert.True(ClientCredentials.Verify(secret, ClientCredentials.HashSecret(secret)));
    }

    [Fact]
    public void Verify_WrongSecret_ReturnsFalse()
    {
        var hash = ClientCredentials.HashSecret(ClientCredentials.GenerateSecret());

        Assert.False(ClientCredentials.Verify(ClientCredentials.GenerateSecret(), hash));
        Assert.False(ClientCredentials.Verify(string.Empty, hash));
    }

    [Fact]
    public void Verify_MalformedHash_ReturnsFalse()
    {
        var secret = ClientCredentials.GenerateSecret();

        Assert.False(ClientCredentials.Verify(secret, []));
        Assert.False(ClientCredentials.Verify(secret, ClientCredentials.HashSecret(secret)[..16]));
    }

    [Fact]
    public void HashSecret_Called_DoesNotContainTheSecret()
    {
        var secret = ClientCredentials.GenerateSecret();

        var hash = ClientCredentials.HashSecret(secret);

        Assert.Equal(32, hash.Length);
        Assert.NotEqual(System.Text.Encoding.UTF8.GetBytes(secret)[..32], hash);
    }
}
