namespace LearnerVault.Storage.Sqlite;

/// <summary>The access log.</summary>
public sealed partial class SqliteBackend
{
    private SqliteAccessLogStore? accessLog;

    /// <summary>The hash-chained access log and its signed checkpoints.</summary>
    public IAccessLogStore AccessLog => accessLog ?? throw new ObjectDisposedException(nameof(SqliteBackend));

    private void OpenAccessLog(SerialWriter writer, SqliteReaderPool readerPool, TenantDirectory tenants) =>
        accessLog = new SqliteAccessLogStore(writer, readerPool, tenants);
}
