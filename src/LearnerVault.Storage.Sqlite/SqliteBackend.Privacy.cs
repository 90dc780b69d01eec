using LearnerVault.Storage.People;

namespace LearnerVault.Storage.Sqlite;

/// <summary>The privacy store.</summary>
public sealed partial class SqliteBackend
{
    private SqlitePrivacyStore? privacy;

    /// <summary>People, accounts, tokens, learners, guardians, classes, consents and tenant policies.</summary>
    public IPrivacyStore Privacy => privacy ?? throw new ObjectDisposedException(nameof(SqliteBackend));

    private void OpenPrivacy(SerialWriter writer, SqliteReaderPool readerPool, TenantDirectory tenants) =>
        privacy = new SqlitePrivacyStore(writer, readerPool, tenants);
}
