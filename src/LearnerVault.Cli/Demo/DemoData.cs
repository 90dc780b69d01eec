using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace LearnerVault.Cli.Demo;

/// <summary>
/// Synthetic learners (example.org identities, never real people) and the xAPI statements a small school's courses
/// would produce for them. Deterministic for a given anchor time: the same statement ids every time, so a demo that was
/// seeded once is recognised by its last statement.
/// </summary>
public static class DemoData
{
    public const int LearnerCount = 300;
    public const int StatementCount = 3000;
    public const int Seed = 20261128;
    public const string Platform = "LearnerVault demo";

    private static readonly string[] FirstNames =
        ["Amara", "Bo", "Chen", "Dara", "Elif", "Farid", "Grace", "Hana", "Ivan", "Jonas", "Kofi", "Lena", "Mateo", "Nia", "Omar", "Priya", "Quinn", "Rosa", "Sami", "Tariq", "Uma", "Viktor", "Wen", "Ximena", "Yusuf", "Zoe"];

    private static readonly string[] LastNames =
        ["Adeyemi", "Berg", "Costa", "Dubois", "Eriksen", "Fischer", "Garcia", "Haddad", "Ito", "Jensen", "Kowalski", "Lopez", "Mensah", "Novak", "Okafor", "Petrov", "Rossi", "Silva", "Tanaka", "Umarov", "Varga", "Weber", "Yilmaz", "Zhang"];

    private static readonly (string Slug, string Title)[] Courses =
    [
        ("algebra-1", "Algebra I"),
        ("biology-intro", "Introduction to Biology"),
        ("world-history", "World History"),
        ("english-writing", "Writing Essays"),
        ("digital-citizenship", "Digital Citizenship"),
        ("physics-motion", "Physics: Motion and Forces"),
    ];

    private static readonly (string Prompt, string[] Answers, int Correct)[] Questions =
    [
        ("Which answer best explains the main idea?", ["because the evidence supports it", "it was in the title", "I guessed", "the teacher said so"], 0),
        ("Solve for x: 2x + 6 = 14", ["4", "3", "10", "8"], 0),
        ("Name one way to check whether a source is reliable.", ["look for the author and the date", "it has many pictures", "it is the first result", "it is short"], 0),
        ("What happens to the net force when two equal forces act in opposite directions?", ["it is zero", "it doubles", "it halves", "it reverses"], 0),
    ];

    private const string Adl = "http://adlnet.gov/expapi/verbs/";

    /// <summary>The statements in the order they are to be stored (oldest first); timestamps fall in the 60 days before <paramref name="anchor"/>.</summary>
    public static IReadOnlyList<JsonElement> Generate(DateTimeOffset anchor, int learnerCount = LearnerCount, int statementCount = StatementCount)
    {
        var random = new Random(Seed);
        var learners = Enumerable.Range(1, learnerCount).Select(i => Learner(i, random)).ToList();

        // Each learner follows one to three courses; each enrolment is one registration.
        var enrolments = new List<(JsonObject Actor, int Course, Guid Registration)>();
        foreach (var learner in learners)
        {
            var courses = Enumerable.Range(0, Courses.Length).OrderBy(_ => random.Next()).Take(1 + random.Next(3));
            enrolments.AddRange(courses.Select(c => (learner, c, NewGuid(random))));
        }

        var start = new DateTimeOffset(anchor.UtcDateTime.Date, TimeSpan.Zero).AddDays(-60);
        var statements = new List<(long Offset, Guid Id, JsonObject Statement)>(statementCount);
        for (var i = 0; i < statementCount; i++)
        {
            var (actor, course, registration) = enrolments[random.Next(enrolments.Count)];
            var offsetSeconds = random.NextInt64(60L * 24 * 3600);
            var id = NewGuid(random);
            var statement = Statement(random, id, actor, course, registration, start.AddSeconds(offsetSeconds));
            statements.Add((offsetSeconds, id, statement));
        }

        return statements
            .OrderBy(s => s.Offset)
            .ThenBy(s => s.Id)
            .Select(s => JsonSerializer.SerializeToElement(s.Statement))
            .ToList();
    }

    /// <summary>The id of the statement stored last: when it is stored, the whole demo is.</summary>
    public static Guid LastStatementId(IReadOnlyList<JsonElement> statements) =>
        statements[^1].GetProperty("id").GetGuid();

    private static JsonObject Learner(int index, Random random)
    {
        var first = FirstNames[random.Next(FirstNames.Length)];
        var last = LastNames[random.Next(LastNames.Length)];
        var name = $"{first} {last}";
        // Most LMSs identify learners by e-mail; some by their own account id. Both appear, as in real data.
        return index % 3 == 0
            ? new JsonObject
            {
                ["objectType"] = "Agent",
                ["name"] = name,
                ["account"] = new JsonObject
                {
                    ["homePage"] = "https://lms.example.org",
                    ["name"] = $"learner-{index:D5}",
                },
            }
            : new JsonObject
            {
                ["objectType"] = "Agent",
                ["name"] = name,
                ["mbox"] = $"mailto:{first.ToLowerInvariant()}.{last.ToLowerInvariant()}.{index:D4}@example.org",
            };
    }

    private static JsonObject Statement(Random random, Guid id, JsonObject actor, int course, Guid registration, DateTimeOffset timestamp)
    {
        var (slug, title) = Courses[course];
        var courseId = $"https://courses.example.org/{slug}";
        var lesson = 1 + random.Next(5);
        var lessonId = $"{courseId}/lessons/{lesson}";
        var kind = random.Next(100);

        JsonObject verb;
        JsonObject activity;
        JsonObject? result = null;
        if (kind < 30)
        {
            verb = Verb("experienced");
            activity = Activity(lessonId, $"{title}, lesson {lesson}", "http://adlnet.gov/expapi/activities/lesson");
        }
        else if (kind < 40)
        {
            verb = Verb("launched");
            activity = Activity(lessonId, $"{title}, lesson {lesson}", "http://adlnet.gov/expapi/activities/lesson");
        }
        else if (kind < 75)
        {
            var q = random.Next(Questions.Length);
            var (prompt, answers, correct) = Questions[q];
            var chosen = random.Next(100) < 70 ? correct : random.Next(answers.Length);
            verb = Verb("answered");
            activity = Activity($"{courseId}/quiz/questions/{q + 1}", prompt, "http://adlnet.gov/expapi/activities/cmi.interaction");
            ((JsonObject)activity["definition"]!)["interactionType"] = "fill-in";
            ((JsonObject)activity["definition"]!)["correctResponsesPattern"] = new JsonArray(answers[correct]);
            result = new JsonObject
            {
                ["response"] = answers[chosen],
                ["success"] = chosen == correct,
                ["duration"] = Duration(random, 10, 240),
            };
        }
        else if (kind < 90)
        {
            verb = Verb("completed");
            activity = Activity(lessonId, $"{title}, lesson {lesson}", "http://adlnet.gov/expapi/activities/lesson");
            result = new JsonObject { ["completion"] = true, ["duration"] = Duration(random, 300, 3600) };
        }
        else
        {
            var raw = random.Next(101);
            var passed = raw >= 60;
            verb = Verb(passed ? "passed" : "failed");
            activity = Activity($"{courseId}/quiz", $"{title} quiz", "http://adlnet.gov/expapi/activities/assessment");
            result = new JsonObject
            {
                ["score"] = new JsonObject { ["scaled"] = raw / 100.0, ["raw"] = raw, ["min"] = 0, ["max"] = 100 },
                ["success"] = passed,
                ["completion"] = true,
                ["duration"] = Duration(random, 600, 2400),
            };
        }

        var context = new JsonObject
        {
            ["registration"] = registration.ToString("D"),
            ["platform"] = Platform,
            ["language"] = "en-US",
            ["contextActivities"] = new JsonObject
            {
                ["parent"] = new JsonArray(Activity(courseId, title, "http://adlnet.gov/expapi/activities/course")),
            },
        };
        if (random.Next(4) == 0)
        {
            context["instructor"] = new JsonObject
            {
                ["objectType"] = "Agent",
                ["name"] = $"{title} teacher",
                ["mbox"] = $"mailto:teacher.{slug}@example.org",
            };
        }

        var statement = new JsonObject
        {
            ["id"] = id.ToString("D"),
            ["actor"] = actor.DeepClone(),
            ["verb"] = verb,
            ["object"] = activity,
            ["context"] = context,
            ["timestamp"] = timestamp.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture),
        };
        if (result is not null)
        {
            statement["result"] = result;
        }

        return statement;
    }

    private static JsonObject Verb(string name) => new()
    {
        ["id"] = Adl + name,
        ["display"] = new JsonObject { ["en-US"] = name },
    };

    private static JsonObject Activity(string id, string name, string type) => new()
    {
        ["objectType"] = "Activity",
        ["id"] = id,
        ["definition"] = new JsonObject
        {
            ["name"] = new JsonObject { ["en-US"] = name },
            ["type"] = type,
        },
    };

    private static string Duration(Random random, int minSeconds, int maxSeconds)
    {
        var seconds = minSeconds + random.Next(maxSeconds - minSeconds);
        return seconds >= 60 ? $"PT{seconds / 60}M{seconds % 60}S" : $"PT{seconds}S";
    }

    // A random (version 4) UUID from the seeded generator, so the demo's ids are the same on every run.
    private static Guid NewGuid(Random random)
    {
        Span<byte> bytes = stackalloc byte[16];
        random.NextBytes(bytes);
        bytes[7] = (byte)((bytes[7] & 0x0F) | 0x40);
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80);
        return new Guid(bytes);
    }
}
