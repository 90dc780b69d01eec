using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using LearnerVault.Privacy;
using LearnerVault.Storage;
using LearnerVault.Xapi;
using Microsoft.Net.Http.Headers;

namespace LearnerVault.Server.Statements;

/// <summary>An attachment's data as returned to a client.</summary>
/// <param name="Sha2">Lower-case hexadecimal, as the statement declares it.</param>
public sealed record AttachmentContent(string Sha2, string ContentType, ReadOnlyMemory<byte> Content);

/// <summary>
/// Statement attachments in and out. In: every attachment without a fileUrl must come with a part holding its data;
/// a part's Content-Type must agree with the attachment's contentType; a signature attachment must be a JWS over the
/// statement (Data 2.6); every part must be claimed. The data is sealed under the tenant's data key (shared content
/// must stay readable when one learner is erased) and addressed by a keyed pseudonym of its sha2. Out: the data that
/// the returned statements carried as parts, and only that.
/// </summary>
public sealed class StatementAttachments(IStatementStore store, IKeyStore keys, TenantCrypto crypto)
{
    /// <summary>
    /// Checks the attachments of a batch against the request's parts and gives each record the contents it carries.
    /// Statements without attachments cost one property lookup each.
    /// </summary>
    /// <param name="parts">Null for an application/json request (then every attachment needs a fileUrl).</param>
    /// <exception cref="StatementRejectedException">A missing, extra or mismatched part, or a bad signature (400).</exception>
    public void Attach(Guid tenantId, IReadOnlyList<JsonElement> statements, StatementRecord[] records, AttachmentParts? parts)
    {
        for (var i = 0; i < statements.Count; i++)
        {
            if (statements[i].TryGetProperty("attachments"u8, out var declared) && declared.GetArrayLength() > 0)
            {
                var where = statements.Count > 1 ? $"Statement {i}: " : string.Empty;
                var carried = Collect(tenantId, statements[i], declared, parts, where);
                if (carried.Count > 0)
                {
                    records[i] = records[i] with { Attachments = carried };
                }
            }
        }

        parts?.EnsureAllClaimed();
    }

    private List<AttachmentRecord> Collect(Guid tenantId, JsonElement statement, JsonElement declared, AttachmentParts? parts, string where)
    {
        var carried = new List<AttachmentRecord>();
        var index = 0;
        foreach (var attachment in declared.EnumerateArray())
        {
            var at = $"{where}attachment {index++}: ";
            var sha2 = attachment.GetProperty("sha2"u8).GetString()!.ToLowerInvariant();
            var contentType = attachment.GetProperty("contentType"u8).GetString()!;
            var hasFileUrl = attachment.TryGetProperty("fileUrl"u8, out _);
            var isSignature = attachment.GetProperty("usageType"u8).ValueEquals(StatementSignature.UsageType);
            if (isSignature && !SameMediaType(contentType, StatementSignature.ContentType))
            {
                throw new StatementRejectedException(400, at + "a signature attachment must have the contentType application/octet-stream.");
            }

            var part = parts?.Claim(sha2);
            if (part is null)
            {
                if (hasFileUrl && !isSignature)
                {
                    continue;
                }

                throw new StatementRejectedException(400, at + (isSignature
                    ? "the signature's JWS must be sent as a multipart/mixed part."
                    : parts is null
                        ? "an attachment without fileUrl needs its data in a multipart/mixed request."
                        : "no part carries the data of this attachment (X-Experience-API-Hash equal to its sha2)."));
            }

            if (part.ContentType is { } partType && !SameMediaType(partType, contentType))
            {
                throw new StatementRejectedException(400, at + "the part's Content-Type differs from the attachment's contentType.");
            }

            if (isSignature)
            {
                // Compared with the statement as received: the comparison ignores what the LRS adds.
                var received = JsonObject.Create(statement.Clone())!;
                if (StatementSignature.Verify(part.Content.Span, received) is { } error)
                {
                    throw new StatementRejectedException(400, at + error);
                }
            }

            carried.Add(part.Sealed ??= Seal(tenantId, part.Sha2, contentType, part.Content));
        }

        return carried;
    }

    /// <summary>
    /// The data of the given statements' attachments, one per distinct sha2 in order of first appearance: only data
    /// that one of these statements carried when it was stored, so a reader never receives data on the strength of a
    /// sha2 alone. Attachments known only by fileUrl, and data under a destroyed key, are left out.
    /// </summary>
    /// <param name="statements">Each opened statement with its <see cref="StoredStatement.Sequence"/>.</param>
    public async Task<IReadOnlyList<AttachmentContent>> ReadAsync(Guid tenantId, IReadOnlyList<(JsonObject Statement, long Sequence)> statements, CancellationToken cancellationToken)
    {
        var wanted = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var carriers = new List<long>();
        foreach (var (statement, sequence) in statements)
        {
            foreach (var node in statement["attachments"] as JsonArray ?? [])
            {
                if (node is JsonObject attachment && attachment["sha2"] is JsonValue value && value.TryGetValue<string>(out var sha2)
                    && seen.Add(sha2.ToLowerInvariant()))
                {
                    wanted.Add(sha2.ToLowerInvariant());
                }
            }

            if (statement["attachments"] is JsonArray { Count: > 0 })
            {
                carriers.Add(sequence);
            }
        }

        if (wanted.Count == 0)
        {
            return [];
        }

        var hashKeys = wanted.ConvertAll(sha2 => crypto.AttachmentKey(tenantId, sha2));
        var stored = await store.GetAttachmentsAsync(tenantId, hashKeys, carriers, cancellationToken);
        var byKey = stored.ToDictionary(a => Convert.ToHexString(a.HashKey), StringComparer.Ordinal);
        var contents = new List<AttachmentContent>(stored.Count);
        for (var i = 0; i < wanted.Count; i++)
        {
            if (byKey.TryGetValue(Convert.ToHexString(hashKeys[i]), out var attachment) && Open(tenantId, attachment) is { } opened)
            {
                contents.Add(new AttachmentContent(wanted[i], opened.ContentType, opened.Content));
            }
        }

        return contents;
    }

    /// <summary>Plaintext: content type length (4 bytes, big-endian), content type (UTF-8), content. The content type
    /// is sealed too: its parameters may name a file, and file names can be personal data.</summary>
    private AttachmentRecord Seal(Guid tenantId, string sha2, string contentType, ReadOnlyMemory<byte> content)
    {
        var key = keys.GetTenantDataKey(tenantId);
        var hashKey = crypto.AttachmentKey(tenantId, sha2);
        var typeLength = Encoding.UTF8.GetByteCount(contentType);
        var plaintext = new byte[4 + typeLength + content.Length];
        BinaryPrimitives.WriteInt32BigEndian(plaintext, typeLength);
        Encoding.UTF8.GetBytes(contentType, plaintext.AsSpan(4));
        content.Span.CopyTo(plaintext.AsSpan(4 + typeLength));
        var blob = EnvelopeCipher.Encrypt(key.Key, plaintext, AssociatedData(tenantId, hashKey));
        return new AttachmentRecord(hashKey, key.Id, blob);
    }

    private (string ContentType, ReadOnlyMemory<byte> Content)? Open(Guid tenantId, StoredAttachment attachment)
    {
        var key = keys.GetDataKey(tenantId, attachment.KeyId);
        if (key is null)
        {
            return null;
        }

        var plaintext = EnvelopeCipher.Decrypt(key.Key, attachment.Blob, AssociatedData(tenantId, attachment.HashKey));
        var typeLength = BinaryPrimitives.ReadInt32BigEndian(plaintext);
        return (Encoding.UTF8.GetString(plaintext, 4, typeLength), plaintext.AsMemory(4 + typeLength));
    }

    /// <summary>Binds a blob to its tenant and content address, so that it cannot be moved onto another row.</summary>
    private static byte[] AssociatedData(Guid tenantId, byte[] hashKey) =>
        EnvelopeCipher.AssociatedData(tenantId, new Guid(hashKey.AsSpan(0, 16)));

    /// <summary>Media types agree when type and subtype do (case-insensitively); parameters are not compared.</summary>
    internal static bool SameMediaType(string a, string b) =>
        MediaTypeHeaderValue.TryParse(a, out var x) && MediaTypeHeaderValue.TryParse(b, out var y)
            ? x.MediaType.Equals(y.MediaType, StringComparison.OrdinalIgnoreCase)
            : string.Equals(a.Trim(), b.Trim(), StringComparison.OrdinalIgnoreCase);
}
