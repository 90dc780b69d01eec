using Npgsql;

namespace LearnerVault.Storage.Postgres;

// PLACEHOLDER: replaced by the client/document store work.
internal sealed class PostgresActivityDefinitionStore(NpgsqlDataSource data, TimeProvider time) : IActivityDefinitionStore
{
    private readonly NpgsqlDataSource data = data;
    private readonly TimeProvider time = time;

    public Task<ActivityDefinitionRecord?> GetAsync(Guid tenantId, byte[] activity, CancellationToken cancellationToken = default) => throw new NotImplementedException();

    public Task<bool> TryWriteAsync(Guid tenantId, byte[] activity, long keyId, byte[] blob, long? expectedVersion, CancellationToken cancellationToken = default) => throw new NotImplementedException();
}
