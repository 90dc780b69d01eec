using System.Buffers.Text;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;

namespace LearnerVault.Xapi.Tests;

public sealed class StatementSignatureTests
{
    private static readonly DateTimeOffset NotBefore = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private const string Signed = """
        {
          "id": "11111111-2222-4333-8444-555555555555",
          "actor": { "objectType": "Agent", "name": "Learner One", "mbox": "mailto:learner1@example.com" },
          "verb": { "id": "http://example.com/xapi/verbs/completed", "display": { "en-US": "completed" } },
          "object": { "objectType": "Activity", "id": "http://example.com/xapi/activities/course-1" },
          "result": { "duration": "PT1M0.12S" },
          "timestamp": "2026-05-04T12:00:00-05:00"
        }
        """;

    private static byte[] Jws(string header, string payload, Func<byte[], byte[]> sign)
    {
        var input = Base64Url.EncodeToString(Encoding.UTF8.GetBytes(header)) + "." + Base64Url.EncodeToString(Encoding.UTF8.GetBytes(payload));
        return Encoding.ASCII.GetBytes(input + "." + Base64Url.EncodeToString(sign(Encoding.ASCII.GetBytes(input))));
    }

    private static byte[] SignRsa(string alg, string payload, bool withCertificate = true, RSA? signer = null)
    {
        using var rsa = RSA.Create(2048);
        using var certificate = new CertificateRequest("CN=LearnerVault test signer", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)
            .CreateSelfSigned(NotBefore, NotBefore.AddYears(1));
        var hash = alg switch { "RS384" => HashAlgorithmName.SHA384, "RS512" => HashAlgorithmName.SHA512, _ => HashAlgorithmName.SHA256 };
        var header = withCertificate
            ? $$"""{"alg":"{{alg}}","x5c":["{{Convert.ToBase64String(certificate.RawData)}}"]}"""
            : $$"""{"alg":"{{alg}}"}""";
        return Jws(header, payload, input => (signer ?? rsa).SignData(input, hash, RSASignaturePadding.Pkcs1));
    }

    /// <summary>The statement as the LRS received it with the signature attached (and as prepared, with what the LRS sets).</summary>
    private static JsonObject Received(string json = Signed)
    {
        var statement = TestJson.Prepare(json);
        statement["attachments"] = new JsonArray(new JsonObject { ["usageType"] = StatementSignature.UsageType });
        return statement;
    }

    [Theory]
    [InlineData("RS256")]
    [InlineData("RS384")]
    [InlineData("RS512")]
    public void Verify_RsaAlgorithmWithCertificate_Accepted(string alg)
    {
        Assert.Null(StatementSignature.Verify(SignRsa(alg, Signed), Received()));
    }

    [Fact]
    public void Verify_WithoutCertificate_AcceptedWhenWellFormed()
    {
        Assert.Null(StatementSignature.Verify(SignRsa("RS256", Signed, withCertificate: false), Received()));
    }

    [Fact]
    public void Verify_Hs256_Rejected()
    {
        var jws = Jws("""{"alg":"HS256"}""", Signed, input => HMACSHA256.HashData(new byte[32], input));

        Assert.Contains("RS256", StatementSignature.Verify(jws, Received()), StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_PayloadDiffersFromStatement_Rejected()
    {
        var tampered = Signed.Replace("course-1", "course-2", StringComparison.Ordinal);

        Assert.Contains("does not match", StatementSignature.Verify(SignRsa("RS256", tampered), Received()), StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_SignedByAnotherKeyThanTheCertificates_Rejected()
    {
        using var other = RSA.Create(2048);

        Assert.Contains("does not verify", StatementSignature.Verify(SignRsa("RS256", Signed, signer: other), Received()), StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_DurationBeyondHundredthsAndLrsSetProperties_Ignored()
    {
        var received = Received(Signed.Replace("0.12S", "0.1299S", StringComparison.Ordinal));
        var withoutId = TestJson.Object(Signed);
        withoutId.Remove("id");

        Assert.Null(StatementSignature.Verify(SignRsa("RS256", Signed), received));
        Assert.Null(StatementSignature.Verify(SignRsa("RS256", withoutId.ToJsonString()), Received()));
    }

    [Theory]
    [InlineData("")]
    [InlineData("abc")]
    [InlineData("a.b")]
    [InlineData("eyJhbGciOiJSUzI1NiJ9.e30.c2ln.extra")]
    [InlineData("eyJhbGciOiJSUzI1NiJ9..c2ln")]
    [InlineData("eyJhbGciOiJSUzI1NiJ9.e30.")]
    [InlineData("!!!.e30.c2ln")]
    public void Verify_NotACompactJws_Rejected(string jws)
    {
        Assert.NotNull(StatementSignature.Verify(Encoding.ASCII.GetBytes(jws), Received()));
    }

    [Theory]
    [InlineData("{'actor': 1}")]
    [InlineData("[1, 2]")]
    public void Verify_PayloadNotAJsonObject_Rejected(string payload)
    {
        Assert.NotNull(StatementSignature.Verify(SignRsa("RS256", payload), Received()));
    }

    [Fact]
    public void Verify_CertificateWithoutRsaKey_Rejected()
    {
        using var ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var certificate = new CertificateRequest("CN=not rsa", ecdsa, HashAlgorithmName.SHA256).CreateSelfSigned(NotBefore, NotBefore.AddYears(1));
        using var rsa = RSA.Create(2048);
        var header = $$"""{"alg":"RS256","x5c":["{{Convert.ToBase64String(certificate.RawData)}}"]}""";
        var jws = Jws(header, Signed, input => rsa.SignData(input, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1));

        Assert.Contains("RSA", StatementSignature.Verify(jws, Received()), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"alg":"RS256","x5c":"not-an-array"}""")]
    [InlineData("""{"alg":"RS256","x5c":["not base64 !"]}""")]
    [InlineData("""{"alg":"RS256","crit":["b64"],"b64":false}""")]
    [InlineData("""{"typ":"JWT"}""")]
    public void Verify_BadHeader_Rejected(string header)
    {
        using var rsa = RSA.Create(2048);
        var jws = Jws(header, Signed, input => rsa.SignData(input, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1));

        Assert.NotNull(StatementSignature.Verify(jws, Received()));
    }
}
