using Microsoft.Data.Sqlite;

namespace LearnerVault.Storage.Sqlite;

/// <summary>
/// Documents of the State, Activity Profile and Agent Profile resources in the data file. Reads use the shared WAL
/// reader pool; writes go through <see cref="SerialWriter"/>: the current entity tag is read and the document written in
/// one step of the data file's single writer, so a precondition can never be overtaken between its check and the write.
/// </summary>
public sealed class SqliteDocumentStore : IDocumentStore
{
    private const string KeyWhere = "tenant_no = $t AND kind = $k AND activity = $a AND agent = $g AND registration = $r AND doc = $d";

    private const string GetSql = $"SELECT key_id, blob, id_blob, etag, updated, restricted FROM documents WHERE {KeyWhere};";

    private const string ListAnyRegistrationSql = """
        SELECT registration, doc, key_id, id_blob, updated, restricted FROM documents
        WHERE tenant_no = $t AND kind = $k AND activity = $a AND agent = $g AND updated > $since
        ORDER BY updated;
        """;

    private const string ListOneRegistrationSql = """
        SELECT registration, doc, key_id, id_blob, updated, restricted FROM documents
        WHERE tenant_no = $t AND kind = $k AND activity = $a AND agent = $g AND registration = $r AND updated > $since
        ORDER BY updated;
        """;

    private readonly SerialWriter writer;
    private readonly SqliteReaderPool readers;
    private readonly TenantDirectory tenants;

    internal SqliteDocumentStore(SerialWriter writer, SqliteReaderPool readers, TenantDirectory tenants)
    {
        this.writer = writer;
        this.readers = readers;
        this.tenants = tenants;
    }

    public async Task<StoredDocument?> GetAsync(Guid tenantId, DocumentKey key, CancellationToken cancellationToken = default)
    {
        StoreArguments.Check(key);
        using var lease = await readers.RentAsync(cancellationToken);
        var reader = lease.Reader;
        if (tenants.Find(reader, tenantId) is not { } tenantNo)
        {
            return null;
        }

        var command = reader.Command(GetSql, KeyParameters);
        Bind(command, tenantNo, key);
        using var row = command.ExecuteReader();
        return row.Read()
            ? new StoredDocument(row.GetInt64(0), (byte[])row.GetValue(1), (byte[])row.GetValue(2), (byte[])row.GetValue(3), SqliteValues.FromUnixMicroseconds(row.GetInt64(4)))
            {
                Restricted = row.GetInt64(5) != 0,
            }
            : null;
    }

    public async Task<IReadOnlyList<StoredDocumentId>> ListAsync(Guid tenantId, DocumentFilter filter, DateTimeOffset? since, CancellationToken cancellationToken = default)
    {
        StoreArguments.Check(filter);
        using var lease = await readers.RentAsync(cancellationToken);
        var reader = lease.Reader;
        if (tenants.Find(reader, tenantId) is not { } tenantNo)
        {
            return [];
        }

        SqliteCommand command;
        if (filter.Registration is { } registration)
        {
            command = reader.Command(ListOneRegistrationSql, FilterParameters);
            command.Parameters["$r"].Value = registration;
        }
        else
        {
            command = reader.Command(ListAnyRegistrationSql, AnyRegistrationParameters);
        }

        command.Parameters["$t"].Value = tenantNo;
        command.Parameters["$k"].Value = (long)filter.Kind;
        command.Parameters["$a"].Value = filter.Activity;
        command.Parameters["$g"].Value = filter.Agent;
        // Stored times are whole microseconds, so "updated > floor(since)" is exactly "updated > since".
        command.Parameters["$since"].Value = since is { } s ? SqliteValues.ToUnixMicroseconds(s) : long.MinValue;
        var result = new List<StoredDocumentId>();
        using var row = command.ExecuteReader();
        while (row.Read())
        {
            result.Add(new StoredDocumentId(
                (byte[])row.GetValue(0), (byte[])row.GetValue(1), row.GetInt64(2), (byte[])row.GetValue(3), SqliteValues.FromUnixMicroseconds(row.GetInt64(4)))
            {
                Restricted = row.GetInt64(5) != 0,
            });
        }

        return result;
    }

    public Task<DocumentWriteResult> PutAsync(Guid tenantId, DocumentKey key, DocumentContent content, DocumentPrecondition precondition, CancellationToken cancellationToken = default)
    {
        StoreArguments.Check(key);
        StoreArguments.Check(content);
        ArgumentNullException.ThrowIfNull(precondition);

        return writer.WriteAsync(connection =>
        {
            var tenantNo = writer.EnsureTenant(tenantId);
            var (currentTag, previous) = ReadCurrent(connection, tenantNo, key);
            if (precondition.Check(currentTag) is { } refused)
            {
                return new DocumentWriteResult(refused, null);
            }

            var now = SqliteValues.ToUnixMicroseconds(writer.TimeProvider.GetUtcNow());
            var updated = previous is { } p && now <= p ? p + 1 : now;
            using var command = connection.CreateCommand();
            command.CommandText = """
                INSERT INTO documents (tenant_no, kind, activity, agent, registration, doc, key_id, blob, id_blob, etag, updated, restricted)
                VALUES ($t, $k, $a, $g, $r, $d, $key, $blob, $idBlob, $etag, $updated, $restricted)
                ON CONFLICT (tenant_no, kind, activity, agent, registration, doc) DO UPDATE SET
                    key_id = excluded.key_id, blob = excluded.blob, id_blob = excluded.id_blob,
                    etag = excluded.etag, updated = excluded.updated,
                    restricted = max(documents.restricted, excluded.restricted); -- sticky: see DocumentContent.Restricted
                """;
            AddKeyParameters(command, tenantNo, key);
            command.Parameters.AddWithValue("$key", content.KeyId);
            command.Parameters.AddWithValue("$blob", content.Blob);
            command.Parameters.AddWithValue("$idBlob", content.IdBlob);
            command.Parameters.AddWithValue("$etag", content.ETag);
            command.Parameters.AddWithValue("$updated", updated);
            command.Parameters.AddWithValue("$restricted", content.Restricted ? 1L : 0L);
            command.ExecuteNonQuery();
            return new DocumentWriteResult(
                currentTag is null ? DocumentOutcome.Created : DocumentOutcome.Replaced,
                SqliteValues.FromUnixMicroseconds(updated));
        }, cancellationToken);
    }

    public Task<DocumentOutcome> DeleteAsync(Guid tenantId, DocumentKey key, DocumentPrecondition precondition, CancellationToken cancellationToken = default)
    {
        StoreArguments.Check(key);
        ArgumentNullException.ThrowIfNull(precondition);
        return writer.WriteAsync(connection =>
        {
            var tenantNo = writer.EnsureTenant(tenantId);
            var (currentTag, _) = ReadCurrent(connection, tenantNo, key);
            if (precondition.Check(currentTag) is { } refused)
            {
                return refused;
            }

            if (currentTag is null)
            {
                return DocumentOutcome.NotFound;
            }

            using var command = connection.CreateCommand();
            command.CommandText = $"DELETE FROM documents WHERE {KeyWhere};";
            AddKeyParameters(command, tenantNo, key);
            command.ExecuteNonQuery();
            return DocumentOutcome.Deleted;
        }, cancellationToken);
    }

    public Task<int> DeleteAllAsync(Guid tenantId, DocumentFilter filter, CancellationToken cancellationToken = default)
    {
        StoreArguments.Check(filter);
        return writer.WriteAsync(connection =>
        {
            var tenantNo = writer.EnsureTenant(tenantId);
            using var command = connection.CreateCommand();
            command.CommandText = filter.Registration is null
                ? "DELETE FROM documents WHERE tenant_no = $t AND kind = $k AND activity = $a AND agent = $g;"
                : "DELETE FROM documents WHERE tenant_no = $t AND kind = $k AND activity = $a AND agent = $g AND registration = $r;";
            command.Parameters.AddWithValue("$t", tenantNo);
            command.Parameters.AddWithValue("$k", (long)filter.Kind);
            command.Parameters.AddWithValue("$a", filter.Activity);
            command.Parameters.AddWithValue("$g", filter.Agent);
            if (filter.Registration is { } registration)
            {
                command.Parameters.AddWithValue("$r", registration);
            }

            return command.ExecuteNonQuery();
        }, cancellationToken);
    }

    private static (byte[]? ETag, long? Updated) ReadCurrent(SqliteConnection connection, long tenantNo, DocumentKey key)
    {
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT etag, updated FROM documents WHERE {KeyWhere};";
        AddKeyParameters(command, tenantNo, key);
        using var row = command.ExecuteReader();
        return row.Read() ? ((byte[])row.GetValue(0), row.GetInt64(1)) : (null, null);
    }

    private static readonly (string, SqliteType)[] KeyParameters =
    [
        ("$t", SqliteType.Integer), ("$k", SqliteType.Integer), ("$a", SqliteType.Blob), ("$g", SqliteType.Blob),
        ("$r", SqliteType.Blob), ("$d", SqliteType.Blob),
    ];

    private static readonly (string, SqliteType)[] FilterParameters =
    [
        ("$t", SqliteType.Integer), ("$k", SqliteType.Integer), ("$a", SqliteType.Blob), ("$g", SqliteType.Blob),
        ("$r", SqliteType.Blob), ("$since", SqliteType.Integer),
    ];

    private static readonly (string, SqliteType)[] AnyRegistrationParameters =
    [
        ("$t", SqliteType.Integer), ("$k", SqliteType.Integer), ("$a", SqliteType.Blob), ("$g", SqliteType.Blob),
        ("$since", SqliteType.Integer),
    ];

    private static void Bind(SqliteCommand command, long tenantNo, DocumentKey key)
    {
        command.Parameters["$t"].Value = tenantNo;
        command.Parameters["$k"].Value = (long)key.Kind;
        command.Parameters["$a"].Value = key.Activity;
        command.Parameters["$g"].Value = key.Agent;
        command.Parameters["$r"].Value = key.Registration;
        command.Parameters["$d"].Value = key.Id;
    }

    private static void AddKeyParameters(SqliteCommand command, long tenantNo, DocumentKey key)
    {
        command.Parameters.AddWithValue("$t", tenantNo);
        command.Parameters.AddWithValue("$k", (long)key.Kind);
        command.Parameters.AddWithValue("$a", key.Activity);
        command.Parameters.AddWithValue("$g", key.Agent);
        command.Parameters.AddWithValue("$r", key.Registration);
        command.Parameters.AddWithValue("$d", key.Id);
    }
}
