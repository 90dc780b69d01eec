using LearnerVault.Privacy.Audit;
using Microsoft.Data.Sqlite;

namespace LearnerVault.Storage.Sqlite;

/// <summary>
/// The access log in the data file. Appends run on the data file's single writer (<see cref="SerialWriter"/>), one at a
/// time in its transaction, and SQLite's write lock serialises them against other processes, so the head read inside
/// the append is the one the new entries chain on. Reads come from the reader pool.
/// </summary>
public sealed class SqliteAccessLogStore : IAccessLogStore
{
    private const string Columns = "position, time, principal, client, action, purpose, learner, records, decision, reason, hash";

    private readonly SerialWriter writer;
    private readonly SqliteReaderPool readers;
    private readonly TenantDirectory tenants;

    internal SqliteAccessLogStore(SerialWriter writer, SqliteReaderPool readers, TenantDirectory tenants)
    {
        this.writer = writer;
        this.readers = readers;
        this.tenants = tenants;
    }

    public Task<AccessLogHead> AppendAsync(Guid tenantId, IReadOnlyList<AccessLogEntry> entries, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entries);
        return writer.WriteAsync(connection =>
        {
            var tenantNo = SerialWriter.EnsureTenant(connection, tenantId);
            var head = Head(connection, tenantId, tenantNo);
            if (entries.Count == 0)
            {
                return head;
            }

            using var insert = connection.CreateCommand();
            insert.CommandText = $"""
                INSERT INTO access_log (tenant_no, {Columns})
                VALUES ($t, $position, $time, $principal, $client, $action, $purpose, $learner, $records, $decision, $reason, $hash);
                """;
            var parameters = new[] { "$t", "$position", "$time", "$principal", "$client", "$action", "$purpose", "$learner", "$records", "$decision", "$reason", "$hash" }
                .Select(name => insert.Parameters.Add(new SqliteParameter { ParameterName = name }))
                .ToArray();
            parameters[0].Value = tenantNo;
            var (position, hash) = (head.Position, head.Hash);
            foreach (var entry in entries)
            {
                ArgumentNullException.ThrowIfNull(entry);
                position++;
                hash = AccessLogChain.Next(hash, position, entry);
                parameters[1].Value = position;
                parameters[2].Value = AccessLogChain.UnixMicroseconds(entry.Time);
                parameters[3].Value = entry.Principal;
                parameters[4].Value = (object?)entry.Client ?? DBNull.Value;
                parameters[5].Value = entry.Action;
                parameters[6].Value = entry.Purpose;
                parameters[7].Value = (object?)entry.LearnerPseudonym ?? DBNull.Value;
                parameters[8].Value = entry.Records;
                parameters[9].Value = (long)entry.Decision;
                parameters[10].Value = entry.Reason;
                parameters[11].Value = hash;
                insert.ExecuteNonQuery();
            }

            return new AccessLogHead(position, hash);
        }, cancellationToken);
    }

    public async Task<AccessLogHead> GetHeadAsync(Guid tenantId, CancellationToken cancellationToken = default)
    {
        using var lease = await readers.RentAsync(cancellationToken);
        return tenants.Find(lease.Reader, tenantId) is { } tenantNo
            ? Head(lease.Reader.Connection, tenantId, tenantNo)
            : new AccessLogHead(0, AccessLogChain.Genesis(tenantId));
    }

    public Task<bool> AddCheckpointAsync(Guid tenantId, AccessLogCheckpoint checkpoint, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        return writer.WriteAsync(connection =>
        {
            var tenantNo = SerialWriter.EnsureTenant(connection, tenantId);
            using var insert = connection.CreateCommand();
            insert.CommandText = """
                INSERT INTO access_log_checkpoints (tenant_no, position, head, time, signature) VALUES ($t, $position, $head, $time, $signature)
                ON CONFLICT (tenant_no, position) DO NOTHING;
                """;
            insert.Parameters.AddWithValue("$t", tenantNo);
            insert.Parameters.AddWithValue("$position", checkpoint.Position);
            insert.Parameters.AddWithValue("$head", checkpoint.HeadHash);
            insert.Parameters.AddWithValue("$time", AccessLogChain.UnixMicroseconds(checkpoint.Time));
            insert.Parameters.AddWithValue("$signature", checkpoint.Signature);
            return insert.ExecuteNonQuery() == 1;
        }, cancellationToken);
    }

    public Task<IReadOnlyList<AccessLogRecord>> ReadAsync(Guid tenantId, long fromPosition, int limit, CancellationToken cancellationToken = default) =>
        ReadRecordsAsync(tenantId, $"SELECT {Columns} FROM access_log WHERE tenant_no = $t AND position >= $from ORDER BY position LIMIT $limit;",
            ("$from", fromPosition), limit, cancellationToken);

    public Task<IReadOnlyList<AccessLogRecord>> ReadLearnerAsync(Guid tenantId, byte[] learnerPseudonym, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(learnerPseudonym);
        return ReadRecordsAsync(tenantId,
            $"SELECT {Columns} FROM access_log WHERE tenant_no = $t AND learner = $learner ORDER BY position DESC LIMIT $limit;",
            ("$learner", learnerPseudonym), limit, cancellationToken);
    }

    public async Task<IReadOnlyList<AccessLogCheckpoint>> ReadCheckpointsAsync(Guid tenantId, CancellationToken cancellationToken = default)
    {
        using var lease = await readers.RentAsync(cancellationToken);
        if (tenants.Find(lease.Reader, tenantId) is not { } tenantNo)
        {
            return [];
        }

        using var command = lease.Reader.Connection.CreateCommand();
        command.CommandText = "SELECT position, head, time, signature FROM access_log_checkpoints WHERE tenant_no = $t ORDER BY position;";
        command.Parameters.AddWithValue("$t", tenantNo);
        using var reader = command.ExecuteReader();
        var checkpoints = new List<AccessLogCheckpoint>();
        while (reader.Read())
        {
            checkpoints.Add(new AccessLogCheckpoint(
                reader.GetInt64(0), (byte[])reader.GetValue(1), SqliteValues.FromUnixMicroseconds(reader.GetInt64(2)), (byte[])reader.GetValue(3)));
        }

        return checkpoints;
    }

    private async Task<IReadOnlyList<AccessLogRecord>> ReadRecordsAsync(
        Guid tenantId, string sql, (string Name, object Value) parameter, int limit, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        using var lease = await readers.RentAsync(cancellationToken);
        if (tenants.Find(lease.Reader, tenantId) is not { } tenantNo)
        {
            return [];
        }

        using var command = lease.Reader.Connection.CreateCommand();
        command.CommandText = sql;
        command.Parameters.AddWithValue("$t", tenantNo);
        command.Parameters.AddWithValue(parameter.Name, parameter.Value);
        command.Parameters.AddWithValue("$limit", limit);
        using var reader = command.ExecuteReader();
        var records = new List<AccessLogRecord>();
        while (reader.Read())
        {
            records.Add(ReadRecord(reader));
        }

        return records;
    }

    private static AccessLogRecord ReadRecord(SqliteDataReader reader) => new(
        reader.GetInt64(0),
        new AccessLogEntry(
            SqliteValues.FromUnixMicroseconds(reader.GetInt64(1)),
            reader.GetString(2),
            reader.IsDBNull(3) ? null : reader.GetString(3),
            reader.GetString(4),
            reader.GetString(5),
            reader.IsDBNull(6) ? null : (byte[])reader.GetValue(6),
            reader.GetInt64(7),
            (AccessDecision)reader.GetInt64(8),
            reader.GetString(9)),
        (byte[])reader.GetValue(10));

    private static AccessLogHead Head(SqliteConnection connection, Guid tenantId, long tenantNo)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT position, hash FROM access_log WHERE tenant_no = $t ORDER BY position DESC LIMIT 1;";
        command.Parameters.AddWithValue("$t", tenantNo);
        using var reader = command.ExecuteReader();
        return reader.Read()
            ? new AccessLogHead(reader.GetInt64(0), (byte[])reader.GetValue(1))
            : new AccessLogHead(0, AccessLogChain.Genesis(tenantId));
    }
}
