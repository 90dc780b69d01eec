using System.Buffers.Text;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using static LearnerVault.Server.Tests.Multipart;
using static LearnerVault.Server.Tests.XapiJson;

namespace LearnerVault.Server.Tests;

/// <summary>Signed statements (Data 2.6) over real HTTP, with a throwaway RSA key and self-signed certificate.</summary>
public sealed class SignedStatementsTests(ServerFixture fixture) : IClassFixture<ServerFixture>, IDisposable
{
    private const string SignatureUsage = "http://adlnet.gov/expapi/attachments/signature";
    private static readonly DateTimeOffset NotBefore = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private readonly LearnerVaultAppFactory app = fixture.Factory;
    private readonly RSA key = RSA.Create(2048);
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public void Dispose() => key.Dispose();

    private X509Certificate2 Certificate() =>
        new CertificateRequest("CN=LearnerVault test signer", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)
            .CreateSelfSigned(NotBefore, NotBefore.AddYears(1));

    /// <summary>A compact JWS of <paramref name="payload"/> with the certificate in x5c.</summary>
    private byte[] Sign(JsonNode payload, string alg = "RS256")
    {
        using var certificate = Certificate();
        var header = new JsonObject { ["alg"] = alg, ["x5c"] = new JsonArray(Convert.ToBase64String(certificate.RawData)) };
        var input = Base64Url.EncodeToString(Encoding.UTF8.GetBytes(header.ToJsonString()))
            + "." + Base64Url.EncodeToString(Encoding.UTF8.GetBytes(payload.ToJsonString()));
        var data = Encoding.ASCII.GetBytes(input);
        var signature = alg switch
        {
            "RS384" => key.SignData(data, HashAlgorithmName.SHA384, RSASignaturePadding.Pkcs1),
            "RS512" => key.SignData(data, HashAlgorithmName.SHA512, RSASignaturePadding.Pkcs1),
            "HS256" => HMACSHA256.HashData(Encoding.ASCII.GetBytes("a shared secret, not an RSA key"), data),
            _ => key.SignData(data, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1),
        };
        return Encoding.ASCII.GetBytes(input + "." + Base64Url.EncodeToString(signature));
    }

    /// <summary>Posts <paramref name="statement"/> with <paramref name="jws"/> attached as its signature.</summary>
    private async Task<HttpResponseMessage> PostSignedAsync(JsonObject statement, byte[] jws, string contentType = "application/octet-stream")
    {
        statement["attachments"] = new JsonArray(AttachmentObject(jws, contentType, SignatureUsage));
        using var http = app.CreateClient();
        return await http.PostAsync("statements", Content(Part.Json(statement), Part.Attachment(jws, contentType)), Ct);
    }

    [Theory]
    [InlineData("RS256")]
    [InlineData("RS384")]
    [InlineData("RS512")]
    public async Task Post_SignedWithRsaAlgorithm_AcceptedAndSignatureReturned(string alg)
    {
        var id = Guid.NewGuid();
        var statement = Statement(id: id);
        var jws = Sign(statement, alg);

        var response = await PostSignedAsync(statement, jws);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var http = app.CreateClient();
        var parts = await ReadAsync(await http.GetAsync($"statements?statementId={id}&attachments=true", Ct));
        Assert.Equal(jws, parts[1].Body);
        Assert.Equal("application/octet-stream", parts[1].Headers["Content-Type"]);
    }

    [Fact]
    public async Task Post_SignedPayloadOfAnotherStatement_Rejected()
    {
        var id = Guid.NewGuid();
        var signed = Statement(id: id);
        var jws = Sign(signed);
        var tampered = Statement(id: id, verb: "http://adlnet.gov/expapi/verbs/passed");

        var response = await PostSignedAsync(tampered, jws);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var http = app.CreateClient();
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync($"statements?statementId={id}", Ct)).StatusCode);
    }

    [Fact]
    public async Task Post_SignatureBytesTampered_Rejected()
    {
        var statement = Statement(id: Guid.NewGuid());
        var jws = Sign(statement);
        jws[^5] = (byte)(jws[^5] == 'A' ? 'B' : 'A');

        Assert.Equal(HttpStatusCode.BadRequest, (await PostSignedAsync(statement, jws)).StatusCode);
    }

    [Fact]
    public async Task Post_SignedWithHs256_Rejected()
    {
        var statement = Statement(id: Guid.NewGuid());

        Assert.Equal(HttpStatusCode.BadRequest, (await PostSignedAsync(statement, Sign(statement, "HS256"))).StatusCode);
    }

    [Fact]
    public async Task Post_SignatureNotOctetStream_Rejected()
    {
        var statement = Statement(id: Guid.NewGuid());

        Assert.Equal(HttpStatusCode.BadRequest, (await PostSignedAsync(statement, Sign(statement), "text/plain")).StatusCode);
    }

    [Fact]
    public async Task Post_SignaturePayloadNotJson_Rejected()
    {
        var statement = Statement(id: Guid.NewGuid());
        var jws = Sign(statement);
        var dots = Encoding.ASCII.GetString(jws).Split('.');
        var broken = Encoding.ASCII.GetBytes($"{dots[0]}.{Base64Url.EncodeToString("{'not': json"u8)}.{dots[2]}");

        Assert.Equal(HttpStatusCode.BadRequest, (await PostSignedAsync(statement, broken)).StatusCode);
    }

    [Fact]
    public async Task Post_DurationMorePreciseThanSigned_Accepted()
    {
        var signed = Statement(id: Guid.NewGuid());
        signed["result"] = new JsonObject { ["duration"] = "P1DT12H36M0.12S" };
        var jws = Sign(signed);
        var received = (JsonObject)signed.DeepClone();
        received["result"]!["duration"] = "P1DT12H36M0.1237S";

        Assert.Equal(HttpStatusCode.OK, (await PostSignedAsync(received, jws)).StatusCode);
    }
}
