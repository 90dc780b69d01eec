using System.Runtime.CompilerServices;
using LearnerVault.Privacy.Audit;
using LearnerVault.Storage.People;
using LearnerVault.Storage.Transfer;
using Npgsql;
using NpgsqlTypes;
using ConsentChoice = LearnerVault.Privacy.Access.ConsentChoice;
using ConsentGiver = LearnerVault.Privacy.Access.ConsentGiver;
using ConsentRecord = LearnerVault.Privacy.Access.ConsentRecord;
using Purpose = LearnerVault.Privacy.Access.Purpose;

namespace LearnerVault.Storage.Postgres;

/// <summary>
/// A store copy's PostgreSQL end: fills a freshly migrated database with binary COPY (each batch one COPY per table,
/// durable when it returns), and reads a database back for verification from one REPEATABLE READ snapshot per schema.
/// Rows keep their ids (key ids, client ids: ciphertext and statements refer to them); statements are numbered again per
/// tenant (1, 2, …) in the source's stored order, which is all the numbering has to mean here.
/// </summary>
public sealed class PostgresStoreTransfer : IStoreImport, IStoreExport
{
    private static readonly Guid MasterKeyCheckTenant = Guid.Empty;

    private readonly NpgsqlDataSource data;
    private readonly NpgsqlDataSource keys;
    private readonly Dictionary<Guid, long> nextSeq = [];
    private NpgsqlConnection? readData;
    private NpgsqlConnection? readKeys;
    private NpgsqlTransaction? dataSnapshot;
    private NpgsqlTransaction? keysSnapshot;

    private PostgresStoreTransfer(NpgsqlDataSource data, NpgsqlDataSource keys)
    {
        this.data = data;
        this.keys = keys;
    }

    /// <summary>Opens a migrated database for a copy (writing into it, or reading it back).</summary>
    /// <exception cref="StoreNotMigratedException">A schema is missing or not at this build's version.</exception>
    public static async Task<PostgresStoreTransfer> OpenAsync(PostgresStoreOptions options, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var data = PostgresBackend.CreateDataSource(options.ConnectionString, options.DataSchema);
        var keys = PostgresBackend.CreateDataSource(options.KeyStoreConnectionString ?? options.ConnectionString, options.KeySchema);
        try
        {
            PostgresBackend.RequireCurrent(await PostgresMigrator.InspectAsync(data, PostgresMigrator.DataSet, options.DataSchema, ct));
            PostgresBackend.RequireCurrent(await PostgresMigrator.InspectAsync(keys, PostgresMigrator.KeysSet, options.KeySchema, ct));
            return new PostgresStoreTransfer(data, keys);
        }
        catch
        {
            await data.DisposeAsync();
            await keys.DisposeAsync();
            throw;
        }
    }

    // ---- import ---------------------------------------------------------------------------------------------------

    public async Task<bool> IsEmptyAsync(CancellationToken ct)
    {
        await using var dataCommand = data.CreateCommand(
            """
            SELECT NOT EXISTS (SELECT 1 FROM tenants) AND NOT EXISTS (SELECT 1 FROM statements) AND NOT EXISTS (SELECT 1 FROM documents)
                AND NOT EXISTS (SELECT 1 FROM people) AND NOT EXISTS (SELECT 1 FROM learners);
            """);
        await using var keysCommand = keys.CreateCommand("SELECT NOT EXISTS (SELECT 1 FROM keys);");
        return await dataCommand.ExecuteScalarAsync(ct) is true && await keysCommand.ExecuteScalarAsync(ct) is true;
    }

    public async Task WriteMasterKeyCheckAsync(byte[] sealedCheck, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(sealedCheck);
        await using var command = keys.CreateCommand("""
            INSERT INTO master_key_check (tenant_id, sealed) VALUES ($1, $2)
            ON CONFLICT (tenant_id) DO UPDATE SET sealed = excluded.sealed
            WHERE NOT EXISTS (SELECT 1 FROM keys);
            """);
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = MasterKeyCheckTenant });
        command.Parameters.Add(new NpgsqlParameter<byte[]> { TypedValue = sealedCheck });
        await command.ExecuteNonQueryAsync(ct);
    }

    public Task WriteTenantsAsync(IReadOnlyList<TenantRecord> rows, CancellationToken ct) =>
        CopyAsync(data, "COPY tenants (tenant_id, name, created) FROM STDIN (FORMAT binary)", rows, async (w, r) =>
        {
            await w.WriteAsync(r.Id, NpgsqlDbType.Uuid, ct);
            await w.WriteAsync(r.Name, NpgsqlDbType.Text, ct);
            await w.WriteAsync(Utc(r.Created), NpgsqlDbType.TimestampTz, ct);
        }, ct);

    // Clients keep their ids (statements name the client that wrote them); the identity moves past them in FinishAsync.
    public Task WriteClientsAsync(IReadOnlyList<ClientRecord> rows, CancellationToken ct) =>
        CopyAsync(data, "COPY clients (tenant_id, id, name, key, secret_hash, scopes, purposes, created, revoked) FROM STDIN (FORMAT binary)", rows, async (w, r) =>
        {
            await w.WriteAsync(r.TenantId, NpgsqlDbType.Uuid, ct);
            await w.WriteAsync(r.Id, NpgsqlDbType.Bigint, ct);
            await w.WriteAsync(r.Name, NpgsqlDbType.Text, ct);
            await w.WriteAsync(r.Key, NpgsqlDbType.Text, ct);
            await w.WriteAsync(r.SecretHash, NpgsqlDbType.Bytea, ct);
            await w.WriteAsync(r.Scopes.ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Text, ct);
            await w.WriteAsync(r.Purposes.ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Text, ct);
            await w.WriteAsync(Utc(r.Created), NpgsqlDbType.TimestampTz, ct);
            await WriteNullableAsync<DateTime>(w, r.Revoked is { } revoked ? Utc(revoked) : null, NpgsqlDbType.TimestampTz, ct);
        }, ct);

    public Task WriteKeysAsync(IReadOnlyList<KeyRow> rows, CancellationToken ct) =>
        CopyAsync(keys, "COPY keys (tenant_id, id, purpose, learner, wrapping_key_id, wrapped, created) FROM STDIN (FORMAT binary)", rows, async (w, r) =>
        {
            await w.WriteAsync(r.TenantId, NpgsqlDbType.Uuid, ct);
            await w.WriteAsync(r.Id, NpgsqlDbType.Bigint, ct);
            await w.WriteAsync((short)r.Purpose, NpgsqlDbType.Smallint, ct);
            await WriteNullableAsync(w, r.Learner, NpgsqlDbType.Bytea, ct);
            await WriteNullableAsync(w, r.WrappingKeyId, NpgsqlDbType.Bigint, ct);
            await w.WriteAsync(r.Wrapped, NpgsqlDbType.Bytea, ct);
            await w.WriteAsync(Utc(r.Created), NpgsqlDbType.TimestampTz, ct);
        }, ct);

    public Task WriteAttachmentsAsync(IReadOnlyList<AttachmentRow> rows, CancellationToken ct) =>
        CopyAsync(data, "COPY attachments (tenant_id, hash_key, key_id, blob, refs) FROM STDIN (FORMAT binary)", rows, async (w, r) =>
        {
            await w.WriteAsync(r.TenantId, NpgsqlDbType.Uuid, ct);
            await w.WriteAsync(r.HashKey, NpgsqlDbType.Bytea, ct);
            await w.WriteAsync(r.KeyId, NpgsqlDbType.Bigint, ct);
            await w.WriteAsync(r.Blob, NpgsqlDbType.Bytea, ct);
            await w.WriteAsync(r.References, NpgsqlDbType.Bigint, ct);
        }, ct);

    public async Task WriteStatementsAsync(IReadOnlyList<StatementRow> rows, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var numbered = new List<(StatementRow Row, long Seq, StoredTermSet Terms)>(rows.Count);
        foreach (var row in rows)
        {
            var seq = nextSeq.GetValueOrDefault(row.TenantId) + 1;
            nextSeq[row.TenantId] = seq;
            numbered.Add((row, seq, StoredTermSet.From(row.Terms)));
        }

        // One transaction for the batch's three tables: a batch is all there or not at all.
        await using var connection = await data.OpenConnectionAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        await using (var writer = await connection.BeginBinaryImportAsync(
            "COPY statements (tenant_id, seq, id, stored, key_id, client_id, blob, content_hash, terms, ref_target, is_voiding, voided, has_timestamp, learner, restricted) FROM STDIN (FORMAT binary)", ct))
        {
            foreach (var (r, seq, terms) in numbered)
            {
                await writer.StartRowAsync(ct);
                await writer.WriteAsync(r.TenantId, NpgsqlDbType.Uuid, ct);
                await writer.WriteAsync(seq, NpgsqlDbType.Bigint, ct);
                await writer.WriteAsync(r.Id, NpgsqlDbType.Uuid, ct);
                await writer.WriteAsync(Utc(r.Stored), NpgsqlDbType.TimestampTz, ct);
                await writer.WriteAsync(r.KeyId, NpgsqlDbType.Bigint, ct);
                await writer.WriteAsync(r.ClientId, NpgsqlDbType.Bigint, ct);
                await writer.WriteAsync(r.Blob, NpgsqlDbType.Bytea, ct);
                await writer.WriteAsync(r.ContentHash, NpgsqlDbType.Bytea, ct);
                await writer.WriteAsync(terms.ToBlob(), NpgsqlDbType.Bytea, ct);
                await WriteNullableAsync(writer, r.RefTarget, NpgsqlDbType.Uuid, ct);
                await writer.WriteAsync(r.IsVoiding, NpgsqlDbType.Boolean, ct);
                await writer.WriteAsync(r.Voided, NpgsqlDbType.Boolean, ct);
                await writer.WriteAsync(r.HasTimestamp, NpgsqlDbType.Boolean, ct);
                await WriteNullableAsync(writer, r.Learner, NpgsqlDbType.Bytea, ct);
                await writer.WriteAsync(r.Restricted, NpgsqlDbType.Boolean, ct);
            }

            await writer.CompleteAsync(ct);
        }

        await using (var writer = await connection.BeginBinaryImportAsync("COPY statement_terms (tenant_id, term, seq) FROM STDIN (FORMAT binary)", ct))
        {
            foreach (var (r, seq, terms) in numbered)
            {
                // Postings: every term of the statement (a set: no repeats), and the writing client's pseudo-term
                // (statements/read/mine), which no index term can equal.
                foreach (var term in terms.Items.Append(StoredTerm.ForClient(r.ClientId)))
                {
                    await writer.StartRowAsync(ct);
                    await writer.WriteAsync(r.TenantId, NpgsqlDbType.Uuid, ct);
                    await writer.WriteAsync(term.ToBytes(), NpgsqlDbType.Bytea, ct);
                    await writer.WriteAsync(seq, NpgsqlDbType.Bigint, ct);
                }
            }

            await writer.CompleteAsync(ct);
        }

        await using (var writer = await connection.BeginBinaryImportAsync("COPY statement_attachments (tenant_id, seq, hash_key) FROM STDIN (FORMAT binary)", ct))
        {
            foreach (var (r, seq, _) in numbered)
            {
                foreach (var hashKey in r.Attachments.DistinctBy(Convert.ToHexString))
                {
                    await writer.StartRowAsync(ct);
                    await writer.WriteAsync(r.TenantId, NpgsqlDbType.Uuid, ct);
                    await writer.WriteAsync(seq, NpgsqlDbType.Bigint, ct);
                    await writer.WriteAsync(hashKey, NpgsqlDbType.Bytea, ct);
                }
            }

            await writer.CompleteAsync(ct);
        }

        await transaction.CommitAsync(ct);
    }

    public Task WriteDocumentsAsync(IReadOnlyList<DocumentRow> rows, CancellationToken ct) =>
        CopyAsync(data, "COPY documents (tenant_id, kind, activity, agent, registration, doc, key_id, blob, id_blob, etag, updated, restricted) FROM STDIN (FORMAT binary)", rows, async (w, r) =>
        {
            await w.WriteAsync(r.TenantId, NpgsqlDbType.Uuid, ct);
            await w.WriteAsync((short)r.Key.Kind, NpgsqlDbType.Smallint, ct);
            await w.WriteAsync(r.Key.Activity, NpgsqlDbType.Bytea, ct);
            await w.WriteAsync(r.Key.Agent, NpgsqlDbType.Bytea, ct);
            await w.WriteAsync(r.Key.Registration, NpgsqlDbType.Bytea, ct);
            await w.WriteAsync(r.Key.Id, NpgsqlDbType.Bytea, ct);
            await w.WriteAsync(r.KeyId, NpgsqlDbType.Bigint, ct);
            await w.WriteAsync(r.Blob, NpgsqlDbType.Bytea, ct);
            await w.WriteAsync(r.IdBlob, NpgsqlDbType.Bytea, ct);
            await w.WriteAsync(r.ETag, NpgsqlDbType.Bytea, ct);
            await w.WriteAsync(Utc(r.Updated), NpgsqlDbType.TimestampTz, ct);
            await w.WriteAsync(r.Restricted, NpgsqlDbType.Boolean, ct);
        }, ct);

    public Task WriteActivityDefinitionsAsync(IReadOnlyList<ActivityDefinitionRow> rows, CancellationToken ct) =>
        CopyAsync(data, "COPY activity_definitions (tenant_id, activity, key_id, blob, version, updated) FROM STDIN (FORMAT binary)", rows, async (w, r) =>
        {
            await w.WriteAsync(r.TenantId, NpgsqlDbType.Uuid, ct);
            await w.WriteAsync(r.Activity, NpgsqlDbType.Bytea, ct);
            await w.WriteAsync(r.KeyId, NpgsqlDbType.Bigint, ct);
            await w.WriteAsync(r.Blob, NpgsqlDbType.Bytea, ct);
            await w.WriteAsync(r.Version, NpgsqlDbType.Bigint, ct);
            await w.WriteAsync(Utc(r.Updated), NpgsqlDbType.TimestampTz, ct);
        }, ct);

    public Task WriteAccessLogAsync(IReadOnlyList<AccessLogRow> rows, CancellationToken ct) =>
        CopyAsync(data, "COPY access_log (tenant_id, position, time, principal, client, action, purpose, learner, records, decision, reason, hash) FROM STDIN (FORMAT binary)", rows, async (w, r) =>
        {
            var entry = r.Record.Entry;
            await w.WriteAsync(r.TenantId, NpgsqlDbType.Uuid, ct);
            await w.WriteAsync(r.Record.Position, NpgsqlDbType.Bigint, ct);
            await w.WriteAsync(Utc(entry.Time), NpgsqlDbType.TimestampTz, ct);
            await w.WriteAsync(entry.Principal, NpgsqlDbType.Text, ct);
            await WriteNullableAsync(w, entry.Client, NpgsqlDbType.Text, ct);
            await w.WriteAsync(entry.Action, NpgsqlDbType.Text, ct);
            await w.WriteAsync(entry.Purpose, NpgsqlDbType.Text, ct);
            await WriteNullableAsync(w, entry.LearnerPseudonym, NpgsqlDbType.Bytea, ct);
            await w.WriteAsync(entry.Records, NpgsqlDbType.Bigint, ct);
            await w.WriteAsync((short)entry.Decision, NpgsqlDbType.Smallint, ct);
            await w.WriteAsync(entry.Reason, NpgsqlDbType.Text, ct);
            await w.WriteAsync(r.Record.Hash, NpgsqlDbType.Bytea, ct);
        }, ct);

    public Task WriteAccessLogCheckpointsAsync(IReadOnlyList<AccessLogCheckpointRow> rows, CancellationToken ct) =>
        CopyAsync(data, "COPY access_log_checkpoints (tenant_id, position, head, time, signature) FROM STDIN (FORMAT binary)", rows, async (w, r) =>
        {
            await w.WriteAsync(r.TenantId, NpgsqlDbType.Uuid, ct);
            await w.WriteAsync(r.Checkpoint.Position, NpgsqlDbType.Bigint, ct);
            await w.WriteAsync(r.Checkpoint.HeadHash, NpgsqlDbType.Bytea, ct);
            await w.WriteAsync(Utc(r.Checkpoint.Time), NpgsqlDbType.TimestampTz, ct);
            await w.WriteAsync(r.Checkpoint.Signature, NpgsqlDbType.Bytea, ct);
        }, ct);

    public Task WritePeopleAsync(IReadOnlyList<PersonRecord> rows, CancellationToken ct) =>
        CopyAsync(data, "COPY people (tenant_id, id, roles, login_key, profile, learner_id, created, disabled) FROM STDIN (FORMAT binary)", rows, async (w, r) =>
        {
            await w.WriteAsync(r.TenantId, NpgsqlDbType.Uuid, ct);
            await w.WriteAsync(r.Id, NpgsqlDbType.Uuid, ct);
            await w.WriteAsync(PrivacyValues.RoleNames(r.Roles), NpgsqlDbType.Array | NpgsqlDbType.Text, ct);
            await WriteNullableAsync(w, r.LoginKey, NpgsqlDbType.Bytea, ct);
            await WriteNullableAsync(w, r.Profile, NpgsqlDbType.Bytea, ct);
            await WriteNullableAsync(w, r.LearnerId, NpgsqlDbType.Uuid, ct);
            await w.WriteAsync(Utc(r.Created), NpgsqlDbType.TimestampTz, ct);
            await WriteNullableAsync<DateTime>(w, r.Disabled is { } d ? Utc(d) : null, NpgsqlDbType.TimestampTz, ct);
        }, ct);

    public Task WriteAccountsAsync(IReadOnlyList<AccountCredentials> rows, CancellationToken ct) =>
        CopyAsync(data, "COPY accounts (tenant_id, person_id, password_hash, failed_attempts, locked_until, totp_secret, totp_confirmed, totp_last_step, updated) FROM STDIN (FORMAT binary)", rows, async (w, r) =>
        {
            await w.WriteAsync(r.TenantId, NpgsqlDbType.Uuid, ct);
            await w.WriteAsync(r.PersonId, NpgsqlDbType.Uuid, ct);
            await w.WriteAsync(r.PasswordHash, NpgsqlDbType.Text, ct);
            await w.WriteAsync(r.FailedAttempts, NpgsqlDbType.Integer, ct);
            await WriteNullableAsync<DateTime>(w, r.LockedUntil is { } l ? Utc(l) : null, NpgsqlDbType.TimestampTz, ct);
            await WriteNullableAsync(w, r.TotpSecret, NpgsqlDbType.Bytea, ct);
            await w.WriteAsync(r.TotpConfirmed, NpgsqlDbType.Boolean, ct);
            await w.WriteAsync(r.TotpLastStep, NpgsqlDbType.Bigint, ct);
            await w.WriteAsync(Utc(r.Updated), NpgsqlDbType.TimestampTz, ct);
        }, ct);

    public Task WriteAuthTokensAsync(IReadOnlyList<AuthTokenRecord> rows, CancellationToken ct) =>
        CopyAsync(data, "COPY auth_tokens (tenant_id, token_hash, person_id, kind, label, created, expires, revoked) FROM STDIN (FORMAT binary)", rows, async (w, r) =>
        {
            await w.WriteAsync(r.TenantId, NpgsqlDbType.Uuid, ct);
            await w.WriteAsync(r.TokenHash, NpgsqlDbType.Bytea, ct);
            await w.WriteAsync(r.PersonId, NpgsqlDbType.Uuid, ct);
            await w.WriteAsync((short)r.Kind, NpgsqlDbType.Smallint, ct);
            await WriteNullableAsync(w, r.Label, NpgsqlDbType.Text, ct);
            await w.WriteAsync(Utc(r.Created), NpgsqlDbType.TimestampTz, ct);
            await w.WriteAsync(Utc(r.Expires), NpgsqlDbType.TimestampTz, ct);
            await WriteNullableAsync<DateTime>(w, r.Revoked is { } v ? Utc(v) : null, NpgsqlDbType.TimestampTz, ct);
        }, ct);

    public Task WriteLearnersAsync(IReadOnlyList<LearnerRow> rows, CancellationToken ct) =>
        CopyAsync(data, "COPY learners (tenant_id, id, birth_year, age_band_min, age_band_max, restricted, objections, created) FROM STDIN (FORMAT binary)", rows, async (w, r) =>
        {
            await w.WriteAsync(r.TenantId, NpgsqlDbType.Uuid, ct);
            await w.WriteAsync(r.Id, NpgsqlDbType.Uuid, ct);
            await WriteNullableAsync(w, r.BirthYear, NpgsqlDbType.Integer, ct);
            await WriteNullableAsync(w, r.AgeBand?.MinAge, NpgsqlDbType.Integer, ct);
            await WriteNullableAsync(w, r.AgeBand?.MaxAge, NpgsqlDbType.Integer, ct);
            await w.WriteAsync(r.Restricted, NpgsqlDbType.Boolean, ct);
            await w.WriteAsync(r.Objections.ToArray(), NpgsqlDbType.Array | NpgsqlDbType.Text, ct);
            await w.WriteAsync(Utc(r.Created), NpgsqlDbType.TimestampTz, ct);
        }, ct);

    public Task WriteLearnerPseudonymsAsync(IReadOnlyList<LearnerPseudonymRow> rows, CancellationToken ct) =>
        CopyAsync(data, "COPY learner_pseudonyms (tenant_id, pseudonym, learner_id, ordinal) FROM STDIN (FORMAT binary)", rows, async (w, r) =>
        {
            await w.WriteAsync(r.TenantId, NpgsqlDbType.Uuid, ct);
            await w.WriteAsync(r.Pseudonym, NpgsqlDbType.Bytea, ct);
            await w.WriteAsync(r.LearnerId, NpgsqlDbType.Uuid, ct);
            await w.WriteAsync(r.Ordinal, NpgsqlDbType.Integer, ct);
        }, ct);

    public Task WriteGuardiansAsync(IReadOnlyList<GuardianRow> rows, CancellationToken ct) =>
        CopyLinksAsync("COPY guardians (tenant_id, learner_id, guardian_id) FROM STDIN (FORMAT binary)", rows, r => (r.TenantId, r.LearnerId, r.GuardianId), ct);

    public Task WriteClassesAsync(IReadOnlyList<ClassRecord> rows, CancellationToken ct) =>
        CopyAsync(data, "COPY classes (tenant_id, id, name, created) FROM STDIN (FORMAT binary)", rows, async (w, r) =>
        {
            await w.WriteAsync(r.TenantId, NpgsqlDbType.Uuid, ct);
            await w.WriteAsync(r.Id, NpgsqlDbType.Uuid, ct);
            await w.WriteAsync(r.Name, NpgsqlDbType.Text, ct);
            await w.WriteAsync(Utc(r.Created), NpgsqlDbType.TimestampTz, ct);
        }, ct);

    public Task WriteClassMembersAsync(IReadOnlyList<ClassMemberRow> rows, CancellationToken ct) =>
        CopyLinksAsync("COPY class_members (tenant_id, class_id, learner_id) FROM STDIN (FORMAT binary)", rows, r => (r.TenantId, r.ClassId, r.LearnerId), ct);

    public Task WriteClassTeachersAsync(IReadOnlyList<ClassTeacherRow> rows, CancellationToken ct) =>
        CopyLinksAsync("COPY class_teachers (tenant_id, class_id, teacher_id) FROM STDIN (FORMAT binary)", rows, r => (r.TenantId, r.ClassId, r.TeacherId), ct);

    // Consents keep their ids (they order a learner's records); the identity moves past them in FinishAsync.
    public Task WriteConsentsAsync(IReadOnlyList<StoredConsent> rows, CancellationToken ct) =>
        CopyAsync(data, "COPY consents (tenant_id, id, learner_id, purpose, choice, given_by, giver_id, at, channel, notice_version, recorded_by) FROM STDIN (FORMAT binary)", rows, async (w, r) =>
        {
            await w.WriteAsync(r.TenantId, NpgsqlDbType.Uuid, ct);
            await w.WriteAsync(r.Id, NpgsqlDbType.Bigint, ct);
            await w.WriteAsync(r.LearnerId, NpgsqlDbType.Uuid, ct);
            await w.WriteAsync(r.Record.Purpose.Name, NpgsqlDbType.Text, ct);
            await w.WriteAsync(PrivacyValues.Name(r.Record.Choice), NpgsqlDbType.Text, ct);
            await w.WriteAsync(PrivacyValues.Name(r.Record.GivenBy), NpgsqlDbType.Text, ct);
            await w.WriteAsync(r.Record.GiverId, NpgsqlDbType.Text, ct);
            await w.WriteAsync(Utc(r.Record.At), NpgsqlDbType.TimestampTz, ct);
            await w.WriteAsync(r.Record.Channel, NpgsqlDbType.Text, ct);
            await w.WriteAsync(r.Record.NoticeVersion, NpgsqlDbType.Text, ct);
            await w.WriteAsync(r.RecordedBy, NpgsqlDbType.Text, ct);
        }, ct);

    public Task WriteTenantPoliciesAsync(IReadOnlyList<TenantPolicyRow> rows, CancellationToken ct) =>
        CopyAsync(data, "COPY tenant_policies (tenant_id, age_of_digital_consent, restricted_writes, bases) FROM STDIN (FORMAT binary)", rows, async (w, r) =>
        {
            await w.WriteAsync(r.TenantId, NpgsqlDbType.Uuid, ct);
            await w.WriteAsync(r.AgeOfDigitalConsent, NpgsqlDbType.Integer, ct);
            await w.WriteAsync(r.RestrictedWrites, NpgsqlDbType.Text, ct);
            await w.WriteAsync(r.Bases, NpgsqlDbType.Text, ct);
        }, ct);

    /// <summary>New keys and clients get ids past the copied ones; the planner gets statistics for the new rows.</summary>
    public async Task FinishAsync(CancellationToken ct)
    {
        await using (var command = keys.CreateCommand("SELECT setval('key_ids', GREATEST((SELECT max(id) FROM keys), 1), (SELECT max(id) FROM keys) IS NOT NULL);"))
        {
            await command.ExecuteNonQueryAsync(ct);
        }

        await using (var command = data.CreateCommand(
            "SELECT setval(pg_get_serial_sequence('clients', 'id'), GREATEST((SELECT max(id) FROM clients), 1), (SELECT max(id) FROM clients) IS NOT NULL);"))
        {
            await command.ExecuteNonQueryAsync(ct);
        }

        await using (var command = data.CreateCommand(
            "SELECT setval(pg_get_serial_sequence('consents', 'id'), GREATEST((SELECT max(id) FROM consents), 1), (SELECT max(id) FROM consents) IS NOT NULL);"))
        {
            await command.ExecuteNonQueryAsync(ct);
        }

        await using (var command = data.CreateCommand("ANALYZE;"))
        {
            await command.ExecuteNonQueryAsync(ct);
        }

        await using (var command = keys.CreateCommand("ANALYZE keys;"))
        {
            await command.ExecuteNonQueryAsync(ct);
        }
    }

    // ---- export (reading a copy back) -----------------------------------------------------------------------------

    public async Task<byte[]?> MasterKeyCheckAsync(CancellationToken ct)
    {
        var (connection, transaction) = await KeysSnapshotAsync(ct);
        await using var command = new NpgsqlCommand("SELECT sealed FROM master_key_check LIMIT 1;", connection, transaction);
        return await command.ExecuteScalarAsync(ct) as byte[];
    }

    public async Task<long> CountAsync(TransferTable table, CancellationToken ct)
    {
        var (connection, transaction) = table == TransferTable.Keys ? await KeysSnapshotAsync(ct) : await DataSnapshotAsync(ct);
        await using var command = new NpgsqlCommand($"SELECT count(*) FROM {table.TableName()};", connection, transaction);
        return (long)(await command.ExecuteScalarAsync(ct))!;
    }

    public async IAsyncEnumerable<TenantRecord> TenantsAsync([EnumeratorCancellation] CancellationToken ct)
    {
        await foreach (var row in ReadAsync(false, "SELECT tenant_id, name, created FROM tenants;",
            r => new TenantRecord(r.GetGuid(0), r.GetString(1), Time(r, 2)), ct))
        {
            yield return row;
        }
    }

    public async IAsyncEnumerable<ClientRecord> ClientsAsync([EnumeratorCancellation] CancellationToken ct)
    {
        await foreach (var row in ReadAsync(false,
            "SELECT id, tenant_id, name, key, secret_hash, scopes, purposes, created, revoked FROM clients ORDER BY id;",
            r => new ClientRecord(r.GetInt64(0), r.GetGuid(1), r.GetString(2), r.GetString(3), (byte[])r[4],
                r.GetFieldValue<string[]>(5), r.GetFieldValue<string[]>(6), Time(r, 7), r.IsDBNull(8) ? null : Time(r, 8)), ct))
        {
            yield return row;
        }
    }

    public async IAsyncEnumerable<KeyRow> KeysAsync([EnumeratorCancellation] CancellationToken ct)
    {
        await foreach (var row in ReadAsync(true,
            "SELECT id, tenant_id, purpose, learner, wrapping_key_id, wrapped, created FROM keys ORDER BY wrapping_key_id IS NOT NULL, id;",
            r => new KeyRow(r.GetInt64(0), r.GetGuid(1), r.GetInt16(2), r.IsDBNull(3) ? null : (byte[])r[3],
                r.IsDBNull(4) ? null : r.GetInt64(4), (byte[])r[5], Time(r, 6)), ct))
        {
            yield return row;
        }
    }

    public async IAsyncEnumerable<AttachmentRow> AttachmentsAsync([EnumeratorCancellation] CancellationToken ct)
    {
        await foreach (var row in ReadAsync(false, "SELECT tenant_id, hash_key, key_id, blob, refs FROM attachments;",
            r => new AttachmentRow(r.GetGuid(0), (byte[])r[1], r.GetInt64(2), (byte[])r[3], r.GetInt64(4)), ct))
        {
            yield return row;
        }
    }

    public async IAsyncEnumerable<StatementRow> StatementsAsync([EnumeratorCancellation] CancellationToken ct)
    {
        var carried = new Dictionary<(Guid, long), List<byte[]>>();
        await foreach (var (tenant, seq, hashKey) in ReadAsync(false, "SELECT tenant_id, seq, hash_key FROM statement_attachments;",
            r => (r.GetGuid(0), r.GetInt64(1), (byte[])r[2]), ct))
        {
            if (!carried.TryGetValue((tenant, seq), out var list))
            {
                carried[(tenant, seq)] = list = [];
            }

            list.Add(hashKey);
        }

        await foreach (var row in ReadAsync(false,
            """
            SELECT tenant_id, seq, id, stored, key_id, client_id, blob, content_hash, terms, ref_target, is_voiding, voided, has_timestamp,
                   learner, restricted
            FROM statements ORDER BY tenant_id, seq;
            """,
            r => new StatementRow(
                r.GetGuid(0), r.GetGuid(2), r.GetInt64(1), Time(r, 3), r.GetInt64(4), r.GetInt64(5), (byte[])r[6], (byte[])r[7],
                StoredTermSet.FromBlob((byte[])r[8]).ToIndexTerms(), r.IsDBNull(9) ? null : r.GetGuid(9), r.GetBoolean(10), r.GetBoolean(11), r.GetBoolean(12),
                carried.TryGetValue((r.GetGuid(0), r.GetInt64(1)), out var hashKeys) ? hashKeys : [],
                r.IsDBNull(13) ? null : (byte[])r[13], r.GetBoolean(14)), ct))
        {
            yield return row;
        }
    }

    public async IAsyncEnumerable<DocumentRow> DocumentsAsync([EnumeratorCancellation] CancellationToken ct)
    {
        await foreach (var row in ReadAsync(false,
            "SELECT tenant_id, kind, activity, agent, registration, doc, key_id, blob, id_blob, etag, updated, restricted FROM documents;",
            r => new DocumentRow(r.GetGuid(0),
                new DocumentKey((DocumentKind)r.GetInt16(1), (byte[])r[2], (byte[])r[3], (byte[])r[4], (byte[])r[5]),
                r.GetInt64(6), (byte[])r[7], (byte[])r[8], (byte[])r[9], Time(r, 10), r.GetBoolean(11)), ct))
        {
            yield return row;
        }
    }

    public async IAsyncEnumerable<ActivityDefinitionRow> ActivityDefinitionsAsync([EnumeratorCancellation] CancellationToken ct)
    {
        await foreach (var row in ReadAsync(false, "SELECT tenant_id, activity, key_id, blob, version, updated FROM activity_definitions;",
            r => new ActivityDefinitionRow(r.GetGuid(0), (byte[])r[1], r.GetInt64(2), (byte[])r[3], r.GetInt64(4), Time(r, 5)), ct))
        {
            yield return row;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (dataSnapshot is not null)
        {
            await dataSnapshot.DisposeAsync();
        }

        if (keysSnapshot is not null)
        {
            await keysSnapshot.DisposeAsync();
        }

        if (readData is not null)
        {
            await readData.DisposeAsync();
        }

        if (readKeys is not null)
        {
            await readKeys.DisposeAsync();
        }

        await data.DisposeAsync();
        await keys.DisposeAsync();
    }

    // ---- helpers --------------------------------------------------------------------------------------------------

    public async IAsyncEnumerable<AccessLogRow> AccessLogAsync([EnumeratorCancellation] CancellationToken ct)
    {
        await foreach (var row in ReadAsync(false,
            "SELECT tenant_id, position, time, principal, client, action, purpose, learner, records, decision, reason, hash FROM access_log;",
            r => new AccessLogRow(r.GetGuid(0), new AccessLogRecord(
                r.GetInt64(1),
                new AccessLogEntry(Time(r, 2), r.GetString(3), r.IsDBNull(4) ? null : r.GetString(4), r.GetString(5), r.GetString(6),
                    r.IsDBNull(7) ? null : (byte[])r[7], r.GetInt64(8), (AccessDecision)r.GetInt16(9), r.GetString(10)),
                (byte[])r[11])), ct))
        {
            yield return row;
        }
    }

    public async IAsyncEnumerable<AccessLogCheckpointRow> AccessLogCheckpointsAsync([EnumeratorCancellation] CancellationToken ct)
    {
        await foreach (var row in ReadAsync(false, "SELECT tenant_id, position, head, time, signature FROM access_log_checkpoints;",
            r => new AccessLogCheckpointRow(r.GetGuid(0), new AccessLogCheckpoint(r.GetInt64(1), (byte[])r[2], Time(r, 3), (byte[])r[4])), ct))
        {
            yield return row;
        }
    }

    public IAsyncEnumerable<PersonRecord> PeopleAsync(CancellationToken ct) => ReadAsync(false,
        "SELECT tenant_id, id, roles, login_key, profile, learner_id, created, disabled FROM people;",
        r => new PersonRecord(r.GetGuid(0), r.GetGuid(1), PrivacyValues.Roles(r.GetFieldValue<string[]>(2)), NullableBytes(r, 3), NullableBytes(r, 4),
            r.IsDBNull(5) ? null : r.GetGuid(5), Time(r, 6), r.IsDBNull(7) ? null : Time(r, 7)), ct);

    public IAsyncEnumerable<AccountCredentials> AccountsAsync(CancellationToken ct) => ReadAsync(false,
        "SELECT tenant_id, person_id, password_hash, failed_attempts, locked_until, totp_secret, totp_confirmed, totp_last_step, updated FROM accounts;",
        r => new AccountCredentials(r.GetGuid(0), r.GetGuid(1), r.GetString(2), r.GetInt32(3), r.IsDBNull(4) ? null : Time(r, 4), NullableBytes(r, 5),
            r.GetBoolean(6), r.GetInt64(7), Time(r, 8)), ct);

    public IAsyncEnumerable<AuthTokenRecord> AuthTokensAsync(CancellationToken ct) => ReadAsync(false,
        "SELECT token_hash, tenant_id, person_id, kind, label, created, expires, revoked FROM auth_tokens;",
        r => new AuthTokenRecord((byte[])r[0], r.GetGuid(1), r.GetGuid(2), (AuthTokenKind)r.GetInt16(3), r.IsDBNull(4) ? null : r.GetString(4),
            Time(r, 5), Time(r, 6), r.IsDBNull(7) ? null : Time(r, 7)), ct);

    public IAsyncEnumerable<LearnerRow> LearnersAsync(CancellationToken ct) => ReadAsync(false,
        "SELECT tenant_id, id, birth_year, age_band_min, age_band_max, restricted, objections, created FROM learners;",
        r => new LearnerRow(r.GetGuid(0), r.GetGuid(1), r.IsDBNull(2) ? null : r.GetInt32(2),
            PrivacyValues.Band(r.IsDBNull(3) ? null : r.GetInt32(3), r.IsDBNull(4) ? null : r.GetInt32(4)), r.GetBoolean(5),
            r.GetFieldValue<string[]>(6), Time(r, 7)), ct);

    public IAsyncEnumerable<LearnerPseudonymRow> LearnerPseudonymsAsync(CancellationToken ct) => ReadAsync(false,
        "SELECT tenant_id, pseudonym, learner_id, ordinal FROM learner_pseudonyms;",
        r => new LearnerPseudonymRow(r.GetGuid(0), (byte[])r[1], r.GetGuid(2), r.GetInt32(3)), ct);

    public IAsyncEnumerable<GuardianRow> GuardiansAsync(CancellationToken ct) => ReadAsync(false,
        "SELECT tenant_id, learner_id, guardian_id FROM guardians;", r => new GuardianRow(r.GetGuid(0), r.GetGuid(1), r.GetGuid(2)), ct);

    public IAsyncEnumerable<ClassRecord> ClassesAsync(CancellationToken ct) => ReadAsync(false,
        "SELECT tenant_id, id, name, created FROM classes;", r => new ClassRecord(r.GetGuid(0), r.GetGuid(1), r.GetString(2), Time(r, 3)), ct);

    public IAsyncEnumerable<ClassMemberRow> ClassMembersAsync(CancellationToken ct) => ReadAsync(false,
        "SELECT tenant_id, class_id, learner_id FROM class_members;", r => new ClassMemberRow(r.GetGuid(0), r.GetGuid(1), r.GetGuid(2)), ct);

    public IAsyncEnumerable<ClassTeacherRow> ClassTeachersAsync(CancellationToken ct) => ReadAsync(false,
        "SELECT tenant_id, class_id, teacher_id FROM class_teachers;", r => new ClassTeacherRow(r.GetGuid(0), r.GetGuid(1), r.GetGuid(2)), ct);

    public IAsyncEnumerable<StoredConsent> ConsentsAsync(CancellationToken ct) => ReadAsync(false,
        "SELECT id, tenant_id, learner_id, purpose, choice, given_by, giver_id, at, channel, notice_version, recorded_by FROM consents ORDER BY id;",
        r => new StoredConsent(r.GetInt64(0), r.GetGuid(1), r.GetGuid(2),
            new ConsentRecord(Purpose.Parse(r.GetString(3)), PrivacyValues.Parse<ConsentChoice>(r.GetString(4)),
                PrivacyValues.Parse<ConsentGiver>(r.GetString(5)), r.GetString(6), Time(r, 7), r.GetString(8), r.GetString(9)),
            r.GetString(10)), ct);

    public IAsyncEnumerable<TenantPolicyRow> TenantPoliciesAsync(CancellationToken ct) => ReadAsync(false,
        "SELECT tenant_id, age_of_digital_consent, restricted_writes, bases FROM tenant_policies;",
        r => new TenantPolicyRow(r.GetGuid(0), r.GetInt32(1), r.GetString(2), r.GetString(3)), ct);

    private static byte[]? NullableBytes(NpgsqlDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : (byte[])reader[ordinal];

    private Task CopyLinksAsync<T>(string copy, IReadOnlyList<T> rows, Func<T, (Guid, Guid, Guid)> columns, CancellationToken ct) =>
        CopyAsync(data, copy, rows, async (w, r) =>
        {
            var (a, b, c) = columns(r);
            await w.WriteAsync(a, NpgsqlDbType.Uuid, ct);
            await w.WriteAsync(b, NpgsqlDbType.Uuid, ct);
            await w.WriteAsync(c, NpgsqlDbType.Uuid, ct);
        }, ct);

    private static async Task CopyAsync<T>(NpgsqlDataSource source, string copy, IReadOnlyList<T> rows, Func<NpgsqlBinaryImporter, T, Task> write, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(rows);
        await using var connection = await source.OpenConnectionAsync(ct);
        await using var writer = await connection.BeginBinaryImportAsync(copy, ct);
        foreach (var row in rows)
        {
            await writer.StartRowAsync(ct);
            await write(writer, row);
        }

        await writer.CompleteAsync(ct);
    }

    private static Task WriteNullableAsync<T>(NpgsqlBinaryImporter writer, T? value, NpgsqlDbType type, CancellationToken ct)
        where T : class =>
        value is null ? writer.WriteNullAsync(ct) : writer.WriteAsync(value, type, ct);

    private static Task WriteNullableAsync<T>(NpgsqlBinaryImporter writer, T? value, NpgsqlDbType type, CancellationToken ct)
        where T : struct =>
        value is { } v ? writer.WriteAsync(v, type, ct) : writer.WriteNullAsync(ct);

    private async Task<(NpgsqlConnection, NpgsqlTransaction)> DataSnapshotAsync(CancellationToken ct)
    {
        if (readData is null)
        {
            readData = await data.OpenConnectionAsync(ct);
            dataSnapshot = await readData.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, ct);
        }

        return (readData, dataSnapshot!);
    }

    private async Task<(NpgsqlConnection, NpgsqlTransaction)> KeysSnapshotAsync(CancellationToken ct)
    {
        if (readKeys is null)
        {
            readKeys = await keys.OpenConnectionAsync(ct);
            keysSnapshot = await readKeys.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, ct);
        }

        return (readKeys, keysSnapshot!);
    }

    private async IAsyncEnumerable<T> ReadAsync<T>(bool keyStore, string sql, Func<NpgsqlDataReader, T> map, [EnumeratorCancellation] CancellationToken ct)
    {
        var (connection, transaction) = keyStore ? await KeysSnapshotAsync(ct) : await DataSnapshotAsync(ct);
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            yield return map(reader);
        }
    }

    private static DateTime Utc(DateTimeOffset time) => PostgresTimestamps.Floor(time).UtcDateTime;

    private static DateTimeOffset Time(NpgsqlDataReader reader, int ordinal) =>
        new(DateTime.SpecifyKind(reader.GetDateTime(ordinal), DateTimeKind.Utc));
}
