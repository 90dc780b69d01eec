using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace LearnerVault.Cli;

/// <summary>Machine-readable output: exactly one JSON document on one line, nothing else on stdout.</summary>
internal static class JsonOutput
{
    private static readonly JsonWriterOptions Options = new()
    {
        // Keys, secrets and names are printed as they are ('+', '<', non-ASCII letters), not \u-escaped.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static async Task WriteAsync(TextWriter output, Action<Utf8JsonWriter> write)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, Options))
        {
            write(writer);
        }

        await output.WriteLineAsync(Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length));
        await output.FlushAsync();
    }

    public static void WriteStringArray(this Utf8JsonWriter writer, string name, IEnumerable<string> values)
    {
        writer.WriteStartArray(name);
        foreach (var value in values)
        {
            writer.WriteStringValue(value);
        }

        writer.WriteEndArray();
    }
}
