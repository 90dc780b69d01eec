using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using LearnerVault.Cli;
using LearnerVault.Privacy;
using LearnerVault.Privacy.Access;
using LearnerVault.Server.Options;
using LearnerVault.Server.Statements;
using LearnerVault.Storage;
using LearnerVault.Storage.People;
using LearnerVault.Storage.Sqlite;
using LearnerVault.Tests.Shared;
using LearnerVault.Xapi;
using Microsoft.Extensions.DependencyInjection;
using static LearnerVault.Server.Tests.XapiJson;

namespace LearnerVault.Server.Tests;

/// <summary>
/// <c>lvault store copy</c> end to end: an embedded installation with every kind of data (statements, voiding, an
/// attachment, the three document resources, activity definitions) is copied into PostgreSQL, verified, and then
/// answers every request exactly as the original did, with the same master key and the copied credentials.
/// </summary>
[Trait("Backend", "postgres")]
public sealed class StoreCopyTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task StoreCopy_SqliteInstallation_VerifiesAndServesEveryResourceAlikeFromPostgres()
    {
        var tag = Guid.NewGuid().ToString("N")[..8];
        var mbox = $"mailto:copy.{tag}@example.org";
        var activity = $"http://example.org/copy/{tag}/course";
        var attachment = Encoding.UTF8.GetBytes($"essay text {tag}");
        var views = new[]
        {
            "statements?limit=500",
            "statements?agent=" + Uri.EscapeDataString(Agent(mbox)) + "&limit=3",
            "statements?verb=" + Uri.EscapeDataString("http://adlnet.gov/expapi/verbs/completed") + "&ascending=true",
            "activities/state?activityId=" + Uri.EscapeDataString(activity) + "&agent=" + Uri.EscapeDataString(Agent(mbox)) + "&stateId=bookmark",
            "activities/state?activityId=" + Uri.EscapeDataString(activity) + "&agent=" + Uri.EscapeDataString(Agent(mbox)),
            "activities/profile?activityId=" + Uri.EscapeDataString(activity) + "&profileId=rubric",
            "agents/profile?agent=" + Uri.EscapeDataString(Agent(mbox)) + "&profileId=preferences",
            "activities?activityId=" + Uri.EscapeDataString(activity),
        };

        var original = new Dictionary<string, string>();
        string data;
        Guid attachmentStatement;
        Guid tenant;
        (string Key, string Secret) admin;
        await using var sqlite = await LearnerVaultAppFactory.StartAsync(StoreLocation.Sqlite);
        {
            data = sqlite.DataDirectory;
            tenant = sqlite.TenantId;
            admin = sqlite.Admin;
            using var http = sqlite.CreateClient();
            var batch = new JsonArray();
            for (var i = 0; i < 40; i++)
            {
                var statement = Statement(mbox: i % 2 == 0 ? mbox : $"mailto:other{i}.{tag}@example.org", activity: activity);
                if (i == 0)
                {
                    statement["object"]!["definition"] = new JsonObject { ["name"] = new JsonObject { ["en"] = $"Course {tag}" } };
                }

                batch.Add(statement);
            }

            var posted = await (await http.PostAsync("statements", Content(batch), Ct)).ReadJsonAsync();
            var voided = Guid.Parse(posted[3]!.GetValue<string>());
            Assert.Equal(HttpStatusCode.OK, (await http.PostAsync("statements", Content(Voiding(voided)), Ct)).StatusCode);
            var withAttachment = Statement(mbox: mbox, activity: activity);
            withAttachment["attachments"] = new JsonArray(Multipart.AttachmentObject(attachment));
            var stored = await (await http.PostAsync("statements",
                Multipart.Content(Multipart.Part.Json(withAttachment), Multipart.Part.Attachment(attachment)), Ct)).ReadJsonAsync();
            attachmentStatement = Guid.Parse(stored[0]!.GetValue<string>());

            Assert.Equal(HttpStatusCode.NoContent, (await http.PutAsync(views[3], Content($"{{\"page\":{tag.Length}}}"), Ct)).StatusCode);
            Assert.Equal(HttpStatusCode.NoContent, (await http.PostAsync(views[5], Content("{\"rubric\":\"copy\"}"), Ct)).StatusCode);
            Assert.Equal(HttpStatusCode.NoContent, (await http.PostAsync(views[6], Content("{\"theme\":\"dark\"}"), Ct)).StatusCode);

            foreach (var view in views)
            {
                original[view] = await ViewAsync(http, view);
            }

            original["attachment"] = await AttachmentViewAsync(http, attachmentStatement);
            await sqlite.StopAsync();
        }

        // The privacy store (people, accounts, tokens, identity vault, links, consents, policy): one row at least in each
        // of its tables, written through the backend as the admin API will.
        var learnerId = Guid.NewGuid();
        var pseudonym = Encoding.UTF8.GetBytes($"pseudonym {tag}");
        // A document written under restriction of processing must arrive restricted, or the copy would reopen it.
        var restrictedDocument = new DocumentKey(DocumentKind.AgentProfile, [], [1, 2, 3], [], [4, 5, 6]);
        await using (var backend = SqliteBackend.Open(data, MasterKey.Load(Path.Combine(data, SqliteBackend.MasterKeyFileName), _ => null), TimeProvider.System))
        {
            var at = DateTimeOffset.UnixEpoch.AddYears(56);
            var person = Guid.NewGuid();
            var classId = Guid.NewGuid();
            await backend.Privacy.AddPersonAsync(new PersonRecord(tenant, person, [Role.Teacher, Role.Guardian], [1, 2, 3], null, null, at, null), Ct);
            await backend.Privacy.SetCredentialsAsync(new AccountCredentials(tenant, person, "pbkdf2-sha256$1$YQ$Yg", 0, null, null, false, 0, at), Ct);
            await backend.Privacy.AddTokenAsync(new AuthTokenRecord([4, 5, 6], tenant, person, AuthTokenKind.Session, null, at, at.AddHours(1), null), Ct);
            await backend.Privacy.AddLearnerAsync(new LearnerRecord(tenant, learnerId, [pseudonym], 2012, null, false, [], at), Ct);
            await backend.Privacy.LinkGuardianAsync(tenant, learnerId, person, Ct);
            await backend.Privacy.AddClassAsync(new ClassRecord(tenant, classId, "7B", at), Ct);
            await backend.Privacy.SetClassMemberAsync(tenant, classId, learnerId, true, Ct);
            await backend.Privacy.SetClassTeacherAsync(tenant, classId, person, true, Ct);
            await backend.Privacy.AddConsentAsync(tenant, learnerId,
                new ConsentRecord(Purpose.Research, ConsentChoice.Given, ConsentGiver.Guardian, person.ToString("D"), at, "web", "v1"), $"person:{person}", Ct);
            await backend.Privacy.SavePolicyAsync(TenantPolicy.CreateDefault(tenant).WithAgeOfDigitalConsent(13), Ct);
            await backend.Documents.PutAsync(tenant, restrictedDocument, new DocumentContent(1, [7], [8], [9]) { Restricted = true }, DocumentPrecondition.None, Ct);
        }

        var target = await PostgresTestServer.CreateDatabaseAsync("copy");
        var migrate = await RunLvaultAsync("migrate", "--store", "postgres:" + target);
        Assert.True(migrate.ExitCode == 0, migrate.Stderr);

        var copy = await RunLvaultAsync("store", "copy", "--from", Path.Combine(data, "learnervault.db"), "--to", target, "--json");

        Assert.True(copy.ExitCode == 0, copy.Stderr);
        var summary = JsonNode.Parse(copy.Stdout)!;
        Assert.True(summary["verified"]!.GetValue<bool>());
        Assert.Equal(summary["sourceDigest"]!.GetValue<string>(), summary["targetDigest"]!.GetValue<string>());
        var rows = summary["rows"]!;
        Assert.Equal(42, rows["statements"]!.GetValue<long>());
        Assert.Equal(1, rows["attachments"]!.GetValue<long>());
        Assert.Equal(4, rows["documents"]!.GetValue<long>());
        Assert.Equal(1, rows["activity definitions"]!.GetValue<long>());
        Assert.True(rows["keys"]!.GetValue<long>() >= 4);
        Assert.Equal(1, rows["clients"]!.GetValue<long>());
        foreach (var table in new[]
        {
            "people", "accounts", "auth tokens", "learners", "learner pseudonyms", "guardians", "classes", "class members", "class teachers",
            "consents", "tenant policies",
        })
        {
            Assert.True(rows[table]?.GetValue<long>() == 1, $"{table}: {rows[table]}");
        }

        // A second copy into the same database would mix two installations: refused, one line, nothing written.
        var again = await RunLvaultAsync("store", "copy", "--from", data, "--to", "postgres:" + target);
        Assert.NotEqual(0, again.ExitCode);
        Assert.StartsWith("error: ", again.Stderr, StringComparison.Ordinal);
        Assert.Contains("not empty", again.Stderr, StringComparison.Ordinal);

        // The copy serves with the same master key (the same data folder) and the copied credentials.
        await using (var postgres = await LearnerVaultAppFactory.StartAsync(StoreLocation.Postgres(target), data))
        {
            using var http = postgres.CreateClient(admin);
            foreach (var view in views)
            {
                Assert.Equal(original[view], await ViewAsync(http, view));
            }

            Assert.Equal(original["attachment"], await AttachmentViewAsync(http, attachmentStatement));
            Assert.Equal([learnerId], await postgres.Services.GetRequiredService<IStorageBackend>().Privacy.FindLearnersAsync(tenant, [pseudonym], Ct));

            // Each statement still names its learner, as the access gate needs it to.
            var copied = await postgres.Services.GetRequiredService<IStatementStore>().GetAsync(tenant, attachmentStatement, Ct);
            var learnerPseudonym = postgres.Services.GetRequiredService<TenantCrypto>().LearnerPseudonym(tenant, Ifi.Normalise(Statement(mbox: mbox)["actor"])!);
            Assert.Equal(learnerPseudonym, copied!.Learner);
            Assert.False(copied.Restricted);
            Assert.True((await postgres.Services.GetRequiredService<IStorageBackend>().Documents.GetAsync(tenant, restrictedDocument, Ct))!.Restricted);

            // New rows get ids past the copied ones: a client added after the copy is a client of its own.
            var (key, secret) = await postgres.AddClientAsync("after-copy", ["all"]);
            using var other = postgres.CreateClient((key, secret));
            var mine = await (await other.GetAsync("statements?limit=1", Ct)).ReadJsonAsync();
            Assert.Single(mine["statements"]!.AsArray());
            Assert.Equal(HttpStatusCode.OK, (await other.PostAsync("statements", Content(Statement(mbox: mbox)), Ct)).StatusCode);
        }

    }

    [Fact]
    public async Task StoreCopy_UnmigratedTarget_OneLineErrorNamingMigrate()
    {
        await using var sqlite = await LearnerVaultAppFactory.StartAsync(StoreLocation.Sqlite);
        await sqlite.StopAsync();
        var target = await PostgresTestServer.CreateDatabaseAsync("copy");

        var copy = await RunLvaultAsync("store", "copy", "--from", sqlite.DataDirectory, "--to", target);

        Assert.Equal(1, copy.ExitCode);
        var lines = copy.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.StartsWith("error: --to: ", lines[0], StringComparison.Ordinal);
        Assert.Contains("lvault migrate", lines[0], StringComparison.Ordinal);
        Assert.DoesNotContain("Password", lines[0], StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task StoreCopy_MissingKeyStoreBesideTheDataFile_OneLineError()
    {
        await using var sqlite = await LearnerVaultAppFactory.StartAsync(StoreLocation.Sqlite);
        await sqlite.StopAsync();
        File.Delete(Path.Combine(sqlite.DataDirectory, "keys.db"));

        var copy = await RunLvaultAsync("store", "copy", "--from", sqlite.DataDirectory, "--to", "Host=127.0.0.1;Database=unused");

        Assert.Equal(1, copy.ExitCode);
        Assert.StartsWith("error: --from: no key store beside the data file", copy.Stderr, StringComparison.Ordinal);
    }

    private static async Task<string> ViewAsync(HttpClient http, string path)
    {
        var response = await http.GetAsync(path, Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadAsStringAsync(Ct);
        // A statement list's "more" is an opaque cursor; its form may differ between backends, the statements may not.
        if (path.StartsWith("statements", StringComparison.Ordinal))
        {
            var page = JsonNode.Parse(body)!.AsObject();
            page.Remove("more");
            body = page.ToJsonString();
        }

        return $"{response.Headers.ETag}|{response.Content.Headers.LastModified}|{body}";
    }

    private static async Task<string> AttachmentViewAsync(HttpClient http, Guid statement)
    {
        var response = await http.GetAsync($"statements?statementId={statement}&attachments=true", Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var parts = await Multipart.ReadAsync(response);
        return string.Join("|", parts.Select(p => Convert.ToBase64String(p.Body)));
    }

    private static async Task<(int ExitCode, string Stdout, string Stderr)> RunLvaultAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exit = await Lvault.RunAsync(args, output, error, new CliSettings(TimeProvider.System, _ => null), Ct);
        return (exit, output.ToString(), error.ToString());
    }
}
