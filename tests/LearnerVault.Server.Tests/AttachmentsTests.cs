using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using LearnerVault.Server.Statements;
using LearnerVault.Storage;
using LearnerVault.Xapi;
using Microsoft.Extensions.DependencyInjection;
using static LearnerVault.Server.Tests.Multipart;
using static LearnerVault.Server.Tests.XapiJson;

namespace LearnerVault.Server.Tests;

/// <summary>Statements with attachments over real HTTP: multipart/mixed in (Communication 1.5.2) and out
/// (<c>attachments=true</c>), all or nothing, stored once per tenant and content.</summary>
public sealed class AttachmentsTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private readonly LearnerVaultAppFactory app = fixture.Factory;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static byte[] Essay(string tag) => Encoding.UTF8.GetBytes($"An essay about rivers, draft {tag}.\nSecond line.");

    private static JsonObject WithAttachments(JsonObject statement, params JsonObject[] attachments)
    {
        statement["attachments"] = new JsonArray([.. attachments]);
        return statement;
    }

    private async Task<IReadOnlyList<StoredAttachment>> StoredAsync(byte[] data)
    {
        var key = app.Services.GetRequiredService<TenantCrypto>().AttachmentKey(app.TenantId, Sha256(data));
        return await app.Services.GetRequiredService<IStatementStore>().GetAttachmentsAsync(app.TenantId, [key], cancellationToken: Ct);
    }

    [Theory]
    [InlineData("2.0.0")]
    [InlineData("1.0.3")]
    public async Task Post_MultipartWithAttachment_RoundTripsWithAttachmentsTrue(string version)
    {
        using var http = app.CreateClient(version);
        var data = Essay(Guid.NewGuid().ToString());
        var id = Guid.NewGuid();
        var statement = WithAttachments(Statement(id: id), AttachmentObject(data, "text/plain; charset=utf-8"));

        var post = await http.PostAsync("statements", Content(Part.Json(statement), Part.Attachment(data, "text/plain; charset=utf-8")), Ct);
        Assert.Equal(HttpStatusCode.OK, post.StatusCode);

        var get = await http.GetAsync($"statements?statementId={id}&attachments=true", Ct);
        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        var parts = await ReadAsync(get);
        Assert.Equal(2, parts.Count);
        Assert.StartsWith("application/json", parts[0].Headers["Content-Type"], StringComparison.Ordinal);
        Assert.Equal(id.ToString(), JsonNode.Parse(parts[0].Body)!["id"]!.GetValue<string>());
        Assert.Equal("text/plain; charset=utf-8", parts[1].Headers["Content-Type"]);
        Assert.Equal("binary", parts[1].Headers["Content-Transfer-Encoding"]);
        Assert.Equal(Sha256(data), parts[1].Headers["X-Experience-API-Hash"]);
        Assert.Equal(data, parts[1].Body);
    }

    [Fact]
    public async Task Put_MultipartWithAttachment_Returns204AndStoresIt()
    {
        using var http = app.CreateClient();
        var data = Essay(Guid.NewGuid().ToString());
        var id = Guid.NewGuid();

        var put = await http.PutAsync($"statements?statementId={id}", Content(Part.Json(WithAttachments(Statement(), AttachmentObject(data))), Part.Attachment(data)), Ct);

        Assert.Equal(HttpStatusCode.NoContent, put.StatusCode);
        Assert.Equal(data, (await ReadAsync(await http.GetAsync($"statements?statementId={id}&attachments=true", Ct)))[1].Body);
    }

    [Fact]
    public async Task Post_TwoStatementsSharingOneAttachment_StoredOnceAndReturnedOnce()
    {
        using var http = app.CreateClient();
        var data = Essay(Guid.NewGuid().ToString());
        var activity = "http://example.org/activities/shared-" + Guid.NewGuid();
        var batch = new JsonArray(
            WithAttachments(Statement(activity: activity), AttachmentObject(data)),
            WithAttachments(Statement(activity: activity, mbox: "mailto:other.learner@example.org"), AttachmentObject(data)));

        Assert.Equal(HttpStatusCode.OK, (await http.PostAsync("statements", Content(Part.Json(batch), Part.Attachment(data)), Ct)).StatusCode);
        var stored = Assert.Single(await StoredAsync(data));
        Assert.Equal(2, stored.References);

        var third = WithAttachments(Statement(activity: activity), AttachmentObject(data));
        Assert.Equal(HttpStatusCode.OK, (await http.PostAsync("statements", Content(Part.Json(third), Part.Attachment(data)), Ct)).StatusCode);
        Assert.Equal(3, Assert.Single(await StoredAsync(data)).References);

        var query = await http.GetAsync($"statements?activity={Uri.EscapeDataString(activity)}&attachments=true", Ct);
        var parts = await ReadAsync(query);
        Assert.Equal(3, JsonNode.Parse(parts[0].Body)!["statements"]!.AsArray().Count);
        var attachment = Assert.Single(parts.Skip(1));
        Assert.Equal(data, attachment.Body);
    }

    [Fact]
    public async Task Get_AttachmentsFalseOrAbsent_ReturnsJsonWithoutAttachmentData()
    {
        using var http = app.CreateClient();
        var data = Essay("never-inline-" + Guid.NewGuid());
        var id = Guid.NewGuid();
        await http.PostAsync("statements", Content(Part.Json(WithAttachments(Statement(id: id), AttachmentObject(data))), Part.Attachment(data)), Ct);

        foreach (var query in new[] { $"statementId={id}", $"statementId={id}&attachments=false", "attachments=false" })
        {
            var response = await http.GetAsync("statements?" + query, Ct);
            Assert.Equal("application/json", response.Content.Headers.ContentType!.MediaType);
            Assert.DoesNotContain(Encoding.UTF8.GetString(data), await response.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Head_WithAttachmentsTrue_MultipartHeadersWithoutBody()
    {
        using var http = app.CreateClient();
        var data = Essay(Guid.NewGuid().ToString());
        var id = Guid.NewGuid();
        await http.PostAsync("statements", Content(Part.Json(WithAttachments(Statement(id: id), AttachmentObject(data))), Part.Attachment(data)), Ct);

        var head = await http.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"statements?statementId={id}&attachments=true"), Ct);

        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Equal("multipart/mixed", head.Content.Headers.ContentType!.MediaType);
        Assert.Empty(await head.Content.ReadAsByteArrayAsync(Ct));
    }

    [Fact]
    public async Task Post_MultipartWithoutAttachmentsOrWithFileUrlOnly_Accepted()
    {
        using var http = app.CreateClient();
        var byUrl = WithAttachments(Statement(), AttachmentObject(Essay("url"), fileUrl: "https://files.example.org/essay.txt"));

        Assert.Equal(HttpStatusCode.OK, (await http.PostAsync("statements", Content(Part.Json(Statement())), Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.PostAsync("statements", Content(Part.Json(byUrl)), Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.PostAsync("statements", XapiJson.Content(byUrl), Ct)).StatusCode);
    }

    [Fact]
    public async Task Get_FileUrlAttachmentSentWithItsData_ReturnsTheData()
    {
        using var http = app.CreateClient();
        var data = Essay(Guid.NewGuid().ToString());
        var id = Guid.NewGuid();
        var statement = WithAttachments(Statement(id: id), AttachmentObject(data, fileUrl: "https://files.example.org/essay.txt"));

        Assert.Equal(HttpStatusCode.OK, (await http.PostAsync("statements", Content(Part.Json(statement), Part.Attachment(data)), Ct)).StatusCode);

        Assert.Equal(data, (await ReadAsync(await http.GetAsync($"statements?statementId={id}&attachments=true", Ct)))[1].Body);
    }

    [Fact]
    public async Task Get_StatementOnlyNamingAnotherStatementsSha2_ReceivesNoData()
    {
        using var http = app.CreateClient();
        var data = Essay(Guid.NewGuid().ToString());
        await http.PostAsync("statements", Content(Part.Json(WithAttachments(Statement(), AttachmentObject(data))), Part.Attachment(data)), Ct);
        var id = Guid.NewGuid();
        var naming = WithAttachments(Statement(id: id), AttachmentObject(data, fileUrl: "https://files.example.org/guessed.txt"));

        Assert.Equal(HttpStatusCode.OK, (await http.PostAsync("statements", XapiJson.Content(naming), Ct)).StatusCode);

        var parts = await ReadAsync(await http.GetAsync($"statements?statementId={id}&attachments=true", Ct));
        Assert.Single(parts);
    }

    public static TheoryData<string> BadRequests() =>
    [
        "missing part", "extra part", "wrong sha2", "hash header not the data's", "wrong boundary", "truncated body", "no boundary parameter",
        "first part not json", "statements split over parts", "base64 part", "part content type differs",
        "form-data", "json without fileUrl", "sha-224 part",
    ];

    [Theory]
    [MemberData(nameof(BadRequests))]
    public async Task Post_BadMultipart_Returns400AndStoresNothing(string problem)
    {
        using var http = app.CreateClient();
        var data = Essay(problem + Guid.NewGuid());
        var other = Essay("other " + Guid.NewGuid());
        var id = Guid.NewGuid();
        var statement = WithAttachments(Statement(id: id), AttachmentObject(data));
        var good = new[] { Part.Json(statement), Part.Attachment(data) };
        HttpContent content = problem switch
        {
            "missing part" => Content(Part.Json(statement)),
            "extra part" => Content([.. good, Part.Attachment(other)]),
            "wrong sha2" => Content(good[0], Part.Attachment(other, sha2: Sha256(data))),
            "hash header not the data's" => Content(good[0], Part.Attachment(data, sha2: Sha256(other))),
            "wrong boundary" => Content(Body(good, boundary: "some-other-boundary")),
            "truncated body" => Content(Body(good)[..^30]),
            "no boundary parameter" => Content(Body(good), "multipart/mixed;"),
            "first part not json" => Content(good[0] with { Headers = ["Content-Type: text/plain"] }, good[1]),
            "statements split over parts" => Content(Part.Json(statement), Part.Json(Statement()), good[1]),
            "base64 part" => Content(good[0], good[1] with { Headers = ["Content-Type: text/plain", "Content-Transfer-Encoding: base64", $"X-Experience-API-Hash: {Sha256(data)}"] }),
            "part content type differs" => Content(good[0], Part.Attachment(data, "image/png")),
            "form-data" => Content(Body(good), "multipart/form-data; boundary=" + Boundary),
            "json without fileUrl" => XapiJson.Content(statement),
            "sha-224 part" => Content(good[0], good[1], Part.Attachment(other, sha2: new string('a', 56))),
            _ => throw new ArgumentOutOfRangeException(nameof(problem)),
        };

        var response = await http.PostAsync("statements", content, Ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync($"statements?statementId={id}", Ct)).StatusCode);
        Assert.Empty(await StoredAsync(data));
        Assert.Empty(await StoredAsync(other));
    }

    [Fact]
    public async Task Post_BatchWithOneBadAttachment_StoresNoStatementOfIt()
    {
        using var http = app.CreateClient();
        var data = Essay(Guid.NewGuid().ToString());
        var first = Guid.NewGuid();
        var batch = new JsonArray(
            WithAttachments(Statement(id: first), AttachmentObject(data)),
            WithAttachments(Statement(), AttachmentObject(Essay("not sent " + Guid.NewGuid()))));

        Assert.Equal(HttpStatusCode.BadRequest, (await http.PostAsync("statements", Content(Part.Json(batch), Part.Attachment(data)), Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync($"statements?statementId={first}", Ct)).StatusCode);
        Assert.Empty(await StoredAsync(data));
    }

    [Fact]
    public async Task EraseLearner_SharingAnAttachment_OtherLearnersStatementKeepsIt()
    {
        using var http = app.CreateClient();
        var data = Essay(Guid.NewGuid().ToString());
        var erased = Statement(mbox: $"mailto:erased.{Guid.NewGuid():N}@example.org", id: Guid.NewGuid());
        var kept = Statement(mbox: $"mailto:kept.{Guid.NewGuid():N}@example.org", id: Guid.NewGuid());
        var batch = new JsonArray(WithAttachments(erased, AttachmentObject(data)), WithAttachments(kept, AttachmentObject(data)));
        Assert.Equal(HttpStatusCode.OK, (await http.PostAsync("statements", Content(Part.Json(batch), Part.Attachment(data)), Ct)).StatusCode);

        var crypto = app.Services.GetRequiredService<TenantCrypto>();
        var pseudonym = crypto.LearnerPseudonym(app.TenantId, Ifi.Normalise(erased["actor"])!);
        Assert.True(app.Services.GetRequiredService<IStorageBackend>().KeyAdministration.DestroyLearnerKey(app.TenantId, pseudonym));

        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync($"statements?statementId={erased["id"]}", Ct)).StatusCode);
        var parts = await ReadAsync(await http.GetAsync($"statements?statementId={kept["id"]}&attachments=true", Ct));
        Assert.Equal(data, parts[1].Body);
    }
}
