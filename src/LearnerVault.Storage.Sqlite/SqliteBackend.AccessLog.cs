namespace LearnerVault.Storage.Sqlite;

/// <summary>The access log, on a write connection of its own so that appends never wait behind document writes.</summary>
public sealed partial class SqliteBackend
{
    private SqliteAccessLogStore? accessLog;

    /// <summary>The hash-chained access log and its signed checkpoints.</summary>
    public IAccessLogStore AccessLog => accessLog ?? throw new ObjectDisposedException(nameof(SqliteBackend));

    private void OpenAccessLog(string dataPath, SqliteReaderPool readerPool, TenantDirectory tenants, TimeProvider timeProvider) =>
        accessLog = new SqliteAccessLogStore(new SerialWriter(dataPath, timeProvider), readerPool, tenants);

    private void CloseAccessLog() => accessLog?.Dispose();
}
