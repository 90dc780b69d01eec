using LearnerVault.Storage.People;

namespace LearnerVault.Storage.Sqlite;

/// <summary>The privacy store, on a write connection of its own so that logins and admin changes never wait behind
/// document writes.</summary>
public sealed partial class SqliteBackend
{
    private SqlitePrivacyStore? privacy;

    /// <summary>People, accounts, tokens, learners, guardians, classes, consents and tenant policies.</summary>
    public IPrivacyStore Privacy => privacy ?? throw new ObjectDisposedException(nameof(SqliteBackend));

    private void OpenPrivacy(string dataPath, SqliteReaderPool readerPool, TenantDirectory tenants, TimeProvider timeProvider) =>
        privacy = new SqlitePrivacyStore(new SerialWriter(dataPath, timeProvider), readerPool, tenants);

    private void ClosePrivacy() => privacy?.Dispose();
}
