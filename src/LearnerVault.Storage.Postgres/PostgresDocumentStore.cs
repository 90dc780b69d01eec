using Npgsql;

namespace LearnerVault.Storage.Postgres;

// PLACEHOLDER: replaced by the client/document store work.
internal sealed class PostgresDocumentStore(NpgsqlDataSource data, TimeProvider time) : IDocumentStore
{
    private readonly NpgsqlDataSource data = data;
    private readonly TimeProvider time = time;

    public Task<StoredDocument?> GetAsync(Guid tenantId, DocumentKey key, CancellationToken cancellationToken = default) => throw new NotImplementedException();

    public Task<IReadOnlyList<StoredDocumentId>> ListAsync(Guid tenantId, DocumentFilter filter, DateTimeOffset? since, CancellationToken cancellationToken = default) => throw new NotImplementedException();

    public Task<DocumentWriteResult> PutAsync(Guid tenantId, DocumentKey key, DocumentContent content, DocumentPrecondition precondition, CancellationToken cancellationToken = default) => throw new NotImplementedException();

    public Task<DocumentOutcome> DeleteAsync(Guid tenantId, DocumentKey key, DocumentPrecondition precondition, CancellationToken cancellationToken = default) => throw new NotImplementedException();

    public Task<int> DeleteAllAsync(Guid tenantId, DocumentFilter filter, CancellationToken cancellationToken = default) => throw new NotImplementedException();
}
