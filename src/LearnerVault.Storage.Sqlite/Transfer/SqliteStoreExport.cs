using System.Runtime.CompilerServices;
using LearnerVault.Privacy.Audit;
using LearnerVault.Storage.People;
using LearnerVault.Storage.Transfer;
using Microsoft.Data.Sqlite;
using ConsentChoice = LearnerVault.Privacy.Access.ConsentChoice;
using ConsentGiver = LearnerVault.Privacy.Access.ConsentGiver;
using ConsentRecord = LearnerVault.Privacy.Access.ConsentRecord;
using Purpose = LearnerVault.Privacy.Access.Purpose;

namespace LearnerVault.Storage.Sqlite;

/// <summary>
/// Reads an embedded installation (the data file and the key store file beside it) for copying elsewhere. Both files are
/// opened read-only, each inside one read transaction, so the copy sees one consistent snapshot of each even if a
/// server is still writing (stop the server first for a snapshot that is also the last word). Nothing is decrypted.
/// </summary>
public sealed class SqliteStoreExport : IStoreExport
{
    private readonly SqliteConnection data;
    private readonly SqliteConnection keys;
    private readonly SqliteTransaction dataSnapshot;
    private readonly SqliteTransaction keysSnapshot;

    private SqliteStoreExport(SqliteConnection data, SqliteConnection keys)
    {
        this.data = data;
        this.keys = keys;
        dataSnapshot = data.BeginTransaction(deferred: true);
        keysSnapshot = keys.BeginTransaction(deferred: true);
        // A deferred transaction takes its snapshot at the first read: take it now, for both files.
        Scalar(data, dataSnapshot, "SELECT count(*) FROM tenants;");
        Scalar(keys, keysSnapshot, "SELECT count(*) FROM keys;");
    }

    /// <summary>Opens the data file <paramref name="path"/> (or the data folder holding it) and its key store.</summary>
    /// <exception cref="FileNotFoundException">The data file or the key store file is missing.</exception>
    public static SqliteStoreExport Open(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var dataPath = Directory.Exists(path) ? Path.Combine(path, SqliteBackend.DataFileName) : path;
        var keysPath = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(dataPath))!, SqliteBackend.KeyStoreFileName);
        if (!File.Exists(dataPath))
        {
            throw new FileNotFoundException($"no data file at '{dataPath}'", dataPath);
        }

        if (!File.Exists(keysPath))
        {
            throw new FileNotFoundException($"no key store beside the data file ('{keysPath}'): a copy needs both", keysPath);
        }

        var data = OpenReadOnly(dataPath);
        SqliteConnection? keys = null;
        try
        {
            keys = OpenReadOnly(keysPath);
            return new SqliteStoreExport(data, keys);
        }
        catch
        {
            keys?.Dispose();
            data.Dispose();
            throw;
        }
    }

    public Task<byte[]?> MasterKeyCheckAsync(CancellationToken ct) =>
        Task.FromResult(Scalar(keys, keysSnapshot, "SELECT sealed FROM master_key_check WHERE id = 1;") as byte[]);

    public Task<long> CountAsync(TransferTable table, CancellationToken ct)
    {
        var (connection, transaction, sql) = table switch
        {
            TransferTable.Tenants => (data, dataSnapshot, "SELECT count(*) FROM tenants WHERE name IS NOT NULL;"),
            TransferTable.Clients => (data, dataSnapshot, "SELECT count(*) FROM clients;"),
            TransferTable.Keys => (keys, keysSnapshot, "SELECT count(*) FROM keys;"),
            TransferTable.Attachments => (data, dataSnapshot, "SELECT count(*) FROM attachments;"),
            TransferTable.Statements => (data, dataSnapshot, "SELECT count(*) FROM statements;"),
            TransferTable.Documents => (data, dataSnapshot, "SELECT count(*) FROM documents;"),
            TransferTable.ActivityDefinitions => (data, dataSnapshot, "SELECT count(*) FROM activity_definitions;"),
            TransferTable.AccessLog => (data, dataSnapshot, "SELECT count(*) FROM access_log;"),
            TransferTable.AccessLogCheckpoints => (data, dataSnapshot, "SELECT count(*) FROM access_log_checkpoints;"),
            // The privacy store's tables (0006_people) are named alike in both backends and counted whole.
            _ when table >= TransferTable.People && Enum.IsDefined(table) => (data, dataSnapshot, $"SELECT count(*) FROM {table.TableName()};"),
            _ => throw new ArgumentOutOfRangeException(nameof(table)),
        };
        return Task.FromResult((long)Scalar(connection, transaction, sql)!);
    }

    // Tenants the data file saw only through statements (no name yet) are not copied: they are placeholders that the
    // target creates again on first use.
    public IAsyncEnumerable<TenantRecord> TenantsAsync(CancellationToken ct) => Rows(data, dataSnapshot,
        "SELECT id, name, created FROM tenants WHERE name IS NOT NULL ORDER BY no;",
        r => new TenantRecord(Guid(r, 0), r.GetString(1), Time(r, 2)), ct);

    public IAsyncEnumerable<ClientRecord> ClientsAsync(CancellationToken ct) => Rows(data, dataSnapshot,
        """
        SELECT c.id, t.id, c.name, c.key, c.secret_hash, c.scopes, c.purposes, c.created, c.revoked
        FROM clients c JOIN tenants t ON t.no = c.tenant_no ORDER BY c.id;
        """,
        r => new ClientRecord(
            r.GetInt64(0), Guid(r, 1), r.GetString(2), r.GetString(3), (byte[])r[4],
            PrivacyValues.FromJson(r.GetString(5)), PrivacyValues.FromJson(r.GetString(6)), Time(r, 7), r.IsDBNull(8) ? null : Time(r, 8)),
        ct);

    // Keys that the master key wraps first: a key may be wrapped by a KEK with a higher id (after a rotation), and the
    // target checks that the wrapping key exists.
    public IAsyncEnumerable<KeyRow> KeysAsync(CancellationToken ct) => Rows(keys, keysSnapshot,
        "SELECT id, tenant_id, purpose, learner, wrapping_key_id, wrapped, created FROM keys ORDER BY wrapping_key_id IS NOT NULL, id;",
        r => new KeyRow(
            r.GetInt64(0), Guid(r, 1), r.GetInt32(2), r.IsDBNull(3) ? null : (byte[])r[3],
            r.IsDBNull(4) ? null : r.GetInt64(4), (byte[])r[5], Time(r, 6)),
        ct);

    public IAsyncEnumerable<AttachmentRow> AttachmentsAsync(CancellationToken ct) => Rows(data, dataSnapshot,
        "SELECT t.id, a.hash_key, a.key_id, a.blob, a.refs FROM attachments a JOIN tenants t ON t.no = a.tenant_no ORDER BY a.no;",
        r => new AttachmentRow(Guid(r, 0), (byte[])r[1], r.GetInt64(2), (byte[])r[3], r.GetInt64(4)),
        ct);

    public async IAsyncEnumerable<StatementRow> StatementsAsync([EnumeratorCancellation] CancellationToken ct)
    {
        // Attachments are rare: which statement carried which content fits in memory.
        var carried = new Dictionary<long, List<byte[]>>();
        await foreach (var (seq, hashKey) in Rows(data, dataSnapshot,
            "SELECT sa.seq, a.hash_key FROM statement_attachments sa JOIN attachments a ON a.no = sa.attachment_no;",
            r => (r.GetInt64(0), (byte[])r[1]), ct))
        {
            if (!carried.TryGetValue(seq, out var list))
            {
                carried[seq] = list = [];
            }

            list.Add(hashKey);
        }

        // stored is the sequence (unix microseconds); per tenant, in stored order.
        await foreach (var row in Rows(data, dataSnapshot,
            """
            SELECT s.seq, t.id, s.id, s.key_id, s.client_id, s.blob, s.content_hash, s.terms, s.ref_target,
                   s.is_voiding, s.voided, s.has_timestamp, s.learner, s.restricted
            FROM statements s JOIN tenants t ON t.no = s.tenant_no
            ORDER BY s.tenant_no, s.seq;
            """,
            r =>
            {
                var seq = r.GetInt64(0);
                return new StatementRow(
                    Guid(r, 1), Guid(r, 2), seq, SqliteValues.FromUnixMicroseconds(seq), r.GetInt64(3), r.GetInt64(4),
                    (byte[])r[5], (byte[])r[6], StoredTermSet.FromBlob((byte[])r[7]).ToIndexTerms(), r.IsDBNull(8) ? null : Guid(r, 8),
                    r.GetInt64(9) != 0, r.GetInt64(10) != 0, r.GetInt64(11) != 0,
                    carried.TryGetValue(seq, out var hashKeys) ? hashKeys : [],
                    r.IsDBNull(12) ? null : (byte[])r[12], r.GetInt64(13) != 0);
            },
            ct))
        {
            yield return row;
        }
    }

    public IAsyncEnumerable<DocumentRow> DocumentsAsync(CancellationToken ct) => Rows(data, dataSnapshot,
        """
        SELECT t.id, d.kind, d.activity, d.agent, d.registration, d.doc, d.key_id, d.blob, d.id_blob, d.etag, d.updated, d.restricted
        FROM documents d JOIN tenants t ON t.no = d.tenant_no;
        """,
        r => new DocumentRow(
            Guid(r, 0),
            new DocumentKey((DocumentKind)r.GetInt32(1), (byte[])r[2], (byte[])r[3], (byte[])r[4], (byte[])r[5]),
            r.GetInt64(6), (byte[])r[7], (byte[])r[8], (byte[])r[9], Time(r, 10), r.GetInt64(11) != 0),
        ct);

    public IAsyncEnumerable<ActivityDefinitionRow> ActivityDefinitionsAsync(CancellationToken ct) => Rows(data, dataSnapshot,
        """
        SELECT t.id, a.activity, a.key_id, a.blob, a.version, a.updated
        FROM activity_definitions a JOIN tenants t ON t.no = a.tenant_no;
        """,
        r => new ActivityDefinitionRow(Guid(r, 0), (byte[])r[1], r.GetInt64(2), (byte[])r[3], r.GetInt64(4), Time(r, 5)),
        ct);

    public IAsyncEnumerable<AccessLogRow> AccessLogAsync(CancellationToken ct) => Rows(data, dataSnapshot,
        """
        SELECT t.id, l.position, l.time, l.principal, l.client, l.action, l.purpose, l.learner, l.records, l.decision, l.reason, l.hash
        FROM access_log l JOIN tenants t ON t.no = l.tenant_no ORDER BY l.tenant_no, l.position;
        """,
        r => new AccessLogRow(Guid(r, 0), new AccessLogRecord(
            r.GetInt64(1),
            new AccessLogEntry(Time(r, 2), r.GetString(3), r.IsDBNull(4) ? null : r.GetString(4), r.GetString(5), r.GetString(6),
                r.IsDBNull(7) ? null : (byte[])r[7], r.GetInt64(8), (AccessDecision)r.GetInt64(9), r.GetString(10)),
            (byte[])r[11])),
        ct);

    public IAsyncEnumerable<AccessLogCheckpointRow> AccessLogCheckpointsAsync(CancellationToken ct) => Rows(data, dataSnapshot,
        """
        SELECT t.id, c.position, c.head, c.time, c.signature
        FROM access_log_checkpoints c JOIN tenants t ON t.no = c.tenant_no ORDER BY c.tenant_no, c.position;
        """,
        r => new AccessLogCheckpointRow(Guid(r, 0), new AccessLogCheckpoint(r.GetInt64(1), (byte[])r[2], Time(r, 3), (byte[])r[4])),
        ct);

    public IAsyncEnumerable<PersonRecord> PeopleAsync(CancellationToken ct) => Rows(data, dataSnapshot,
        """
        SELECT t.id, p.id, p.roles, p.login_key, p.profile, p.learner_id, p.created, p.disabled
        FROM people p JOIN tenants t ON t.no = p.tenant_no ORDER BY p.tenant_no, p.id;
        """,
        r => new PersonRecord(Guid(r, 0), Guid(r, 1), PrivacyValues.Roles(PrivacyValues.FromJson(r.GetString(2))), Blob(r, 3), Blob(r, 4),
            r.IsDBNull(5) ? null : Guid(r, 5), Time(r, 6), NullableTime(r, 7)),
        ct);

    public IAsyncEnumerable<AccountCredentials> AccountsAsync(CancellationToken ct) => Rows(data, dataSnapshot,
        """
        SELECT t.id, a.person_id, a.password_hash, a.failed_attempts, a.locked_until, a.totp_secret, a.totp_confirmed, a.totp_last_step, a.updated
        FROM accounts a JOIN tenants t ON t.no = a.tenant_no;
        """,
        r => new AccountCredentials(Guid(r, 0), Guid(r, 1), r.GetString(2), r.GetInt32(3), NullableTime(r, 4), Blob(r, 5),
            r.GetInt64(6) != 0, r.GetInt64(7), Time(r, 8)),
        ct);

    public IAsyncEnumerable<AuthTokenRecord> AuthTokensAsync(CancellationToken ct) => Rows(data, dataSnapshot,
        """
        SELECT a.token_hash, t.id, a.person_id, a.kind, a.label, a.created, a.expires, a.revoked
        FROM auth_tokens a JOIN tenants t ON t.no = a.tenant_no;
        """,
        r => new AuthTokenRecord((byte[])r[0], Guid(r, 1), Guid(r, 2), (AuthTokenKind)r.GetInt32(3), r.IsDBNull(4) ? null : r.GetString(4),
            Time(r, 5), Time(r, 6), NullableTime(r, 7)),
        ct);

    public IAsyncEnumerable<LearnerRow> LearnersAsync(CancellationToken ct) => Rows(data, dataSnapshot,
        """
        SELECT t.id, l.id, l.birth_year, l.age_band_min, l.age_band_max, l.restricted, l.objections, l.created
        FROM learners l JOIN tenants t ON t.no = l.tenant_no;
        """,
        r => new LearnerRow(Guid(r, 0), Guid(r, 1), r.IsDBNull(2) ? null : r.GetInt32(2),
            PrivacyValues.Band(r.IsDBNull(3) ? null : r.GetInt32(3), r.IsDBNull(4) ? null : r.GetInt32(4)), r.GetInt64(5) != 0,
            PrivacyValues.FromJson(r.GetString(6)), Time(r, 7)),
        ct);

    public IAsyncEnumerable<LearnerPseudonymRow> LearnerPseudonymsAsync(CancellationToken ct) => Rows(data, dataSnapshot,
        "SELECT t.id, p.pseudonym, p.learner_id, p.ordinal FROM learner_pseudonyms p JOIN tenants t ON t.no = p.tenant_no;",
        r => new LearnerPseudonymRow(Guid(r, 0), (byte[])r[1], Guid(r, 2), r.GetInt32(3)),
        ct);

    public IAsyncEnumerable<GuardianRow> GuardiansAsync(CancellationToken ct) => Rows(data, dataSnapshot,
        "SELECT t.id, g.learner_id, g.guardian_id FROM guardians g JOIN tenants t ON t.no = g.tenant_no;",
        r => new GuardianRow(Guid(r, 0), Guid(r, 1), Guid(r, 2)),
        ct);

    public IAsyncEnumerable<ClassRecord> ClassesAsync(CancellationToken ct) => Rows(data, dataSnapshot,
        "SELECT t.id, c.id, c.name, c.created FROM classes c JOIN tenants t ON t.no = c.tenant_no;",
        r => new ClassRecord(Guid(r, 0), Guid(r, 1), r.GetString(2), Time(r, 3)),
        ct);

    public IAsyncEnumerable<ClassMemberRow> ClassMembersAsync(CancellationToken ct) => Rows(data, dataSnapshot,
        "SELECT t.id, m.class_id, m.learner_id FROM class_members m JOIN tenants t ON t.no = m.tenant_no;",
        r => new ClassMemberRow(Guid(r, 0), Guid(r, 1), Guid(r, 2)),
        ct);

    public IAsyncEnumerable<ClassTeacherRow> ClassTeachersAsync(CancellationToken ct) => Rows(data, dataSnapshot,
        "SELECT t.id, m.class_id, m.teacher_id FROM class_teachers m JOIN tenants t ON t.no = m.tenant_no;",
        r => new ClassTeacherRow(Guid(r, 0), Guid(r, 1), Guid(r, 2)),
        ct);

    public IAsyncEnumerable<StoredConsent> ConsentsAsync(CancellationToken ct) => Rows(data, dataSnapshot,
        """
        SELECT c.id, t.id, c.learner_id, c.purpose, c.choice, c.given_by, c.giver_id, c.at, c.channel, c.notice_version, c.recorded_by
        FROM consents c JOIN tenants t ON t.no = c.tenant_no ORDER BY c.id;
        """,
        r => new StoredConsent(r.GetInt64(0), Guid(r, 1), Guid(r, 2),
            new ConsentRecord(Purpose.Parse(r.GetString(3)), PrivacyValues.Parse<ConsentChoice>(r.GetString(4)),
                PrivacyValues.Parse<ConsentGiver>(r.GetString(5)), r.GetString(6), Time(r, 7), r.GetString(8), r.GetString(9)),
            r.GetString(10)),
        ct);

    public IAsyncEnumerable<TenantPolicyRow> TenantPoliciesAsync(CancellationToken ct) => Rows(data, dataSnapshot,
        "SELECT t.id, p.age_of_digital_consent, p.restricted_writes, p.bases FROM tenant_policies p JOIN tenants t ON t.no = p.tenant_no;",
        r => new TenantPolicyRow(Guid(r, 0), r.GetInt32(1), r.GetString(2), r.GetString(3)),
        ct);

    public ValueTask DisposeAsync()
    {
        dataSnapshot.Dispose();
        keysSnapshot.Dispose();
        data.Dispose();
        keys.Dispose();
        return ValueTask.CompletedTask;
    }

    private static SqliteConnection OpenReadOnly(string path)
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadOnly,
            Pooling = false,
        }.ConnectionString);
        connection.Open();
        return connection;
    }

    private static object? Scalar(SqliteConnection connection, SqliteTransaction transaction, string sql)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        return command.ExecuteScalar();
    }

#pragma warning disable CS1998 // SQLite reads are synchronous; the stream is async for the interface's sake.
    private static async IAsyncEnumerable<T> Rows<T>(
        SqliteConnection connection, SqliteTransaction transaction, string sql, Func<SqliteDataReader, T> map, [EnumeratorCancellation] CancellationToken ct)
#pragma warning restore CS1998
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            ct.ThrowIfCancellationRequested();
            yield return map(reader);
        }
    }

    private static Guid Guid(SqliteDataReader reader, int ordinal) => SqliteValues.ToGuid((byte[])reader[ordinal]);

    private static DateTimeOffset Time(SqliteDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? DateTimeOffset.UnixEpoch : SqliteValues.FromUnixMicroseconds(reader.GetInt64(ordinal));

    private static DateTimeOffset? NullableTime(SqliteDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : SqliteValues.FromUnixMicroseconds(reader.GetInt64(ordinal));

    private static byte[]? Blob(SqliteDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : (byte[])reader[ordinal];
}
