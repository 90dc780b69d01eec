using LearnerVault.Privacy.Access;
using LearnerVault.Storage.People;
using Npgsql;
using NpgsqlTypes;

namespace LearnerVault.Storage.Postgres;

/// <summary>
/// People, accounts, tokens, the identity vault, guardian links, classes, consents and tenant policies in the data
/// schema. Every invariant holds across nodes because the database enforces it: uniqueness by unique indexes (a
/// violation becomes <see cref="PrivacyStoreConflictException"/> with the transaction rolled back), the failed-login
/// counter by one UPDATE … RETURNING (the row lock orders concurrent attempts).
/// </summary>
internal sealed class PostgresPrivacyStore(NpgsqlDataSource data) : IPrivacyStore
{
    private const string PersonColumns = "id, roles, login_key, profile, learner_id, created, disabled";
    private const string AccountColumns = "person_id, password_hash, failed_attempts, locked_until, totp_secret, totp_confirmed, totp_last_step, updated";
    private const string TokenColumns = "token_hash, tenant_id, person_id, kind, label, created, expires, revoked";
    private const string LearnerColumns = "id, birth_year, age_band_min, age_band_max, restricted, objections, created";
    private const string ConsentColumns = "id, learner_id, purpose, choice, given_by, giver_id, at, channel, notice_version, recorded_by";

    // People and accounts

    public async Task AddPersonAsync(PersonRecord person, CancellationToken cancellationToken = default)
    {
        PrivacyValues.Check(person);
        await using var command = data.CreateCommand($"""
            INSERT INTO people (tenant_id, {PersonColumns}) VALUES (@t, @id, @roles, @login, @profile, @learner, @created, @disabled);
            """);
        AddPersonParameters(command, person);
        await ExecuteAsync(command, "the login name or the person id is taken in the tenant", cancellationToken);
    }

    public async Task<bool> UpdatePersonAsync(PersonRecord person, CancellationToken cancellationToken = default)
    {
        PrivacyValues.Check(person);
        await using var command = data.CreateCommand("""
            UPDATE people SET roles = @roles, login_key = @login, profile = @profile, learner_id = @learner, disabled = @disabled
            WHERE tenant_id = @t AND id = @id;
            """);
        AddPersonParameters(command, person);
        return await ExecuteAsync(command, "the login name is taken in the tenant", cancellationToken) > 0;
    }

    public Task<PersonRecord?> GetPersonAsync(Guid tenantId, Guid personId, CancellationToken cancellationToken = default) =>
        ReadSingleAsync($"SELECT {PersonColumns} FROM people WHERE tenant_id = @t AND id = @id;",
            [P("t", tenantId), P("id", personId)], r => ReadPerson(r, tenantId), cancellationToken);

    public Task<PersonRecord?> FindPersonByLoginAsync(Guid tenantId, byte[] loginKey, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(loginKey);
        return ReadSingleAsync($"SELECT {PersonColumns} FROM people WHERE tenant_id = @t AND login_key = @login;",
            [P("t", tenantId), P("login", loginKey)], r => ReadPerson(r, tenantId), cancellationToken);
    }

    public Task<IReadOnlyList<PersonRecord>> ListPeopleAsync(Guid tenantId, CancellationToken cancellationToken = default) =>
        ReadListAsync($"SELECT {PersonColumns} FROM people WHERE tenant_id = @t ORDER BY id;", [P("t", tenantId)], r => ReadPerson(r, tenantId), cancellationToken);

    public Task<Guid?> FindPersonTenantAsync(Guid personId, CancellationToken cancellationToken = default) =>
        FindTenantOfAsync("people", personId, cancellationToken);

    public Task<AccountCredentials?> GetCredentialsAsync(Guid tenantId, Guid personId, CancellationToken cancellationToken = default) =>
        ReadSingleAsync($"SELECT {AccountColumns} FROM accounts WHERE tenant_id = @t AND person_id = @p;",
            [P("t", tenantId), P("p", personId)], r => ReadAccount(r, tenantId), cancellationToken);

    public async Task SetCredentialsAsync(AccountCredentials credentials, CancellationToken cancellationToken = default)
    {
        PrivacyValues.Check(credentials);
        await using var command = data.CreateCommand($"""
            INSERT INTO accounts (tenant_id, {AccountColumns}) VALUES (@t, @p, @hash, @failed, @locked, @totp, @confirmed, @step, @updated)
            ON CONFLICT (tenant_id, person_id) DO UPDATE SET
                password_hash = excluded.password_hash, failed_attempts = excluded.failed_attempts, locked_until = excluded.locked_until,
                totp_secret = excluded.totp_secret, totp_confirmed = excluded.totp_confirmed, totp_last_step = excluded.totp_last_step,
                updated = excluded.updated;
            """);
        AddAll(command.Parameters,
        [
            P("t", credentials.TenantId), P("p", credentials.PersonId), P("hash", credentials.PasswordHash),
            P("failed", credentials.FailedAttempts), Time("locked", credentials.LockedUntil), Bytes("totp", credentials.TotpSecret),
            P("confirmed", credentials.TotpConfirmed), P("step", credentials.TotpLastStep), Time("updated", credentials.Updated),
        ]);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<AccountCredentials?> RegisterFailedLoginAsync(
        Guid tenantId, Guid personId, int maxAttempts, TimeSpan lockout, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxAttempts);
        ArgumentOutOfRangeException.ThrowIfLessThan(lockout, TimeSpan.Zero);
        // One statement: the row lock it takes orders concurrent attempts from any node, each seeing its predecessor's count.
        return await ReadSingleAsync($"""
            UPDATE accounts SET
                failed_attempts = CASE WHEN failed_attempts + 1 >= @max THEN 0 ELSE failed_attempts + 1 END,
                locked_until = CASE WHEN failed_attempts + 1 >= @max THEN @until ELSE locked_until END
            WHERE tenant_id = @t AND person_id = @p
            RETURNING {AccountColumns};
            """, [P("t", tenantId), P("p", personId), P("max", maxAttempts), Time("until", now + lockout)], r => ReadAccount(r, tenantId), cancellationToken);
    }

    public async Task RegisterSuccessfulLoginAsync(Guid tenantId, Guid personId, long? totpStep, CancellationToken cancellationToken = default)
    {
        await using var command = data.CreateCommand("""
            UPDATE accounts SET failed_attempts = 0, totp_last_step = GREATEST(totp_last_step, COALESCE(@step, totp_last_step))
            WHERE tenant_id = @t AND person_id = @p;
            """);
        AddAll(command.Parameters,
            [P("t", tenantId), P("p", personId), new NpgsqlParameter("step", NpgsqlDbType.Bigint) { Value = totpStep is { } s ? s : DBNull.Value }]);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    // Tokens

    public async Task AddTokenAsync(AuthTokenRecord token, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(token);
        ArgumentNullException.ThrowIfNull(token.TokenHash, nameof(token.TokenHash));
        _ = PrivacyValues.Name(token.Kind);
        await using var command = data.CreateCommand($"""
            INSERT INTO auth_tokens ({TokenColumns}) VALUES (@hash, @t, @p, @kind, @label, @created, @expires, @revoked);
            """);
        AddAll(command.Parameters,
        [
            P("hash", token.TokenHash), P("t", token.TenantId), P("p", token.PersonId), P("kind", (short)token.Kind), Text("label", token.Label),
            Time("created", token.Created), Time("expires", token.Expires), Time("revoked", token.Revoked),
        ]);
        await ExecuteAsync(command, "a token with this hash exists", cancellationToken);
    }

    public Task<AuthTokenRecord?> FindTokenAsync(byte[] tokenHash, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(tokenHash);
        return ReadSingleAsync($"SELECT {TokenColumns} FROM auth_tokens WHERE token_hash = @hash LIMIT 1;", [P("hash", tokenHash)], ReadToken, cancellationToken);
    }

    public async Task<bool> RevokeTokenAsync(byte[] tokenHash, DateTimeOffset when, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(tokenHash);
        await using var command = data.CreateCommand("UPDATE auth_tokens SET revoked = @when WHERE token_hash = @hash AND revoked IS NULL;");
        AddAll(command.Parameters, [P("hash", tokenHash), Time("when", when)]);
        return await command.ExecuteNonQueryAsync(cancellationToken) > 0;
    }

    public async Task<int> RevokePersonTokensAsync(Guid tenantId, Guid personId, DateTimeOffset when, CancellationToken cancellationToken = default)
    {
        await using var command = data.CreateCommand(
            "UPDATE auth_tokens SET revoked = @when WHERE tenant_id = @t AND person_id = @p AND revoked IS NULL;");
        AddAll(command.Parameters, [P("t", tenantId), P("p", personId), Time("when", when)]);
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public Task<IReadOnlyList<AuthTokenRecord>> ListTokensAsync(Guid tenantId, Guid personId, CancellationToken cancellationToken = default) =>
        ReadListAsync($"SELECT {TokenColumns} FROM auth_tokens WHERE tenant_id = @t AND person_id = @p ORDER BY created DESC, token_hash;",
            [P("t", tenantId), P("p", personId)], ReadToken, cancellationToken);

    public async Task<int> RevokeOtherPersonTokensAsync(
        Guid tenantId, Guid personId, byte[] keepTokenHash, DateTimeOffset when, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(keepTokenHash);
        await using var command = data.CreateCommand(
            "UPDATE auth_tokens SET revoked = @when WHERE tenant_id = @t AND person_id = @p AND revoked IS NULL AND token_hash <> @keep;");
        AddAll(command.Parameters, [P("t", tenantId), P("p", personId), P("keep", keepTokenHash), Time("when", when)]);
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<int> PurgeTokensAsync(DateTimeOffset before, CancellationToken cancellationToken = default)
    {
        await using var command = data.CreateCommand("DELETE FROM auth_tokens WHERE expires < @before OR revoked < @before;");
        AddAll(command.Parameters, [Time("before", before)]);
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    // Learners (identity vault)

    public async Task AddLearnerAsync(LearnerRecord learner, CancellationToken cancellationToken = default)
    {
        PrivacyValues.Check(learner);
        // One statement, so the learner and its pseudonyms are added together or not at all.
        await using var command = data.CreateCommand($"""
            WITH added AS (
                INSERT INTO learners (tenant_id, {LearnerColumns}) VALUES (@t, @id, @year, @min, @max, @restricted, @objections, @created)
                RETURNING tenant_id, id)
            INSERT INTO learner_pseudonyms (tenant_id, pseudonym, learner_id, ordinal)
            SELECT added.tenant_id, u.pseudonym, added.id, u.ordinal - 1 FROM added, unnest(@pseudonyms) WITH ORDINALITY AS u (pseudonym, ordinal);
            """);
        AddLearnerParameters(command, learner);
        await ExecuteAsync(command, "a pseudonym or the learner id already belongs to a learner of the tenant", cancellationToken);
    }

    public async Task<bool> UpdateLearnerAsync(LearnerRecord learner, CancellationToken cancellationToken = default)
    {
        PrivacyValues.Check(learner);
        await using var connection = await data.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var update = new NpgsqlCommand("""
            UPDATE learners SET birth_year = @year, age_band_min = @min, age_band_max = @max, restricted = @restricted, objections = @objections
            WHERE tenant_id = @t AND id = @id;
            """, connection, transaction))
        {
            AddLearnerParameters(update, learner);
            if (await update.ExecuteNonQueryAsync(cancellationToken) == 0)
            {
                return false;
            }
        }

        await using (var replace = new NpgsqlCommand("DELETE FROM learner_pseudonyms WHERE tenant_id = @t AND learner_id = @id;", connection, transaction))
        {
            AddAll(replace.Parameters, [P("t", learner.TenantId), P("id", learner.Id)]);
            await replace.ExecuteNonQueryAsync(cancellationToken);
        }

        await using (var insert = new NpgsqlCommand("""
            INSERT INTO learner_pseudonyms (tenant_id, pseudonym, learner_id, ordinal)
            SELECT @t, u.pseudonym, @id, u.ordinal - 1 FROM unnest(@pseudonyms) WITH ORDINALITY AS u (pseudonym, ordinal);
            """, connection, transaction))
        {
            AddAll(insert.Parameters, [P("t", learner.TenantId), P("id", learner.Id), PseudonymArray(learner.Pseudonyms)]);
            await ExecuteAsync(insert, "a pseudonym belongs to another learner of the tenant", cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        return true;
    }

    public async Task<LearnerRecord?> GetLearnerAsync(Guid tenantId, Guid learnerId, CancellationToken cancellationToken = default)
    {
        var list = await ReadLearnersAsync(tenantId, learnerId, inclusive: true, 1, cancellationToken);
        return list.Count == 1 && list[0].Id == learnerId ? list[0] : null;
    }

    public Task<IReadOnlyList<LearnerRecord>> ListLearnersAsync(Guid tenantId, Guid? after, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        return ReadLearnersAsync(tenantId, after, inclusive: false, limit, cancellationToken);
    }

    public Task<Guid?> FindLearnerTenantAsync(Guid learnerId, CancellationToken cancellationToken = default) =>
        FindTenantOfAsync("learners", learnerId, cancellationToken);

    public async Task<IReadOnlyList<Guid?>> FindLearnersAsync(Guid tenantId, IReadOnlyList<byte[]> pseudonyms, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(pseudonyms);
        var result = new Guid?[pseudonyms.Count];
        if (pseudonyms.Count == 0)
        {
            return result;
        }

        var distinct = pseudonyms.Select(p => p ?? throw new ArgumentNullException(nameof(pseudonyms)))
            .Distinct(PrivacyValues.ByteArrayComparer.Instance).ToList();
        var found = new Dictionary<byte[], Guid>(PrivacyValues.ByteArrayComparer.Instance);
        await using (var command = data.CreateCommand(
            "SELECT pseudonym, learner_id FROM learner_pseudonyms WHERE tenant_id = @t AND pseudonym = ANY (@pseudonyms);"))
        {
            AddAll(command.Parameters, [P("t", tenantId), PseudonymArray(distinct)]);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                found[reader.GetFieldValue<byte[]>(0)] = reader.GetGuid(1);
            }
        }

        for (var i = 0; i < pseudonyms.Count; i++)
        {
            result[i] = found.TryGetValue(pseudonyms[i], out var learner) ? learner : null;
        }

        return result;
    }

    public async Task<IReadOnlyDictionary<Guid, LearnerFacts>> GetLearnerFactsAsync(
        Guid tenantId, IReadOnlyCollection<Guid> learnerIds, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(learnerIds);
        var facts = new Dictionary<Guid, LearnerFacts>();
        var ids = learnerIds.Distinct().ToArray();
        if (ids.Length == 0)
        {
            return facts;
        }

        // One round trip whatever the number of learners: the learners and each kind of link for all of them, batched.
        await using var connection = await data.OpenConnectionAsync(cancellationToken);
        await using var batch = new NpgsqlBatch(connection);
        foreach (var sql in new[]
        {
            "SELECT id, birth_year, age_band_min, age_band_max, restricted, objections FROM learners WHERE tenant_id = $1 AND id = ANY ($2);",
            "SELECT learner_id, guardian_id FROM guardians WHERE tenant_id = $1 AND learner_id = ANY ($2);",
            "SELECT learner_id, class_id FROM class_members WHERE tenant_id = $1 AND learner_id = ANY ($2);",
            $"SELECT {ConsentColumns} FROM consents WHERE tenant_id = $1 AND learner_id = ANY ($2) ORDER BY id;",
        })
        {
            var command = new NpgsqlBatchCommand(sql);
            command.Parameters.Add(new NpgsqlParameter { Value = tenantId });
            command.Parameters.Add(new NpgsqlParameter { Value = ids });
            batch.BatchCommands.Add(command);
        }

        var learners = new List<(Guid Id, int? Year, AgeBand? Band, bool Restricted, IReadOnlyList<Purpose> Objections)>();
        var guardians = new List<(Guid Learner, Guid Guardian)>();
        var classes = new List<(Guid Learner, Guid Class)>();
        var consents = new List<(Guid Learner, ConsentRecord Record)>();
        await using (var reader = await batch.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                learners.Add((reader.GetGuid(0), NullableInt(reader, 1), PrivacyValues.Band(NullableInt(reader, 2), NullableInt(reader, 3)),
                    reader.GetBoolean(4), PrivacyValues.Purposes(reader.GetFieldValue<string[]>(5))));
            }

            await reader.NextResultAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                guardians.Add((reader.GetGuid(0), reader.GetGuid(1)));
            }

            await reader.NextResultAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                classes.Add((reader.GetGuid(0), reader.GetGuid(1)));
            }

            await reader.NextResultAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                consents.Add((reader.GetGuid(1), ReadConsent(reader, tenantId).Record));
            }
        }

        var guardiansOf = guardians.ToLookup(g => g.Learner, g => g.Guardian);
        var classesOf = classes.ToLookup(c => c.Learner, c => c.Class);
        var consentsOf = consents.ToLookup(c => c.Learner, c => c.Record);
        foreach (var learner in learners)
        {
            facts[learner.Id] = PrivacyValues.Facts(tenantId, learner.Id, learner.Year, learner.Band, learner.Restricted, learner.Objections,
                guardiansOf[learner.Id], classesOf[learner.Id], consentsOf[learner.Id]);
        }

        return facts;
    }

    // Guardians

    public async Task LinkGuardianAsync(Guid tenantId, Guid learnerId, Guid guardianId, CancellationToken cancellationToken = default)
    {
        await using var command = data.CreateCommand(
            "INSERT INTO guardians (tenant_id, learner_id, guardian_id) VALUES (@t, @l, @g) ON CONFLICT DO NOTHING;");
        AddAll(command.Parameters, [P("t", tenantId), P("l", learnerId), P("g", guardianId)]);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<bool> UnlinkGuardianAsync(Guid tenantId, Guid learnerId, Guid guardianId, CancellationToken cancellationToken = default)
    {
        await using var command = data.CreateCommand("DELETE FROM guardians WHERE tenant_id = @t AND learner_id = @l AND guardian_id = @g;");
        AddAll(command.Parameters, [P("t", tenantId), P("l", learnerId), P("g", guardianId)]);
        return await command.ExecuteNonQueryAsync(cancellationToken) > 0;
    }

    public Task<IReadOnlyList<Guid>> ListWardsAsync(Guid tenantId, Guid guardianId, CancellationToken cancellationToken = default) =>
        ReadListAsync("SELECT learner_id FROM guardians WHERE tenant_id = @t AND guardian_id = @g ORDER BY learner_id;",
            [P("t", tenantId), P("g", guardianId)], r => r.GetGuid(0), cancellationToken);

    // Classes

    public async Task AddClassAsync(ClassRecord schoolClass, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(schoolClass);
        ArgumentNullException.ThrowIfNull(schoolClass.Name, nameof(schoolClass.Name));
        await using var command = data.CreateCommand("INSERT INTO classes (tenant_id, id, name, created) VALUES (@t, @id, @name, @created);");
        AddAll(command.Parameters, [P("t", schoolClass.TenantId), P("id", schoolClass.Id), P("name", schoolClass.Name), Time("created", schoolClass.Created)]);
        await ExecuteAsync(command, "a class with this id exists in the tenant", cancellationToken);
    }

    public Task<ClassRecord?> GetClassAsync(Guid tenantId, Guid classId, CancellationToken cancellationToken = default) =>
        ReadSingleAsync("SELECT id, name, created FROM classes WHERE tenant_id = @t AND id = @id;",
            [P("t", tenantId), P("id", classId)], r => ReadClass(r, tenantId), cancellationToken);

    /// <summary>By name bytewise (as SQLite's BINARY collation orders it, whatever the database's collation), then by id.</summary>
    public Task<IReadOnlyList<ClassRecord>> ListClassesAsync(Guid tenantId, CancellationToken cancellationToken = default) =>
        ReadListAsync("SELECT id, name, created FROM classes WHERE tenant_id = @t ORDER BY name COLLATE \"C\", id;",
            [P("t", tenantId)], r => ReadClass(r, tenantId), cancellationToken);

    public Task<Guid?> FindClassTenantAsync(Guid classId, CancellationToken cancellationToken = default) =>
        FindTenantOfAsync("classes", classId, cancellationToken);

    public Task SetClassMemberAsync(Guid tenantId, Guid classId, Guid learnerId, bool member, CancellationToken cancellationToken = default) =>
        SetLinkAsync("class_members", "learner_id", tenantId, classId, learnerId, member, cancellationToken);

    public Task SetClassTeacherAsync(Guid tenantId, Guid classId, Guid teacherId, bool teaches, CancellationToken cancellationToken = default) =>
        SetLinkAsync("class_teachers", "teacher_id", tenantId, classId, teacherId, teaches, cancellationToken);

    public Task<IReadOnlyList<Guid>> ListClassMembersAsync(Guid tenantId, Guid classId, CancellationToken cancellationToken = default) =>
        ReadListAsync("SELECT learner_id FROM class_members WHERE tenant_id = @t AND class_id = @c ORDER BY learner_id;",
            [P("t", tenantId), P("c", classId)], r => r.GetGuid(0), cancellationToken);

    public Task<IReadOnlyList<Guid>> ListClassTeachersAsync(Guid tenantId, Guid classId, CancellationToken cancellationToken = default) =>
        ReadListAsync("SELECT teacher_id FROM class_teachers WHERE tenant_id = @t AND class_id = @c ORDER BY teacher_id;",
            [P("t", tenantId), P("c", classId)], r => r.GetGuid(0), cancellationToken);

    public Task<IReadOnlyList<Guid>> ListTaughtClassesAsync(Guid tenantId, Guid teacherId, CancellationToken cancellationToken = default) =>
        ReadListAsync("SELECT class_id FROM class_teachers WHERE tenant_id = @t AND teacher_id = @p ORDER BY class_id;",
            [P("t", tenantId), P("p", teacherId)], r => r.GetGuid(0), cancellationToken);

    // Consents

    public async Task<StoredConsent> AddConsentAsync(
        Guid tenantId, Guid learnerId, ConsentRecord record, string recordedBy, CancellationToken cancellationToken = default)
    {
        PrivacyValues.Check(record, recordedBy);
        var at = PostgresTimestamps.Floor(record.At);
        await using var command = data.CreateCommand("""
            INSERT INTO consents (tenant_id, learner_id, purpose, choice, given_by, giver_id, at, channel, notice_version, recorded_by)
            VALUES (@t, @l, @purpose, @choice, @by, @giver, @at, @channel, @notice, @recorder)
            RETURNING id;
            """);
        AddAll(command.Parameters,
        [
            P("t", tenantId), P("l", learnerId), P("purpose", record.Purpose.Name), P("choice", PrivacyValues.Name(record.Choice)),
            P("by", PrivacyValues.Name(record.GivenBy)), P("giver", record.GiverId), P("at", at), P("channel", record.Channel),
            P("notice", record.NoticeVersion), P("recorder", recordedBy),
        ]);
        var id = (long)(await command.ExecuteScalarAsync(cancellationToken))!;
        return new StoredConsent(id, tenantId, learnerId, record with { At = at }, recordedBy);
    }

    public Task<IReadOnlyList<StoredConsent>> ListConsentsAsync(Guid tenantId, Guid learnerId, CancellationToken cancellationToken = default) =>
        ReadListAsync($"SELECT {ConsentColumns} FROM consents WHERE tenant_id = @t AND learner_id = @l ORDER BY id;",
            [P("t", tenantId), P("l", learnerId)], r => ReadConsent(r, tenantId), cancellationToken);

    // Tenant policy

    public async Task<TenantPolicy> GetPolicyAsync(Guid tenantId, CancellationToken cancellationToken = default) =>
        await ReadSingleAsync("SELECT age_of_digital_consent, restricted_writes, bases FROM tenant_policies WHERE tenant_id = @t;", [P("t", tenantId)],
            r => PrivacyValues.Policy(tenantId, r.GetInt32(0), r.GetString(1), r.GetString(2)), cancellationToken)
        ?? TenantPolicy.CreateDefault(tenantId);

    public async Task SavePolicyAsync(TenantPolicy policy, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(policy);
        await using var command = data.CreateCommand("""
            INSERT INTO tenant_policies (tenant_id, age_of_digital_consent, restricted_writes, bases) VALUES (@t, @age, @writes, @bases)
            ON CONFLICT (tenant_id) DO UPDATE SET
                age_of_digital_consent = excluded.age_of_digital_consent, restricted_writes = excluded.restricted_writes, bases = excluded.bases;
            """);
        AddAll(command.Parameters,
        [
            P("t", policy.TenantId), P("age", policy.AgeOfDigitalConsent), P("writes", PrivacyValues.Name(policy.RestrictedWrites)),
            P("bases", PrivacyValues.BasesJson(policy)),
        ]);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    // Helpers

    private async Task SetLinkAsync(string table, string column, Guid tenantId, Guid classId, Guid otherId, bool present, CancellationToken cancellationToken)
    {
        await using var command = data.CreateCommand(present
            ? $"INSERT INTO {table} (tenant_id, class_id, {column}) VALUES (@t, @c, @o) ON CONFLICT DO NOTHING;"
            : $"DELETE FROM {table} WHERE tenant_id = @t AND class_id = @c AND {column} = @o;");
        AddAll(command.Parameters, [P("t", tenantId), P("c", classId), P("o", otherId)]);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private async Task<IReadOnlyList<LearnerRecord>> ReadLearnersAsync(Guid tenantId, Guid? from, bool inclusive, int limit, CancellationToken cancellationToken)
    {
        var bound = from is null ? string.Empty : inclusive ? "AND l.id >= @from" : "AND l.id > @from";
        // One statement (one snapshot): each learner of the page with its pseudonyms in their order.
        var parameters = new List<NpgsqlParameter> { P("t", tenantId), P("limit", limit) };
        if (from is { } f)
        {
            parameters.Add(P("from", f));
        }

        return await ReadListAsync($"""
            SELECT l.id, l.birth_year, l.age_band_min, l.age_band_max, l.restricted, l.objections, l.created,
                ARRAY(SELECT p.pseudonym FROM learner_pseudonyms p WHERE p.tenant_id = l.tenant_id AND p.learner_id = l.id ORDER BY p.ordinal)
            FROM learners l WHERE l.tenant_id = @t {bound} ORDER BY l.id LIMIT @limit;
            """, [.. parameters], r => new LearnerRecord(
                tenantId, r.GetGuid(0), r.GetFieldValue<byte[][]>(7), NullableInt(r, 1), PrivacyValues.Band(NullableInt(r, 2), NullableInt(r, 3)),
                r.GetBoolean(4), PrivacyValues.Purposes(r.GetFieldValue<string[]>(5)), r.GetFieldValue<DateTimeOffset>(6)), cancellationToken);
    }

    private async Task<Guid?> FindTenantOfAsync(string table, Guid id, CancellationToken cancellationToken)
    {
        await using var command = data.CreateCommand($"SELECT tenant_id FROM {table} WHERE id = @id LIMIT 1;");
        command.Parameters.Add(P("id", id));
        return await command.ExecuteScalarAsync(cancellationToken) is Guid tenant ? tenant : null;
    }

    private async Task<T?> ReadSingleAsync<T>(string sql, NpgsqlParameter[] parameters, Func<NpgsqlDataReader, T> read, CancellationToken cancellationToken)
        where T : class
    {
        var list = await ReadListAsync(sql, parameters, read, cancellationToken);
        return list.Count > 0 ? list[0] : null;
    }

    private async Task<IReadOnlyList<T>> ReadListAsync<T>(string sql, NpgsqlParameter[] parameters, Func<NpgsqlDataReader, T> read, CancellationToken cancellationToken)
    {
        await using var command = data.CreateCommand(sql);
        AddAll(command.Parameters, parameters);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var list = new List<T>();
        while (await reader.ReadAsync(cancellationToken))
        {
            list.Add(read(reader));
        }

        return list;
    }

    private static async Task<int> ExecuteAsync(NpgsqlCommand command, string conflict, CancellationToken cancellationToken)
    {
        try
        {
            return await command.ExecuteNonQueryAsync(cancellationToken);
        }
        catch (PostgresException exception) when (exception.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            throw new PrivacyStoreConflictException($"Conflict: {conflict}; nothing was changed.", exception);
        }
    }

    private static void AddPersonParameters(NpgsqlCommand command, PersonRecord person) => AddAll(command.Parameters,
    [
        P("t", person.TenantId), P("id", person.Id), P("roles", PrivacyValues.RoleNames(person.Roles)), Bytes("login", person.LoginKey),
        Bytes("profile", person.Profile), new NpgsqlParameter("learner", NpgsqlDbType.Uuid) { Value = person.LearnerId is { } l ? l : DBNull.Value },
        Time("created", person.Created), Time("disabled", person.Disabled),
    ]);

    private static void AddLearnerParameters(NpgsqlCommand command, LearnerRecord learner) => AddAll(command.Parameters,
    [
        P("t", learner.TenantId), P("id", learner.Id), Int("year", learner.BirthYear), Int("min", learner.AgeBand?.MinAge),
        Int("max", learner.AgeBand?.MaxAge), P("restricted", learner.Restricted), P("objections", PrivacyValues.PurposeNames(learner.Objections)),
        Time("created", learner.Created), PseudonymArray(learner.Pseudonyms),
    ]);

    private static PersonRecord ReadPerson(NpgsqlDataReader r, Guid tenantId) => new(
        tenantId,
        r.GetGuid(0),
        PrivacyValues.Roles(r.GetFieldValue<string[]>(1)),
        r.IsDBNull(2) ? null : r.GetFieldValue<byte[]>(2),
        r.IsDBNull(3) ? null : r.GetFieldValue<byte[]>(3),
        r.IsDBNull(4) ? null : r.GetGuid(4),
        r.GetFieldValue<DateTimeOffset>(5),
        NullableTime(r, 6));

    private static AccountCredentials ReadAccount(NpgsqlDataReader r, Guid tenantId) => new(
        tenantId,
        r.GetGuid(0),
        r.GetString(1),
        r.GetInt32(2),
        NullableTime(r, 3),
        r.IsDBNull(4) ? null : r.GetFieldValue<byte[]>(4),
        r.GetBoolean(5),
        r.GetInt64(6),
        r.GetFieldValue<DateTimeOffset>(7));

    private static AuthTokenRecord ReadToken(NpgsqlDataReader r) => new(
        r.GetFieldValue<byte[]>(0),
        r.GetGuid(1),
        r.GetGuid(2),
        (AuthTokenKind)r.GetInt16(3),
        r.IsDBNull(4) ? null : r.GetString(4),
        r.GetFieldValue<DateTimeOffset>(5),
        r.GetFieldValue<DateTimeOffset>(6),
        NullableTime(r, 7));

    private static ClassRecord ReadClass(NpgsqlDataReader r, Guid tenantId) =>
        new(tenantId, r.GetGuid(0), r.GetString(1), r.GetFieldValue<DateTimeOffset>(2));

    private static StoredConsent ReadConsent(NpgsqlDataReader r, Guid tenantId) => new(
        r.GetInt64(0),
        tenantId,
        r.GetGuid(1),
        new ConsentRecord(
            Purpose.Parse(r.GetString(2)),
            PrivacyValues.Parse<ConsentChoice>(r.GetString(3)),
            PrivacyValues.Parse<ConsentGiver>(r.GetString(4)),
            r.GetString(5),
            r.GetFieldValue<DateTimeOffset>(6),
            r.GetString(7),
            r.GetString(8)),
        r.GetString(9));

    private static DateTimeOffset? NullableTime(NpgsqlDataReader r, int ordinal) => r.IsDBNull(ordinal) ? null : r.GetFieldValue<DateTimeOffset>(ordinal);

    private static int? NullableInt(NpgsqlDataReader r, int ordinal) => r.IsDBNull(ordinal) ? null : r.GetInt32(ordinal);

    private static void AddAll(NpgsqlParameterCollection collection, params ReadOnlySpan<NpgsqlParameter> parameters)
    {
        foreach (var parameter in parameters)
        {
            collection.Add(parameter);
        }
    }

    private static NpgsqlParameter P<T>(string name, T value) => new NpgsqlParameter<T>(name, value);

    private static NpgsqlParameter Time(string name, DateTimeOffset time) => P(name, PostgresTimestamps.Floor(time));

    private static NpgsqlParameter Time(string name, DateTimeOffset? time) =>
        new(name, NpgsqlDbType.TimestampTz) { Value = time is { } t ? PostgresTimestamps.Floor(t) : DBNull.Value };

    private static NpgsqlParameter Bytes(string name, byte[]? value) => new(name, NpgsqlDbType.Bytea) { Value = (object?)value ?? DBNull.Value };

    private static NpgsqlParameter Text(string name, string? value) => new(name, NpgsqlDbType.Text) { Value = (object?)value ?? DBNull.Value };

    private static NpgsqlParameter Int(string name, int? value) => new(name, NpgsqlDbType.Integer) { Value = value is { } v ? v : DBNull.Value };

    private static NpgsqlParameter PseudonymArray(IReadOnlyList<byte[]> pseudonyms) =>
        new("pseudonyms", NpgsqlDbType.Array | NpgsqlDbType.Bytea) { Value = pseudonyms.ToArray() };
}
