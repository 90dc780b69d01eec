using System.Security.Cryptography;
using System.Text;
using LearnerVault.Privacy;
using LearnerVault.Privacy.Access;
using LearnerVault.Storage.People;
using LearnerVault.Storage.Sqlite;
using Microsoft.Data.Sqlite;

namespace LearnerVault.Storage.Tests;

/// <summary>What is particular to the SQLite backend: files, migrations, pragmas, merges and query plans.</summary>
public sealed class SqliteBackendTests : IDisposable
{
    private readonly TempFolder folder = new();
    private readonly MasterKey masterKey = MasterKey.FromBytes(KeyWrapping.NewKey());
    private readonly ManualTimeProvider time = new(new DateTimeOffset(2026, 3, 1, 8, 0, 0, TimeSpan.Zero));

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private string DataFile => Path.Combine(folder.Path, SqliteBackend.DataFileName);

    private string KeyFile => Path.Combine(folder.Path, SqliteBackend.KeyStoreFileName);

    public void Dispose() => folder.Dispose();

    private static IndexTerm Term(TermKind kind, string value) => new(kind, SHA256.HashData(Encoding.UTF8.GetBytes(value))[..16]);

    private static StatementRecord Statement(params IndexTerm[] terms) =>
        new(Guid.NewGuid(), 1, RandomNumberGenerator.GetBytes(32), RandomNumberGenerator.GetBytes(32), terms, null, false, 1, true);

    private static StatementRecord ByClient(long clientId, params IndexTerm[] terms) => Statement(terms) with { ClientId = clientId };

    private SqliteConnection OpenRaw(string path)
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false, Mode = SqliteOpenMode.ReadOnly }.ConnectionString);
        connection.Open();
        return connection;
    }

    private static long Scalar(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }

    private static List<string> Tables(SqliteConnection connection)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name;";
        using var reader = command.ExecuteReader();
        var names = new List<string>();
        while (reader.Read())
        {
            names.Add(reader.GetString(0));
        }

        return names;
    }

    [Fact]
    public async Task StoreWrites_OnTheOneWriter_AFailedWriteIsUndoneAloneAndTheRestOfItsGroupIsDurable()
    {
        // Statement batches and privacy-store writes submitted together share the data file's one writer, so many land in
        // the same group transaction. Every other learner names a pseudonym already taken as its second one: its first
        // rows are written before the conflict, and must be undone alone (its savepoint) while every other write is kept.
        var tenant = Guid.NewGuid();
        LearnerRecord NewLearner(params byte[][] pseudonyms) =>
            new(tenant, Guid.NewGuid(), pseudonyms, 2012, new AgeBand(13, 15), false, [], time.GetUtcNow());
        var taken = RandomNumberGenerator.GetBytes(32);
        var batches = Enumerable.Range(0, 40).Select(_ => new[] { Statement(), Statement() }).ToArray();
        var learners = Enumerable.Range(0, 40)
            .Select(i => i % 2 == 0 ? NewLearner(RandomNumberGenerator.GetBytes(32)) : NewLearner(RandomNumberGenerator.GetBytes(32), taken))
            .ToArray();

        await using (var backend = SqliteBackend.Open(folder.Path, masterKey, time))
        {
            await backend.Privacy.AddLearnerAsync(NewLearner(taken), Ct);
            var statementWrites = batches.Select(batch => backend.Statements.WriteAsync(tenant, batch, Ct)).ToArray();
            var learnerWrites = learners.Select(learner => backend.Privacy.AddLearnerAsync(learner, Ct)).ToArray();

            foreach (var write in statementWrites)
            {
                Assert.All(await write, outcome => Assert.Equal(WriteOutcome.Stored, outcome));
            }

            for (var i = 0; i < learners.Length; i++)
            {
                if (i % 2 == 0)
                {
                    await learnerWrites[i];
                }
                else
                {
                    await Assert.ThrowsAsync<PrivacyStoreConflictException>(() => learnerWrites[i]);
                }
            }
        }

        // Reopened: what was acknowledged is durable, and a failed write left no row behind, not even its first pseudonym.
        await using (var backend = SqliteBackend.Open(folder.Path, masterKey, time))
        {
            foreach (var statement in batches.SelectMany(batch => batch))
            {
                Assert.NotNull(await backend.Statements.GetAsync(tenant, statement.Id, Ct));
            }

            Assert.Equal(21, (await backend.Privacy.ListLearnersAsync(tenant, null, 100, Ct)).Count);
            for (var i = 1; i < learners.Length; i += 2)
            {
                Assert.Null(await backend.Privacy.GetLearnerAsync(tenant, learners[i].Id, Ct));
                Assert.Null(Assert.Single(await backend.Privacy.FindLearnersAsync(tenant, [learners[i].Pseudonyms[0]], Ct)));
            }
        }
    }

    [Fact]
    public async Task Writes_WhileOpen_ReachTheDataFileThroughTheBackgroundCheckpoint()
    {
        // The writer never checkpoints (SQLite's automatic checkpoint would only start at 8,192 pages, far more than these
        // writes); the checkpoint thread copies committed pages into the data file while the backend is open.
        var tenant = Guid.NewGuid();
        await using var backend = SqliteBackend.Open(folder.Path, masterKey, time);
        var before = new FileInfo(DataFile).Length;
        for (var i = 0; i < 20; i++)
        {
            await backend.Statements.WriteAsync(tenant, Enumerable.Range(0, 50).Select(_ => Statement(Term(TermKind.Verb, "v"))).ToArray(), Ct);
        }

        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (new FileInfo(DataFile).Length <= before && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50, Ct);
        }

        Assert.True(new FileInfo(DataFile).Length > before, "no committed page reached the data file while it was open");
    }

    [Fact]
    public async Task Open_NewFolder_CreatesSeparateDataAndKeyFilesOwnerOnly()
    {
        var nested = Path.Combine(folder.Path, "a", "b");

        await using (SqliteBackend.Open(nested, masterKey, time))
        {
        }

        var data = Path.Combine(nested, SqliteBackend.DataFileName);
        var keys = Path.Combine(nested, SqliteBackend.KeyStoreFileName);
        using (var connection = OpenRaw(data))
        {
            var tables = Tables(connection);
            Assert.Contains("statements", tables);
            Assert.Contains("clients", tables);
            Assert.DoesNotContain("keys", tables);
        }

        using (var connection = OpenRaw(keys))
        {
            var tables = Tables(connection);
            Assert.Contains("keys", tables);
            Assert.DoesNotContain("statements", tables);
        }

        if (!OperatingSystem.IsWindows())
        {
            var groupOrOther = UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.OtherRead | UnixFileMode.OtherWrite;
            Assert.Equal(default, File.GetUnixFileMode(data) & groupOrOther);
            Assert.Equal(default, File.GetUnixFileMode(keys) & groupOrOther);
        }
    }

    [Fact]
    public async Task Open_Twice_AppliesEachMigrationOnce()
    {
        await using (SqliteBackend.Open(folder.Path, masterKey, time))
        {
        }

        await using (SqliteBackend.Open(folder.Path, masterKey, time))
        {
        }

        using var data = OpenRaw(DataFile);
        using var keys = OpenRaw(KeyFile);
        Assert.Equal(SchemaMigrator.Load(SchemaMigrator.DataSet).Count, Scalar(data, "SELECT count(*) FROM schema_version;"));
        Assert.Equal(SchemaMigrator.Load(SchemaMigrator.KeysSet).Count, Scalar(keys, "SELECT count(*) FROM schema_version;"));
        Assert.Equal(
            (long)SchemaMigrator.Load(SchemaMigrator.DataSet).Max(m => m.Version),
            Scalar(data, "SELECT max(version) FROM schema_version;"));
    }

    [Fact]
    public async Task Open_SchemaNewerThanThisBuild_Refuses()
    {
        await using (SqliteBackend.Open(folder.Path, masterKey, time))
        {
        }

        using (var connection = new SqliteConnection($"Data Source={DataFile};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "INSERT INTO schema_version (version, name, applied) VALUES (999, 'future', 0);";
            command.ExecuteNonQuery();
        }

        var exception = Assert.Throws<InvalidOperationException>(() => SqliteBackend.Open(folder.Path, masterKey, time));
        Assert.Contains("newer", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Connections_HaveDurabilityPragmas()
    {
        using var connection = SqliteConnections.Open(DataFile, ConnectionRole.Writer);

        Assert.Equal("wal", SqliteConnections.ExecuteScalar(connection, "PRAGMA journal_mode;"));
        Assert.Equal(2L, SqliteConnections.ExecuteScalar(connection, "PRAGMA synchronous;")); // FULL
        Assert.Equal(1L, SqliteConnections.ExecuteScalar(connection, "PRAGMA foreign_keys;"));
        Assert.Equal((long)SqliteConnections.BusyTimeoutMilliseconds, SqliteConnections.ExecuteScalar(connection, "PRAGMA busy_timeout;"));
        Assert.Equal(2L, SqliteConnections.ExecuteScalar(connection, "PRAGMA temp_store;")); // MEMORY
    }

    [Fact]
    public async Task Merge_AfterWrites_MovesIdsAndPostingsIntoSegmentsAndReadsStillAgree()
    {
        var verb = Term(TermKind.Verb, "merged");
        var tenant = Guid.NewGuid();
        var written = new List<StatementRecord>();
        await using (var backend = SqliteBackend.Open(folder.Path, masterKey, time, new SqliteBackendOptions { MergeThreshold = 10 }))
        {
            for (var i = 0; i < 7; i++)
            {
                var batch = Enumerable.Range(0, 5).Select(_ => Statement(verb, Term(TermKind.Agent, "a" + (i % 2)))).ToArray();
                written.AddRange(batch);
                await backend.Statements.WriteAsync(tenant, batch, Ct);
            }

            var page = await backend.Statements.QueryAsync(tenant, new StatementQuery { Terms = [verb], Limit = 100 }, Ct);
            Assert.Equal(written.Select(s => s.Id).Reverse(), page.Statements.Select(s => s.Id));
            var agent = await backend.Statements.QueryAsync(tenant, new StatementQuery { Terms = [verb, Term(TermKind.Agent, "a1")], Limit = 7, Ascending = true }, Ct);
            Assert.Equal(written.Where((_, i) => (i / 5) % 2 == 1).Select(s => s.Id).Take(7), agent.Statements.Select(s => s.Id));
            foreach (var statement in written)
            {
                Assert.NotNull(await backend.Statements.GetAsync(tenant, statement.Id, Ct));
            }
        }

        using var connection = OpenRaw(DataFile);
        // Merges after the 2nd (10 statements), 4th (10) and 6th (10) batches; the last 5 stay recent.
        Assert.Equal(3, Scalar(connection, "SELECT count(*) FROM segments;"));
        Assert.Equal(30, Scalar(connection, "SELECT count(*) FROM statement_ids;"));
        Assert.Equal(30 * 3, Scalar(connection, "SELECT count(*) FROM statement_terms;"));
        Assert.Equal(35, Scalar(connection, "SELECT count(*) FROM statements;"));
    }

    /// <summary>
    /// Filters over several merged segments and the recent statements read what the statements' own terms say: every
    /// combination of one to three terms (each of which leaves out statements the others have), the writing client,
    /// both directions, bounds on stored, and pages of a few statements followed to the end, against the written list.
    /// </summary>
    [Fact]
    public async Task Query_TermCombinationsAcrossSegments_MatchWhatWasWritten()
    {
        var tenant = Guid.NewGuid();
        var random = new Random(5);
        IndexTerm[] vocabulary =
        [
            Term(TermKind.Verb, "v0"), Term(TermKind.Verb, "v1"), Term(TermKind.Agent, "a0"), Term(TermKind.Agent, "a1"),
            Term(TermKind.Agent, "a2"), Term(TermKind.Activity, "x0"), Term(TermKind.Activity, "x1"),
        ];
        var written = new List<StatementRecord>();
        await using var backend = SqliteBackend.Open(folder.Path, masterKey, time, new SqliteBackendOptions { MergeThreshold = 40 });
        for (var batch = 0; batch < 60; batch++)
        {
            var statements = Enumerable.Range(0, 1 + random.Next(12))
                .Select(_ => ByClient(1 + random.Next(2), [.. vocabulary.Where(_ => random.Next(2) == 0)]))
                .ToArray();
            await backend.Statements.WriteAsync(tenant, statements, Ct);
            written.AddRange(statements);
        }

        var all = (await backend.Statements.QueryAsync(tenant, new StatementQuery { Limit = 1000, Ascending = true }, Ct)).Statements;
        Assert.Equal(written.Select(s => s.Id), all.Select(s => s.Id));
        using (var raw = OpenRaw(DataFile))
        {
            Assert.True(Scalar(raw, "SELECT count(*) FROM segments;") >= 3, "the statements should span several segments");
        }

        var stored = all.ToDictionary(s => s.Id, s => s.Stored);
        var bounds = new (DateTimeOffset? Since, DateTimeOffset? Until)[]
        {
            (null, null), (all[70].Stored, null), (null, all[250].Stored), (all[30].Stored, all[120].Stored),
        };
        var combinations = vocabulary.SelectMany((a, i) => vocabulary.Skip(i + 1).SelectMany((b, j) =>
            vocabulary.Skip(i + j + 2).Select(c => new[] { a, b, c }).Prepend([a, b]))).Prepend([vocabulary[2]]).ToList();
        foreach (var terms in combinations)
        {
            foreach (var (since, until) in bounds)
            {
                foreach (var ascending in new[] { true, false })
                {
                    var clientId = terms.Length == 2 ? 2L : (long?)null;
                    var expected = written
                        .Where(s => terms.All(t => s.Terms.Contains(t)) && (clientId is null || s.ClientId == clientId))
                        .Where(s => (since is null || stored[s.Id] > since) && (until is null || stored[s.Id] <= until))
                        .Select(s => s.Id)
                        .ToList();
                    if (!ascending)
                    {
                        expected.Reverse();
                    }

                    var read = new List<Guid>();
                    long? after = null;
                    do
                    {
                        var page = await backend.Statements.QueryAsync(tenant, new StatementQuery
                        {
                            Terms = terms,
                            ClientId = clientId,
                            Since = since,
                            Until = until,
                            Ascending = ascending,
                            Limit = 4,
                            After = after,
                        }, Ct);
                        read.AddRange(page.Statements.Select(s => s.Id));
                        after = page.ContinueAfter;
                        Assert.True(read.Count <= expected.Count, "pages should end once the matches have been read");
                    }
                    while (after is not null);

                    Assert.Equal(expected, read);
                }
            }
        }
    }

    /// <summary>
    /// A merge writes its segment from the memory index, not from the statements table: the segments must still say
    /// exactly what that table implies. Two tenants and two clients (chunks break at tenant changes), more postings per
    /// merge than one chunk holds, and terms inherited late, both by a recent statement and by an already merged one.
    /// With steps of 1,000 rows each merge spans many groups, and writes come between its steps.
    /// </summary>
    [Theory]
    [InlineData(null)]
    [InlineData(1000)]
    public async Task Merge_FromTheMemoryIndex_WritesExactlyTheIdsPostingsAndCountsTheStatementsTableImplies(int? step)
    {
        var tenants = new[] { Guid.NewGuid(), Guid.NewGuid() };
        var random = new Random(7);
        var early = new Dictionary<Guid, StatementRecord>();
        var options = new SqliteBackendOptions { MergeThreshold = 3000, MergeStep = step };
        await using (var backend = SqliteBackend.Open(folder.Path, masterKey, time, options))
        {
            for (var round = 0; round < 4; round++)
            {
                foreach (var tenant in tenants)
                {
                    // Referrers stored before their targets: one target follows within the round (the referrer is
                    // still recent), the other only in the last round (by then the referrer has been merged).
                    var target = Statement(Term(TermKind.Verb, "late" + round), Term(TermKind.Activity, "late-activity" + round));
                    await backend.Statements.WriteAsync(tenant, [Statement(Term(TermKind.Verb, "refers")) with { RefTarget = target.Id }], Ct);
                    if (round == 0)
                    {
                        early[tenant] = Statement(Term(TermKind.Agent, "early-target"));
                        await backend.Statements.WriteAsync(tenant, [Statement() with { RefTarget = early[tenant].Id, IsVoiding = true }], Ct);
                    }

                    for (var batch = 0; batch < 10; batch++)
                    {
                        var statements = Enumerable.Range(0, 100).Select(_ => ByClient(
                            1 + random.Next(2),
                            Term(TermKind.Verb, "verb" + random.Next(5)),
                            Term(TermKind.Agent, "agent" + random.Next(200)),
                            Term(TermKind.Activity, "activity" + random.Next(1000)))).ToArray();
                        await backend.Statements.WriteAsync(tenant, statements, Ct);
                    }

                    await backend.Statements.WriteAsync(tenant, [target], Ct);
                    if (round == 3)
                    {
                        await backend.Statements.WriteAsync(tenant, [early[tenant]], Ct);
                    }
                }
            }
        }

        using var connection = OpenRaw(DataFile);
        Assert.True(Scalar(connection, "SELECT count(*) FROM segments;") >= 2);
        var expectedPostings = AssertSegmentsAreWhatTheStatementsTableImplies(connection);

        // Not vacuous: the referrers merged before their targets arrived (last, still recent) hold the targets' term.
        byte[] lateTerm = [(byte)TermKind.Agent, .. Term(TermKind.Agent, "early-target").Hash!];
        Assert.Equal(2, expectedPostings.Count(p => p.Contains(Convert.ToHexString(lateTerm), StringComparison.Ordinal)));
        Assert.True(expectedPostings.Count > 2 * 8192, "a merge should span more than one chunk");
    }

    /// <summary>
    /// A merge step that fails (here a trigger refuses the postings) drops the merge, never the group it rode in: every
    /// write is acknowledged and stored, reads find everything from memory, nothing is published, and the writer still
    /// closes (a merge that kept failing once kept a closing writer busy for ever). Once the cause is gone, the next
    /// merge publishes an exact segment over the failed steps' leftovers.
    /// </summary>
    [Fact(Timeout = 120_000)] // not a speed bound: the regression it guards against never returned
    public async Task Merge_StepFails_WritesStillCommitAndTheNextMergeIsExact()
    {
        var ct = TestContext.Current.CancellationToken;
        var tenant = Guid.NewGuid();
        var verb = Term(TermKind.Verb, "kept");
        await using (SqliteBackend.Open(folder.Path, masterKey, time))
        {
        }

        using (var connection = SqliteConnections.Open(DataFile, ConnectionRole.Writer))
        {
            SqliteConnections.Execute(connection, """
                CREATE TRIGGER refuse_postings BEFORE INSERT ON statement_terms BEGIN SELECT RAISE(ABORT, 'injected'); END;
                """);
        }

        var written = new List<StatementRecord>();
        var options = new SqliteBackendOptions { MergeThreshold = 20, MergeStep = 25 };
        await using (var backend = SqliteBackend.Open(folder.Path, masterKey, time, options))
        {
            for (var batch = 0; batch < 10; batch++)
            {
                var statements = Enumerable.Range(0, 10).Select(i => Statement(verb, Term(TermKind.Agent, "a" + i))).ToArray();
                Assert.Equal(Enumerable.Repeat(WriteOutcome.Stored, 10), await backend.Statements.WriteAsync(tenant, statements, ct));
                written.AddRange(statements);
            }

            var page = await backend.Statements.QueryAsync(tenant, new StatementQuery { Terms = [verb], Limit = 1000 }, ct);
            Assert.Equal(written.Select(s => s.Id).Reverse(), page.Statements.Select(s => s.Id));
        }

        using (var connection = SqliteConnections.Open(DataFile, ConnectionRole.Writer))
        {
            Assert.Equal(100, Scalar(connection, "SELECT count(*) FROM statements;"));
            Assert.Equal(0, Scalar(connection, "SELECT count(*) FROM segments;"));
            Assert.Equal(0, Scalar(connection, "SELECT count(*) FROM statement_terms;"));
            SqliteConnections.Execute(connection, "DROP TRIGGER refuse_postings;");
        }

        await using (var backend = SqliteBackend.Open(folder.Path, masterKey, time, new SqliteBackendOptions { MergeThreshold = 100 }))
        {
            // The first write's group begins a merge of all 101; the second stays recent.
            await backend.Statements.WriteAsync(tenant, [Statement(verb)], ct);
            await backend.Statements.WriteAsync(tenant, [Statement(verb)], ct);
        }

        using var data = OpenRaw(DataFile);
        Assert.Equal(101, Scalar(data, "SELECT sum(size) FROM segments;"));
        AssertSegmentsAreWhatTheStatementsTableImplies(data);
    }

    /// <summary>
    /// A merge cut short (a crash between its steps) leaves rows of a segment that no <c>segments</c> row publishes, and
    /// counts it added. The next merge takes the same segment id and covers at least the same statements: it writes
    /// those rows again without failing on them, replaces those counts rather than adding to them, and publishes the
    /// segment exactly as the statements table implies.
    /// </summary>
    [Fact]
    public async Task Merge_AfterAMergeCutShort_WritesOverItsLeftoverRowsAndPublishesAnExactSegment()
    {
        var tenant = Guid.NewGuid();
        var random = new Random(11);
        IndexTerm[] Terms() => [Term(TermKind.Verb, "verb" + random.Next(3)), Term(TermKind.Agent, "agent" + random.Next(50))];
        await using (var backend = SqliteBackend.Open(folder.Path, masterKey, time, new SqliteBackendOptions { MergeThreshold = 1_000_000 }))
        {
            for (var batch = 0; batch < 4; batch++)
            {
                await backend.Statements.WriteAsync(tenant, Enumerable.Range(0, 50).Select(_ => Statement(Terms())).ToArray(), Ct);
            }
        }

        using (var connection = SqliteConnections.Open(DataFile, ConnectionRole.Writer))
        {
            Assert.Equal(0, Scalar(connection, "SELECT count(*) FROM segments;"));
            // What the interrupted merge had written: the ids and postings of the first 120 statements in segment 1, and
            // the counts of those postings (as if its snapshot had held only them).
            SqliteConnections.Execute(connection, """
                INSERT INTO statement_ids (tenant_no, id, seq) SELECT tenant_no, id, seq FROM statements ORDER BY seq LIMIT 120;
                INSERT INTO statement_terms (segment, tenant_no, term, seq)
                SELECT 1, s.tenant_no, substr(s.terms, k.value * 17 + 1, 17), s.seq
                FROM (SELECT * FROM statements ORDER BY seq LIMIT 120) AS s
                CROSS JOIN json_each('[0, 1]') AS k;
                INSERT INTO term_counts (tenant_no, term, n, last_segment, last_n)
                SELECT tenant_no, term, count(*), 1, count(*) FROM statement_terms GROUP BY tenant_no, term;
                """);
            Assert.Equal(240, Scalar(connection, "SELECT count(*) FROM statement_terms;"));
        }

        await using (var backend = SqliteBackend.Open(folder.Path, masterKey, time, new SqliteBackendOptions { MergeThreshold = 250, MergeStep = 50 }))
        {
            await backend.Statements.WriteAsync(tenant, Enumerable.Range(0, 50).Select(_ => Statement(Terms())).ToArray(), Ct);
            var verb = Term(TermKind.Verb, "verb1");
            await backend.Statements.WriteAsync(tenant, [Statement(verb)], Ct);
            var page = await backend.Statements.QueryAsync(tenant, new StatementQuery { Terms = [verb], Limit = 1000 }, Ct);
            using var raw = OpenRaw(DataFile);
            Assert.Equal(
                Scalar(raw, $"SELECT count(*) FROM statements WHERE instr(terms, x'{Convert.ToHexString([(byte)TermKind.Verb, .. verb.Hash!])}') > 0;"),
                page.Statements.Count);
        }

        using var data = OpenRaw(DataFile);
        Assert.Equal(1, Scalar(data, "SELECT count(*) FROM segments;"));
        Assert.Equal(1, Scalar(data, "SELECT min(id) FROM segments;"));
        Assert.Equal(250, Scalar(data, "SELECT sum(size) FROM segments;"));
        AssertSegmentsAreWhatTheStatementsTableImplies(data);
    }

    /// <summary>
    /// A statement of the merge under way inherits a term (its target arrives after the merge took its snapshot): reads
    /// find it by that term meanwhile, and the published segment holds the posting and counts it once.
    /// </summary>
    [Fact]
    public async Task Merge_UnderWay_TakesTermsInheritedByItsStatementsMeanwhile()
    {
        var tenant = Guid.NewGuid();
        var inherited = Term(TermKind.Activity, "target-activity");
        var target = Statement(Term(TermKind.Verb, "target"), inherited);
        var referrer = Statement(Term(TermKind.Verb, "refers")) with { RefTarget = target.Id };
        var options = new SqliteBackendOptions { MergeThreshold = 2000, MergeStep = 10 };
        await using (var backend = SqliteBackend.Open(folder.Path, masterKey, time, options))
        {
            // One group of 2,000 starts a merge of about 8,000 rows, ten per transaction.
            await backend.Statements.WriteAsync(tenant, [referrer, .. Enumerable.Range(0, 1999).Select(i => Statement(Term(TermKind.Agent, "a" + (i % 40))))], Ct);
            await backend.Statements.WriteAsync(tenant, [target], Ct);
            using (var raw = OpenRaw(DataFile))
            {
                Assert.Equal(0, Scalar(raw, "SELECT count(*) FROM segments;"));
            }

            var page = await backend.Statements.QueryAsync(tenant, new StatementQuery { Terms = [inherited], Limit = 10 }, Ct);
            Assert.Equal([target.Id, referrer.Id], page.Statements.Select(s => s.Id));
        }

        using var connection = OpenRaw(DataFile);
        Assert.Equal(2000, Scalar(connection, "SELECT sum(size) FROM segments;"));
        var postings = AssertSegmentsAreWhatTheStatementsTableImplies(connection);
        byte[] term = [(byte)TermKind.Activity, .. inherited.Hash!];
        Assert.Single(postings, p => p.Contains(Convert.ToHexString(term), StringComparison.Ordinal));

        await using var reopened = SqliteBackend.Open(folder.Path, masterKey, time);
        var merged = await reopened.Statements.QueryAsync(tenant, new StatementQuery { Terms = [inherited], Limit = 10 }, Ct);
        Assert.Equal([target.Id, referrer.Id], merged.Statements.Select(s => s.Id));
    }

    /// <summary>After a graceful stop (which finishes a merge under way): the published segments cover every statement up
    /// to the last one's end, and the tables hold exactly their ids, postings and term counts, nothing more. Returns the
    /// postings, as "tenant term seq".</summary>
    private static List<string> AssertSegmentsAreWhatTheStatementsTableImplies(SqliteConnection connection)
    {
        var floor = Scalar(connection, "SELECT max(last_seq) FROM segments;");
        Assert.Equal(Scalar(connection, $"SELECT count(*) FROM statements WHERE seq <= {floor};"), Scalar(connection, "SELECT sum(size) FROM segments;"));
        Assert.True(Scalar(connection, $"SELECT count(*) FROM statements WHERE seq > {floor};") > 0, "some statements should still be recent");

        var expectedIds = new List<string>();
        var expectedPostings = new List<string>();
        using (var command = connection.CreateCommand())
        {
            command.CommandText = $"SELECT tenant_no, id, seq, terms, client_id FROM statements WHERE seq <= {floor};";
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                var (tenant, seq) = (reader.GetInt64(0), reader.GetInt64(2));
                expectedIds.Add($"{tenant} {Convert.ToHexString((byte[])reader.GetValue(1))} {seq}");
                var terms = (byte[])reader.GetValue(3);
                for (var offset = 0; offset < terms.Length; offset += 17)
                {
                    expectedPostings.Add($"{tenant} {Convert.ToHexString(terms, offset, 17)} {seq}");
                }

                expectedPostings.Add($"{tenant} FF0000000000000000{reader.GetInt64(4):X16} {seq}");
            }
        }

        Assert.Equal(expectedIds.Order(), Rows(connection, "SELECT tenant_no, hex(id), seq FROM statement_ids;").Order());
        Assert.Equal(expectedPostings.Order(), Rows(connection, "SELECT tenant_no, hex(term), seq FROM statement_terms;").Order());
        var expectedCounts = expectedPostings.GroupBy(p => p[..p.LastIndexOf(' ')]).Select(g => $"{g.Key} {g.Count()}");
        Assert.Equal(expectedCounts.Order(), Rows(connection, "SELECT tenant_no, hex(term), n FROM term_counts;").Order());
        return expectedPostings;
    }

    private static List<string> Rows(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        using var reader = command.ExecuteReader();
        var rows = new List<string>();
        while (reader.Read())
        {
            rows.Add(string.Join(' ', Enumerable.Range(0, reader.FieldCount).Select(i => Convert.ToString(reader.GetValue(i), System.Globalization.CultureInfo.InvariantCulture))));
        }

        return rows;
    }

    [Fact]
    public async Task Reopen_WithRecentStatements_RebuildsTheirIndex()
    {
        var verb = Term(TermKind.Verb, "rebuilt");
        var tenant = Guid.NewGuid();
        var statement = Statement(verb);
        await using (var backend = SqliteBackend.Open(folder.Path, masterKey, time))
        {
            await backend.Statements.WriteAsync(tenant, [statement], Ct);
        }

        await using (var backend = SqliteBackend.Open(folder.Path, masterKey, time))
        {
            var page = await backend.Statements.QueryAsync(tenant, new StatementQuery { Terms = [verb] }, Ct);
            Assert.Equal([statement.Id], page.Statements.Select(s => s.Id));
            Assert.Equal([WriteOutcome.Duplicate], await backend.Statements.WriteAsync(tenant, [statement], Ct));
            await Assert.ThrowsAsync<StatementConflictException>(() =>
                backend.Statements.WriteAsync(tenant, [statement with { ContentHash = new byte[32] }], Ct));
        }
    }

    [Fact]
    public async Task Dispose_WithWritesQueued_DrainsThemBeforeClosing()
    {
        var tenant = Guid.NewGuid();
        var statements = Enumerable.Range(0, 200).Select(_ => Statement()).ToList();
        Task[] writes;
        await using (var backend = SqliteBackend.Open(folder.Path, masterKey, time))
        {
            writes = statements.Select(s => (Task)backend.Statements.WriteAsync(tenant, [s], Ct)).ToArray();
        }

        await Task.WhenAll(writes);
        await using var reopened = SqliteBackend.Open(folder.Path, masterKey, time);
        foreach (var statement in statements)
        {
            Assert.NotNull(await reopened.Statements.GetAsync(tenant, statement.Id, Ct));
        }
    }

    [Fact]
    public async Task WriteAsync_AfterDispose_ThrowsObjectDisposed()
    {
        var backend = SqliteBackend.Open(folder.Path, masterKey, time);
        var statements = backend.Statements;
        await backend.DisposeAsync();

        await Assert.ThrowsAsync<ObjectDisposedException>(() => statements.WriteAsync(Guid.NewGuid(), [Statement()], Ct));
    }

    /// <summary>A learner's access-log read seeks the bucketed learner index, one bucket at a time, never scanning the log.</summary>
    [Fact]
    public async Task QueryPlan_LearnerAccessLogRead_SeeksTheBucketedIndex()
    {
        var tenant = Guid.NewGuid();
        var learners = Enumerable.Range(0, 20).Select(_ => RandomNumberGenerator.GetBytes(32)).ToArray();
        await using (var backend = SqliteBackend.Open(folder.Path, masterKey, time))
        {
            var entries = Enumerable.Range(0, 5000).Select(i => new LearnerVault.Privacy.Audit.AccessLogEntry(
                time.GetUtcNow(), "client:k", "k", "statements.write", "instruction", learners[i % 20], 1, LearnerVault.Privacy.Audit.AccessDecision.Allow, "")).ToList();
            await backend.AccessLog.AppendAsync(tenant, entries, Ct);
        }

        using var connection = SqliteConnections.Open(DataFile, ConnectionRole.Reader);
        SqliteConnections.Execute(connection, "PRAGMA query_only = OFF; ANALYZE; PRAGMA query_only = ON;");
        using var command = connection.CreateCommand();
        command.CommandText = "EXPLAIN QUERY PLAN " + SqliteAccessLogStore.LearnerWindowSql;
        foreach (var (name, value) in new (string, object)[] { ("$t", 1L), ("$learner", learners[0]), ("$high", 1L), ("$low", 0L), ("$limit", 10L) })
        {
            command.Parameters.AddWithValue(name, value);
        }

        var plan = new List<string>();
        using (var reader = command.ExecuteReader())
        {
            while (reader.Read())
            {
                plan.Add(reader.GetString(3));
            }
        }

        var text = string.Join("\n", plan);
        Assert.Contains(plan, line => line.StartsWith("SEARCH access_log USING INDEX access_log_by_learner (tenant_no=? AND <expr>=? AND learner=?)", StringComparison.Ordinal));
        Assert.DoesNotContain(plan, line => line.StartsWith("SCAN access_log", StringComparison.Ordinal));
        Assert.False(plan.Count == 0, text);
    }

    public static TheoryData<string> QueryShapes()
    {
        var data = new TheoryData<string>
        {
            StatementQuerySql.GetMerged,
            StatementQuerySql.GetBySeq,
            StatementQuerySql.Newest,
            StatementQuerySql.AllQuery(ascending: false),
            StatementQuerySql.AllQuery(ascending: true),
            StatementQuerySql.BySeqsQuery(ascending: false),
            StatementQuerySql.BySeqsQuery(ascending: true),
            StatementQuerySql.CountSql(3),
        };
        for (var others = 0; others <= 3; others++)
        {
            data.Add(StatementQuerySql.TermQuery(others, ascending: false));
            data.Add(StatementQuerySql.TermQuery(others, ascending: true));
        }

        return data;
    }

    /// <summary>No statement read scans a big table or sorts its result: each is a bounded walk of an index.</summary>
    [Theory]
    [MemberData(nameof(QueryShapes))]
    public async Task QueryPlan_EveryReadShape_UsesIndexesWithoutScanOrSort(string sql)
    {
        // Some data and statistics, so that the planner sees a realistic database.
        await using (var backend = SqliteBackend.Open(folder.Path, masterKey, time, new SqliteBackendOptions { MergeThreshold = 50 }))
        {
            for (var i = 0; i < 4; i++)
            {
                await backend.Statements.WriteAsync(Guid.NewGuid(), Enumerable.Range(0, 40).Select(j => Statement(Term(TermKind.Verb, "v" + (j % 3)))).ToArray(), Ct);
            }
        }

        using var connection = SqliteConnections.Open(DataFile, ConnectionRole.Reader);
        SqliteConnections.Execute(connection, "PRAGMA query_only = OFF; ANALYZE; PRAGMA query_only = ON;");
        using var command = connection.CreateCommand();
        command.CommandText = "EXPLAIN QUERY PLAN " + sql;
        foreach (var name in new[] { "$t", "$id", "$seq", "$lo", "$hi", "$limit", "$d", "$x0", "$x1", "$x2", "$s0", "$s1", "$s2", "$cap", "$seqs" })
        {
            if (sql.Contains(name, StringComparison.Ordinal))
            {
                command.Parameters.AddWithValue(name, name == "$seqs" ? "[1,2]" : name is "$id" or "$d" or "$x0" or "$x1" or "$x2" or "$s0" or "$s1" or "$s2" ? new byte[17] : 1L);
            }
        }

        var plan = new List<string>();
        using (var reader = command.ExecuteReader())
        {
            while (reader.Read())
            {
                plan.Add(reader.GetString(3));
            }
        }

        var text = string.Join("\n", plan);
        foreach (var line in plan)
        {
            // Scanning the segments table (one row per merge), a json_each list, a LIMITed subquery is fine.
            var allowed = line is "SCAN g" or "SCAN CONSTANT ROW" || line.StartsWith("SCAN json_each", StringComparison.Ordinal) || line.StartsWith("SCAN (subquery", StringComparison.Ordinal);
            Assert.False(line.StartsWith("SCAN", StringComparison.Ordinal) && !allowed, $"Full scan in plan:\n{text}");
        }

        Assert.DoesNotContain("TEMP B-TREE", text, StringComparison.Ordinal);
    }
}
