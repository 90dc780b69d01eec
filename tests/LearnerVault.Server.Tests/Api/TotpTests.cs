using System.Text;
using LearnerVault.Server.Accounts;

namespace LearnerVault.Server.Tests.Api;

/// <summary>
/// TOTP against the published vectors, so that codes match what authenticator apps compute (a test that derives its
/// expected codes from <see cref="Totp.Code"/> itself could not tell).
/// </summary>
public sealed class TotpTests
{
    /// <summary>The RFC 6238 Appendix B seed for HMAC-SHA1.</summary>
    private static readonly byte[] RfcSecret = Encoding.ASCII.GetBytes("12345678901234567890");

    /// <summary>RFC 6238 Appendix B, SHA-1 column; the vectors have 8 digits, a 6-digit code is their last 6.</summary>
    [Theory]
    [InlineData(59L, "287082")]
    [InlineData(1111111109L, "081804")]
    [InlineData(1111111111L, "050471")]
    [InlineData(1234567890L, "005924")]
    [InlineData(2000000000L, "279037")]
    [InlineData(20000000000L, "353130")]
    public void Code_Rfc6238Vectors_Match(long unixSeconds, string expected)
    {
        var step = Totp.StepAt(DateTimeOffset.FromUnixTimeSeconds(unixSeconds));

        Assert.Equal(expected, Totp.Code(RfcSecret, step));
    }

    [Fact]
    public void Base32_RfcSecret_IsWhatAuthenticatorAppsAreGiven()
    {
        Assert.Equal("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", Totp.Base32(RfcSecret));
    }

    [Theory]
    [InlineData(-1, true)]
    [InlineData(0, true)]
    [InlineData(1, true)]
    [InlineData(2, false)]
    [InlineData(-2, false)]
    public void Verify_OneStepOfDriftEitherSide_Accepted(int drift, bool accepted)
    {
        var now = DateTimeOffset.FromUnixTimeSeconds(1234567890);
        var code = Totp.Code(RfcSecret, Totp.StepAt(now) + drift);

        Assert.Equal(accepted, Totp.Verify(RfcSecret, code, now, lastUsedStep: 0) is not null);
    }

    [Fact]
    public void Verify_StepAlreadyUsed_Refused()
    {
        var now = DateTimeOffset.FromUnixTimeSeconds(1234567890);
        var code = Totp.Code(RfcSecret, Totp.StepAt(now));

        Assert.Null(Totp.Verify(RfcSecret, code, now, lastUsedStep: Totp.StepAt(now)));
    }
}
