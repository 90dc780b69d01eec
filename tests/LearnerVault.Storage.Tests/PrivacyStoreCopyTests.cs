using System.Security.Cryptography;
using LearnerVault.Privacy.Access;
using LearnerVault.Storage.People;
using LearnerVault.Storage.Postgres;
using LearnerVault.Storage.Sqlite;
using LearnerVault.Storage.Transfer;
using LearnerVault.Tests.Shared;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace LearnerVault.Storage.Tests;

/// <summary>
/// <c>lvault store copy</c> carries the privacy store: every table of the data schema is a <see cref="TransferTable"/>
/// (or a named index table rebuilt from one), and people, accounts, tokens, learners, links, consents and policies
/// arrive in PostgreSQL with the same content digest and read back alike through <see cref="IPrivacyStore"/>.
/// </summary>
public sealed class PrivacyStoreCopyTests : IDisposable
{
    // Tables a copy rebuilds from the rows of another (postings, id index, segments) or that record the schema itself.
    private static readonly HashSet<string> Derived =
        ["schema_version", "sqlite_sequence", "segments", "statement_ids", "statement_terms", "term_counts", "statement_attachments"];

    private static readonly DateTimeOffset Now = new DateTimeOffset(2026, 3, 1, 8, 0, 0, TimeSpan.Zero).AddTicks(3);

    private static readonly TransferTable[] PrivacyTables =
    [
        TransferTable.People, TransferTable.Accounts, TransferTable.AuthTokens, TransferTable.Learners, TransferTable.LearnerPseudonyms,
        TransferTable.Guardians, TransferTable.Classes, TransferTable.ClassMembers, TransferTable.ClassTeachers, TransferTable.Consents,
        TransferTable.TenantPolicies,
    ];

    private readonly TempFolder folder = new();

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static HashSet<string> TransferNames => [.. Enum.GetValues<TransferTable>().Select(t => t.TableName())];

    [Fact]
    public async Task TransferTables_CoverEveryTableOfTheSqliteDataFile()
    {
        await using (SqliteBackend.Open(folder.Path, PostgresTestServer.MasterKey, TimeProvider.System))
        {
        }

        using var connection = new SqliteConnection($"Data Source={Path.Combine(folder.Path, SqliteBackend.DataFileName)};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT name FROM sqlite_master WHERE type = 'table';";
        var tables = new List<string>();
        using (var reader = command.ExecuteReader())
        {
            while (reader.Read())
            {
                tables.Add(reader.GetString(0));
            }
        }

        AssertTransferCovers(tables);
    }

    /// <summary>Every table of the schema is copied or derived, and every privacy table is among them.</summary>
    private static void AssertTransferCovers(List<string> tables)
    {
        var uncovered = tables.Where(t => !Derived.Contains(t) && !TransferNames.Contains(t)).ToList();
        Assert.True(uncovered.Count == 0, "tables a store copy would leave behind: " + string.Join(", ", uncovered));
        Assert.Subset(tables.ToHashSet(), PrivacyTables.Select(t => t.TableName()).ToHashSet());
    }

    [Fact]
    [Trait("Backend", "postgres")]
    public async Task TransferTables_CoverEveryTableOfThePostgresDataSchema()
    {
        var options = await PostgresTestServer.SharedDatabaseAsync();
        await using var connection = new NpgsqlConnection(options.ConnectionString);
        await connection.OpenAsync(Ct);
        await using var command = new NpgsqlCommand(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = @schema AND table_type = 'BASE TABLE';", connection);
        command.Parameters.AddWithValue("schema", options.DataSchema);
        var tables = new List<string>();
        await using (var reader = await command.ExecuteReaderAsync(Ct))
        {
            while (await reader.ReadAsync(Ct))
            {
                tables.Add(reader.GetString(0));
            }
        }

        AssertTransferCovers(tables);
    }

    [Fact]
    [Trait("Backend", "postgres")]
    public async Task Copy_EveryPrivacyTable_ArrivesWithTheSameDigestAndReadsBackAlike()
    {
        // Arrange: an embedded installation with a row in every privacy table, in a named tenant and an unnamed one.
        var tenant = Guid.NewGuid();
        var unnamed = Guid.NewGuid();
        var pseudonyms = new[] { RandomNumberGenerator.GetBytes(32), RandomNumberGenerator.GetBytes(32) };
        var learner = new LearnerRecord(tenant, Guid.NewGuid(), pseudonyms, 2012, new AgeBand(13, 15), true, [Purpose.Vendor("kolibri")], Now);
        var guardian = new PersonRecord(tenant, Guid.NewGuid(), [Role.Guardian, Role.Teacher], RandomNumberGenerator.GetBytes(32),
            RandomNumberGenerator.GetBytes(48), null, Now, null);
        var other = new PersonRecord(unnamed, Guid.NewGuid(), [Role.DataProtectionOfficer], null, null, null, Now, Now.AddDays(2));
        var token = new AuthTokenRecord(RandomNumberGenerator.GetBytes(32), tenant, guardian.Id, AuthTokenKind.Bearer, "cli", Now, Now.AddDays(30), null);
        var schoolClass = new ClassRecord(tenant, Guid.NewGuid(), "7B", Now);
        var policy = TenantPolicy.CreateDefault(tenant).WithBasis(Purpose.Vendor("kolibri"), LawfulBasis.Contract).WithAgeOfDigitalConsent(13);
        var consents = new List<StoredConsent>();
        await using (var sqlite = SqliteBackend.Open(folder.Path, PostgresTestServer.MasterKey, TimeProvider.System))
        {
            await sqlite.Clients.EnsureTenantAsync(tenant, "School", Ct);
            var store = sqlite.Privacy;
            await store.AddLearnerAsync(learner, Ct);
            await store.AddPersonAsync(guardian, Ct);
            await store.AddPersonAsync(other, Ct);
            await store.SetCredentialsAsync(new AccountCredentials(tenant, guardian.Id, "pbkdf2-sha256$1$c2FsdA$aGFzaA", 2, Now.AddMinutes(5),
                RandomNumberGenerator.GetBytes(40), true, 77, Now), Ct);
            await store.AddTokenAsync(token, Ct);
            await store.LinkGuardianAsync(tenant, learner.Id, guardian.Id, Ct);
            await store.AddClassAsync(schoolClass, Ct);
            await store.SetClassMemberAsync(tenant, schoolClass.Id, learner.Id, true, Ct);
            await store.SetClassTeacherAsync(tenant, schoolClass.Id, guardian.Id, true, Ct);
            consents.Add(await store.AddConsentAsync(tenant, learner.Id,
                new ConsentRecord(Purpose.Research, ConsentChoice.Given, ConsentGiver.Guardian, guardian.Id.ToString("D"), Now, "web", "v1"), "person:x", Ct));
            consents.Add(await store.AddConsentAsync(tenant, learner.Id,
                new ConsentRecord(Purpose.Research, ConsentChoice.Withdrawn, ConsentGiver.Learner, learner.Id.ToString("D"), Now.AddDays(1), "paper form", "v2"),
                "person:dpo", Ct));
            await store.SavePolicyAsync(policy, Ct);
        }

        var target = await PostgresTestServer.CreateMigratedDatabaseAsync("privacy_copy");

        // Act
        StoreSummary source;
        await using (var export = SqliteStoreExport.Open(folder.Path))
        await using (var import = await PostgresStoreTransfer.OpenAsync(target, Ct))
        {
            source = await StoreCopier.CopyAsync(export, import, null, Ct, batchSize: 1);
        }

        // Assert: every privacy table moved its rows, and the target reads back to the same digest.
        var expected = new Dictionary<TransferTable, long>
        {
            [TransferTable.People] = 2,
            [TransferTable.Accounts] = 1,
            [TransferTable.AuthTokens] = 1,
            [TransferTable.Learners] = 1,
            [TransferTable.LearnerPseudonyms] = 2,
            [TransferTable.Guardians] = 1,
            [TransferTable.Classes] = 1,
            [TransferTable.ClassMembers] = 1,
            [TransferTable.ClassTeachers] = 1,
            [TransferTable.Consents] = 2,
            [TransferTable.TenantPolicies] = 1,
        };
        Assert.Equal(expected, PrivacyTables.ToDictionary(t => t, t => source.Counts[t]));
        await using (var readBack = await PostgresStoreTransfer.OpenAsync(target, Ct))
        {
            var copied = await StoreCopier.SummarizeAsync(readBack, Ct);
            Assert.Equal(source.Counts, copied.Counts);
            Assert.Equal(source.Digest, copied.Digest);
            foreach (var table in PrivacyTables)
            {
                Assert.Equal(expected[table], await readBack.CountAsync(table, Ct));
            }
        }

        await using var postgres = PostgresBackend.Open(target, PostgresTestServer.MasterKey, TimeProvider.System);
        var privacy = postgres.Privacy;
        Assert.Equal(guardian.LoginKey, (await privacy.FindPersonByLoginAsync(tenant, guardian.LoginKey!, Ct))!.LoginKey);
        Assert.Equal([Role.Guardian, Role.Teacher], (await privacy.GetPersonAsync(tenant, guardian.Id, Ct))!.Roles);
        Assert.Equal(unnamed, await privacy.FindPersonTenantAsync(other.Id, Ct));
        Assert.Equal((2, 77L), ((await privacy.GetCredentialsAsync(tenant, guardian.Id, Ct))!.FailedAttempts, (await privacy.GetCredentialsAsync(tenant, guardian.Id, Ct))!.TotpLastStep));
        Assert.Equal("cli", (await privacy.FindTokenAsync(token.TokenHash, Ct))!.Label);
        Assert.Equal([learner.Id, learner.Id], await privacy.FindLearnersAsync(tenant, pseudonyms, Ct));
        Assert.Equal(pseudonyms, (await privacy.GetLearnerAsync(tenant, learner.Id, Ct))!.Pseudonyms);
        var facts = (await privacy.GetLearnerFactsAsync(tenant, [learner.Id], Ct))[learner.Id];
        Assert.Equal([guardian.Id.ToString("D")], facts.GuardianIds);
        Assert.Equal([schoolClass.Id.ToString("D")], facts.ClassIds);
        Assert.True(facts.Restricted);
        Assert.Equal([Purpose.Vendor("kolibri")], facts.Objections);
        Assert.Equal([guardian.Id], await privacy.ListClassTeachersAsync(tenant, schoolClass.Id, Ct));
        Assert.Equal(consents, await privacy.ListConsentsAsync(tenant, learner.Id, Ct));
        var copiedPolicy = await privacy.GetPolicyAsync(tenant, Ct);
        Assert.Equal((13, LawfulBasis.Contract), (copiedPolicy.AgeOfDigitalConsent, copiedPolicy.BasisFor(Purpose.Vendor("kolibri"))));

        // A consent recorded after the copy is numbered after the copied ones.
        var later = await privacy.AddConsentAsync(tenant, learner.Id,
            new ConsentRecord(Purpose.Research, ConsentChoice.Given, ConsentGiver.Learner, learner.Id.ToString("D"), Now.AddDays(2), "web", "v2"), "x", Ct);
        Assert.True(later.Id > consents.Max(c => c.Id));
    }

    public void Dispose() => folder.Dispose();
}
