using Microsoft.Data.Sqlite;

namespace LearnerVault.Storage.Sqlite;

/// <summary>
/// The writes of the document, activity-definition, access-log and privacy stores. Each runs on the data file's single
/// writer (<see cref="StatementWriter"/>), in a savepoint of its own inside the writer's next group transaction, and
/// completes once that transaction is durable: one writer, one transaction at a time, one WAL sync per group.
/// </summary>
/// <remarks>The writer opens its transaction with plain SQL, so the work's commands take no transaction object.</remarks>
internal sealed class SerialWriter(StatementWriter writer, TimeProvider timeProvider)
{
    public TimeProvider TimeProvider { get; } = timeProvider;

    public Task<T> WriteAsync<T>(Func<SqliteConnection, T> work, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(work);
        return writer.RunAsync(work, cancellationToken);
    }

    /// <summary>
    /// Inside a write only (on the writer's thread): a statement prepared once on the writer's connection and kept until
    /// the writer closes, for the stores' hot inserts.
    /// </summary>
    public RawStatement Prepared(string sql) => writer.Prepared(sql);

    public static long EnsureTenant(SqliteConnection connection, Guid tenantId)
    {
        var id = SqliteValues.GuidBytes(tenantId);
        using (var insert = connection.CreateCommand())
        {
            insert.CommandText = "INSERT OR IGNORE INTO tenants (id) VALUES ($id);";
            insert.Parameters.AddWithValue("$id", id);
            insert.ExecuteNonQuery();
        }

        using var select = connection.CreateCommand();
        select.CommandText = "SELECT no FROM tenants WHERE id = $id;";
        select.Parameters.AddWithValue("$id", id);
        return (long)select.ExecuteScalar()!;
    }
}
