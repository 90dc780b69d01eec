using System.Buffers;
using System.Security.Cryptography;
using System.Text.Json;
using LearnerVault.Server.Pipeline;
using LearnerVault.Server.Statements;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;

namespace LearnerVault.Server.Endpoints;

/// <summary>
/// The body of a PUT or POST on /statements: the statements, and for multipart/mixed (Communication 1.5.2) the
/// attachment parts, each checked against its X-Experience-API-Hash while it streams in. The whole body stays within
/// Kestrel's request size limit, so the parts held in memory never exceed it.
/// </summary>
internal readonly struct StatementRequestBody(JsonDocument document, AttachmentParts? parts, RentedBody? rented = null) : IDisposable
{
    /// <summary>More parts than any real request has; bounds the work a body of tiny parts can cause.</summary>
    public const int MaxParts = 10_000;

    /// <summary>RFC 2046: a boundary has 1 to 70 characters.</summary>
    private const int MaxBoundaryLength = 70;

    public JsonDocument Document => document;

    /// <summary>Null for an application/json request.</summary>
    public AttachmentParts? Parts => parts;

    /// <summary>The document first: it reads the rented bytes in place until it is disposed.</summary>
    public void Dispose()
    {
        document.Dispose();
        rented?.Dispose();
    }

    /// <exception cref="XapiException">Anything malformed: wrong content type, bad JSON, a bad or truncated multipart body (400).</exception>
    public static async Task<StatementRequestBody> ReadAsync(HttpContext context, long maxBodyBytes)
    {
        // The common case (application/json) takes the JSON path without parsing the header twice.
        var contentType = context.Request.ContentType;
        if (contentType is not null && contentType.StartsWith("multipart/", StringComparison.OrdinalIgnoreCase)
            && MediaTypeHeaderValue.TryParse(contentType, out var mediaType)
            && mediaType.MediaType.Equals("multipart/mixed", StringComparison.OrdinalIgnoreCase))
        {
            return await ReadMultipartAsync(context, mediaType, maxBodyBytes);
        }

        var (document, rented) = await StatementsEndpoints.ReadJsonAsync(context);
        return new StatementRequestBody(document, null, rented);
    }

    private static async Task<StatementRequestBody> ReadMultipartAsync(HttpContext context, MediaTypeHeaderValue mediaType, long maxBodyBytes)
    {
        var boundary = HeaderUtilities.RemoveQuotes(mediaType.Boundary).ToString();
        if (string.IsNullOrWhiteSpace(boundary) || boundary.Length > MaxBoundaryLength)
        {
            throw new XapiException(400, "A multipart/mixed body needs a boundary parameter of 1 to 70 characters.");
        }

        var reader = new MultipartReader(boundary, context.Request.Body)
        {
            HeadersCountLimit = 16,
            HeadersLengthLimit = 16 * 1024,
            BodyLengthLimit = maxBodyBytes,
        };
        var cancellationToken = context.RequestAborted;
        JsonDocument? document = null;
        try
        {
            var first = await reader.ReadNextSectionAsync(cancellationToken)
                ?? throw new XapiException(400, "The multipart/mixed body has no part with the boundary given.");
            if (!MediaTypeHeaderValue.TryParse(first.ContentType, out var firstType)
                || !firstType.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase))
            {
                throw new XapiException(400, "The first part of a multipart/mixed body must be the statements, as application/json.");
            }

            document = StatementsEndpoints.ParseJson(await ReadAllAsync(first.Body, null, cancellationToken));
            var received = new AttachmentParts();
            var count = 0;
            while (await reader.ReadNextSectionAsync(cancellationToken) is { } section)
            {
                if (++count > MaxParts)
                {
                    throw new XapiException(400, $"A multipart/mixed body may hold at most {MaxParts} attachment parts.");
                }

                received.Add(await ReadPartAsync(section, cancellationToken));
            }

            return new StatementRequestBody(document, received);
        }
        catch (Exception exception) when (exception is InvalidDataException or (IOException and not BadHttpRequestException))
        {
            // Kestrel's own errors (body too large, connection lost) keep their status; the pipeline answers them.
            document?.Dispose();
            throw new XapiException(400, "The multipart/mixed body is malformed or truncated.");
        }
        catch
        {
            document?.Dispose();
            throw;
        }
    }

    private static async Task<AttachmentPart> ReadPartAsync(MultipartSection section, CancellationToken cancellationToken)
    {
        var headers = section.Headers!;
        if (!headers.TryGetValue("X-Experience-API-Hash", out var declared) || declared.Count != 1 || string.IsNullOrWhiteSpace(declared[0]))
        {
            throw new XapiException(400, "Each attachment part needs one X-Experience-API-Hash header.");
        }

        var sha2 = declared[0]!.Trim().ToLowerInvariant();
        HashAlgorithmName algorithm = sha2.Length switch
        {
            64 => HashAlgorithmName.SHA256,
            96 => HashAlgorithmName.SHA384,
            128 => HashAlgorithmName.SHA512,
            56 => throw new XapiException(400, "SHA-224 attachments are not supported: use SHA-256, SHA-384 or SHA-512."),
            _ => throw new XapiException(400, "An X-Experience-API-Hash header is not a SHA-2 hash in hexadecimal."),
        };
        if (!sha2.All(char.IsAsciiHexDigit))
        {
            throw new XapiException(400, "An X-Experience-API-Hash header is not a SHA-2 hash in hexadecimal.");
        }

        if (headers.TryGetValue("Content-Transfer-Encoding", out var encoding)
            && !encoding.ToString().Trim().Equals("binary", StringComparison.OrdinalIgnoreCase))
        {
            throw new XapiException(400, "Attachment parts must use Content-Transfer-Encoding: binary.");
        }

        using var hash = IncrementalHash.CreateHash(algorithm);
        var content = await ReadAllAsync(section.Body, hash, cancellationToken);
        if (!Convert.ToHexStringLower(hash.GetHashAndReset()).Equals(sha2, StringComparison.Ordinal))
        {
            throw new XapiException(400, "An attachment part's data does not match its X-Experience-API-Hash.");
        }

        return new AttachmentPart(sha2, section.ContentType, content);
    }

    /// <summary>Reads a part to its end (the reader bounds its length), hashing it on the way when asked.</summary>
    private static async Task<ReadOnlyMemory<byte>> ReadAllAsync(Stream body, IncrementalHash? hash, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        var chunk = ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            int read;
            while ((read = await body.ReadAsync(chunk, cancellationToken)) > 0)
            {
                hash?.AppendData(chunk, 0, read);
                buffer.Write(chunk, 0, read);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }

        return buffer.GetBuffer().AsMemory(0, (int)buffer.Length);
    }
}
