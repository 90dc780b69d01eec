using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace LearnerVault.Bench;

/// <summary>
/// A synthetic school system, fixed by a seed: learners (mbox and account identities at example.org), courses with
/// lessons and questions, the registrations of learners in courses. It writes realistic xAPI statements about them
/// and tells the query phase which agents, activities and registrations exist.
/// </summary>
public sealed class SyntheticData(int learners, int seed)
{
    public const int Courses = 40;
    public const int LessonsPerCourse = 12;
    public const int QuestionsPerCourse = 10;
    public const int CoursesPerLearner = 3;
    public const string Adl = "http://adlnet.gov/expapi/verbs/";

    public static readonly string[] Verbs =
        ["launched", "initialized", "experienced", "answered", "progressed", "completed", "passed", "failed", "terminated"];

    private static readonly string[] Subjects =
        ["Algebra", "Geometry", "Biology", "Chemistry", "Physics", "History", "Geography", "Literature", "Civics", "Music"];

    private static readonly string[] Responses =
    [
        "Photosynthesis turns light energy into chemical energy stored in glucose.",
        "The treaty ended the war but left the border question open.",
        "x = 4",
        "Because the force is balanced, the object keeps moving at the same speed.",
        "The author uses the storm as a metaphor for the family's conflict.",
        "I am not sure, I think it is the second one.",
        "0.75",
        "Mitochondria",
    ];

    private readonly DateTimeOffset now = DateTimeOffset.UtcNow;

    public int Learners { get; } = learners;

    /// <summary>The agent object (as JSON) of learner <paramref name="learner"/>, exactly as it appears in statements.</summary>
    public string AgentJson(int learner)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            WriteAgentIfi(writer, learner);
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    public static string VerbId(int verb) => Adl + Verbs[verb];

    public static string CourseId(int course) => $"https://courses.example.org/c/{course:D3}";

    public static string LessonId(int course, int lesson) => $"{CourseId(course)}/lessons/{lesson:D2}";

    public static string QuestionId(int course, int question) => $"{CourseId(course)}/questions/{question:D2}";

    /// <summary>The courses learner <paramref name="learner"/> is enrolled in.</summary>
    public static int Course(int learner, int enrolment) => ((learner * 7) + (enrolment * 13)) % Courses;

    /// <summary>The registration of a learner in one of their courses: a stable UUID derived from the seed.</summary>
    public Guid Registration(int learner, int enrolment)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.ASCII.GetBytes($"{seed}/{learner}/{enrolment}"), hash);
        hash[7] = (byte)((hash[7] & 0x0F) | 0x40);
        hash[8] = (byte)((hash[8] & 0x3F) | 0x80);
        return new Guid(hash[..16]);
    }

    /// <summary>The body of one POST: a JSON array of <paramref name="count"/> statements, or one object when <paramref name="single"/>.</summary>
    public byte[] Batch(int batchIndex, int count, bool single)
    {
        var random = new Random(HashCode.Combine(seed, batchIndex));
        var buffer = new ArrayBufferWriter<byte>(count * 1400);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            if (!single)
            {
                writer.WriteStartArray();
            }

            for (var i = 0; i < count; i++)
            {
                WriteStatement(writer, random);
            }

            if (!single)
            {
                writer.WriteEndArray();
            }
        }

        return buffer.WrittenSpan.ToArray();
    }

    private void WriteStatement(Utf8JsonWriter w, Random random)
    {
        var learner = random.Next(Learners);
        var enrolment = random.Next(CoursesPerLearner);
        var course = Course(learner, enrolment);
        var verb = random.Next(Verbs.Length);
        var subject = Subjects[course % Subjects.Length];

        w.WriteStartObject();
        w.WriteString("id", Guid.NewGuid());

        w.WriteStartObject("actor");
        w.WriteString("objectType", "Agent");
        w.WriteString("name", $"Learner {learner}");
        WriteAgentIfiProperties(w, learner);
        w.WriteEndObject();

        w.WriteStartObject("verb");
        w.WriteString("id", VerbId(verb));
        w.WriteStartObject("display");
        w.WriteString("en-US", Verbs[verb]);
        w.WriteEndObject();
        w.WriteEndObject();

        var isQuestion = Verbs[verb] == "answered";
        var isAssessment = Verbs[verb] is "passed" or "failed";
        w.WriteStartObject("object");
        w.WriteString("objectType", "Activity");
        if (isQuestion)
        {
            var question = random.Next(QuestionsPerCourse);
            w.WriteString("id", QuestionId(course, question));
            w.WriteStartObject("definition");
            w.WriteStartObject("name");
            w.WriteString("en-US", $"{subject} question {question + 1}");
            w.WriteEndObject();
            w.WriteStartObject("description");
            w.WriteString("en-US", $"Explain your answer to question {question + 1} in your own words.");
            w.WriteEndObject();
            w.WriteString("type", "http://adlnet.gov/expapi/activities/cmi.interaction");
            w.WriteString("interactionType", "long-fill-in");
            w.WriteEndObject();
        }
        else
        {
            var lesson = random.Next(LessonsPerCourse);
            w.WriteString("id", isAssessment ? $"{CourseId(course)}/exam" : LessonId(course, lesson));
            w.WriteStartObject("definition");
            w.WriteStartObject("name");
            w.WriteString("en-US", isAssessment ? $"{subject} unit test" : $"{subject}, lesson {lesson + 1}");
            w.WriteEndObject();
            w.WriteString("type", isAssessment ? "http://adlnet.gov/expapi/activities/assessment" : "http://adlnet.gov/expapi/activities/lesson");
            w.WriteEndObject();
        }

        w.WriteEndObject();

        WriteResult(w, random, Verbs[verb]);

        w.WriteStartObject("context");
        w.WriteString("registration", Registration(learner, enrolment));
        w.WriteString("platform", "Synthetic LMS 4.2");
        w.WriteString("language", random.Next(5) == 0 ? "fr-FR" : "en-US");
        if (random.Next(4) == 0)
        {
            w.WriteStartObject("instructor");
            w.WriteString("objectType", "Agent");
            w.WriteString("name", $"Teacher {course}");
            w.WriteString("mbox", $"mailto:teacher{course:D3}@school.example.org");
            w.WriteEndObject();
        }

        w.WriteStartObject("contextActivities");
        w.WriteStartArray("parent");
        w.WriteStartObject();
        w.WriteString("id", CourseId(course));
        w.WriteStartObject("definition");
        w.WriteStartObject("name");
        w.WriteString("en-US", $"{subject} {course}");
        w.WriteEndObject();
        w.WriteString("type", "http://adlnet.gov/expapi/activities/course");
        w.WriteEndObject();
        w.WriteEndObject();
        w.WriteEndArray();
        w.WriteStartArray("grouping");
        w.WriteStartObject();
        w.WriteString("id", $"https://courses.example.org/programmes/grade-{(course % 6) + 7}");
        w.WriteEndObject();
        w.WriteEndArray();
        w.WriteEndObject();
        w.WriteStartObject("extensions");
        w.WriteString("https://bench.example.org/extensions/session", $"s-{random.Next(1_000_000):D6}");
        w.WriteNumber("https://bench.example.org/extensions/attempt", 1 + random.Next(3));
        w.WriteEndObject();
        w.WriteEndObject();

        var timestamp = now.AddSeconds(-random.Next(30 * 24 * 3600)).AddMilliseconds(-random.Next(1000));
        w.WriteString("timestamp", timestamp.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));
        w.WriteEndObject();
    }

    private static void WriteResult(Utf8JsonWriter w, Random random, string verb)
    {
        switch (verb)
        {
            case "answered":
                w.WriteStartObject("result");
                w.WriteBoolean("success", random.Next(3) != 0);
                w.WriteString("response", Responses[random.Next(Responses.Length)]);
                w.WriteString("duration", $"PT{5 + random.Next(300)}S");
                w.WriteEndObject();
                break;
            case "completed":
                w.WriteStartObject("result");
                w.WriteBoolean("completion", true);
                w.WriteString("duration", $"PT{1 + random.Next(59)}M{random.Next(60)}S");
                w.WriteEndObject();
                break;
            case "passed" or "failed":
                var raw = verb == "passed" ? 60 + random.Next(41) : random.Next(60);
                w.WriteStartObject("result");
                w.WriteStartObject("score");
                w.WriteNumber("scaled", raw / 100.0);
                w.WriteNumber("raw", raw);
                w.WriteNumber("min", 0);
                w.WriteNumber("max", 100);
                w.WriteEndObject();
                w.WriteBoolean("success", verb == "passed");
                w.WriteBoolean("completion", true);
                w.WriteEndObject();
                break;
            case "progressed":
                w.WriteStartObject("result");
                w.WriteStartObject("extensions");
                w.WriteNumber("https://w3id.org/xapi/cmi5/result/extensions/progress", 10 * (1 + random.Next(9)));
                w.WriteEndObject();
                w.WriteEndObject();
                break;
            default:
                break;
        }
    }

    private static void WriteAgentIfi(Utf8JsonWriter w, int learner)
    {
        w.WriteStartObject();
        WriteAgentIfiProperties(w, learner);
        w.WriteEndObject();
    }

    // A quarter of the learners are known by their school information system account, the rest by e-mail.
    private static void WriteAgentIfiProperties(Utf8JsonWriter w, int learner)
    {
        if (learner % 4 == 0)
        {
            w.WriteStartObject("account");
            w.WriteString("homePage", "https://sis.example.org");
            w.WriteString("name", $"s{learner:D7}");
            w.WriteEndObject();
        }
        else
        {
            w.WriteString("mbox", $"mailto:learner{learner:D7}@school{learner % 20:D2}.example.org");
        }
    }
}
