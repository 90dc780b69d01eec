using System.Buffers.Text;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace LearnerVault.Xapi;

/// <summary>
/// Signed statements (Data 2.6): the checks an LRS must make on a JWS carried as a signature attachment. The JWS is
/// decoded, its algorithm must be RS256, RS384 or RS512, its payload must be the statement (compared by the statement
/// comparison rules, so what the LRS may change and precision beyond 0.01 s in durations do not count), and when its
/// header carries an X.509 chain (x5c) the signature must verify with the first certificate's RSA key. Without x5c
/// only the form can be checked. Like the specification says, this catches mistakes; it does not authenticate anyone
/// (the certificate chain is not validated).
/// </summary>
public static class StatementSignature
{
    public const string UsageType = "http://adlnet.gov/expapi/attachments/signature";
    public const string ContentType = "application/octet-stream";

    /// <summary>Bounds the JWS header: a few certificates at most, never a reason to parse megabytes.</summary>
    private const int MaxHeaderBytes = 64 * 1024;

    private static readonly JsonDocumentOptions HeaderOptions = new() { MaxDepth = 8, AllowDuplicateProperties = false };
    private static readonly JsonNodeOptions NodeOptions = new() { PropertyNameCaseInsensitive = false };
    private static readonly JsonDocumentOptions PayloadOptions = new() { MaxDepth = 64, AllowDuplicateProperties = false };

    /// <summary>Verifies a JWS (compact serialization) against the statement it was attached to.</summary>
    /// <param name="jws">The attachment's content.</param>
    /// <param name="statement">The received statement (as validated and prepared; attachments and the properties the
    /// LRS sets are ignored by the comparison).</param>
    /// <returns>Null when the signature is acceptable, else why not (safe to show: it never quotes the request).</returns>
    public static string? Verify(ReadOnlySpan<byte> jws, JsonObject statement)
    {
        ArgumentNullException.ThrowIfNull(statement);
        jws = jws.Trim(" \t\r\n"u8);
        var firstDot = jws.IndexOf((byte)'.');
        var lastDot = jws.LastIndexOf((byte)'.');
        if (firstDot <= 0 || lastDot == firstDot || lastDot == jws.Length - 1 || jws[(firstDot + 1)..lastDot].Contains((byte)'.'))
        {
            return "The signature is not a JWS in compact serialization (header.payload.signature).";
        }

        var headerPart = jws[..firstDot];
        var payloadPart = jws[(firstDot + 1)..lastDot];
        var signaturePart = jws[(lastDot + 1)..];
        if (headerPart.Length > MaxHeaderBytes * 4 / 3 + 4
            || Decode(headerPart) is not { } headerBytes
            || Decode(payloadPart) is not { Length: > 0 } payloadBytes
            || Decode(signaturePart) is not { Length: > 0 } signature)
        {
            return "The signature's JWS parts are not valid base64url.";
        }

        string alg;
        string[]? chain = null;
        try
        {
            using var header = JsonDocument.Parse(headerBytes, HeaderOptions);
            var root = header.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("alg", out var algElement) || algElement.ValueKind != JsonValueKind.String)
            {
                return "The signature's JWS header must be an object with an alg.";
            }

            alg = algElement.GetString()!;
            if (root.TryGetProperty("crit", out _))
            {
                return "The signature's JWS header uses critical extensions, which are not supported.";
            }

            if (root.TryGetProperty("x5c", out var x5c))
            {
                if (x5c.ValueKind != JsonValueKind.Array || x5c.GetArrayLength() == 0 || x5c.EnumerateArray().Any(c => c.ValueKind != JsonValueKind.String))
                {
                    return "The signature's x5c header must be a non-empty array of certificates.";
                }

                chain = [.. x5c.EnumerateArray().Select(c => c.GetString()!)];
            }
        }
        catch (JsonException)
        {
            return "The signature's JWS header is not valid JSON.";
        }

        HashAlgorithmName hash;
        switch (alg)
        {
            case "RS256":
                hash = HashAlgorithmName.SHA256;
                break;
            case "RS384":
                hash = HashAlgorithmName.SHA384;
                break;
            case "RS512":
                hash = HashAlgorithmName.SHA512;
                break;
            default:
                return "The signature must use the algorithm RS256, RS384 or RS512.";
        }

        JsonObject? signed;
        try
        {
            signed = JsonNode.Parse(payloadBytes, NodeOptions, PayloadOptions) as JsonObject;
        }
        catch (JsonException)
        {
            signed = null;
        }

        if (signed is null)
        {
            return "The signature's payload is not a JSON statement.";
        }

        if (!StatementComparison.ComparisonForm(signed).AsSpan().SequenceEqual(StatementComparison.ComparisonForm(statement)))
        {
            return "The signature's payload does not match the statement.";
        }

        if (chain is not null)
        {
            var signingInput = jws[..lastDot];
            return VerifyWithCertificate(chain[0], signingInput, signature, hash);
        }

        return null;
    }

    private static string? VerifyWithCertificate(string certificateBase64, ReadOnlySpan<byte> signingInput, byte[] signature, HashAlgorithmName hash)
    {
        try
        {
            // x5c holds standard base64 DER (RFC 7515 4.1.6), not base64url.
            using var certificate = X509CertificateLoader.LoadCertificate(Convert.FromBase64String(certificateBase64));
            using var rsa = certificate.GetRSAPublicKey();
            if (rsa is null)
            {
                return "The signature's certificate does not hold an RSA key.";
            }

            return rsa.VerifyData(signingInput, signature, hash, RSASignaturePadding.Pkcs1)
                ? null
                : "The signature does not verify with the certificate in its x5c header.";
        }
        catch (Exception exception) when (exception is FormatException or CryptographicException)
        {
            return "The signature's x5c certificate cannot be read.";
        }
    }

    private static byte[]? Decode(ReadOnlySpan<byte> base64Url)
    {
        if (!Base64Url.IsValid(base64Url, out var length))
        {
            return null;
        }

        var bytes = new byte[length];
        return Base64Url.DecodeFromUtf8(base64Url, bytes) == length ? bytes : null;
    }
}
