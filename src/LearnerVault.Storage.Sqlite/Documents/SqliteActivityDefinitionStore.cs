namespace LearnerVault.Storage.Sqlite;

/// <summary>Canonical activity definitions in the data file: reads from the reader pool, compare-and-swap writes.</summary>
public sealed class SqliteActivityDefinitionStore : IActivityDefinitionStore
{
    private const string GetSql = "SELECT key_id, blob, version, updated FROM activity_definitions WHERE tenant_no = $t AND activity = $a;";

    private readonly SerialWriter writer;
    private readonly SqliteReaderPool readers;
    private readonly TenantDirectory tenants;

    internal SqliteActivityDefinitionStore(SerialWriter writer, SqliteReaderPool readers, TenantDirectory tenants)
    {
        this.writer = writer;
        this.readers = readers;
        this.tenants = tenants;
    }

    public async Task<ActivityDefinitionRecord?> GetAsync(Guid tenantId, byte[] activity, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(activity);
        using var lease = await readers.RentAsync(cancellationToken);
        var reader = lease.Reader;
        if (tenants.Find(reader, tenantId) is not { } tenantNo)
        {
            return null;
        }

        var command = reader.Command(GetSql, ("$t", Microsoft.Data.Sqlite.SqliteType.Integer), ("$a", Microsoft.Data.Sqlite.SqliteType.Blob));
        command.Parameters[0].Value = tenantNo;
        command.Parameters[1].Value = activity;
        using var row = command.ExecuteReader();
        return row.Read()
            ? new ActivityDefinitionRecord(row.GetInt64(0), (byte[])row.GetValue(1), row.GetInt64(2), SqliteValues.FromUnixMicroseconds(row.GetInt64(3)))
            : null;
    }

    public Task<bool> TryWriteAsync(Guid tenantId, byte[] activity, long keyId, byte[] blob, long? expectedVersion, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(activity);
        ArgumentNullException.ThrowIfNull(blob);
        return writer.WriteAsync(connection =>
        {
            var tenantNo = writer.EnsureTenant(tenantId);
            using var command = connection.CreateCommand();
            command.CommandText = expectedVersion is null
                ? """
                  INSERT INTO activity_definitions (tenant_no, activity, key_id, blob, version, updated)
                  VALUES ($t, $a, $key, $blob, 1, $updated)
                  ON CONFLICT (tenant_no, activity) DO NOTHING;
                  """
                : """
                  UPDATE activity_definitions SET key_id = $key, blob = $blob, version = version + 1, updated = $updated
                  WHERE tenant_no = $t AND activity = $a AND version = $expected;
                  """;
            command.Parameters.AddWithValue("$t", tenantNo);
            command.Parameters.AddWithValue("$a", activity);
            command.Parameters.AddWithValue("$key", keyId);
            command.Parameters.AddWithValue("$blob", blob);
            command.Parameters.AddWithValue("$updated", SqliteValues.ToUnixMicroseconds(writer.TimeProvider.GetUtcNow()));
            if (expectedVersion is { } expected)
            {
                command.Parameters.AddWithValue("$expected", expected);
            }

            return command.ExecuteNonQuery() == 1;
        }, cancellationToken);
    }
}
