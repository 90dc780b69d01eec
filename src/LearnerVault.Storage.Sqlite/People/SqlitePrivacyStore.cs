using LearnerVault.Privacy.Access;
using LearnerVault.Storage.People;
using Microsoft.Data.Sqlite;

namespace LearnerVault.Storage.Sqlite;

/// <summary>
/// People, accounts, tokens, the identity vault, guardian links, classes, consents and tenant policies in the data file.
/// Writes run on the data file's single writer (<see cref="SerialWriter"/>: each in a savepoint of the writer's group
/// transaction, and SQLite's write lock against other processes), so a change either happens whole or not at all, and
/// the failed-login counter is one UPDATE … RETURNING. Reads come from the shared reader pool.
/// </summary>
public sealed class SqlitePrivacyStore : IPrivacyStore
{
    private const string PersonColumns = "id, roles, login_key, profile, learner_id, created, disabled";
    private const string AccountColumns = "person_id, password_hash, failed_attempts, locked_until, totp_secret, totp_confirmed, totp_last_step, updated";
    private const string TokenColumns = "a.token_hash, t.id, a.person_id, a.kind, a.label, a.created, a.expires, a.revoked";
    private const string LearnerColumns = "id, birth_year, age_band_min, age_band_max, restricted, objections, created";
    private const string ConsentColumns = "id, learner_id, purpose, choice, given_by, giver_id, at, channel, notice_version, recorded_by";

    // The hot path's lookup is prepared once per reader for up to this many pseudonyms (unused slots bound to NULL,
    // which matches nothing); a longer list, rare, gets a command of its own.
    private const int PreparedListSize = 16;

    private static readonly string FindLearnersSql =
        $"SELECT pseudonym, learner_id FROM learner_pseudonyms WHERE tenant_no = $t AND pseudonym IN ({ListParameters(PreparedListSize)});";

    private readonly SerialWriter writer;
    private readonly SqliteReaderPool readers;
    private readonly TenantDirectory tenants;

    internal SqlitePrivacyStore(SerialWriter writer, SqliteReaderPool readers, TenantDirectory tenants)
    {
        this.writer = writer;
        this.readers = readers;
        this.tenants = tenants;
    }

    // People and accounts

    public Task AddPersonAsync(PersonRecord person, CancellationToken cancellationToken = default)
    {
        PrivacyValues.Check(person);
        return WriteAsync(connection =>
        {
            var tenantNo = writer.EnsureTenant(person.TenantId);
            Execute(connection, $"""
                INSERT INTO people (tenant_no, {PersonColumns}) VALUES ($t, $id, $roles, $login, $profile, $learner, $created, $disabled);
                """, PersonParameters(tenantNo, person));
            return true;
        }, "the login name or the person id is taken in the tenant", cancellationToken);
    }

    public Task<bool> UpdatePersonAsync(PersonRecord person, CancellationToken cancellationToken = default)
    {
        PrivacyValues.Check(person);
        return WriteAsync(connection =>
            FindTenant(connection, person.TenantId) is { } tenantNo
            && Execute(connection, """
                UPDATE people SET roles = $roles, login_key = $login, profile = $profile, learner_id = $learner, disabled = $disabled
                WHERE tenant_no = $t AND id = $id;
                """, PersonParameters(tenantNo, person)) > 0,
            "the login name is taken in the tenant", cancellationToken);
    }

    public Task<PersonRecord?> GetPersonAsync(Guid tenantId, Guid personId, CancellationToken cancellationToken = default) =>
        ReadSingleAsync(tenantId, $"SELECT {PersonColumns} FROM people WHERE tenant_no = $t AND id = $id;",
            [("$id", Id(personId))], r => ReadPerson(r, tenantId), cancellationToken);

    public Task<PersonRecord?> FindPersonByLoginAsync(Guid tenantId, byte[] loginKey, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(loginKey);
        return ReadSingleAsync(tenantId, $"SELECT {PersonColumns} FROM people WHERE tenant_no = $t AND login_key = $login;",
            [("$login", loginKey)], r => ReadPerson(r, tenantId), cancellationToken);
    }

    public Task<IReadOnlyList<PersonRecord>> ListPeopleAsync(Guid tenantId, CancellationToken cancellationToken = default) =>
        ReadListAsync(tenantId, $"SELECT {PersonColumns} FROM people WHERE tenant_no = $t ORDER BY id;", [], r => ReadPerson(r, tenantId), cancellationToken);

    public Task<Guid?> FindPersonTenantAsync(Guid personId, CancellationToken cancellationToken = default) =>
        FindTenantOfAsync("people", personId, cancellationToken);

    public Task<AccountCredentials?> GetCredentialsAsync(Guid tenantId, Guid personId, CancellationToken cancellationToken = default) =>
        ReadSingleAsync(tenantId, $"SELECT {AccountColumns} FROM accounts WHERE tenant_no = $t AND person_id = $p;",
            [("$p", Id(personId))], r => ReadAccount(r, tenantId), cancellationToken);

    public Task SetCredentialsAsync(AccountCredentials credentials, CancellationToken cancellationToken = default)
    {
        PrivacyValues.Check(credentials);
        return WriteAsync(connection =>
        {
            var tenantNo = writer.EnsureTenant(credentials.TenantId);
            Execute(connection, $"""
                INSERT OR REPLACE INTO accounts (tenant_no, {AccountColumns})
                VALUES ($t, $p, $hash, $failed, $locked, $totp, $confirmed, $step, $updated);
                """,
                [
                    ("$t", tenantNo), ("$p", Id(credentials.PersonId)), ("$hash", credentials.PasswordHash),
                    ("$failed", credentials.FailedAttempts), ("$locked", Time(credentials.LockedUntil)), ("$totp", credentials.TotpSecret),
                    ("$confirmed", credentials.TotpConfirmed ? 1 : 0), ("$step", credentials.TotpLastStep), ("$updated", Time(credentials.Updated)),
                ]);
            return true;
        }, null, cancellationToken);
    }

    public Task<AccountCredentials?> RegisterFailedLoginAsync(
        Guid tenantId, Guid personId, int maxAttempts, TimeSpan lockout, DateTimeOffset now, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxAttempts);
        ArgumentOutOfRangeException.ThrowIfLessThan(lockout, TimeSpan.Zero);
        return WriteAsync(connection =>
        {
            if (FindTenant(connection, tenantId) is not { } tenantNo)
            {
                return null;
            }

            // One statement: the increment and the lock read and write the same row version, whatever else runs.
            using var command = Command(connection, $"""
                UPDATE accounts SET
                    failed_attempts = CASE WHEN failed_attempts + 1 >= $max THEN 0 ELSE failed_attempts + 1 END,
                    locked_until = CASE WHEN failed_attempts + 1 >= $max THEN $until ELSE locked_until END
                WHERE tenant_no = $t AND person_id = $p
                RETURNING {AccountColumns};
                """, [("$t", tenantNo), ("$p", Id(personId)), ("$max", maxAttempts), ("$until", Time(now + lockout))]);
            using var reader = command.ExecuteReader();
            return reader.Read() ? ReadAccount(reader, tenantId) : null;
        }, null, cancellationToken);
    }

    public Task RegisterSuccessfulLoginAsync(Guid tenantId, Guid personId, long? totpStep, CancellationToken cancellationToken = default) =>
        WriteAsync(connection =>
            FindTenant(connection, tenantId) is { } tenantNo
            && Execute(connection, """
                UPDATE accounts SET failed_attempts = 0, totp_last_step = max(totp_last_step, coalesce($step, totp_last_step))
                WHERE tenant_no = $t AND person_id = $p;
                """, [("$t", tenantNo), ("$p", Id(personId)), ("$step", totpStep)]) > 0,
            null, cancellationToken);

    // Tokens

    public Task AddTokenAsync(AuthTokenRecord token, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(token);
        ArgumentNullException.ThrowIfNull(token.TokenHash, nameof(token.TokenHash));
        _ = PrivacyValues.Name(token.Kind);
        return WriteAsync(connection =>
        {
            var tenantNo = writer.EnsureTenant(token.TenantId);
            Execute(connection, """
                INSERT INTO auth_tokens (token_hash, tenant_no, person_id, kind, label, created, expires, revoked)
                VALUES ($hash, $t, $p, $kind, $label, $created, $expires, $revoked);
                """,
                [
                    ("$hash", token.TokenHash), ("$t", tenantNo), ("$p", Id(token.PersonId)), ("$kind", (int)token.Kind), ("$label", token.Label),
                    ("$created", Time(token.Created)), ("$expires", Time(token.Expires)), ("$revoked", Time(token.Revoked)),
                ]);
            return true;
        }, "a token with this hash exists", cancellationToken);
    }

    public async Task<AuthTokenRecord?> FindTokenAsync(byte[] tokenHash, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(tokenHash);
        using var lease = await readers.RentAsync(cancellationToken);
        var command = lease.Reader.Command(
            $"SELECT {TokenColumns} FROM auth_tokens a JOIN tenants t ON t.no = a.tenant_no WHERE a.token_hash = $hash;", ("$hash", SqliteType.Blob));
        command.Parameters[0].Value = tokenHash;
        using var reader = command.ExecuteReader();
        return reader.Read() ? ReadToken(reader) : null;
    }

    public Task<bool> RevokeTokenAsync(byte[] tokenHash, DateTimeOffset when, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(tokenHash);
        return WriteAsync(connection =>
            Execute(connection, "UPDATE auth_tokens SET revoked = $when WHERE token_hash = $hash AND revoked IS NULL;",
                [("$hash", tokenHash), ("$when", Time(when))]) > 0,
            null, cancellationToken);
    }

    public Task<int> RevokePersonTokensAsync(Guid tenantId, Guid personId, DateTimeOffset when, CancellationToken cancellationToken = default) =>
        WriteAsync(connection =>
            FindTenant(connection, tenantId) is { } tenantNo
                ? Execute(connection,
                    "UPDATE auth_tokens SET revoked = $when WHERE tenant_no = $t AND person_id = $p AND revoked IS NULL;",
                    [("$t", tenantNo), ("$p", Id(personId)), ("$when", Time(when))])
                : 0,
            null, cancellationToken);

    public Task<IReadOnlyList<AuthTokenRecord>> ListTokensAsync(Guid tenantId, Guid personId, CancellationToken cancellationToken = default) =>
        ReadListAsync(tenantId, $"""
            SELECT {TokenColumns} FROM auth_tokens a JOIN tenants t ON t.no = a.tenant_no
            WHERE a.tenant_no = $t AND a.person_id = $p ORDER BY a.created DESC, a.token_hash;
            """, [("$p", Id(personId))], ReadToken, cancellationToken);

    public Task<int> RevokeOtherPersonTokensAsync(
        Guid tenantId, Guid personId, byte[] keepTokenHash, DateTimeOffset when, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(keepTokenHash);
        return WriteAsync(connection =>
            FindTenant(connection, tenantId) is { } tenantNo
                ? Execute(connection,
                    "UPDATE auth_tokens SET revoked = $when WHERE tenant_no = $t AND person_id = $p AND revoked IS NULL AND token_hash <> $keep;",
                    [("$t", tenantNo), ("$p", Id(personId)), ("$keep", keepTokenHash), ("$when", Time(when))])
                : 0,
            null, cancellationToken);
    }

    public Task<int> PurgeTokensAsync(DateTimeOffset before, CancellationToken cancellationToken = default) =>
        WriteAsync(connection =>
            Execute(connection, "DELETE FROM auth_tokens WHERE expires < $before OR revoked < $before;", [("$before", Time(before))]),
            null, cancellationToken);

    // Learners (identity vault)

    public Task AddLearnerAsync(LearnerRecord learner, CancellationToken cancellationToken = default)
    {
        PrivacyValues.Check(learner);
        return WriteAsync(connection =>
        {
            var tenantNo = writer.EnsureTenant(learner.TenantId);
            Execute(connection, $"""
                INSERT INTO learners (tenant_no, {LearnerColumns}) VALUES ($t, $id, $year, $min, $max, $restricted, $objections, $created);
                """, LearnerParameters(tenantNo, learner));
            InsertPseudonyms(connection, tenantNo, learner);
            return true;
        }, "a pseudonym or the learner id already belongs to a learner of the tenant", cancellationToken);
    }

    public Task<bool> UpdateLearnerAsync(LearnerRecord learner, CancellationToken cancellationToken = default)
    {
        PrivacyValues.Check(learner);
        return WriteAsync(connection =>
        {
            if (FindTenant(connection, learner.TenantId) is not { } tenantNo
                || Execute(connection, """
                    UPDATE learners SET birth_year = $year, age_band_min = $min, age_band_max = $max, restricted = $restricted, objections = $objections
                    WHERE tenant_no = $t AND id = $id;
                    """, LearnerParameters(tenantNo, learner)) == 0)
            {
                return false;
            }

            Execute(connection, "DELETE FROM learner_pseudonyms WHERE tenant_no = $t AND learner_id = $id;",
                [("$t", tenantNo), ("$id", Id(learner.Id))]);
            InsertPseudonyms(connection, tenantNo, learner);
            return true;
        }, "a pseudonym belongs to another learner of the tenant", cancellationToken);
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
        using var lease = await readers.RentAsync(cancellationToken);
        if (tenants.Find(lease.Reader, tenantId) is not { } tenantNo)
        {
            return result;
        }

        var found = new Dictionary<byte[], Guid>(PrivacyValues.ByteArrayComparer.Instance);
        if (distinct.Count <= PreparedListSize)
        {
            var command = lease.Reader.Command(FindLearnersSql, [("$t", SqliteType.Integer), .. ListParameterNames(PreparedListSize).Select(n => (n, SqliteType.Blob))]);
            command.Parameters[0].Value = tenantNo;
            for (var i = 0; i < PreparedListSize; i++)
            {
                command.Parameters[i + 1].Value = i < distinct.Count ? distinct[i] : DBNull.Value;
            }

            ReadFound(command, found);
        }
        else
        {
            using var command = Command(lease.Reader.Connection,
                $"SELECT pseudonym, learner_id FROM learner_pseudonyms WHERE tenant_no = $t AND pseudonym IN ({ListParameters(distinct.Count)});",
                [("$t", tenantNo), .. distinct.Select((p, i) => ($"$p{i}", (object?)p))]);
            ReadFound(command, found);
        }

        for (var i = 0; i < pseudonyms.Count; i++)
        {
            result[i] = found.TryGetValue(pseudonyms[i], out var learner) ? learner : null;
        }

        return result;

        static void ReadFound(SqliteCommand command, Dictionary<byte[], Guid> found)
        {
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                found[(byte[])reader.GetValue(0)] = Guid(reader, 1);
            }
        }
    }

    public async Task<IReadOnlyDictionary<Guid, LearnerFacts>> GetLearnerFactsAsync(
        Guid tenantId, IReadOnlyCollection<Guid> learnerIds, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(learnerIds);
        var facts = new Dictionary<Guid, LearnerFacts>();
        var ids = learnerIds.Distinct().ToList();
        if (ids.Count == 0)
        {
            return facts;
        }

        using var lease = await readers.RentAsync(cancellationToken);
        var connection = lease.Reader.Connection;
        if (tenants.Find(lease.Reader, tenantId) is not { } tenantNo)
        {
            return facts;
        }

        // Four queries whatever the number of learners: the learners, then each kind of link for all of them at once.
        (string, object?)[] parameters = [("$t", tenantNo), .. ids.Select((id, i) => ($"$p{i}", (object?)Id(id)))];
        var list = ListParameters(ids.Count);
        var learners = new List<(Guid Id, int? Year, AgeBand? Band, bool Restricted, IReadOnlyList<Purpose> Objections)>();
        Query(connection, $"""
            SELECT id, birth_year, age_band_min, age_band_max, restricted, objections FROM learners WHERE tenant_no = $t AND id IN ({list});
            """, parameters, r => learners.Add((Guid(r, 0), NullableInt(r, 1), PrivacyValues.Band(NullableInt(r, 2), NullableInt(r, 3)),
                r.GetInt64(4) != 0, PrivacyValues.Purposes(PrivacyValues.FromJson(r.GetString(5))))));
        if (learners.Count == 0)
        {
            return facts;
        }

        var guardians = new List<(Guid Learner, Guid Guardian)>();
        Query(connection, $"SELECT learner_id, guardian_id FROM guardians WHERE tenant_no = $t AND learner_id IN ({list});",
            parameters, r => guardians.Add((Guid(r, 0), Guid(r, 1))));
        var classes = new List<(Guid Learner, Guid Class)>();
        Query(connection, $"SELECT learner_id, class_id FROM class_members WHERE tenant_no = $t AND learner_id IN ({list});",
            parameters, r => classes.Add((Guid(r, 0), Guid(r, 1))));
        var consents = new List<(Guid Learner, ConsentRecord Record)>();
        Query(connection, $"SELECT {ConsentColumns} FROM consents WHERE tenant_no = $t AND learner_id IN ({list}) ORDER BY id;",
            parameters, r => consents.Add((Guid(r, 1), ReadConsent(r, tenantId).Record)));

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

    public Task LinkGuardianAsync(Guid tenantId, Guid learnerId, Guid guardianId, CancellationToken cancellationToken = default) =>
        WriteAsync(connection =>
        {
            var tenantNo = writer.EnsureTenant(tenantId);
            return Execute(connection, "INSERT OR IGNORE INTO guardians (tenant_no, learner_id, guardian_id) VALUES ($t, $l, $g);",
                [("$t", tenantNo), ("$l", Id(learnerId)), ("$g", Id(guardianId))]) > 0;
        }, null, cancellationToken);

    public Task<bool> UnlinkGuardianAsync(Guid tenantId, Guid learnerId, Guid guardianId, CancellationToken cancellationToken = default) =>
        WriteAsync(connection =>
            FindTenant(connection, tenantId) is { } tenantNo
            && Execute(connection, "DELETE FROM guardians WHERE tenant_no = $t AND learner_id = $l AND guardian_id = $g;",
                [("$t", tenantNo), ("$l", Id(learnerId)), ("$g", Id(guardianId))]) > 0,
            null, cancellationToken);

    public Task<IReadOnlyList<Guid>> ListWardsAsync(Guid tenantId, Guid guardianId, CancellationToken cancellationToken = default) =>
        ReadListAsync(tenantId, "SELECT learner_id FROM guardians WHERE tenant_no = $t AND guardian_id = $g ORDER BY learner_id;",
            [("$g", Id(guardianId))], r => Guid(r, 0), cancellationToken);

    // Classes

    public Task AddClassAsync(ClassRecord schoolClass, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(schoolClass);
        ArgumentNullException.ThrowIfNull(schoolClass.Name, nameof(schoolClass.Name));
        return WriteAsync(connection =>
        {
            var tenantNo = writer.EnsureTenant(schoolClass.TenantId);
            return Execute(connection, "INSERT INTO classes (tenant_no, id, name, created) VALUES ($t, $id, $name, $created);",
                [("$t", tenantNo), ("$id", Id(schoolClass.Id)), ("$name", schoolClass.Name), ("$created", Time(schoolClass.Created))]) > 0;
        }, "a class with this id exists in the tenant", cancellationToken);
    }

    public Task<ClassRecord?> GetClassAsync(Guid tenantId, Guid classId, CancellationToken cancellationToken = default) =>
        ReadSingleAsync(tenantId, "SELECT id, name, created FROM classes WHERE tenant_no = $t AND id = $id;",
            [("$id", Id(classId))], r => ReadClass(r, tenantId), cancellationToken);

    public Task<IReadOnlyList<ClassRecord>> ListClassesAsync(Guid tenantId, CancellationToken cancellationToken = default) =>
        ReadListAsync(tenantId, "SELECT id, name, created FROM classes WHERE tenant_no = $t ORDER BY name, id;", [], r => ReadClass(r, tenantId), cancellationToken);

    public Task<Guid?> FindClassTenantAsync(Guid classId, CancellationToken cancellationToken = default) =>
        FindTenantOfAsync("classes", classId, cancellationToken);

    public Task SetClassMemberAsync(Guid tenantId, Guid classId, Guid learnerId, bool member, CancellationToken cancellationToken = default) =>
        SetLinkAsync("class_members", "learner_id", tenantId, classId, learnerId, member, cancellationToken);

    public Task SetClassTeacherAsync(Guid tenantId, Guid classId, Guid teacherId, bool teaches, CancellationToken cancellationToken = default) =>
        SetLinkAsync("class_teachers", "teacher_id", tenantId, classId, teacherId, teaches, cancellationToken);

    public Task<IReadOnlyList<Guid>> ListClassMembersAsync(Guid tenantId, Guid classId, CancellationToken cancellationToken = default) =>
        ReadListAsync(tenantId, "SELECT learner_id FROM class_members WHERE tenant_no = $t AND class_id = $c ORDER BY learner_id;",
            [("$c", Id(classId))], r => Guid(r, 0), cancellationToken);

    public Task<IReadOnlyList<Guid>> ListClassTeachersAsync(Guid tenantId, Guid classId, CancellationToken cancellationToken = default) =>
        ReadListAsync(tenantId, "SELECT teacher_id FROM class_teachers WHERE tenant_no = $t AND class_id = $c ORDER BY teacher_id;",
            [("$c", Id(classId))], r => Guid(r, 0), cancellationToken);

    public Task<IReadOnlyList<Guid>> ListTaughtClassesAsync(Guid tenantId, Guid teacherId, CancellationToken cancellationToken = default) =>
        ReadListAsync(tenantId, "SELECT class_id FROM class_teachers WHERE tenant_no = $t AND teacher_id = $p ORDER BY class_id;",
            [("$p", Id(teacherId))], r => Guid(r, 0), cancellationToken);

    // Consents

    public Task<StoredConsent> AddConsentAsync(
        Guid tenantId, Guid learnerId, ConsentRecord record, string recordedBy, CancellationToken cancellationToken = default)
    {
        PrivacyValues.Check(record, recordedBy);
        return WriteAsync(connection =>
        {
            var tenantNo = writer.EnsureTenant(tenantId);
            using var command = Command(connection, """
                INSERT INTO consents (tenant_no, learner_id, purpose, choice, given_by, giver_id, at, channel, notice_version, recorded_by)
                VALUES ($t, $l, $purpose, $choice, $by, $giver, $at, $channel, $notice, $recorder)
                RETURNING id;
                """,
                [
                    ("$t", tenantNo), ("$l", Id(learnerId)), ("$purpose", record.Purpose.Name), ("$choice", PrivacyValues.Name(record.Choice)),
                    ("$by", PrivacyValues.Name(record.GivenBy)), ("$giver", record.GiverId), ("$at", Time(record.At)), ("$channel", record.Channel),
                    ("$notice", record.NoticeVersion), ("$recorder", recordedBy),
                ]);
            var id = (long)command.ExecuteScalar()!;
            return new StoredConsent(id, tenantId, learnerId, record with { At = SqliteValues.FromUnixMicroseconds(Time(record.At)) }, recordedBy);
        }, null, cancellationToken);
    }

    public Task<IReadOnlyList<StoredConsent>> ListConsentsAsync(Guid tenantId, Guid learnerId, CancellationToken cancellationToken = default) =>
        ReadListAsync(tenantId, $"SELECT {ConsentColumns} FROM consents WHERE tenant_no = $t AND learner_id = $l ORDER BY id;",
            [("$l", Id(learnerId))], r => ReadConsent(r, tenantId), cancellationToken);

    // Tenant policy

    public async Task<TenantPolicy> GetPolicyAsync(Guid tenantId, CancellationToken cancellationToken = default) =>
        await ReadSingleAsync(tenantId, "SELECT age_of_digital_consent, restricted_writes, bases FROM tenant_policies WHERE tenant_no = $t;", [],
            r => PrivacyValues.Policy(tenantId, r.GetInt32(0), r.GetString(1), r.GetString(2)), cancellationToken)
        ?? TenantPolicy.CreateDefault(tenantId);

    public Task SavePolicyAsync(TenantPolicy policy, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(policy);
        return WriteAsync(connection =>
        {
            var tenantNo = writer.EnsureTenant(policy.TenantId);
            return Execute(connection, """
                INSERT OR REPLACE INTO tenant_policies (tenant_no, age_of_digital_consent, restricted_writes, bases) VALUES ($t, $age, $writes, $bases);
                """,
                [
                    ("$t", tenantNo), ("$age", policy.AgeOfDigitalConsent), ("$writes", PrivacyValues.Name(policy.RestrictedWrites)),
                    ("$bases", PrivacyValues.BasesJson(policy)),
                ]) > 0;
        }, null, cancellationToken);
    }

    // Helpers

    private Task SetLinkAsync(string table, string column, Guid tenantId, Guid classId, Guid otherId, bool present, CancellationToken cancellationToken) =>
        WriteAsync(connection =>
        {
            if (present)
            {
                var tenantNo = writer.EnsureTenant(tenantId);
                return Execute(connection, $"INSERT OR IGNORE INTO {table} (tenant_no, class_id, {column}) VALUES ($t, $c, $o);",
                    [("$t", tenantNo), ("$c", Id(classId)), ("$o", Id(otherId))]) > 0;
            }

            return FindTenant(connection, tenantId) is { } no
                && Execute(connection, $"DELETE FROM {table} WHERE tenant_no = $t AND class_id = $c AND {column} = $o;",
                    [("$t", no), ("$c", Id(classId)), ("$o", Id(otherId))]) > 0;
        }, null, cancellationToken);

    /// <summary>Runs a write; a uniqueness violation becomes <see cref="PrivacyStoreConflictException"/> (the transaction is rolled back).</summary>
    private async Task<T> WriteAsync<T>(Func<SqliteConnection, T> work, string? conflict, CancellationToken cancellationToken)
    {
        try
        {
            return await writer.WriteAsync(work, cancellationToken);
        }
        catch (SqliteException exception) when (conflict is not null && exception.SqliteErrorCode == 19) // SQLITE_CONSTRAINT
        {
            throw new PrivacyStoreConflictException($"Conflict: {conflict}; nothing was changed.", exception);
        }
    }

    private async Task<T?> ReadSingleAsync<T>(
        Guid tenantId, string sql, (string, object?)[] parameters, Func<SqliteDataReader, T> read, CancellationToken cancellationToken)
        where T : class
    {
        var list = await ReadListAsync(tenantId, sql, parameters, read, cancellationToken);
        return list.Count > 0 ? list[0] : null;
    }

    private async Task<IReadOnlyList<T>> ReadListAsync<T>(
        Guid tenantId, string sql, (string, object?)[] parameters, Func<SqliteDataReader, T> read, CancellationToken cancellationToken)
    {
        using var lease = await readers.RentAsync(cancellationToken);
        if (tenants.Find(lease.Reader, tenantId) is not { } tenantNo)
        {
            return [];
        }

        // Prepared once per reader connection: the policy, for one, is read on every request.
        var list = new List<T>();
        var command = lease.Reader.Bound(sql, [("$t", tenantNo), .. parameters]);
        using (var reader = command.ExecuteReader())
        {
            while (reader.Read())
            {
                list.Add(read(reader));
            }
        }

        return list;
    }

    private async Task<IReadOnlyList<LearnerRecord>> ReadLearnersAsync(
        Guid tenantId, Guid? from, bool inclusive, int limit, CancellationToken cancellationToken)
    {
        using var lease = await readers.RentAsync(cancellationToken);
        var connection = lease.Reader.Connection;
        if (tenants.Find(lease.Reader, tenantId) is not { } tenantNo)
        {
            return [];
        }

        var bound = from is null ? string.Empty : inclusive ? "AND id >= $from" : "AND id > $from";
        var rows = new List<(Guid Id, int? Year, AgeBand? Band, bool Restricted, string Objections, DateTimeOffset Created)>();
        Query(connection, $"""
            SELECT {LearnerColumns} FROM learners WHERE tenant_no = $t {bound} ORDER BY id LIMIT $limit;
            """, [("$t", tenantNo), ("$from", from is { } f ? Id(f) : null), ("$limit", limit)],
            r => rows.Add((Guid(r, 0), NullableInt(r, 1), PrivacyValues.Band(NullableInt(r, 2), NullableInt(r, 3)), r.GetInt64(4) != 0,
                r.GetString(5), SqliteValues.FromUnixMicroseconds(r.GetInt64(6)))));
        if (rows.Count == 0)
        {
            return [];
        }

        // The page's pseudonyms in one range scan of the by-learner index.
        var pseudonyms = new List<(Guid Learner, byte[] Pseudonym)>();
        Query(connection, """
            SELECT learner_id, pseudonym FROM learner_pseudonyms
            WHERE tenant_no = $t AND learner_id >= $first AND learner_id <= $last ORDER BY learner_id, ordinal;
            """, [("$t", tenantNo), ("$first", Id(rows[0].Id)), ("$last", Id(rows[^1].Id))],
            r => pseudonyms.Add((Guid(r, 0), (byte[])r.GetValue(1))));
        var byLearner = pseudonyms.ToLookup(p => p.Learner, p => p.Pseudonym);
        return [.. rows.Select(r => new LearnerRecord(
            tenantId, r.Id, [.. byLearner[r.Id]], r.Year, r.Band, r.Restricted, PrivacyValues.Purposes(PrivacyValues.FromJson(r.Objections)), r.Created))];
    }

    private async Task<Guid?> FindTenantOfAsync(string table, Guid id, CancellationToken cancellationToken)
    {
        using var lease = await readers.RentAsync(cancellationToken);
        var command = lease.Reader.Command(
            $"SELECT t.id FROM {table} x JOIN tenants t ON t.no = x.tenant_no WHERE x.id = $id LIMIT 1;", ("$id", SqliteType.Blob));
        command.Parameters[0].Value = Id(id);
        return command.ExecuteScalar() is byte[] tenant ? SqliteValues.ToGuid(tenant) : null;
    }

    private static void InsertPseudonyms(SqliteConnection connection, long tenantNo, LearnerRecord learner)
    {
        using var insert = Command(connection,
            "INSERT INTO learner_pseudonyms (tenant_no, pseudonym, learner_id, ordinal) VALUES ($t, $p, $l, $o);",
            [("$t", tenantNo), ("$p", null), ("$l", Id(learner.Id)), ("$o", 0)]);
        for (var i = 0; i < learner.Pseudonyms.Count; i++)
        {
            insert.Parameters["$p"].Value = learner.Pseudonyms[i];
            insert.Parameters["$o"].Value = i;
            insert.ExecuteNonQuery();
        }
    }

    private static long? FindTenant(SqliteConnection connection, Guid tenantId)
    {
        using var command = Command(connection, "SELECT no FROM tenants WHERE id = $id;", [("$id", Id(tenantId))]);
        return command.ExecuteScalar() is long no ? no : null;
    }

    private static (string, object?)[] PersonParameters(long tenantNo, PersonRecord person) =>
    [
        ("$t", tenantNo), ("$id", Id(person.Id)), ("$roles", PrivacyValues.ToJson(PrivacyValues.RoleNames(person.Roles))),
        ("$login", person.LoginKey), ("$profile", person.Profile), ("$learner", person.LearnerId is { } l ? Id(l) : null),
        ("$created", Time(person.Created)), ("$disabled", Time(person.Disabled)),
    ];

    private static (string, object?)[] LearnerParameters(long tenantNo, LearnerRecord learner) =>
    [
        ("$t", tenantNo), ("$id", Id(learner.Id)), ("$year", learner.BirthYear), ("$min", learner.AgeBand?.MinAge),
        ("$max", learner.AgeBand?.MaxAge), ("$restricted", learner.Restricted ? 1 : 0),
        ("$objections", PrivacyValues.ToJson(PrivacyValues.PurposeNames(learner.Objections))), ("$created", Time(learner.Created)),
    ];

    private static PersonRecord ReadPerson(SqliteDataReader r, Guid tenantId) => new(
        tenantId,
        Guid(r, 0),
        PrivacyValues.Roles(PrivacyValues.FromJson(r.GetString(1))),
        r.IsDBNull(2) ? null : (byte[])r.GetValue(2),
        r.IsDBNull(3) ? null : (byte[])r.GetValue(3),
        r.IsDBNull(4) ? null : Guid(r, 4),
        SqliteValues.FromUnixMicroseconds(r.GetInt64(5)),
        NullableTime(r, 6));

    private static AccountCredentials ReadAccount(SqliteDataReader r, Guid tenantId) => new(
        tenantId,
        Guid(r, 0),
        r.GetString(1),
        r.GetInt32(2),
        NullableTime(r, 3),
        r.IsDBNull(4) ? null : (byte[])r.GetValue(4),
        r.GetInt64(5) != 0,
        r.GetInt64(6),
        SqliteValues.FromUnixMicroseconds(r.GetInt64(7)));

    private static AuthTokenRecord ReadToken(SqliteDataReader r) => new(
        (byte[])r.GetValue(0),
        Guid(r, 1),
        Guid(r, 2),
        (AuthTokenKind)r.GetInt32(3),
        r.IsDBNull(4) ? null : r.GetString(4),
        SqliteValues.FromUnixMicroseconds(r.GetInt64(5)),
        SqliteValues.FromUnixMicroseconds(r.GetInt64(6)),
        NullableTime(r, 7));

    private static ClassRecord ReadClass(SqliteDataReader r, Guid tenantId) =>
        new(tenantId, Guid(r, 0), r.GetString(1), SqliteValues.FromUnixMicroseconds(r.GetInt64(2)));

    private static StoredConsent ReadConsent(SqliteDataReader r, Guid tenantId) => new(
        r.GetInt64(0),
        tenantId,
        Guid(r, 1),
        new ConsentRecord(
            Purpose.Parse(r.GetString(2)),
            PrivacyValues.Parse<ConsentChoice>(r.GetString(3)),
            PrivacyValues.Parse<ConsentGiver>(r.GetString(4)),
            r.GetString(5),
            SqliteValues.FromUnixMicroseconds(r.GetInt64(6)),
            r.GetString(7),
            r.GetString(8)),
        r.GetString(9));

    private static byte[] Id(Guid id) => SqliteValues.GuidBytes(id);

    private static Guid Guid(SqliteDataReader r, int ordinal) => SqliteValues.ToGuid((byte[])r.GetValue(ordinal));

    private static long Time(DateTimeOffset time) => SqliteValues.ToUnixMicroseconds(time);

    private static long? Time(DateTimeOffset? time) => time is { } t ? SqliteValues.ToUnixMicroseconds(t) : null;

    private static DateTimeOffset? NullableTime(SqliteDataReader r, int ordinal) =>
        r.IsDBNull(ordinal) ? null : SqliteValues.FromUnixMicroseconds(r.GetInt64(ordinal));

    private static int? NullableInt(SqliteDataReader r, int ordinal) => r.IsDBNull(ordinal) ? null : r.GetInt32(ordinal);

    private static IEnumerable<string> ListParameterNames(int count) => Enumerable.Range(0, count).Select(i => $"$p{i}");

    private static string ListParameters(int count) => string.Join(", ", ListParameterNames(count));

    private static SqliteCommand Command(SqliteConnection connection, string sql, (string Name, object? Value)[] parameters)
    {
        var command = connection.CreateCommand();
#pragma warning disable CA2100 // SQL text is built from constant fragments and generated parameter names; values are always parameters.
        command.CommandText = sql;
#pragma warning restore CA2100
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        }

        return command;
    }

    private static int Execute(SqliteConnection connection, string sql, (string, object?)[] parameters)
    {
        using var command = Command(connection, sql, parameters);
        return command.ExecuteNonQuery();
    }

    private static void Query(SqliteConnection connection, string sql, (string, object?)[] parameters, Action<SqliteDataReader> row)
    {
        using var command = Command(connection, sql, parameters);
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            row(reader);
        }
    }
}
