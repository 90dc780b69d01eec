using System.Text.Json;

namespace LearnerVault.Xapi.Tests.Fixtures;

/// <summary>
/// The table-driven statement cases in tests/fixtures/statements: what POST /xapi/statements must answer (200 or 400)
/// for each statement, per xAPI version. The server's HTTP tests load the same files.
/// </summary>
public static class StatementFixtures
{
    public static string Directory => Path.Combine(AppContext.BaseDirectory, "fixtures", "statements");

    private static readonly Lazy<IReadOnlyList<StatementCase>> LoadedCases = new(Load);

    public static IReadOnlyList<StatementCase> All => LoadedCases.Value;

    public static StatementCase Find(string file, string name) =>
        All.Single(c => c.File == file && c.Name == name);

    private static List<StatementCase> Load()
    {
        var cases = new List<StatementCase>();
        foreach (var path in System.IO.Directory.GetFiles(Directory, "*.json").Order(StringComparer.Ordinal))
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(path));
            foreach (var item in document.RootElement.EnumerateArray())
            {
                cases.Add(new StatementCase(
                    Path.GetFileName(path),
                    item.GetProperty("name").GetString()!,
                    [.. item.GetProperty("versions").EnumerateArray().Select(v => v.GetString()!)],
                    item.GetProperty("status").GetInt32(),
                    item.GetProperty("statement").Clone()));
            }
        }

        return cases;
    }
}

public sealed record StatementCase(string File, string Name, IReadOnlyList<string> Versions, int Status, JsonElement Statement)
{
    public static XapiVersion ParseVersion(string version) => version switch
    {
        "2.0.0" => XapiVersion.V2_0_0,
        "1.0.3" => XapiVersion.V1_0_3,
        _ => throw new ArgumentOutOfRangeException(nameof(version), version, "Fixture versions are 2.0.0 or 1.0.3."),
    };
}
