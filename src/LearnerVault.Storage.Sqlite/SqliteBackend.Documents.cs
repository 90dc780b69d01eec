namespace LearnerVault.Storage.Sqlite;

/// <summary>The document resources and the canonical activity definitions.</summary>
public sealed partial class SqliteBackend
{
    private DocumentStores? documentStores;

    /// <summary>State, Activity Profile and Agent Profile documents.</summary>
    public IDocumentStore Documents => Stores.Documents;

    /// <summary>Canonical activity definitions (the Activities resource).</summary>
    public IActivityDefinitionStore ActivityDefinitions => Stores.ActivityDefinitions;

    private DocumentStores Stores => documentStores ?? throw new ObjectDisposedException(nameof(SqliteBackend));

    private void OpenDocuments(SerialWriter writer, SqliteReaderPool readerPool, TenantDirectory tenants) =>
        documentStores = new DocumentStores(
            new SqliteDocumentStore(writer, readerPool, tenants),
            new SqliteActivityDefinitionStore(writer, readerPool, tenants));

    private sealed record DocumentStores(SqliteDocumentStore Documents, SqliteActivityDefinitionStore ActivityDefinitions);
}
