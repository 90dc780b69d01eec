using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using LearnerVault.Xapi.Tests.Fixtures;

namespace LearnerVault.Xapi.Tests;

/// <summary>
/// The optimised <see cref="StatementPreparer.Prepare"/> and <see cref="StatementFactsExtractor.Extract(JsonObject)"/> must give
/// exactly what the original implementations (<see cref="ReferencePreparer"/>, <see cref="ReferenceFactsExtractor"/>) gave.
/// </summary>
public sealed class PreparerAndFactsEquivalenceTests
{
    private static readonly Guid NewId = Guid.Parse("11111111-2222-4333-8444-555555555555");

    [Fact]
    public void Prepare_FixtureStatements_MatchesReference()
    {
        var failures = new List<string>();
        var compared = 0;
        foreach (var c in StatementFixtures.All)
        {
            foreach (var v in c.Versions)
            {
                var version = StatementCase.ParseVersion(v);
                if (StatementValidator.Validate(c.Statement, version).IsValid)
                {
                    Assert.True(ComparePrepared(c.Statement, version, $"{c.File} / {c.Name} [{v}]", failures) || failures.Count > 0);
                    compared++;
                }
            }
        }

        Assert.True(compared >= 60, $"only {compared} valid fixture statements");
        Assert.True(failures.Count == 0, string.Join("\n\n", failures.Take(5)));
    }

    [Fact]
    public void PrepareAndExtract_GeneratedVariations_MatchReference()
    {
        var seeds = new List<(string Name, JsonObject Statement)>
        {
            ("rich", TestJson.Object(StatementComparisonEquivalenceTests.Rich)),
            ("substatement", TestJson.Object(StatementComparisonEquivalenceTests.WithSubStatement)),
            ("minimal", TestJson.Object(TestJson.MinimalStatement)),
        };
        foreach (var c in StatementFixtures.All.Where(c => c.Status == 200).Take(30))
        {
            seeds.Add((c.Name, JsonObject.Create(c.Statement)!));
        }

        var failures = new List<string>();
        var sentCompared = 0;
        foreach (var (seedName, seed) in seeds)
        {
            foreach (var (variationName, change) in StatementComparisonEquivalenceTests.Variations())
            {
                var statement = seed.DeepClone().AsObject();
                try
                {
                    change(statement);
                }
                catch (InvalidOperationException)
                {
                    // The variation does not apply to this seed (e.g. it edits a property that is not an object).
                    continue;
                }

                var element = TestJson.Element(statement.ToJsonString());
                foreach (var version in new[] { XapiVersion.V2_0_0, XapiVersion.V1_0_3 })
                {
                    sentCompared += ComparePrepared(element, version, $"{seedName} + {variationName} [{version}]", failures) ? 1 : 0;
                }

                CompareFacts(statement, $"{seedName} + {variationName} (as built)", failures);
            }
        }

        Assert.True(failures.Count == 0, $"{failures.Count} failures:\n" + string.Join("\n\n", failures.Take(5)));

        // Most variations keep the statement valid: those are the ones ingest reads from the sent JSON.
        Assert.True(sentCompared >= 500, $"only {sentCompared} valid variations compared as sent");
    }

    [Fact]
    public void Extract_AllFixtureStatements_MatchesReference()
    {
        var failures = new List<string>();
        foreach (var c in StatementFixtures.All)
        {
            if (c.Statement.ValueKind == JsonValueKind.Object)
            {
                CompareFacts(JsonObject.Create(c.Statement)!, $"{c.File} / {c.Name} (unprepared)", failures);
            }
        }

        Assert.True(failures.Count == 0, string.Join("\n\n", failures.Take(5)));
    }

    /// <returns>Whether the statement was valid, so that its sent forms were compared too.</returns>
    private static bool ComparePrepared(JsonElement statement, XapiVersion version, string label, List<string> failures)
    {
        var expected = Capture(() => ReferencePreparer.Prepare(statement, version, TestJson.Authority(), NewId));
        var actual = Capture(() => StatementPreparer.Prepare(statement, version, TestJson.Authority(), NewId));
        if (expected.Error is not null || actual.Error is not null)
        {
            if (expected.Error?.GetType() != actual.Error?.GetType())
            {
                failures.Add($"{label}: reference threw {expected.Error?.GetType().Name ?? "nothing"}, new threw {actual.Error?.GetType().Name ?? "nothing"}");
            }

            return false;
        }

        var expectedJson = expected.Value!.ToJsonString();
        var actualJson = actual.Value!.ToJsonString();
        if (expectedJson != actualJson)
        {
            failures.Add($"{label}: prepared statements differ\nexpected {expectedJson}\nactual   {actualJson}");
            return false;
        }

        // Ingest writes the prepared statement straight from the parsed one: the same bytes as writing the object, and the
        // same id.
        var objectBytes = Written(writer => actual.Value.WriteTo(writer));
        var streamedBytes = Written(writer => StatementPreparer.WritePrepared(statement, version, TestJson.Authority(), NewId, writer));
        if (!objectBytes.AsSpan().SequenceEqual(streamedBytes))
        {
            failures.Add($"{label}: prepared statement written from the parsed one differs\nexpected {Encoding.UTF8.GetString(objectBytes)}\nactual   {Encoding.UTF8.GetString(streamedBytes)}");
            return false;
        }

        if (StatementPreparer.PreparedId(statement, NewId) != Guid.Parse(actual.Value["id"]!.GetValue<string>()))
        {
            failures.Add($"{label}: prepared id differs");
            return false;
        }

        CompareFacts(actual.Value, label + " (prepared)", failures, expected.Value);
        var expectedForm = Capture(() => ReferenceComparisonForm.Compute(expected.Value));
        var actualForm = Capture(() => StatementComparison.ComparisonForm(actual.Value));
        if (expectedForm.Error?.GetType() != actualForm.Error?.GetType()
            || (expectedForm.Value is not null && !expectedForm.Value.AsSpan().SequenceEqual(actualForm.Value)))
        {
            failures.Add($"{label}: comparison forms of the prepared statements differ");
        }

        if (!StatementValidator.Validate(statement, version).IsValid)
        {
            return false;
        }

        CompareSentForms(statement, expected.Value, expectedForm.Value, label, failures);
        return true;
    }

    /// <summary>
    /// Ingest reads the facts and the comparison form from the statement as sent (with the authority): both must equal
    /// what the reference gives for the prepared statement.
    /// </summary>
    private static void CompareSentForms(JsonElement statement, JsonObject referencePrepared, byte[]? referenceForm, string label, List<string> failures)
    {
        var expectedFacts = JsonSerializer.Serialize(ReferenceFactsExtractor.Extract(referencePrepared));
        var actualFacts = JsonSerializer.Serialize(StatementFactsExtractor.Extract(statement, TestJson.Authority()));
        if (expectedFacts != actualFacts)
        {
            failures.Add($"{label}: facts of the sent statement differ\nexpected {expectedFacts}\nactual   {actualFacts}");
        }

        var form = StatementComparison.ComparisonForm(statement);
        if (referenceForm is null || !referenceForm.AsSpan().SequenceEqual(form))
        {
            failures.Add($"{label}: comparison form of the sent statement differs\nexpected {(referenceForm is null ? "(error)" : Encoding.UTF8.GetString(referenceForm))}\nactual   {Encoding.UTF8.GetString(form)}");
        }
    }

    private static void CompareFacts(JsonObject statement, string label, List<string> failures, JsonObject? referenceInput = null)
    {
        var expected = Capture(() => ReferenceFactsExtractor.Extract(referenceInput ?? statement));
        var actual = Capture(() => StatementFactsExtractor.Extract(statement));
        if (expected.Error is not null || actual.Error is not null)
        {
            if (expected.Error?.GetType() != actual.Error?.GetType())
            {
                failures.Add($"{label}: facts: reference threw {expected.Error?.GetType().Name ?? "nothing"}, new threw {actual.Error?.GetType().Name ?? "nothing"}");
            }

            return;
        }

        var expectedJson = JsonSerializer.Serialize(expected.Value);
        var actualJson = JsonSerializer.Serialize(actual.Value);
        if (expectedJson != actualJson)
        {
            failures.Add($"{label}: facts differ\nexpected {expectedJson}\nactual   {actualJson}");
        }
    }

    /// <summary>What <paramref name="write"/> writes with the writer options ingest seals with (the defaults).</summary>
    private static byte[] Written(Action<Utf8JsonWriter> write)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            write(writer);
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static (T? Value, Exception? Error) Capture<T>(Func<T> action)
        where T : class
    {
        try
        {
            return (action(), null);
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or FormatException or OverflowException)
        {
            return (null, e);
        }
    }
}
