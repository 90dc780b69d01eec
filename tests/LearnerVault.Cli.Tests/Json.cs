using System.Text.Json.Nodes;

namespace LearnerVault.Cli.Tests;

internal static class Json
{
    /// <summary>Parses output that must be exactly one JSON document (trailing newline allowed, nothing else).</summary>
    public static JsonNode Parse(string text) => JsonNode.Parse(text.TrimEnd('\n', '\r')) ?? throw new InvalidOperationException("null JSON");

    public static string[] Strings(JsonNode? array) => array!.AsArray().Select(n => n!.GetValue<string>()).ToArray();
}
