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
        return new StatementStoreHandle(backend.Statements, backend.AccessLog, backend.DisposeAsync);
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

/// <summary>The client store contract against PostgreSQL. Storage sees an unregistered tenant through a document
/// written under it (which, unlike SQLite, leaves no row in tenants: there are no unnamed tenants here).</summary>
[Trait("Backend", "postgres")]
public sealed class PostgresClientStoreContractTests : ClientStoreContractTests
{
    protected override async ValueTask<ClientStoreHandle> OpenAsync(TimeProvider timeProvider)
    {
        var options = await PostgresTestServer.SharedDatabaseAsync();
        var backend = PostgresBackend.Open(options, PostgresTestServer.MasterKey, timeProvider);
        return new ClientStoreHandle(
            backend.Clients,
            (tenant, ct) => backend.Documents.PutAsync(tenant,
                new DocumentKey(DocumentKind.ActivityProfile, [1], [], [], [1]), new DocumentContent(1, [1], [1], [1]), DocumentPrecondition.None, ct),
            backend.DisposeAsync);
    }
}

/// <summary>The access log contract against PostgreSQL; each node is a backend with its own connection pool.</summary>
[Trait("Backend", "postgres")]
public sealed class PostgresAccessLogStoreContractTests : AccessLogStoreContractTests
{
    protected override async ValueTask<AccessLogNode> OpenNodeAsync()
    {
        var options = await PostgresTestServer.SharedDatabaseAsync();
        var backend = PostgresBackend.Open(options, PostgresTestServer.MasterKey, TimeProvider.System);
        return new AccessLogNode(backend.AccessLog, backend.DisposeAsync);
    }
}

/// <summary>The privacy store contract against PostgreSQL.</summary>
[Trait("Backend", "postgres")]
public sealed class PostgresPrivacyStoreContractTests : PrivacyStoreContractTests
{
    protected override async ValueTask<PrivacyStoreHandle> OpenAsync()
    {
        var options = await PostgresTestServer.SharedDatabaseAsync();
        var backend = PostgresBackend.Open(options, PostgresTestServer.MasterKey, TimeProvider.System);
        return new PrivacyStoreHandle(backend.Privacy, backend.DisposeAsync);
    }
}
