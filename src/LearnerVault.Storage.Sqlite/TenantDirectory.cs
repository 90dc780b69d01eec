using System.Collections.Concurrent;
using Microsoft.Data.Sqlite;

namespace LearnerVault.Storage.Sqlite;

/// <summary>
/// Maps tenant ids to the compact row number (<c>tenants.no</c>) that the data tables carry. Only numbers read from
/// committed rows are cached, and a tenant's number never changes, so the cache never goes stale.
/// </summary>
internal sealed class TenantDirectory
{
    private const string SelectSql = "SELECT no FROM tenants WHERE id = $id;";
    private readonly ConcurrentDictionary<Guid, long> numbers = new();

    /// <summary>The tenant's number, or null when the data file has never seen the tenant.</summary>
    public long? Find(PooledReader reader, Guid tenantId)
    {
        if (numbers.TryGetValue(tenantId, out var cached))
        {
            return cached;
        }

        var command = reader.Command(SelectSql, ("$id", SqliteType.Blob));
        command.Parameters[0].Value = SqliteValues.GuidBytes(tenantId);
        if (command.ExecuteScalar() is long number)
        {
            numbers.TryAdd(tenantId, number);
            return number;
        }

        return null;
    }
}
