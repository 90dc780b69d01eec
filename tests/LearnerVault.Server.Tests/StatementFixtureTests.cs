using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace LearnerVault.Server.Tests;

/// <summary>
/// The table of valid and invalid statements (tests/fixtures/statements/*.json), each POSTed over HTTP and
/// answered with exactly the status the xAPI specification names.
/// </summary>
public sealed class StatementFixtureTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private readonly LearnerVaultAppFactory app = fixture.Factory;

    public static IEnumerable<TheoryDataRow<string, string>> Cases()
    {
        foreach (var file in Directory.EnumerateFiles(Path.Combine(AppContext.BaseDirectory, "fixtures", "statements"), "*.json").Order(StringComparer.Ordinal))
        {
            foreach (var node in JsonNode.Parse(File.ReadAllText(file))!.AsArray())
            {
                foreach (var version in node!["versions"]!.AsArray())
                {
                    yield return new TheoryDataRow<string, string>(Path.GetFileNameWithoutExtension(file) + ": " + node["name"]!.GetValue<string>(), version!.GetValue<string>());
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Post_FixtureStatement_ReturnsExpectedStatus(string name, string version)
    {
        var (statement, status) = Find(name);
        using var http = app.CreateClient(version);
        var response = await http.PostAsync("statements", XapiJson.Content(statement), TestContext.Current.CancellationToken);
        Assert.Equal((HttpStatusCode)status, response.StatusCode);
    }

    private static (string Statement, int Status) Find(string name)
    {
        var colon = name.IndexOf(": ", StringComparison.Ordinal);
        var file = Path.Combine(AppContext.BaseDirectory, "fixtures", "statements", name[..colon] + ".json");
        var caseName = name[(colon + 2)..];
        var node = JsonNode.Parse(File.ReadAllText(file))!.AsArray().Single(n => n!["name"]!.GetValue<string>() == caseName)!;
        return (node["statement"]!.ToJsonString(new JsonSerializerOptions { WriteIndented = false }), node["status"]!.GetValue<int>());
    }
}
