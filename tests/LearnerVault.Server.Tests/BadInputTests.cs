using System.Net;
using System.Net.Http.Headers;
using System.Text;
using static LearnerVault.Server.Tests.XapiJson;

namespace LearnerVault.Server.Tests;

/// <summary>Hostile or broken input of every kind gets the specified 4xx and never a 500.</summary>
public sealed class BadInputTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private readonly LearnerVaultAppFactory app = fixture.Factory;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static TheoryData<string, string> MalformedBodies => new()
    {
        { "truncated", "{\"actor\":{\"mbox\":\"mailto:a@example.org\"}" },
        { "not json", "this is not json" },
        { "empty", "" },
        { "null", "null" },
        { "number", "42" },
        { "string", "\"statement\"" },
        { "array of numbers", "[1,2,3]" },
        { "empty array", "[]" },
        { "trailing garbage", Statement().ToJsonString() + "}" },
        { "duplicate property", "{\"actor\":{\"mbox\":\"mailto:a@example.org\"},\"actor\":{\"mbox\":\"mailto:b@example.org\"},\"verb\":{\"id\":\"http://example.org/v\"},\"object\":{\"id\":\"http://example.org/a\"}}" },
        { "comment", "/* hi */" + Statement().ToJsonString() },
    };

    [Theory]
    [MemberData(nameof(MalformedBodies))]
    public async Task Post_MalformedJson_Returns400(string name, string body)
    {
        Assert.NotNull(name);
        using var http = app.CreateClient();
        var response = await http.PostAsync("statements", Content(body), Ct);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task Post_InvalidUtf8_Returns400()
    {
        using var http = app.CreateClient();
        var bytes = Encoding.UTF8.GetBytes(Statement().ToJsonString().Replace("Synthetic Learner", "XX", StringComparison.Ordinal));
        var at = Array.IndexOf(bytes, (byte)'X');
        bytes[at] = 0xC3;
        bytes[at + 1] = 0x28; // an invalid two-byte sequence
        var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        Assert.Equal(HttpStatusCode.BadRequest, (await http.PostAsync("statements", content, Ct)).StatusCode);
    }

    [Fact]
    public async Task Post_FiftyMegabyteBody_Returns413()
    {
        using var http = app.CreateClient();
        var huge = "{\"actor\":{\"mbox\":\"mailto:a@example.org\"},\"verb\":{\"id\":\"http://example.org/v\"},\"object\":{\"id\":\"http://example.org/a\"},\"result\":{\"response\":\""
            + new string('x', 50 * 1024 * 1024) + "\"}}";
        HttpResponseMessage response;
        try
        {
            response = await http.PostAsync("statements", Content(huge), Ct);
        }
        catch (HttpRequestException)
        {
            // The server may close the connection before the client finishes sending: also a refusal, not a 500.
            return;
        }

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
    }

    [Theory]
    [InlineData(65)]
    [InlineData(10_000)]
    public async Task Post_DeeplyNestedExtension_Returns400(int depth)
    {
        using var http = app.CreateClient();
        var nested = new StringBuilder();
        nested.Append(new string('[', depth)).Append(new string(']', depth));
        var body = "{\"actor\":{\"mbox\":\"mailto:a@example.org\"},\"verb\":{\"id\":\"http://example.org/v\"},\"object\":{\"id\":\"http://example.org/a\"},\"result\":{\"extensions\":{\"http://example.org/ext\":"
            + nested + "}}}";
        Assert.Equal(HttpStatusCode.BadRequest, (await http.PostAsync("statements", Content(body), Ct)).StatusCode);
    }

    [Theory]
    [InlineData("text/plain")]
    [InlineData("application/xml")]
    [InlineData("application/x-www-form-urlencoded")]
    public async Task Post_WrongContentType_Returns400(string contentType)
    {
        using var http = app.CreateClient();
        var content = new StringContent(Statement().ToJsonString(), Encoding.UTF8);
        content.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        var response = await http.PostAsync("statements", content, Ct);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task Post_TooLargeBatch_IsRefusedWith4xx()
    {
        using var http = app.CreateClient();
        var batch = "[" + string.Join(",", Enumerable.Repeat(Statement().ToJsonString(), 1001)) + "]";
        var response = await http.PostAsync("statements", Content(batch), Ct);
        Assert.InRange((int)response.StatusCode, 400, 499);
    }

    [Fact]
    public async Task Delete_Statements_Returns405()
    {
        using var http = app.CreateClient();
        var response = await http.DeleteAsync("statements", Ct);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, response.StatusCode);
    }
}
