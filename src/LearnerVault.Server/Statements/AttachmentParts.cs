using LearnerVault.Storage;

namespace LearnerVault.Server.Statements;

/// <summary>One attachment part of a multipart/mixed request, already checked against its X-Experience-API-Hash.</summary>
/// <param name="Sha2">The hash the part declared and matched: lower-case hexadecimal.</param>
/// <param name="ContentType">The part's Content-Type header, if it had one.</param>
/// <param name="Content">The raw data.</param>
public sealed record AttachmentPart(string Sha2, string? ContentType, ReadOnlyMemory<byte> Content)
{
    /// <summary>True once an attachment of the request's statements claimed the part.</summary>
    internal bool Used { get; set; }

    /// <summary>The sealed content, so that a part shared by several statements of a batch is encrypted once.</summary>
    internal AttachmentRecord? Sealed { get; set; }
}

/// <summary>
/// The attachment parts of one request, by sha2. Every part must be claimed by an attachment of the request's
/// statements: a part no statement declares is an error (Communication 1.5.2), not something to store.
/// </summary>
public sealed class AttachmentParts
{
    private readonly Dictionary<string, AttachmentPart> parts = new(StringComparer.Ordinal);

    public int Count => parts.Count;

    /// <summary>Adds a part; a second part with the same (already matched) hash holds the same data and is dropped.</summary>
    public void Add(AttachmentPart part)
    {
        ArgumentNullException.ThrowIfNull(part);
        parts.TryAdd(part.Sha2, part);
    }

    /// <summary>The part carrying the data with this sha2 (lower-case hexadecimal), marked as claimed; null if none.</summary>
    public AttachmentPart? Claim(string sha2)
    {
        if (!parts.TryGetValue(sha2, out var part))
        {
            return null;
        }

        part.Used = true;
        return part;
    }

    /// <exception cref="StatementRejectedException">A part is not claimed by any attachment (400).</exception>
    public void EnsureAllClaimed()
    {
        foreach (var part in parts.Values)
        {
            if (!part.Used)
            {
                throw new StatementRejectedException(400, "A multipart part matches no attachment (sha2) of the statements.");
            }
        }
    }
}
