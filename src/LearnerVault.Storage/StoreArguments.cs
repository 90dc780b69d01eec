namespace LearnerVault.Storage;

/// <summary>
/// The argument checks that every backend makes before it touches storage, in one place so that the backends reject
/// the same inputs with the same exceptions.
/// </summary>
internal static class StoreArguments
{
    /// <summary>A batch to write: not null, and each statement as <see cref="Check(StatementRecord)"/> says.</summary>
    public static void Check(IReadOnlyList<StatementRecord> batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        foreach (var statement in batch)
        {
            Check(statement);
        }
    }

    /// <summary>A statement to write: no null parts, every term storable (see <see cref="StoredTerm.From"/>), every attachment keyed, the learner (if any) not empty.</summary>
    /// <exception cref="ArgumentNullException">The statement or one of its parts is null.</exception>
    /// <exception cref="ArgumentException">A term cannot be stored, an attachment's hash key is empty, or the learner is empty.</exception>
    public static void Check(StatementRecord statement)
    {
        ArgumentNullException.ThrowIfNull(statement);
        ArgumentNullException.ThrowIfNull(statement.Blob, nameof(statement.Blob));
        ArgumentNullException.ThrowIfNull(statement.ContentHash, nameof(statement.ContentHash));
        ArgumentNullException.ThrowIfNull(statement.Terms, nameof(statement.Terms));
        foreach (var term in statement.Terms)
        {
            _ = StoredTerm.From(term);
        }

        if (statement.Learner is { Length: 0 })
        {
            // Empty would read back as a learner that matches no pseudonym: "no learner" is null.
            throw new ArgumentException("A statement's learner pseudonym must not be empty (null means no learner).", nameof(statement));
        }

        ArgumentNullException.ThrowIfNull(statement.Attachments, nameof(statement.Attachments));
        foreach (var attachment in statement.Attachments)
        {
            ArgumentNullException.ThrowIfNull(attachment, nameof(statement.Attachments));
            ArgumentNullException.ThrowIfNull(attachment.HashKey, nameof(attachment.HashKey));
            ArgumentNullException.ThrowIfNull(attachment.Blob, nameof(attachment.Blob));
            if (attachment.HashKey.Length == 0)
            {
                throw new ArgumentException("An attachment's hash key must not be empty.", nameof(statement));
            }
        }
    }

    /// <summary>A document address: every part present (empty, not null, where the kind lacks it) and a known kind.</summary>
    /// <exception cref="ArgumentNullException">The key or one of its parts is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The kind is not a <see cref="DocumentKind"/>.</exception>
    public static void Check(DocumentKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(key.Activity, nameof(key.Activity));
        ArgumentNullException.ThrowIfNull(key.Agent, nameof(key.Agent));
        ArgumentNullException.ThrowIfNull(key.Registration, nameof(key.Registration));
        ArgumentNullException.ThrowIfNull(key.Id, nameof(key.Id));
        if (!Enum.IsDefined(key.Kind))
        {
            throw new ArgumentOutOfRangeException(nameof(key), "Unknown document kind.");
        }
    }

    /// <summary>A document context: activity and agent present (the registration may be null: any) and a known kind.</summary>
    /// <exception cref="ArgumentNullException">The filter, its activity or its agent is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The kind is not a <see cref="DocumentKind"/>.</exception>
    public static void Check(DocumentFilter filter)
    {
        ArgumentNullException.ThrowIfNull(filter);
        ArgumentNullException.ThrowIfNull(filter.Activity, nameof(filter.Activity));
        ArgumentNullException.ThrowIfNull(filter.Agent, nameof(filter.Agent));
        if (!Enum.IsDefined(filter.Kind))
        {
            throw new ArgumentOutOfRangeException(nameof(filter), "Unknown document kind.");
        }
    }

    /// <summary>What a document write stores: no null blobs or tag.</summary>
    /// <exception cref="ArgumentNullException">The content or one of its parts is null.</exception>
    public static void Check(DocumentContent content)
    {
        ArgumentNullException.ThrowIfNull(content);
        ArgumentNullException.ThrowIfNull(content.Blob, nameof(content.Blob));
        ArgumentNullException.ThrowIfNull(content.IdBlob, nameof(content.IdBlob));
        ArgumentNullException.ThrowIfNull(content.ETag, nameof(content.ETag));
    }
}
