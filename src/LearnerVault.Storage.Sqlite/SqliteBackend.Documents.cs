namespace LearnerVault.Storage.Sqlite;

/// <summary>The document resources and the canonical activity definitions, which share one write connection.</summary>
public sealed partial class SqliteBackend
{
    private DocumentStores? documentStores;

    /// <summary>State, Activity Profile and Agent Profile documents.</summary>
    public IDocumentStore Documents => Stores.Documents;

    /// <summary>Canonical activity definitions (the Activities resource).</summary>
    public IActivityDefinitionStore ActivityDefinitions => Stores.ActivityDefinitions;

    private DocumentStores Stores => documentStores ?? throw new ObjectDisposedException(nameof(SqliteBackend));

    private void OpenDocuments(string dataPath, SqliteReaderPool readerPool, TenantDirectory tenants, TimeProvider timeProvider)
    {
        var writer = new SerialWriter(dataPath, timeProvider);
        documentStores = new DocumentStores(
            writer,
            new SqliteDocumentStore(writer, readerPool, tenants),
            new SqliteActivityDefinitionStore(writer, readerPool, tenants));
    }

    private void CloseDocuments() => documentStores?.Writer.Dispose();

    private sealed record DocumentStores(SerialWriter Writer, SqliteDocumentStore Documents, SqliteActivityDefinitionStore ActivityDefinitions);
}
