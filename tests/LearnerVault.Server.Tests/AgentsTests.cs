using System.Net;
using System.Text.Json.Nodes;

namespace LearnerVault.Server.Tests;

/// <summary>The Agents resource: a Person object with array properties, holding what the request identifies.</summary>
public sealed class AgentsTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private readonly LearnerVaultAppFactory app = fixture.Factory;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static string Uri(string agentJson) => "agents?agent=" + System.Uri.EscapeDataString(agentJson);

    public static TheoryData<string, string> Agents => new()
    {
        { "{\"objectType\":\"Agent\",\"name\":\"Ada\",\"mbox\":\"mailto:ada@example.org\"}", "{\"objectType\":\"Person\",\"name\":[\"Ada\"],\"mbox\":[\"mailto:ada@example.org\"]}" },
        { "{\"mbox_sha1sum\":\"cd9b00a5611f94eaa7b1661edab976068e364975\"}", "{\"objectType\":\"Person\",\"mbox_sha1sum\":[\"cd9b00a5611f94eaa7b1661edab976068e364975\"]}" },
        { "{\"openid\":\"http://openid.example.org/12345\"}", "{\"objectType\":\"Person\",\"openid\":[\"http://openid.example.org/12345\"]}" },
        { "{\"name\":\"Acc\",\"account\":{\"homePage\":\"http://www.example.com\",\"name\":\"acc-1\"}}", "{\"objectType\":\"Person\",\"name\":[\"Acc\"],\"account\":[{\"homePage\":\"http://www.example.com\",\"name\":\"acc-1\"}]}" },
    };

    [Theory]
    [MemberData(nameof(Agents))]
    public async Task Get_Agent_ReturnsPersonWithArrayProperties(string agent, string person)
    {
        using var http = app.CreateClient();

        var response = await http.GetAsync(Uri(agent), Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(person), await response.ReadJsonAsync()));
    }

    [Theory]
    [InlineData("agents")]
    [InlineData("agents?agent=not%20json")]
    [InlineData("agents?agent=%7B%22objectType%22%3A%22Agent%22%2C%22name%22%3A%22No%20IFI%22%7D")]
    [InlineData("agents?agent=%7B%22objectType%22%3A%22Group%22%2C%22mbox%22%3A%22mailto%3Ag%40example.org%22%7D")]
    [InlineData("agents?agent=%7B%22mbox%22%3A%22mailto%3Aa%40example.org%22%7D&activityId=x")]
    public async Task Get_BadParameters_Returns400(string uri)
    {
        using var http = app.CreateClient();
        Assert.Equal(HttpStatusCode.BadRequest, (await http.GetAsync(uri, Ct)).StatusCode);
    }

    [Fact]
    public async Task Get_ClientWithoutReadScope_Returns403()
    {
        using var writer = app.CreateClient(await app.AddClientAsync("agents-writer", ["statements/write"]));
        var response = await writer.GetAsync(Uri("{\"mbox\":\"mailto:ada@example.org\"}"), Ct);
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    [Fact]
    public async Task Head_Agent_HeadersWithoutBody()
    {
        using var http = app.CreateClient();
        var head = await http.SendAsync(new HttpRequestMessage(HttpMethod.Head, Uri("{\"mbox\":\"mailto:ada@example.org\"}")), Ct);

        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Empty(await head.Content.ReadAsByteArrayAsync(Ct));
    }
}
