using LearnerVault.Privacy;
using Npgsql;

namespace LearnerVault.Storage.Postgres;

// PLACEHOLDER: replaced by the key store work.
internal sealed class PostgresKeyStore : IKeyStore, IKeyAdministration, IDisposable
{
    public static PostgresKeyStore Open(NpgsqlDataSource keys, MasterKey masterKey, TimeProvider time) => throw new NotImplementedException();

    public void EnsureTenant(Guid tenantId) => throw new NotImplementedException();

    public byte[] GetPseudonymKey(Guid tenantId) => throw new NotImplementedException();

    public DataKey GetTenantDataKey(Guid tenantId) => throw new NotImplementedException();

    public DataKey GetOrCreateLearnerKey(Guid tenantId, ReadOnlySpan<byte> learnerPseudonym) => throw new NotImplementedException();

    public IReadOnlyList<DataKey> GetOrCreateLearnerKeys(Guid tenantId, IReadOnlyList<byte[]> learnerPseudonyms) => throw new NotImplementedException();

    public DataKey? GetDataKey(Guid tenantId, long keyId) => throw new NotImplementedException();

    public bool DestroyLearnerKey(Guid tenantId, ReadOnlySpan<byte> learnerPseudonym) => throw new NotImplementedException();

    public void RotateTenantKey(Guid tenantId) => throw new NotImplementedException();

    public void RotateMasterKey(MasterKey newMasterKey) => throw new NotImplementedException();

    public void Dispose()
    {
    }
}
