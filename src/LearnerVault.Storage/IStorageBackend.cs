using LearnerVault.Privacy;
using LearnerVault.Storage.People;

namespace LearnerVault.Storage;

/// <summary>
/// One opened storage backend: the data stores and, apart from them, the key store. The embedded default keeps both in
/// files of the data folder (SQLite); the production backend keeps them in PostgreSQL schemas. Every component above
/// storage sees only this, so the two backends are interchangeable and pass the same contract and HTTP suites.
/// </summary>
public interface IStorageBackend : IAsyncDisposable
{
    /// <summary>Which backend this is: <c>sqlite</c> or <c>postgres</c> (as <c>--store</c> names it).</summary>
    string Kind { get; }

    /// <summary>Where the data lives, for messages (a file path, or a connection string without its password).</summary>
    string Description { get; }

    IStatementStore Statements { get; }

    IClientStore Clients { get; }

    /// <summary>State, Activity Profile and Agent Profile documents.</summary>
    IDocumentStore Documents { get; }

    /// <summary>Canonical activity definitions (the Activities resource).</summary>
    IActivityDefinitionStore ActivityDefinitions { get; }

    /// <summary>The hash-chained access log and its signed checkpoints.</summary>
    IAccessLogStore AccessLog { get; }

    /// <summary>People, accounts, tokens, learners (identity vault), guardians, classes, consents and tenant policies.</summary>
    IPrivacyStore Privacy { get; }

    IKeyStore Keys { get; }

    /// <summary>Erasure and rotation of keys (the same key store as <see cref="Keys"/>).</summary>
    IKeyAdministration KeyAdministration { get; }
}
