using System.Buffers;
using System.Buffers.Binary;
using System.Numerics;
using System.Security.Cryptography;
using System.Text;
using LearnerVault.Storage.People;

namespace LearnerVault.Storage.Transfer;

/// <summary>How far a copy is: rows of <see cref="Table"/> done out of <see cref="Total"/>.</summary>
public sealed record TransferProgress(TransferTable Table, long Done, long Total);

/// <summary>What a store holds, for comparing two stores: the row count of each table and a content digest.</summary>
/// <param name="Digest">Hex of an order-independent digest over every row's content (see <see cref="ContentDigest"/>).</param>
public sealed record StoreSummary(IReadOnlyDictionary<TransferTable, long> Counts, string Digest)
{
    public long Total => Counts.Values.Sum();
}

/// <summary>
/// Moves an installation from one store to another: every table in dependency order, in batches, then reads the target
/// back and compares row counts and the content digest with what was read from the source. Nothing is decrypted.
/// </summary>
public static class StoreCopier
{
    public const int DefaultBatchSize = 2000;

    /// <summary>Copies <paramref name="source"/> into the empty <paramref name="target"/>; returns the source's summary.</summary>
    /// <exception cref="InvalidOperationException">The target is not empty.</exception>
    public static async Task<StoreSummary> CopyAsync(
        IStoreExport source, IStoreImport target, Action<TransferProgress>? progress, CancellationToken ct, int batchSize = DefaultBatchSize)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(target);
        if (!await target.IsEmptyAsync(ct))
        {
            throw new InvalidOperationException("the target store is not empty: a copy goes into a freshly migrated store only");
        }

        var digest = new ContentDigest();
        if (await source.MasterKeyCheckAsync(ct) is { } check)
        {
            await target.WriteMasterKeyCheckAsync(check, ct);
        }

        await MoveAsync(source, TransferTable.Tenants, source.TenantsAsync(ct), target.WriteTenantsAsync, digest.Add, progress, batchSize, ct);
        await MoveAsync(source, TransferTable.Clients, source.ClientsAsync(ct), target.WriteClientsAsync, digest.Add, progress, batchSize, ct);
        await MoveAsync(source, TransferTable.Keys, source.KeysAsync(ct), target.WriteKeysAsync, digest.Add, progress, batchSize, ct);
        await MoveAsync(source, TransferTable.Attachments, source.AttachmentsAsync(ct), target.WriteAttachmentsAsync, digest.Add, progress, batchSize, ct);
        await MoveAsync(source, TransferTable.Statements, source.StatementsAsync(ct), target.WriteStatementsAsync, digest.Add, progress, batchSize, ct);
        await MoveAsync(source, TransferTable.Documents, source.DocumentsAsync(ct), target.WriteDocumentsAsync, digest.Add, progress, batchSize, ct);
        await MoveAsync(source, TransferTable.ActivityDefinitions, source.ActivityDefinitionsAsync(ct), target.WriteActivityDefinitionsAsync, digest.Add, progress, batchSize, ct);
        await MoveAsync(source, TransferTable.AccessLog, source.AccessLogAsync(ct), target.WriteAccessLogAsync, digest.Add, progress, batchSize, ct);
        await MoveAsync(source, TransferTable.AccessLogCheckpoints, source.AccessLogCheckpointsAsync(ct), target.WriteAccessLogCheckpointsAsync, digest.Add, progress, batchSize, ct);
        await MoveAsync(source, TransferTable.People, source.PeopleAsync(ct), target.WritePeopleAsync, digest.Add, progress, batchSize, ct);
        await MoveAsync(source, TransferTable.Accounts, source.AccountsAsync(ct), target.WriteAccountsAsync, digest.Add, progress, batchSize, ct);
        await MoveAsync(source, TransferTable.AuthTokens, source.AuthTokensAsync(ct), target.WriteAuthTokensAsync, digest.Add, progress, batchSize, ct);
        await MoveAsync(source, TransferTable.Learners, source.LearnersAsync(ct), target.WriteLearnersAsync, digest.Add, progress, batchSize, ct);
        await MoveAsync(source, TransferTable.LearnerPseudonyms, source.LearnerPseudonymsAsync(ct), target.WriteLearnerPseudonymsAsync, digest.Add, progress, batchSize, ct);
        await MoveAsync(source, TransferTable.Guardians, source.GuardiansAsync(ct), target.WriteGuardiansAsync, digest.Add, progress, batchSize, ct);
        await MoveAsync(source, TransferTable.Classes, source.ClassesAsync(ct), target.WriteClassesAsync, digest.Add, progress, batchSize, ct);
        await MoveAsync(source, TransferTable.ClassMembers, source.ClassMembersAsync(ct), target.WriteClassMembersAsync, digest.Add, progress, batchSize, ct);
        await MoveAsync(source, TransferTable.ClassTeachers, source.ClassTeachersAsync(ct), target.WriteClassTeachersAsync, digest.Add, progress, batchSize, ct);
        await MoveAsync(source, TransferTable.Consents, source.ConsentsAsync(ct), target.WriteConsentsAsync, digest.Add, progress, batchSize, ct);
        await MoveAsync(source, TransferTable.TenantPolicies, source.TenantPoliciesAsync(ct), target.WriteTenantPoliciesAsync, digest.Add, progress, batchSize, ct);
        await target.FinishAsync(ct);
        return digest.Summary();
    }

    /// <summary>Reads every row of <paramref name="store"/> and summarises it (for verifying a copy).</summary>
    public static async Task<StoreSummary> SummarizeAsync(IStoreExport store, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(store);
        var digest = new ContentDigest();
        await AddAllAsync(store.TenantsAsync(ct), digest.Add);
        await AddAllAsync(store.ClientsAsync(ct), digest.Add);
        await AddAllAsync(store.KeysAsync(ct), digest.Add);
        await AddAllAsync(store.AttachmentsAsync(ct), digest.Add);
        await AddAllAsync(store.StatementsAsync(ct), digest.Add);
        await AddAllAsync(store.DocumentsAsync(ct), digest.Add);
        await AddAllAsync(store.ActivityDefinitionsAsync(ct), digest.Add);
        await AddAllAsync(store.AccessLogAsync(ct), digest.Add);
        await AddAllAsync(store.AccessLogCheckpointsAsync(ct), digest.Add);
        await AddAllAsync(store.PeopleAsync(ct), digest.Add);
        await AddAllAsync(store.AccountsAsync(ct), digest.Add);
        await AddAllAsync(store.AuthTokensAsync(ct), digest.Add);
        await AddAllAsync(store.LearnersAsync(ct), digest.Add);
        await AddAllAsync(store.LearnerPseudonymsAsync(ct), digest.Add);
        await AddAllAsync(store.GuardiansAsync(ct), digest.Add);
        await AddAllAsync(store.ClassesAsync(ct), digest.Add);
        await AddAllAsync(store.ClassMembersAsync(ct), digest.Add);
        await AddAllAsync(store.ClassTeachersAsync(ct), digest.Add);
        await AddAllAsync(store.ConsentsAsync(ct), digest.Add);
        await AddAllAsync(store.TenantPoliciesAsync(ct), digest.Add);
        return digest.Summary();
    }

    private static async Task AddAllAsync<T>(IAsyncEnumerable<T> rows, Action<T> add)
    {
        await foreach (var row in rows)
        {
            add(row);
        }
    }

    private static async Task MoveAsync<T>(
        IStoreExport source,
        TransferTable table,
        IAsyncEnumerable<T> rows,
        Func<IReadOnlyList<T>, CancellationToken, Task> write,
        Action<T> digest,
        Action<TransferProgress>? progress,
        int batchSize,
        CancellationToken ct)
    {
        var total = await source.CountAsync(table, ct);
        var done = 0L;
        progress?.Invoke(new TransferProgress(table, 0, total));
        var batch = new List<T>(batchSize);
        await foreach (var row in rows.WithCancellation(ct))
        {
            digest(row);
            batch.Add(row);
            if (batch.Count == batchSize)
            {
                await write(batch, ct);
                done += batch.Count;
                progress?.Invoke(new TransferProgress(table, done, Math.Max(total, done)));
                batch = new List<T>(batchSize);
            }
        }

        if (batch.Count > 0)
        {
            await write(batch, ct);
            done += batch.Count;
        }

        progress?.Invoke(new TransferProgress(table, done, Math.Max(total, done)));
    }
}

/// <summary>
/// An order-independent digest of a store's content: per table, the row count and the sum (mod 2^256) of the SHA-256 of
/// each row's canonical encoding; the digest is the SHA-256 of those. Two backends list rows in different orders (and
/// number statements differently), so the digest must not depend on order; it covers every byte that matters (ids,
/// times to the microsecond, ciphertext, terms, wrapped keys) and leaves out only the source's own sequence numbers.
/// It detects loss and corruption; it is not meant to resist someone crafting rows to collide.
/// </summary>
public sealed class ContentDigest
{
    private static readonly BigInteger Modulus = BigInteger.One << 256;
    private readonly Dictionary<TransferTable, (long Count, BigInteger Sum)> tables = [];

    public void Add(TenantRecord row) => Add(TransferTable.Tenants, w => w.Guid(row.Id).Text(row.Name).Time(row.Created));

    public void Add(ClientRecord row) => Add(TransferTable.Clients, w => w
        .Int(row.Id).Guid(row.TenantId).Text(row.Name).Text(row.Key).Bytes(row.SecretHash)
        .Texts(row.Scopes).Texts(row.Purposes).Time(row.Created).Time(row.Revoked));

    public void Add(KeyRow row) => Add(TransferTable.Keys, w => w
        .Int(row.Id).Guid(row.TenantId).Int(row.Purpose).Bytes(row.Learner).Int(row.WrappingKeyId).Bytes(row.Wrapped).Time(row.Created));

    public void Add(AttachmentRow row) => Add(TransferTable.Attachments, w => w
        .Guid(row.TenantId).Bytes(row.HashKey).Int(row.KeyId).Bytes(row.Blob).Int(row.References));

    public void Add(StatementRow row) => Add(TransferTable.Statements, w => w
        .Guid(row.TenantId).Guid(row.Id).Time(row.Stored).Int(row.KeyId).Int(row.ClientId).Bytes(row.Blob).Bytes(row.ContentHash)
        .Set(row.Terms.Select(t => new[] { (byte)t.Kind }.Concat(t.Hash).ToArray()))
        .Guid(row.RefTarget).Bool(row.IsVoiding).Bool(row.Voided).Bool(row.HasTimestamp).Set(row.Attachments)
        .Bytes(row.Learner).Bool(row.Restricted));

    public void Add(DocumentRow row) => Add(TransferTable.Documents, w => w
        .Guid(row.TenantId).Int((long)row.Key.Kind).Bytes(row.Key.Activity).Bytes(row.Key.Agent).Bytes(row.Key.Registration).Bytes(row.Key.Id)
        .Int(row.KeyId).Bytes(row.Blob).Bytes(row.IdBlob).Bytes(row.ETag).Time(row.Updated).Bool(row.Restricted));

    public void Add(ActivityDefinitionRow row) => Add(TransferTable.ActivityDefinitions, w => w
        .Guid(row.TenantId).Bytes(row.Activity).Int(row.KeyId).Bytes(row.Blob).Int(row.Version).Time(row.Updated));

    public void Add(AccessLogRow row) => Add(TransferTable.AccessLog, w => w
        .Guid(row.TenantId).Int(row.Record.Position).Time(row.Record.Entry.Time).Text(row.Record.Entry.Principal).Text(row.Record.Entry.Client)
        .Text(row.Record.Entry.Action).Text(row.Record.Entry.Purpose).Bytes(row.Record.Entry.LearnerPseudonym).Int(row.Record.Entry.Records)
        .Int((long)row.Record.Entry.Decision).Text(row.Record.Entry.Reason).Bytes(row.Record.Hash));

    public void Add(AccessLogCheckpointRow row) => Add(TransferTable.AccessLogCheckpoints, w => w
        .Guid(row.TenantId).Int(row.Checkpoint.Position).Bytes(row.Checkpoint.HeadHash).Time(row.Checkpoint.Time).Bytes(row.Checkpoint.Signature));

    public void Add(PersonRecord row) => Add(TransferTable.People, w => w
        .Guid(row.TenantId).Guid(row.Id).Texts(PrivacyValues.RoleNames(row.Roles)).Bytes(row.LoginKey).Bytes(row.Profile).Guid(row.LearnerId)
        .Time(row.Created).Time(row.Disabled));

    public void Add(AccountCredentials row) => Add(TransferTable.Accounts, w => w
        .Guid(row.TenantId).Guid(row.PersonId).Text(row.PasswordHash).Int(row.FailedAttempts).Time(row.LockedUntil).Bytes(row.TotpSecret)
        .Bool(row.TotpConfirmed).Int(row.TotpLastStep).Time(row.Updated));

    public void Add(AuthTokenRecord row) => Add(TransferTable.AuthTokens, w => w
        .Bytes(row.TokenHash).Guid(row.TenantId).Guid(row.PersonId).Int((long)row.Kind).Text(row.Label).Time(row.Created).Time(row.Expires)
        .Time(row.Revoked));

    public void Add(LearnerRow row) => Add(TransferTable.Learners, w => w
        .Guid(row.TenantId).Guid(row.Id).Int(row.BirthYear).Int(row.AgeBand?.MinAge).Int(row.AgeBand?.MaxAge).Bool(row.Restricted)
        .Texts(row.Objections).Time(row.Created));

    public void Add(LearnerPseudonymRow row) => Add(TransferTable.LearnerPseudonyms, w => w
        .Guid(row.TenantId).Bytes(row.Pseudonym).Guid(row.LearnerId).Int(row.Ordinal));

    public void Add(GuardianRow row) => Add(TransferTable.Guardians, w => w.Guid(row.TenantId).Guid(row.LearnerId).Guid(row.GuardianId));

    public void Add(ClassRecord row) => Add(TransferTable.Classes, w => w.Guid(row.TenantId).Guid(row.Id).Text(row.Name).Time(row.Created));

    public void Add(ClassMemberRow row) => Add(TransferTable.ClassMembers, w => w.Guid(row.TenantId).Guid(row.ClassId).Guid(row.LearnerId));

    public void Add(ClassTeacherRow row) => Add(TransferTable.ClassTeachers, w => w.Guid(row.TenantId).Guid(row.ClassId).Guid(row.TeacherId));

    public void Add(StoredConsent row) => Add(TransferTable.Consents, w => w
        .Int(row.Id).Guid(row.TenantId).Guid(row.LearnerId).Text(row.Record.Purpose.Name).Text(PrivacyValues.Name(row.Record.Choice))
        .Text(PrivacyValues.Name(row.Record.GivenBy)).Text(row.Record.GiverId).Time(row.Record.At).Text(row.Record.Channel)
        .Text(row.Record.NoticeVersion).Text(row.RecordedBy));

    public void Add(TenantPolicyRow row) => Add(TransferTable.TenantPolicies, w => w
        .Guid(row.TenantId).Int(row.AgeOfDigitalConsent).Text(row.RestrictedWrites).Text(row.Bases));

    public StoreSummary Summary()
    {
        var counts = new Dictionary<TransferTable, long>();
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<byte> buffer = stackalloc byte[40];
        foreach (var table in Enum.GetValues<TransferTable>())
        {
            var (count, sum) = tables.GetValueOrDefault(table);
            counts[table] = count;
            BinaryPrimitives.WriteInt32BigEndian(buffer, (int)table);
            BinaryPrimitives.WriteInt64BigEndian(buffer[4..], count);
            hash.AppendData(buffer[..12]);
            var bytes = sum.ToByteArray(isUnsigned: true, isBigEndian: true);
            buffer[..32].Clear();
            bytes.CopyTo(buffer[(32 - bytes.Length)..32]);
            hash.AppendData(buffer[..32]);
        }

        return new StoreSummary(counts, Convert.ToHexStringLower(hash.GetHashAndReset()));
    }

    private void Add(TransferTable table, Action<RowWriter> encode)
    {
        var writer = new RowWriter();
        encode(writer);
        var rowHash = new BigInteger(SHA256.HashData(writer.ToArray()), isUnsigned: true, isBigEndian: true);
        var (count, sum) = tables.GetValueOrDefault(table);
        tables[table] = (count + 1, (sum + rowHash) % Modulus);
    }

    /// <summary>Length-prefixed fields, so that no two different rows encode alike.</summary>
    private sealed class RowWriter
    {
        private readonly ArrayBufferWriter<byte> stream = new();

        public RowWriter Bytes(ReadOnlySpan<byte> value)
        {
            Span<byte> length = stackalloc byte[4];
            BinaryPrimitives.WriteInt32BigEndian(length, value.Length);
            stream.Write(length);
            stream.Write(value);
            return this;
        }

        public RowWriter Bytes(byte[]? value) => value is null ? Int(-1) : Bytes(value.AsSpan());

        public RowWriter Int(long? value)
        {
            Span<byte> bytes = stackalloc byte[9];
            bytes[0] = value is null ? (byte)0 : (byte)1;
            BinaryPrimitives.WriteInt64BigEndian(bytes[1..], value ?? 0);
            stream.Write(bytes);
            return this;
        }

        public RowWriter Bool(bool value) => Int(value ? 1 : 0);

        public RowWriter Guid(Guid? value) => value is { } id ? Bytes(id.ToByteArray(bigEndian: true)) : Int(null);

        public RowWriter Text(string? value) => value is null ? Int(null) : Bytes(Encoding.UTF8.GetBytes(value));

        public RowWriter Texts(IReadOnlyList<string> values)
        {
            Int(values.Count);
            foreach (var value in values)
            {
                Text(value);
            }

            return this;
        }

        /// <summary>Microseconds since the epoch: both backends keep times to the microsecond.</summary>
        public RowWriter Time(DateTimeOffset? value) => Int(value is { } time ? (time.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / 10 : null);

        /// <summary>A set: its members sorted, so that the order a backend lists them in does not count.</summary>
        public RowWriter Set(IEnumerable<byte[]> members)
        {
            var sorted = members.Select(m => m.ToArray()).ToList();
            sorted.Sort((a, b) => a.AsSpan().SequenceCompareTo(b));
            Int(sorted.Count);
            foreach (var member in sorted)
            {
                Bytes(member);
            }

            return this;
        }

        public byte[] ToArray() => stream.WrittenSpan.ToArray();
    }
}
