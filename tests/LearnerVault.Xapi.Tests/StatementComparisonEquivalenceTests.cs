using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using LearnerVault.Xapi.Tests.Fixtures;

namespace LearnerVault.Xapi.Tests;

/// <summary>
/// The single-pass <see cref="StatementComparison.ComparisonForm(System.Text.Json.Nodes.JsonObject)"/> must write exactly the bytes of the original
/// clone-normalise-sort implementation, kept in <see cref="ReferenceComparisonForm"/>.
/// </summary>
public sealed class StatementComparisonEquivalenceTests
{
    private static readonly Guid NewId = Guid.Parse("11111111-2222-4333-8444-555555555555");

    private static readonly JsonSerializerOptions Relaxed = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    internal const string Rich = """
        {
          "id": "0C8E1A7E-2B3C-4D5E-8F90-1A2B3C4D5E6F",
          "actor": { "objectType": "Group", "name": "Class", "mbox": "MAILTO:Class@Example.ORG",
                     "member": [ { "mbox": "mailto:b@example.com" }, { "mbox_sha1sum": "4BD6AD4DD9C3A7B4C1F0F39CA2A6BE1E1B6DD3C0" },
                                 { "account": { "homePage": "https://example.com", "name": "Zed" } }, { "openid": "https://example.com/a" },
                                 { "objectType": "Agent", "mbox": "mailto:A@EXAMPLE.com", "name": "A" } ] },
          "verb": { "id": "http://example.com/xapi/verbs/answered", "display": { "en-US": "answered", "fr": "répondu" } },
          "object": { "objectType": "Activity", "id": "http://example.com/xapi/activities/q1",
                      "definition": { "name": { "en-US": "Q1" }, "interactionType": "choice", "choices": [ { "id": "a" } ] } },
          "result": { "score": { "scaled": 0.80, "raw": 8.0, "min": 0, "max": 1e1 }, "success": true, "completion": false,
                      "response": "a[,]b", "duration": "PT1M3.14159S",
                      "extensions": { "http://example.com/ext/a": { "member": [ 3, 1, 2 ], "z": null, "A": "Ünïcødé 😀 \u2028 \n \"q\" <>&'" } } },
          "context": { "registration": "EC531277-B57B-4C15-8D91-D292C5B2B8F7",
                       "instructor": { "mbox": "mailto:Teacher@School.EXAMPLE" },
                       "team": { "objectType": "Group", "member": [ { "mbox": "mailto:z@example.com" }, { "mbox": "mailto:y@example.com" } ] },
                       "contextActivities": { "parent": { "id": "http://example.com/p", "definition": { "name": { "en": "P" } } },
                                              "grouping": [ { "id": "http://example.com/g2" }, { "id": "http://example.com/g1", "definition": {} } ],
                                              "category": { "id": "http://example.com/c" }, "other": [ { "id": "http://example.com/o" } ] },
                       "contextAgents": [ { "objectType": "contextAgent", "agent": { "mbox": "mailto:Agent@EXAMPLE.org" }, "relevantTypes": [ "http://example.com/t" ] } ],
                       "contextGroups": [ { "objectType": "contextGroup", "group": { "objectType": "Group", "member": [ { "mbox": "mailto:q@x.org" }, { "mbox": "mailto:p@x.org" } ] } } ],
                       "statement": { "objectType": "StatementRef", "id": "AAAAAAAA-B57B-4C15-8D91-D292C5B2B8F7" },
                       "platform": "test", "language": "en-US", "revision": "1", "extensions": { "http://example.com/ext/b": [ 1.50, -0.0, 1E+2 ] } },
          "timestamp": "2023-05-04T12:00:00.500-05:00",
          "stored": "2023-05-04T17:00:01Z",
          "authority": { "mbox": "mailto:authority@example.com" },
          "version": "2.0.0",
          "attachments": [ { "usageType": "http://example.com/u" } ]
        }
        """;

    internal const string WithSubStatement = """
        {
          "actor": { "mbox": "mailto:learner@Example.com" },
          "verb": { "id": "http://example.com/xapi/verbs/planned", "display": { "en-US": "planned" } },
          "object": {
            "objectType": "SubStatement",
            "actor": { "objectType": "Group", "member": [ { "mbox": "mailto:d@example.com" }, { "mbox": "mailto:C@EXAMPLE.com" } ] },
            "verb": { "id": "http://example.com/xapi/verbs/attend", "display": { "en-US": "attend" } },
            "object": { "objectType": "StatementRef", "id": "AAAAAAAA-B57B-4C15-8D91-D292C5B2B8F7" },
            "result": { "duration": "P1DT2H3M4,56789S", "score": { "raw": 1.000 } },
            "context": { "registration": "EC531277-B57B-4C15-8D91-D292C5B2B8F7", "contextActivities": { "parent": { "id": "http://example.com/p", "definition": {} } } },
            "timestamp": "20230504T120000+0130"
          },
          "timestamp": "2023-05-04T17:00:00Z"
        }
        """;

    [Fact]
    public void ComparisonForm_ValidFixtureStatementsPrepared_MatchReference()
    {
        var failures = new List<string>();
        var compared = 0;
        foreach (var c in StatementFixtures.All)
        {
            foreach (var v in c.Versions)
            {
                var version = StatementCase.ParseVersion(v);
                if (!StatementValidator.Validate(c.Statement, version).IsValid)
                {
                    continue;
                }

                var prepared = StatementPreparer.Prepare(c.Statement, version, TestJson.Authority(), NewId);
                Compare(prepared, $"{c.File} / {c.Name} [{v}]", failures);
                compared++;
            }
        }

        Assert.True(compared >= 60, $"only {compared} valid fixture statements");
        Assert.True(failures.Count == 0, string.Join("\n\n", failures.Take(5)));
    }

    [Fact]
    public void ComparisonForm_AllFixtureStatementsUnprepared_MatchReference()
    {
        var failures = new List<string>();
        foreach (var c in StatementFixtures.All)
        {
            if (c.Statement.ValueKind == JsonValueKind.Object)
            {
                Compare(JsonObject.Create(c.Statement)!, $"{c.File} / {c.Name}", failures);
            }
        }

        Assert.True(failures.Count == 0, string.Join("\n\n", failures.Take(5)));
    }

    [Fact]
    public void ComparisonForm_GeneratedVariations_MatchReference()
    {
        var seeds = new List<(string Name, JsonObject Statement)>
        {
            ("rich", TestJson.Object(Rich)),
            ("rich prepared", TestJson.Prepare(Rich)),
            ("rich prepared 1.0.3", TestJson.Prepare(Rich, XapiVersion.V1_0_3)),
            ("substatement", TestJson.Object(WithSubStatement)),
            ("substatement prepared", TestJson.Prepare(WithSubStatement)),
            ("minimal prepared", TestJson.Prepare(TestJson.MinimalStatement)),
        };
        foreach (var c in StatementFixtures.All.Where(c => c.Status == 200).Take(40))
        {
            seeds.Add((c.Name, StatementPreparer.Prepare(c.Statement, StatementCase.ParseVersion(c.Versions[0]), TestJson.Authority(), NewId)));
        }

        var failures = new List<string>();
        var count = 0;
        foreach (var (seedName, seed) in seeds)
        {
            foreach (var (variationName, change) in Variations())
            {
                var statement = seed.DeepClone().AsObject();
                change(statement);
                CompareAllRepresentations(statement, $"{seedName} + {variationName}", failures);
                count++;
            }
        }

        Assert.True(count > 1000, $"only {count} variations");
        Assert.True(failures.Count == 0, $"{failures.Count} failures:\n" + string.Join("\n\n", failures.Take(5)));
    }

    [Fact]
    public void ComparisonForm_RandomExtensionsAndMembers_MatchReference()
    {
        var random = new Random(20240521);
        var failures = new List<string>();
        for (var i = 0; i < 300; i++)
        {
            var statement = TestJson.Prepare(i % 2 == 0 ? Rich : WithSubStatement);
            EnsureResult(statement)["extensions"] = new JsonObject { ["http://example.com/r"] = RandomNode(random, 0) };
            EnsureContext(statement)["extensions"] = RandomObject(random, 0);
            var members = new JsonArray();
            for (var m = random.Next(0, 8); m > 0; m--)
            {
                members.Add(RandomAgent(random, 0));
            }

            statement["actor"] = new JsonObject { ["objectType"] = "Group", ["member"] = members };
            CompareAllRepresentations(statement, $"random #{i}", failures);
        }

        Assert.True(failures.Count == 0, $"{failures.Count} failures:\n" + string.Join("\n\n", failures.Take(5)));
    }

    [Theory]
    [InlineData("1")]
    [InlineData("1.0")]
    [InlineData("1e0")]
    [InlineData("1E+2")]
    [InlineData("-0")]
    [InlineData("-0.0")]
    [InlineData("0")]
    [InlineData("0.0")]
    [InlineData("0.50")]
    [InlineData("-0.5")]
    [InlineData("1.000001")]
    [InlineData("123456789012345")]
    [InlineData("1234567890123456")]
    [InlineData("12345678901234567890123")]
    [InlineData("123456789012345678901234567890")]
    [InlineData("79228162514264337593543950335")]
    [InlineData("79228162514264337593543950336")]
    [InlineData("1e400")]
    [InlineData("-1e400")]
    [InlineData("1e-400")]
    [InlineData("0e10")]
    [InlineData("0.1e1")]
    [InlineData("3.14159265358979323846264338327950288")]
    [InlineData("-12.3400")]
    [InlineData("0.000000000000001")]
    [InlineData("0.0000000000000000000000000001")]
    [InlineData("0.00000000000000000000000000001")]
    [InlineData("0.1234567890123456789")]
    [InlineData("7.0E-10")]
    [InlineData("1.7976931348623157e308")]
    [InlineData("4.9e-324")]
    [InlineData("-99.99")]
    public void ComparisonForm_Number_MatchesReference(string number)
    {
        var failures = new List<string>();
        var statement = TestJson.Prepare(Rich);
        statement["result"]!["score"]!["raw"] = JsonNode.Parse(number);
        statement["context"]!["extensions"] = JsonNode.Parse($$"""{ "n": {{number}}, "list": [ {{number}}, {{number}} ], "member": [ {{number}}, 2 ] }""");
        Compare(statement, number, failures);

        Assert.True(failures.Count == 0, string.Join("\n\n", failures));
    }

    [Fact]
    public void ComparisonForm_NumbersNotBackedByJson_MatchReference()
    {
        var failures = new List<string>();
        JsonNode[] values =
        [
            JsonValue.Create(1.5), JsonValue.Create(1.0), JsonValue.Create(10), JsonValue.Create(1e300), JsonValue.Create(0.1f),
            JsonValue.Create(1.50m), JsonValue.Create(-0.0), JsonValue.Create(long.MaxValue), JsonValue.Create(ulong.MaxValue),
            JsonValue.Create(true), JsonValue.Create("text é \u2028"), JsonValue.Create('c'),
        ];
        foreach (var value in values)
        {
            var statement = TestJson.Prepare(Rich);
            statement["result"]!["score"]!["raw"] = value;
            Compare(statement, value.ToJsonString(), failures);
        }

        Assert.True(failures.Count == 0, string.Join("\n\n", failures));
    }

    /// <summary>The statement as built (parsed values mixed with values set in code), re-parsed escaped and re-parsed unescaped.</summary>
    private static void CompareAllRepresentations(JsonObject statement, string label, List<string> failures)
    {
        Compare(statement, label + " (as built)", failures);
        Compare(JsonNode.Parse(statement.ToJsonString())!.AsObject(), label + " (escaped)", failures);
        Compare(JsonNode.Parse(statement.ToJsonString(Relaxed))!.AsObject(), label + " (unescaped)", failures);
    }

    private static void Compare(JsonObject statement, string label, List<string> failures)
    {
        var before = statement.ToJsonString();
        byte[]? expected = null;
        Exception? expectedError = null;
        try
        {
            expected = ReferenceComparisonForm.Compute(statement);
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or FormatException or OverflowException)
        {
            expectedError = e;
        }

        byte[]? actual = null;
        Exception? actualError = null;
        try
        {
            actual = StatementComparison.ComparisonForm(statement);
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or FormatException or OverflowException)
        {
            actualError = e;
        }

        if (statement.ToJsonString() != before)
        {
            failures.Add($"{label}: the input was modified");
        }

        if (expectedError is not null || actualError is not null)
        {
            if (expectedError?.GetType() != actualError?.GetType())
            {
                failures.Add($"{label}: reference threw {expectedError?.GetType().Name ?? "nothing"}, new threw {actualError?.GetType().Name ?? "nothing"}\n{before}");
            }

            return;
        }

        if (!expected.AsSpan().SequenceEqual(actual))
        {
            failures.Add($"{label}\ninput    {before}\nexpected {Encoding.UTF8.GetString(expected!)}\nactual   {Encoding.UTF8.GetString(actual!)}");
        }
    }

    internal static IEnumerable<(string Name, Action<JsonObject> Change)> Variations()
    {
        yield return ("unchanged", _ => { });

        // Group members reordered, nested and mixed.
        yield return ("group actor", s => s["actor"] = Group("mailto:a@example.com", "mailto:B@Example.COM", "mailto:c@example.com"));
        yield return ("group actor reordered", s => s["actor"] = Group("mailto:c@example.com", "mailto:a@example.com", "mailto:B@Example.COM"));
        yield return ("group actor duplicate members", s => s["actor"] = Group("mailto:a@example.com", "mailto:a@example.com", "mailto:A@example.com"));
        yield return ("group actor empty members", s => s["actor"] = new JsonObject { ["objectType"] = "Group", ["member"] = new JsonArray() });
        yield return ("group actor nested group member", s => s["actor"] = new JsonObject
        {
            ["objectType"] = "Group",
            ["member"] = new JsonArray(Group("mailto:Y@Y.org", "mailto:X@X.org"), JsonNode.Parse("""{ "mbox": "mailto:w@W.org" }"""), null, "string member", 5),
        });
        yield return ("group actor many members", s =>
        {
            var members = new JsonArray();
            for (var i = 70; i > 0; i--)
            {
                members.Add(new JsonObject { ["mbox"] = $"mailto:m{i % 37}@EXAMPLE.org", ["name"] = $"M{i}" });
            }

            s["actor"] = new JsonObject { ["objectType"] = "Group", ["member"] = members };
        }
        );
        yield return ("group actor member not an array", s => s["actor"] = JsonNode.Parse("""{ "objectType": "Group", "member": { "mbox": "mailto:A@B.C" } }"""));
        yield return ("group object reordered", s => s["object"] = Group("mailto:z@example.com", "mailto:Y@EXAMPLE.com"));
        yield return ("agent object", s => s["object"] = JsonNode.Parse("""{ "objectType": "Agent", "mbox": "MailTo:Someone@Example.Org", "mbox_sha1sum": "ABCDEF" }"""));
        yield return ("team and instructor groups", s =>
        {
            var context = EnsureContext(s);
            context["team"] = Group("mailto:t2@example.com", "mailto:T1@example.com");
            context["instructor"] = Group("mailto:i2@example.com", "mailto:I1@example.com");
        }
        );
        yield return ("context agents and groups", s =>
        {
            var context = EnsureContext(s);
            context["contextAgents"] = JsonNode.Parse("""[ { "objectType": "contextAgent", "agent": { "mbox": "mailto:X@X.ORG" } }, { "objectType": "contextAgent", "agent": { "account": { "homePage": "https://H", "name": "N" } } } ]""");
            context["contextGroups"] = new JsonArray(new JsonObject { ["objectType"] = "contextGroup", ["group"] = Group("mailto:g2@G.org", "mailto:g1@G.org") }, null);
        }
        );
        yield return ("context agents not objects", s => EnsureContext(s)["contextAgents"] = JsonNode.Parse("""[ 1 ]"""));
        yield return ("context groups not objects", s => EnsureContext(s)["contextGroups"] = JsonNode.Parse("""[ [ ] ]"""));
        yield return ("context agents not an array", s => EnsureContext(s)["contextAgents"] = JsonNode.Parse("""{ "agent": { "mbox": "mailto:A@A.A" } }"""));

        // Timestamps.
        foreach (var timestamp in new[]
        {
            "2023-05-04T12:00:00.5-05:00", "2023-05-04T17:00:00.500000+00:00", "20230504T170000.5Z", "2023-05-04T18:30:00+01:30",
            "2023-05-04T18:30:00+0130", "2023-05-04T18:00:00+01", "2023-05-04T17:00Z", "2023-05-04t17:00:00z", "2023-05-04T17:00:00",
            "2023-05-04T17:00:00,123456789012345678901234567890Z", "2023-05-04T17:00:00.000Z", "0001-01-01T00:30:00+00:30",
            "9999-12-31T23:59:58Z", "2023-05-04T17:00:00-00:00", "not a timestamp", "", "2023-02-30T00:00:00Z",
        })
        {
            yield return ($"timestamp {timestamp}", s => s["timestamp"] = timestamp);
            yield return ($"timestamp parsed {timestamp}", s => s["timestamp"] = JsonNode.Parse(JsonSerializer.Serialize(timestamp)));
        }

        yield return ("timestamp escaped", s => s["timestamp"] = JsonNode.Parse("\"2023-05-04T12:00:00.5\\u002d05:00\""));
        yield return ("timestamp number", s => s["timestamp"] = 5);
        yield return ("timestamp null", s => s["timestamp"] = null);
        yield return ("timestamp object", s => s["timestamp"] = new JsonObject { ["a"] = 1 });
        yield return ("timestamp long", s => s["timestamp"] = "2023-05-04T17:00:00." + new string('1', 300) + "Z");

        // Context activities.
        foreach (var name in new[] { "parent", "grouping", "category", "other", "custom", "member" })
        {
            yield return ($"single {name}", s => Activities(s)[name] = JsonNode.Parse("""{ "id": "http://example.com/one", "definition": { "name": { "en": "One" } } }"""));
            yield return ($"array {name}", s => Activities(s)[name] = JsonNode.Parse("""[ { "id": "http://example.com/two", "definition": {} }, { "id": "http://example.com/one" }, "x", null ]"""));
            yield return ($"scalar {name}", s => Activities(s)[name] = "http://example.com/scalar");
        }

        yield return ("context activities not an object", s => EnsureContext(s)["contextActivities"] = new JsonArray(1, 2));
        yield return ("context not an object", s => s["context"] = "context");

        // Durations.
        foreach (var duration in new[]
        {
            "PT1.23456S", "P1DT2H3M4.56789S", "PT4,56789S", "PT1.2S", "PT1.23S", "PT1.S", "PT.123S", "PT1.234", "PT1.2x4S", "PT0.001S",
            "P1Y", "PT1.123456789012345678901234567890S", "S", "", ".123S", "PT1.é23S", "PT1." + new string('9', 300) + "S",
        })
        {
            yield return ($"duration {duration}", s => EnsureResult(s)["duration"] = duration);
        }

        yield return ("duration escaped", s => EnsureResult(s)["duration"] = JsonNode.Parse("\"PT1.2345\\u0053\""));
        yield return ("duration number", s => EnsureResult(s)["duration"] = 1.5);
        yield return ("result not an object", s => s["result"] = new JsonArray());

        // Numbers.
        foreach (var number in new[] { "1.0", "1", "1e0", "-0", "0.50", "1.000001", "12345678901234567890123", "1e400", "0.1e1", "-12.3400" })
        {
            yield return ($"number {number}", s => EnsureResult(s)["score"] = JsonNode.Parse($$"""{ "raw": {{number}}, "scaled": {{number}} }"""));
        }

        // Identifiers and mailboxes.
        foreach (var mbox in new[]
        {
            "MAILTO:User@Example.COM", "mailto:noatsign", "nocolon@EXAMPLE.org", "a@B:c", "mailto:ü@BÜCHER.de", "mailto:x@y@Z.ORG",
            "mailto:", ":", "MAILTO:" + new string('A', 300) + "@B.C",
        })
        {
            yield return ($"mbox {mbox}", s => s["actor"] = new JsonObject { ["mbox"] = mbox });
        }

        yield return ("mbox escaped", s => s["actor"] = JsonNode.Parse("""{ "mbox": "mailto:\u0041@\u0042.org" }"""));
        yield return ("mbox number", s => s["actor"] = JsonNode.Parse("""{ "mbox": 7, "mbox_sha1sum": false }"""));
        yield return ("sha1 upper", s => s["actor"] = JsonNode.Parse("""{ "mbox_sha1sum": "ABCDEF0123456789ABCDEF0123456789ABCDEF01" }"""));
        yield return ("sha1 non-ascii", s => s["actor"] = JsonNode.Parse("""{ "mbox_sha1sum": "ÄBCİ" }"""));
        yield return ("registration upper", s => EnsureContext(s)["registration"] = "EC531277-B57B-4C15-8D91-D292C5B2B8F7");
        yield return ("registration escaped", s => EnsureContext(s)["registration"] = JsonNode.Parse("\"EC531277-\\u0042\""));
        yield return ("registration number", s => EnsureContext(s)["registration"] = 12);
        yield return ("context statement upper", s => EnsureContext(s)["statement"] = JsonNode.Parse("""{ "objectType": "StatementRef", "id": "ABCDEF00-B57B-4C15-8D91-D292C5B2B8F7" }"""));
        yield return ("context statement not an object", s => EnsureContext(s)["statement"] = "ABC");
        yield return ("statement ref object", s => s["object"] = JsonNode.Parse("""{ "objectType": "StatementRef", "id": "ABCDEF00-B57B-4C15-8D91-D292C5B2B8F7", "definition": { } }"""));

        // Object types.
        yield return ("activity without objectType", s => s["object"] = JsonNode.Parse("""{ "id": "http://example.com/A", "definition": { "name": { "en": "A" } } }"""));
        yield return ("lower-case objectType", s => s["object"] = JsonNode.Parse("""{ "objectType": "activity", "id": "http://example.com/A", "definition": { } }"""));
        yield return ("numeric objectType", s => s["object"] = JsonNode.Parse("""{ "objectType": 1, "id": "http://example.com/A", "definition": { } }"""));
        yield return ("escaped objectType", s => s["object"] = JsonNode.Parse("""{ "objectType": "\u0053ubStatement", "timestamp": "2023-05-04T12:00:00+01:00", "object": { "id": "x", "definition": {} } }"""));
        yield return ("unknown objectType", s => s["object"] = JsonNode.Parse("""{ "objectType": "Other", "member": [ 2, 1 ], "definition": { } }"""));
        yield return ("object not an object", s => s["object"] = new JsonArray("a"));
        yield return ("substatement", s => s["object"] = JsonNode.Parse(WithSubStatement)!["object"]!.DeepClone());
        yield return ("substatement with ignored properties", s =>
        {
            var sub = JsonNode.Parse(WithSubStatement)!["object"]!.DeepClone().AsObject();
            sub["id"] = "KEPT";
            sub["stored"] = "2023-05-04T12:00:00Z";
            sub["version"] = "1.0.0";
            sub["authority"] = new JsonObject { ["mbox"] = "mailto:A@B.C" };
            sub["attachments"] = new JsonArray();
            s["object"] = sub;
        }
        );
        yield return ("nested substatement", s =>
        {
            var sub = JsonNode.Parse(WithSubStatement)!["object"]!.DeepClone().AsObject();
            sub["object"] = JsonNode.Parse(WithSubStatement)!["object"]!.DeepClone();
            s["object"] = sub;
        }
        );

        // Verb, actor and ignored properties.
        yield return ("verb not an object", s => s["verb"] = "verb");
        yield return ("verb display only", s => s["verb"] = JsonNode.Parse("""{ "display": { "en": "x" } }"""));
        yield return ("actor not an object", s => s["actor"] = new JsonArray(new JsonObject { ["mbox"] = "mailto:A@B.C" }));
        yield return ("ignored properties", s =>
        {
            s["id"] = "FFFFFFFF-2B3C-4D5E-8F90-1A2B3C4D5E6F";
            s["stored"] = "x";
            s["authority"] = TestJson.Authority();
            s["version"] = 1;
            s["attachments"] = new JsonArray(TestJson.Object("""{ "usageType": "http://example.com/u" }"""));
        }
        );
        yield return ("top-level member", s => s["member"] = new JsonArray(3, 2, 1));

        // Strings, property names and sorting.
        yield return ("strings and names", s => EnsureContext(s)["extensions"] = JsonNode.Parse("""
            { "b": "é", "B": "😀", "é": "\n\t\r\b\f", "a": "<>&'\"\\/", "\uD83D\uDE00": "\u2028\u2029", "\uFFFD": "\u007f\u0000\u001f",
              "aa": "\u00e9\u00E9", "": "", "Z": { "member": [ { "b": 1, "a": 2 }, { "a": 2, "b": 1 }, { "a": 1 } ] } }
            """));
        yield return ("large object", s =>
        {
            var large = new JsonObject();
            for (var i = 99; i >= 0; i--)
            {
                large[$"k{i * 7919 % 100}_{(char)('a' + (i % 26))}"] = i;
            }

            EnsureContext(s)["extensions"] = new JsonObject { ["http://example.com/large"] = large };
        }
        );
        yield return ("deep nesting", s =>
        {
            JsonNode node = new JsonObject { ["member"] = new JsonArray(2, 1) };
            for (var i = 0; i < 25; i++)
            {
                node = i % 2 == 0 ? new JsonObject { ["member"] = new JsonArray(node, i) } : new JsonArray(node, new JsonObject { ["b"] = i, ["a"] = -i });
            }

            EnsureContext(s)["extensions"] = new JsonObject { ["http://example.com/deep"] = node };
        }
        );
    }

    private static JsonObject Group(params string[] mboxes)
    {
        var members = new JsonArray();
        foreach (var mbox in mboxes)
        {
            members.Add(new JsonObject { ["objectType"] = "Agent", ["mbox"] = mbox });
        }

        return new JsonObject { ["objectType"] = "Group", ["name"] = "G", ["member"] = members };
    }

    private static JsonObject EnsureContext(JsonObject statement)
    {
        if (statement["context"] is not JsonObject context)
        {
            statement["context"] = context = new JsonObject();
        }

        return context;
    }

    private static JsonObject EnsureResult(JsonObject statement)
    {
        if (statement["result"] is not JsonObject result)
        {
            statement["result"] = result = new JsonObject();
        }

        return result;
    }

    private static JsonObject Activities(JsonObject statement)
    {
        var context = EnsureContext(statement);
        if (context["contextActivities"] is not JsonObject activities)
        {
            context["contextActivities"] = activities = new JsonObject();
        }

        return activities;
    }

    private static JsonNode RandomAgent(Random random, int depth)
    {
        var agent = new JsonObject();
        switch (random.Next(5))
        {
            case 0:
                agent["mbox"] = $"{Pick(random, "mailto", "MAILTO", "MailTo")}:{Pick(random, "a", "A", "ü", "b")}@{Pick(random, "x.org", "X.ORG", "Ü.de")}";
                break;
            case 1:
                agent["mbox_sha1sum"] = Pick(random, "ABCDEF", "abcdef", "AbCdEf", "ß");
                break;
            case 2:
                agent["openid"] = Pick(random, "https://A", "https://a");
                break;
            case 3:
                agent["account"] = new JsonObject { ["homePage"] = "https://H", ["name"] = Pick(random, "N", "n", "é") };
                break;
            default:
                agent["objectType"] = "Group";
                if (depth < 2)
                {
                    var members = new JsonArray();
                    for (var m = random.Next(0, 4); m > 0; m--)
                    {
                        members.Add(RandomAgent(random, depth + 1));
                    }

                    agent["member"] = members;
                }

                break;
        }

        if (random.Next(3) == 0)
        {
            agent["name"] = Pick(random, "Z", "a", "é");
        }

        return agent;
    }

    private static JsonNode? RandomNode(Random random, int depth)
    {
        var kind = depth > 4 ? random.Next(5) : random.Next(8);
        return kind switch
        {
            0 => null,
            1 => JsonNode.Parse(Pick(random, "1", "1.0", "-0", "0.5000", "1e3", "12345678901234567890", "3.25", "-7", "1e400", "0.001")),
            2 => JsonValue.Create(random.Next(2) == 0),
            3 => JsonValue.Create(Pick(random, "a", "B", "é", "😀", "\u2028", "\"", "\\", "\u0001", "<&>", "PT1.2345S", "2023-05-04T12:00:00+01:00")),
            4 => JsonNode.Parse(JsonSerializer.Serialize(Pick(random, "x", "é", "\u0000", "mailto:A@B.C"))),
            5 or 6 => RandomObject(random, depth + 1),
            _ => RandomArray(random, depth + 1),
        };
    }

    private static JsonObject RandomObject(Random random, int depth)
    {
        var obj = new JsonObject();
        for (var n = random.Next(0, 7); n > 0; n--)
        {
            var name = Pick(random, "member", "a", "B", "é", "mbox", "id", "definition", "display", "timestamp", "duration", "registration", "Z", "aa", "😀", "\uFFFD");
            obj[name] = name == "member" && random.Next(2) == 0 ? RandomArray(random, depth + 1) : RandomNode(random, depth + 1);
        }

        return obj;
    }

    private static JsonArray RandomArray(Random random, int depth)
    {
        var array = new JsonArray();
        for (var n = random.Next(0, 5); n > 0; n--)
        {
            array.Add(RandomNode(random, depth + 1));
        }

        return array;
    }

    private static string Pick(Random random, params string[] options) => options[random.Next(options.Length)];

    [Fact]
    public void ReferenceComparisonForm_DuringTests_IsTheOriginalAlgorithm() =>
        Assert.Equal(
            """{"actor":{"mbox":"mailto:Learner@example.com"},"object":{"id":"x"},"timestamp":"2023-05-04T17:00:00.5Z","verb":{"id":"v"}}""",
            Encoding.UTF8.GetString(ReferenceComparisonForm.Compute(TestJson.Object(
                """{ "verb": { "id": "v", "display": {} }, "id": "I", "actor": { "mbox": "MAILTO:Learner@EXAMPLE.com" }, "object": { "id": "x", "definition": {} }, "timestamp": "2023-05-04T12:00:00.500-05:00" }"""))),
            StringComparer.Ordinal);
}
