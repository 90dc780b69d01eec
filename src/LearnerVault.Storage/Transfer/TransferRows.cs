using LearnerVault.Privacy.Access;
using LearnerVault.Privacy.Audit;
using LearnerVault.Storage.People;

namespace LearnerVault.Storage.Transfer;

/// <summary>
/// The rows a store copy moves, in a form neither backend owns. Everything stays as the source holds it: ciphertext,
/// keyed terms and wrapped keys are copied byte for byte (nothing is decrypted, so a copy needs no key), and key ids
/// and client ids are kept, because ciphertext and statements refer to them.
/// </summary>
/// <param name="Purpose">The key's role as the key store records it (tenant KEK, pseudonym key, tenant data key, learner key).</param>
/// <param name="Learner">The learner pseudonym of a learner key; null for a tenant's own keys.</param>
/// <param name="WrappingKeyId">The key that wraps this one; null when the master key wraps it (a tenant KEK).</param>
public sealed record KeyRow(long Id, Guid TenantId, int Purpose, byte[]? Learner, long? WrappingKeyId, byte[] Wrapped, DateTimeOffset Created);

/// <summary>One stored statement with everything the store knows of it. <see cref="Sequence"/> orders statements within
/// the source; the target may number them differently but keeps the order and <see cref="Stored"/>.</summary>
/// <param name="Terms">Its index terms, inherited ones included (the writing client is <see cref="ClientId"/>, not a term).</param>
/// <param name="Attachments">Hash keys of the attachment contents the statement carried when it was written.</param>
/// <param name="Learner">The learner pseudonym it was written with (<see cref="StatementRecord.Learner"/>); null for none.</param>
/// <param name="Restricted">Stored under restriction of processing (<see cref="StatementRecord.Restricted"/>).</param>
public sealed record StatementRow(
    Guid TenantId,
    Guid Id,
    long Sequence,
    DateTimeOffset Stored,
    long KeyId,
    long ClientId,
    byte[] Blob,
    byte[] ContentHash,
    IReadOnlyList<IndexTerm> Terms,
    Guid? RefTarget,
    bool IsVoiding,
    bool Voided,
    bool HasTimestamp,
    IReadOnlyList<byte[]> Attachments,
    byte[]? Learner,
    bool Restricted);

public sealed record AttachmentRow(Guid TenantId, byte[] HashKey, long KeyId, byte[] Blob, long References);

/// <param name="Restricted">Holds data written under restriction of processing (<see cref="DocumentContent.Restricted"/>).</param>
public sealed record DocumentRow(Guid TenantId, DocumentKey Key, long KeyId, byte[] Blob, byte[] IdBlob, byte[] ETag, DateTimeOffset Updated, bool Restricted);

public sealed record ActivityDefinitionRow(Guid TenantId, byte[] Activity, long KeyId, byte[] Blob, long Version, DateTimeOffset Updated);

/// <summary>One access log entry of a tenant, with its position and stored chain hash (copied as they are, so the
/// target's chain and checkpoints verify as the source's did).</summary>
public sealed record AccessLogRow(Guid TenantId, AccessLogRecord Record);

/// <summary>One signed checkpoint of a tenant's access log.</summary>
public sealed record AccessLogCheckpointRow(Guid TenantId, AccessLogCheckpoint Checkpoint);

/// <summary>A learner of the identity vault without its pseudonyms (<see cref="LearnerPseudonymRow"/> carries those).
/// Objections stay purpose names as stored.</summary>
public sealed record LearnerRow(
    Guid TenantId, Guid Id, int? BirthYear, AgeBand? AgeBand, bool Restricted, IReadOnlyList<string> Objections, DateTimeOffset Created);

/// <summary>One keyed pseudonym of a learner, with its position in the learner's list.</summary>
public sealed record LearnerPseudonymRow(Guid TenantId, byte[] Pseudonym, Guid LearnerId, int Ordinal);

/// <summary>A guardian link.</summary>
public sealed record GuardianRow(Guid TenantId, Guid LearnerId, Guid GuardianId);

/// <summary>A learner's membership of a class.</summary>
public sealed record ClassMemberRow(Guid TenantId, Guid ClassId, Guid LearnerId);

/// <summary>A teacher of a class.</summary>
public sealed record ClassTeacherRow(Guid TenantId, Guid ClassId, Guid TeacherId);

/// <summary>A tenant's saved policy as stored: the restricted-writes policy by name and the lawful bases as their JSON
/// object (copied byte for byte).</summary>
public sealed record TenantPolicyRow(Guid TenantId, int AgeOfDigitalConsent, string RestrictedWrites, string Bases);

/// <summary>The kinds of row, in the order a copy moves them (keys before what they encrypt, tenants first).</summary>
public enum TransferTable
{
    Tenants,
    Clients,
    Keys,
    Attachments,
    Statements,
    Documents,
    ActivityDefinitions,
    AccessLog,
    AccessLogCheckpoints,
    People,
    Accounts,
    AuthTokens,
    Learners,
    LearnerPseudonyms,
    Guardians,
    Classes,
    ClassMembers,
    ClassTeachers,
    Consents,
    TenantPolicies,
}

/// <summary>The names of a <see cref="TransferTable"/>.</summary>
public static class TransferTableNames
{
    /// <summary>The table's name in both backends' schemas (<c>activity_definitions</c>, …).</summary>
    /// <exception cref="ArgumentOutOfRangeException">Not one of the named values.</exception>
    public static string TableName(this TransferTable table) => table switch
    {
        TransferTable.Tenants => "tenants",
        TransferTable.Clients => "clients",
        TransferTable.Keys => "keys",
        TransferTable.Attachments => "attachments",
        TransferTable.Statements => "statements",
        TransferTable.Documents => "documents",
        TransferTable.ActivityDefinitions => "activity_definitions",
        TransferTable.AccessLog => "access_log",
        TransferTable.AccessLogCheckpoints => "access_log_checkpoints",
        TransferTable.People => "people",
        TransferTable.Accounts => "accounts",
        TransferTable.AuthTokens => "auth_tokens",
        TransferTable.Learners => "learners",
        TransferTable.LearnerPseudonyms => "learner_pseudonyms",
        TransferTable.Guardians => "guardians",
        TransferTable.Classes => "classes",
        TransferTable.ClassMembers => "class_members",
        TransferTable.ClassTeachers => "class_teachers",
        TransferTable.Consents => "consents",
        TransferTable.TenantPolicies => "tenant_policies",
        _ => throw new ArgumentOutOfRangeException(nameof(table)),
    };

    /// <summary>The name people read (progress, reports, the CLI's JSON keys): the table name with spaces
    /// (<c>activity definitions</c>); an unnamed value as its number.</summary>
    public static string DisplayName(this TransferTable table) =>
        Enum.IsDefined(table) ? table.TableName().Replace('_', ' ') : table.ToString();
}

/// <summary>A store read for copying: every row of every table, from one consistent snapshot.</summary>
public interface IStoreExport : IAsyncDisposable
{
    /// <summary>The sealed master-key check of the key store (copied so the target opens with the same master key).</summary>
    Task<byte[]?> MasterKeyCheckAsync(CancellationToken ct);

    Task<long> CountAsync(TransferTable table, CancellationToken ct);

    IAsyncEnumerable<TenantRecord> TenantsAsync(CancellationToken ct);

    IAsyncEnumerable<ClientRecord> ClientsAsync(CancellationToken ct);

    IAsyncEnumerable<KeyRow> KeysAsync(CancellationToken ct);

    IAsyncEnumerable<AttachmentRow> AttachmentsAsync(CancellationToken ct);

    /// <summary>Statements per tenant in stored order (the order the target must number them in).</summary>
    IAsyncEnumerable<StatementRow> StatementsAsync(CancellationToken ct);

    IAsyncEnumerable<DocumentRow> DocumentsAsync(CancellationToken ct);

    IAsyncEnumerable<ActivityDefinitionRow> ActivityDefinitionsAsync(CancellationToken ct);

    IAsyncEnumerable<AccessLogRow> AccessLogAsync(CancellationToken ct);

    IAsyncEnumerable<AccessLogCheckpointRow> AccessLogCheckpointsAsync(CancellationToken ct);

    IAsyncEnumerable<PersonRecord> PeopleAsync(CancellationToken ct);

    IAsyncEnumerable<AccountCredentials> AccountsAsync(CancellationToken ct);

    IAsyncEnumerable<AuthTokenRecord> AuthTokensAsync(CancellationToken ct);

    IAsyncEnumerable<LearnerRow> LearnersAsync(CancellationToken ct);

    IAsyncEnumerable<LearnerPseudonymRow> LearnerPseudonymsAsync(CancellationToken ct);

    IAsyncEnumerable<GuardianRow> GuardiansAsync(CancellationToken ct);

    IAsyncEnumerable<ClassRecord> ClassesAsync(CancellationToken ct);

    IAsyncEnumerable<ClassMemberRow> ClassMembersAsync(CancellationToken ct);

    IAsyncEnumerable<ClassTeacherRow> ClassTeachersAsync(CancellationToken ct);

    /// <summary>Consent records keep their ids (they order a learner's records).</summary>
    IAsyncEnumerable<StoredConsent> ConsentsAsync(CancellationToken ct);

    IAsyncEnumerable<TenantPolicyRow> TenantPoliciesAsync(CancellationToken ct);
}

/// <summary>An empty store being filled by a copy. Each call writes one batch durably.</summary>
public interface IStoreImport : IAsyncDisposable
{
    /// <summary>Whether the store holds nothing yet (no tenant, no key): a copy never mixes two installations.</summary>
    Task<bool> IsEmptyAsync(CancellationToken ct);

    Task WriteMasterKeyCheckAsync(byte[] sealedCheck, CancellationToken ct);

    Task WriteTenantsAsync(IReadOnlyList<TenantRecord> rows, CancellationToken ct);

    Task WriteClientsAsync(IReadOnlyList<ClientRecord> rows, CancellationToken ct);

    Task WriteKeysAsync(IReadOnlyList<KeyRow> rows, CancellationToken ct);

    Task WriteAttachmentsAsync(IReadOnlyList<AttachmentRow> rows, CancellationToken ct);

    /// <summary>Statements in the order <see cref="IStoreExport.StatementsAsync"/> gave them.</summary>
    Task WriteStatementsAsync(IReadOnlyList<StatementRow> rows, CancellationToken ct);

    Task WriteDocumentsAsync(IReadOnlyList<DocumentRow> rows, CancellationToken ct);

    Task WriteActivityDefinitionsAsync(IReadOnlyList<ActivityDefinitionRow> rows, CancellationToken ct);

    Task WriteAccessLogAsync(IReadOnlyList<AccessLogRow> rows, CancellationToken ct);

    Task WriteAccessLogCheckpointsAsync(IReadOnlyList<AccessLogCheckpointRow> rows, CancellationToken ct);

    Task WritePeopleAsync(IReadOnlyList<PersonRecord> rows, CancellationToken ct);

    Task WriteAccountsAsync(IReadOnlyList<AccountCredentials> rows, CancellationToken ct);

    Task WriteAuthTokensAsync(IReadOnlyList<AuthTokenRecord> rows, CancellationToken ct);

    Task WriteLearnersAsync(IReadOnlyList<LearnerRow> rows, CancellationToken ct);

    Task WriteLearnerPseudonymsAsync(IReadOnlyList<LearnerPseudonymRow> rows, CancellationToken ct);

    Task WriteGuardiansAsync(IReadOnlyList<GuardianRow> rows, CancellationToken ct);

    Task WriteClassesAsync(IReadOnlyList<ClassRecord> rows, CancellationToken ct);

    Task WriteClassMembersAsync(IReadOnlyList<ClassMemberRow> rows, CancellationToken ct);

    Task WriteClassTeachersAsync(IReadOnlyList<ClassTeacherRow> rows, CancellationToken ct);

    Task WriteConsentsAsync(IReadOnlyList<StoredConsent> rows, CancellationToken ct);

    Task WriteTenantPoliciesAsync(IReadOnlyList<TenantPolicyRow> rows, CancellationToken ct);

    /// <summary>After the last batch: bring counters (key ids, client ids, consent ids, sequences) past the copied values.</summary>
    Task FinishAsync(CancellationToken ct);
}
