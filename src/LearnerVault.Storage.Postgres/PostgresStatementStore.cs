using Npgsql;

namespace LearnerVault.Storage.Postgres;

// PLACEHOLDER: replaced by the statement store work.
internal sealed class PostgresStatementStore(NpgsqlDataSource data, TimeProvider time) : IStatementStore, IAsyncDisposable
{
    private readonly NpgsqlDataSource data = data;
    private readonly TimeProvider time = time;

    public Task<IReadOnlyList<WriteOutcome>> WriteAsync(Guid tenantId, IReadOnlyList<StatementRecord> batch, CancellationToken cancellationToken = default) => throw new NotImplementedException();

    public Task<StoredStatement?> GetAsync(Guid tenantId, Guid id, CancellationToken cancellationToken = default) => throw new NotImplementedException();

    public Task<StatementPage> QueryAsync(Guid tenantId, StatementQuery query, CancellationToken cancellationToken = default) => throw new NotImplementedException();

    public Task<IReadOnlyList<StoredAttachment>> GetAttachmentsAsync(Guid tenantId, IReadOnlyList<byte[]> hashKeys, IReadOnlyList<long>? carriedBy = null, CancellationToken cancellationToken = default) => throw new NotImplementedException();

    public Task<DateTimeOffset?> ConsistentThroughAsync(Guid tenantId, CancellationToken cancellationToken = default) => throw new NotImplementedException();

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
