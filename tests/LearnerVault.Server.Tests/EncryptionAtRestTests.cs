using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using static LearnerVault.Server.Tests.XapiJson;

namespace LearnerVault.Server.Tests;

/// <summary>After ingest, no learner identifier, free text or attachment (content, type, sha2) is readable in any file
/// of the data folder.</summary>
public sealed class EncryptionAtRestTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task DataAndKeyFiles_AfterIngest_ContainNoPersonalDataInPlaintext()
    {
        await using var app = await LearnerVaultAppFactory.StartAsync();
        using var http = app.CreateClient();
        var tag = Guid.NewGuid().ToString("N")[..10];
        var mbox = $"mailto:zoe.plaintext.{tag}@example.org";
#pragma warning disable CA5350 // mbox_sha1sum is SHA-1 by the xAPI specification
        var sha1 = Convert.ToHexStringLower(SHA1.HashData(Encoding.UTF8.GetBytes($"mailto:sha.{tag}@example.org")));
#pragma warning restore CA5350
        var accountName = $"student-account-{tag}";
        var agentName = $"Zoë Unreadable {tag}";
        var response = $"My private essay answer {tag}";
        var teamMember = $"mailto:team.member.{tag}@example.org";

        var statements = new JsonArray();
        for (var i = 0; i < 20; i++)
        {
            statements.Add(new JsonObject
            {
                ["actor"] = (i % 3) switch
                {
                    0 => new JsonObject { ["name"] = agentName, ["mbox"] = mbox },
                    1 => new JsonObject { ["name"] = agentName, ["mbox_sha1sum"] = sha1 },
                    _ => new JsonObject { ["name"] = agentName, ["account"] = new JsonObject { ["homePage"] = "https://lms.example.org", ["name"] = accountName } },
                },
                ["verb"] = new JsonObject { ["id"] = "http://adlnet.gov/expapi/verbs/answered" },
                ["object"] = new JsonObject { ["id"] = "http://example.org/questions/essay-1" },
                ["result"] = new JsonObject { ["response"] = response },
                ["context"] = new JsonObject
                {
                    ["team"] = new JsonObject
                    {
                        ["objectType"] = "Group",
                        ["member"] = new JsonArray(new JsonObject { ["mbox"] = teamMember }),
                    },
                },
            });
        }

        Assert.Equal(HttpStatusCode.OK, (await http.PostAsync("statements", Content(statements), Ct)).StatusCode);

        // An attachment (shared content, under the tenant key) whose content type names a file.
        var attachmentText = $"Attachment essay nobody may read at rest {tag}";
        var attachmentType = $"text/plain; name=zoe-essay-{tag}.txt";
        var data = Encoding.UTF8.GetBytes(attachmentText);
        var withAttachment = new JsonObject
        {
            ["actor"] = new JsonObject { ["mbox"] = mbox },
            ["verb"] = new JsonObject { ["id"] = "http://adlnet.gov/expapi/verbs/attached" },
            ["object"] = new JsonObject { ["id"] = "http://example.org/questions/essay-1" },
            ["attachments"] = new JsonArray(Multipart.AttachmentObject(data, attachmentType)),
        };
        var multipart = Multipart.Content(Multipart.Part.Json(withAttachment), Multipart.Part.Attachment(data, attachmentType));
        Assert.Equal(HttpStatusCode.OK, (await http.PostAsync("statements", multipart, Ct)).StatusCode);
        // Queries by these identifiers still work: the index holds their keyed pseudonyms.
        var found = await (await http.GetAsync("statements?agent=" + Uri.EscapeDataString(Agent(mbox)), Ct)).ReadJsonAsync();
        Assert.Equal(8, found["statements"]!.AsArray().Count);

        await app.StopAsync();

        var secrets = new[] { mbox, sha1, accountName, agentName, response, teamMember, attachmentText, attachmentType, Multipart.Sha256(data), tag };
        await AssertNoPlaintextAtRestAsync(app, secrets, "learner");
    }

    [Fact]
    public async Task DataAndKeyFiles_AfterDocumentWrites_ContainNoDocumentContentOrIdsInPlaintext()
    {
        await using var app = await LearnerVaultAppFactory.StartAsync();
        using var http = app.CreateClient();
        var tag = Guid.NewGuid().ToString("N")[..10];
        var mbox = $"mailto:doc.owner.{tag}@example.org";
        var agent = Agent(mbox);
        var activityId = $"http://example.org/learners/zoe-{tag}/portfolio";
        var stateId = $"zoe-bookmark-{tag}";
        var stateContent = $"{{\"diary\":\"Zoe's private state entry {tag}\"}}";
        var agentProfileId = $"zoe-preferences-{tag}";
        var agentProfileContent = $"agent profile free text {tag}";
        var activityProfileId = $"portfolio-profile-{tag}";
        var activityProfileContent = $"{{\"rubric\":\"activity profile text {tag}\"}}";
        var definitionName = $"Zoe's portfolio definition {tag}";

        var state = "activities/state?activityId=" + Uri.EscapeDataString(activityId) + "&agent=" + Uri.EscapeDataString(agent)
            + "&stateId=" + Uri.EscapeDataString(stateId) + "&registration=" + Guid.NewGuid();
        Assert.Equal(HttpStatusCode.NoContent, (await http.PutAsync(state, Content(stateContent), Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await http.PostAsync(state, Content($"{{\"more\":\"merged {tag}\"}}"), Ct)).StatusCode);
        var agentProfile = new HttpRequestMessage(HttpMethod.Put, "agents/profile?agent=" + Uri.EscapeDataString(agent) + "&profileId=" + Uri.EscapeDataString(agentProfileId))
        {
            Content = new StringContent(agentProfileContent, Encoding.UTF8, "text/plain"),
        };
        agentProfile.Headers.TryAddWithoutValidation("If-None-Match", "*");
        Assert.Equal(HttpStatusCode.NoContent, (await http.SendAsync(agentProfile, Ct)).StatusCode);
        var activityProfile = "activities/profile?activityId=" + Uri.EscapeDataString(activityId) + "&profileId=" + Uri.EscapeDataString(activityProfileId);
        Assert.Equal(HttpStatusCode.NoContent, (await http.PostAsync(activityProfile, Content(activityProfileContent), Ct)).StatusCode);
        var defining = Statement(mbox: mbox, activity: activityId);
        defining["object"]!["definition"] = new JsonObject { ["name"] = new JsonObject { ["en"] = definitionName } };
        Assert.Equal(HttpStatusCode.OK, (await http.PostAsync("statements", Content(defining), Ct)).StatusCode);

        // Everything still reads back, through the keyed index and the keys.
        var read = await http.GetAsync(state, Ct);
        Assert.Contains(tag, await read.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        var etag = read.Headers.ETag!.Tag.Trim('"');
        var ids = await http.GetAsync("activities/state?activityId=" + Uri.EscapeDataString(activityId) + "&agent=" + Uri.EscapeDataString(agent), Ct);
        Assert.Contains(stateId, await ids.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        var activity = await (await http.GetAsync("activities?activityId=" + Uri.EscapeDataString(activityId), Ct)).ReadJsonAsync();
        Assert.Equal(definitionName, activity["definition"]!["name"]!["en"]!.GetValue<string>());

        await app.StopAsync();

        var secrets = new[] { mbox, activityId, stateId, stateContent, agentProfileId, agentProfileContent, activityProfileId, activityProfileContent, definitionName, etag, tag };
        await AssertNoPlaintextAtRestAsync(app, secrets, "document");
    }

    // Everything the store holds at rest (files, or every table of both schemas), searched for each datum in UTF-8 and
    // UTF-16.
    private static async Task AssertNoPlaintextAtRestAsync(LearnerVaultAppFactory app, IReadOnlyList<string> secrets, string kind)
    {
        var stored = await app.ReadStoredBytesAsync(Ct);
        AssertHoldsDataAndKeys(app, stored);
        foreach (var (name, bytes) in stored)
        {
            foreach (var secret in secrets)
            {
                foreach (var encoding in new Encoding[] { Encoding.UTF8, Encoding.Unicode })
                {
                    Assert.True(
                        bytes.AsSpan().IndexOf(encoding.GetBytes(secret)) < 0,
                        $"{name} contains a {kind} datum in plaintext ({encoding.WebName}).");
                }
            }
        }
    }

    // The scan must have looked at the real thing: the data and the key store, with rows in them.
    private static void AssertHoldsDataAndKeys(LearnerVaultAppFactory app, IReadOnlyList<(string Name, byte[] Bytes)> stored)
    {
        if (app.Store.IsPostgres)
        {
            Assert.Contains(stored, s => s.Name.StartsWith("learnervault.", StringComparison.Ordinal) && s.Bytes.Length > 100);
            Assert.Contains(stored, s => s.Name.StartsWith("learnervault_keys.", StringComparison.Ordinal) && s.Bytes.Length > 100);
        }
        else
        {
            Assert.Contains(stored, s => s.Name == "learnervault.db");
            Assert.Contains(stored, s => s.Name.StartsWith("keys", StringComparison.Ordinal));
        }
    }
}
