using System.Buffers.Binary;
using System.Security.Cryptography;
using Npgsql;

namespace LearnerVault.Storage.Postgres;

/// <summary>
/// Documents of the State, Activity Profile and Agent Profile resources in the data schema. Several server processes
/// may write the same document, so a write (and a single delete) runs in a transaction that first takes a
/// transaction-scoped advisory lock on a 64-bit hash of the document's address, then reads the current entity tag
/// (<c>FOR UPDATE</c>), checks the precondition and writes. The lock serialises writers of one address even when no row
/// exists yet (two creates with If-None-Match: *), which a row lock alone cannot; the row lock makes a concurrent
/// delete-all of the context wait for the write instead of slipping between its check and its write. Two different
/// addresses whose hashes collide merely wait for each other. Reads take no lock.
/// </summary>
internal sealed class PostgresDocumentStore(NpgsqlDataSource data, TimeProvider time) : IDocumentStore
{
    private const string KeyWhere =
        "tenant_id = @t AND kind = @k AND activity = @a AND agent = @g AND registration = @r AND doc = @d";

    private const string ListColumns = "SELECT registration, doc, key_id, id_blob, updated, restricted FROM documents";

    private const string ContextWhere = "tenant_id = @t AND kind = @k AND activity = @a AND agent = @g";

    public async Task<StoredDocument?> GetAsync(Guid tenantId, DocumentKey key, CancellationToken cancellationToken = default)
    {
        StoreArguments.Check(key);
        await using var command = data.CreateCommand($"SELECT key_id, blob, id_blob, etag, updated, restricted FROM documents WHERE {KeyWhere};");
        AddKeyParameters(command, tenantId, key);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken)
            ? new StoredDocument(
                reader.GetInt64(0),
                reader.GetFieldValue<byte[]>(1),
                reader.GetFieldValue<byte[]>(2),
                reader.GetFieldValue<byte[]>(3),
                reader.GetFieldValue<DateTimeOffset>(4))
            {
                Restricted = reader.GetBoolean(5),
            }
            : null;
    }

    /// <summary>Oldest update first; documents updated in the same microsecond (different documents can be) in address
    /// order, so that a listing is stable.</summary>
    public async Task<IReadOnlyList<StoredDocumentId>> ListAsync(Guid tenantId, DocumentFilter filter, DateTimeOffset? since, CancellationToken cancellationToken = default)
    {
        StoreArguments.Check(filter);
        var registration = filter.Registration is null ? string.Empty : " AND registration = @r";
        var after = since is null ? string.Empty : " AND updated > @since";
        await using var command = data.CreateCommand(
            $"{ListColumns} WHERE {ContextWhere}{registration}{after} ORDER BY updated, registration, doc;");
        AddFilterParameters(command, tenantId, filter);
        if (since is { } s)
        {
            // Stored times are whole microseconds, so "updated > floor(since)" is exactly "updated > since".
            command.Parameters.AddWithValue("since", PostgresTimestamps.Floor(s));
        }

        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var result = new List<StoredDocumentId>();
        while (await reader.ReadAsync(cancellationToken))
        {
            result.Add(new StoredDocumentId(
                reader.GetFieldValue<byte[]>(0),
                reader.GetFieldValue<byte[]>(1),
                reader.GetInt64(2),
                reader.GetFieldValue<byte[]>(3),
                reader.GetFieldValue<DateTimeOffset>(4))
            {
                Restricted = reader.GetBoolean(5),
            });
        }

        return result;
    }

    public async Task<DocumentWriteResult> PutAsync(Guid tenantId, DocumentKey key, DocumentContent content, DocumentPrecondition precondition, CancellationToken cancellationToken = default)
    {
        StoreArguments.Check(key);
        StoreArguments.Check(content);
        ArgumentNullException.ThrowIfNull(precondition);

        await using var connection = await data.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var (currentTag, previous) = await LockAndReadAsync(connection, transaction, tenantId, key, cancellationToken);
        if (precondition.Check(currentTag) is { } refused)
        {
            await transaction.RollbackAsync(cancellationToken);
            return new DocumentWriteResult(refused, null);
        }

        var now = PostgresTimestamps.Floor(time.GetUtcNow());
        var updated = previous is { } p && now <= p ? PostgresTimestamps.OneMicrosecondAfter(p) : now;
        await using (var command = new NpgsqlCommand("""
            INSERT INTO documents (tenant_id, kind, activity, agent, registration, doc, key_id, blob, id_blob, etag, updated, restricted)
            VALUES (@t, @k, @a, @g, @r, @d, @key, @blob, @idBlob, @etag, @updated, @restricted)
            ON CONFLICT (tenant_id, kind, activity, agent, registration, doc) DO UPDATE SET
                key_id = excluded.key_id, blob = excluded.blob, id_blob = excluded.id_blob,
                etag = excluded.etag, updated = excluded.updated,
                restricted = documents.restricted OR excluded.restricted; -- sticky: see DocumentContent.Restricted
            """, connection, transaction))
        {
            AddKeyParameters(command, tenantId, key);
            command.Parameters.AddWithValue("key", content.KeyId);
            command.Parameters.AddWithValue("blob", content.Blob);
            command.Parameters.AddWithValue("idBlob", content.IdBlob);
            command.Parameters.AddWithValue("etag", content.ETag);
            command.Parameters.AddWithValue("updated", updated);
            command.Parameters.AddWithValue("restricted", content.Restricted);
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        return new DocumentWriteResult(currentTag is null ? DocumentOutcome.Created : DocumentOutcome.Replaced, updated);
    }

    public async Task<DocumentOutcome> DeleteAsync(Guid tenantId, DocumentKey key, DocumentPrecondition precondition, CancellationToken cancellationToken = default)
    {
        StoreArguments.Check(key);
        ArgumentNullException.ThrowIfNull(precondition);
        await using var connection = await data.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var (currentTag, _) = await LockAndReadAsync(connection, transaction, tenantId, key, cancellationToken);
        var refused = precondition.Check(currentTag) ?? (currentTag is null ? DocumentOutcome.NotFound : (DocumentOutcome?)null);
        if (refused is { } outcome)
        {
            await transaction.RollbackAsync(cancellationToken);
            return outcome;
        }

        await using (var command = new NpgsqlCommand($"DELETE FROM documents WHERE {KeyWhere};", connection, transaction))
        {
            AddKeyParameters(command, tenantId, key);
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        return DocumentOutcome.Deleted;
    }

    /// <summary>One statement, no advisory locks: it waits on the row lock of any write in flight in the context (which
    /// holds its row <c>FOR UPDATE</c>) and then deletes the row as that write left it.</summary>
    public async Task<int> DeleteAllAsync(Guid tenantId, DocumentFilter filter, CancellationToken cancellationToken = default)
    {
        StoreArguments.Check(filter);
        var registration = filter.Registration is null ? string.Empty : " AND registration = @r";
        await using var command = data.CreateCommand($"DELETE FROM documents WHERE {ContextWhere}{registration};");
        AddFilterParameters(command, tenantId, filter);
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Takes the address's advisory lock (held until the transaction ends), then reads the current entity tag
    /// and update time, locking the row when there is one. Under READ COMMITTED the read, a statement after the lock
    /// was granted, sees whatever the previous holder committed.</summary>
    private static async Task<(byte[]? ETag, DateTimeOffset? Updated)> LockAndReadAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, Guid tenantId, DocumentKey key, CancellationToken cancellationToken)
    {
        await using (var lockCommand = new NpgsqlCommand("SELECT pg_advisory_xact_lock(@lock);", connection, transaction))
        {
            lockCommand.Parameters.AddWithValue("lock", LockKey(tenantId, key));
            await lockCommand.ExecuteNonQueryAsync(cancellationToken);
        }

        await using var command = new NpgsqlCommand($"SELECT etag, updated FROM documents WHERE {KeyWhere} FOR UPDATE;", connection, transaction);
        AddKeyParameters(command, tenantId, key);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken)
            ? (reader.GetFieldValue<byte[]>(0), reader.GetFieldValue<DateTimeOffset>(1))
            : (null, null);
    }

    /// <summary>
    /// The advisory lock key of a document address: the first 8 bytes of a SHA-256 over a domain label, the tenant, the
    /// kind and each part prefixed by its length (so that no two addresses share an encoding). Computed here rather
    /// than with hashtext() so that it is 64 bits wide and does not depend on the server's hash function.
    /// </summary>
    internal static long LockKey(Guid tenantId, DocumentKey key)
    {
        ReadOnlySpan<byte> label = "learnervault.document\0"u8;
        var length = label.Length + 16 + 1 + (4 * 4) + key.Activity.Length + key.Agent.Length + key.Registration.Length + key.Id.Length;
        var buffer = new byte[length];
        var span = buffer.AsSpan();
        label.CopyTo(span);
        var offset = label.Length;
        tenantId.TryWriteBytes(span[offset..], bigEndian: true, out _);
        offset += 16;
        span[offset++] = (byte)key.Kind;
        foreach (var part in (byte[][])[key.Activity, key.Agent, key.Registration, key.Id])
        {
            BinaryPrimitives.WriteInt32BigEndian(span[offset..], part.Length);
            offset += 4;
            part.CopyTo(span[offset..]);
            offset += part.Length;
        }

        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(buffer, hash);
        return BinaryPrimitives.ReadInt64BigEndian(hash);
    }

    private static void AddKeyParameters(NpgsqlCommand command, Guid tenantId, DocumentKey key)
    {
        command.Parameters.AddWithValue("t", tenantId);
        command.Parameters.AddWithValue("k", (short)key.Kind);
        command.Parameters.AddWithValue("a", key.Activity);
        command.Parameters.AddWithValue("g", key.Agent);
        command.Parameters.AddWithValue("r", key.Registration);
        command.Parameters.AddWithValue("d", key.Id);
    }

    private static void AddFilterParameters(NpgsqlCommand command, Guid tenantId, DocumentFilter filter)
    {
        command.Parameters.AddWithValue("t", tenantId);
        command.Parameters.AddWithValue("k", (short)filter.Kind);
        command.Parameters.AddWithValue("a", filter.Activity);
        command.Parameters.AddWithValue("g", filter.Agent);
        if (filter.Registration is { } registration)
        {
            command.Parameters.AddWithValue("r", registration);
        }
    }
}
