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

    /// <summary>
    /// Inside a write only (on the writer's thread): the tenant's row number, its row inserted when the data file has
    /// none yet. Numbers are kept by the writer, which forgets them whenever a savepoint or the transaction is rolled
    /// back (a row inserted there is gone again), so most writes run no SQL for it.
    /// </summary>
    public long EnsureTenant(Guid tenantId) => writer.TenantNumber(tenantId);
}
