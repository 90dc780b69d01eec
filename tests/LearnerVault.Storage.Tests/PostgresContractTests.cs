using LearnerVault.Storage.Postgres;
using LearnerVault.Tests.Shared;

namespace LearnerVault.Storage.Tests;

/// <summary>The statement store contract against PostgreSQL (see <see cref="PostgresTestServer"/>), on one database
/// shared by the test process: every test writes under tenant ids of its own.</summary>
[Trait("Backend", "postgres")]
public sealed class PostgresStatementStoreContractTests : StatementStoreContractTests
{
    protected override async ValueTask<StatementStoreHandle> OpenAsync(TimeProvider timeProvider)
    {
        var options = await PostgresTestServer.SharedDatabaseAsync();
        var backend = PostgresBackend.Open(options, PostgresTestServer.MasterKey, timeProvider);
        return new StatementStoreHandle(backend.Statements, backend.DisposeAsync);
    }
}

/// <summary>The document store contract against PostgreSQL.</summary>
[Trait("Backend", "postgres")]
public sealed class PostgresDocumentStoreContractTests : DocumentStoreContractTests
{
    protected override async ValueTask<DocumentStoreHandle> OpenAsync(TimeProvider timeProvider)
    {
        var options = await PostgresTestServer.SharedDatabaseAsync();
        var backend = PostgresBackend.Open(options, PostgresTestServer.MasterKey, timeProvider);
        return new DocumentStoreHandle(backend.Documents, backend.ActivityDefinitions, backend.DisposeAsync);
    }
}
