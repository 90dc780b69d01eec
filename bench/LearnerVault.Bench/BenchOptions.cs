using System.Globalization;

namespace LearnerVault.Bench;

/// <summary>The command line of the load generator. Hand-parsed: the bench has no dependencies.</summary>
public sealed record BenchOptions
{
    public Uri Endpoint { get; init; } = new("http://127.0.0.1:8080/xapi/");
    public string Key { get; init; } = string.Empty;
    public string Secret { get; init; } = string.Empty;
    public int Statements { get; init; } = 100_000;
    public int Batch { get; init; } = 100;
    public int Concurrency { get; init; } = 4;
    public int Queries { get; init; } = 2_000;
    public int QueryLimit { get; init; } = 10;
    public int Learners { get; init; } = 10_000;
    public int? ServerPid { get; init; }
    public int Seed { get; init; } = 1;
    public int WaitSeconds { get; init; } = 60;
    public int Warmup { get; init; }
    public bool GenerateInline { get; init; }

    public const string Usage = """
        LearnerVault load generator: posts synthetic xAPI statements, then runs the common filtered queries.

        usage: dotnet run -c Release --project bench/LearnerVault.Bench -- --endpoint URL --key KEY --secret SECRET [options]

          --endpoint URL      the xAPI endpoint, e.g. http://127.0.0.1:8080/xapi
          --key KEY           client key (HTTP Basic user name); the client needs statements/write and statements/read
          --secret SECRET     client secret
          --statements N      statements to post (default 100000; 0 skips the ingest phase)
          --batch N           statements per POST (default 100; 1 posts single statement objects)
          --concurrency N     requests in flight at once (default 4)
          --queries N         queries to run, spread over the query kinds (default 2000; 0 skips)
          --query-limit N     limit= of the filtered queries (default 10)
          --learners N        distinct synthetic learners (default 10000)
          --server-pid PID    read VmRSS/VmHWM of this process from /proc at the end
          --seed N            seed of the synthetic data (default 1): same seed, same learners and activities
          --wait-seconds N    wait up to N seconds for the endpoint to answer /about (default 60)
          --warmup N          first post N statements (same batch and concurrency) and run 10 queries of each kind,
                              reported apart, so that the measured phases see a server whose code is compiled
                              (default 0: measure from the first request)
          --generate-inline   build each request body just before posting it, inside the timed phase (by default
                              all bodies are built before it, up to 2 GiB of them, so that generating them takes no
                              CPU from a server on the same machine while it is measured)
        """;

    public static BenchOptions Parse(IReadOnlyList<string> args)
    {
        var options = new BenchOptions();
        for (var i = 0; i < args.Count; i++)
        {
            var name = args[i];
            string Value() => i + 1 < args.Count ? args[++i] : throw new ArgumentException($"{name} needs a value");
            int Number(int min) =>
                int.TryParse(Value(), NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= min
                    ? n
                    : throw new ArgumentException($"{name} needs a whole number of at least {min}");

            options = name switch
            {
                "--endpoint" => options with { Endpoint = ParseEndpoint(Value()) },
                "--key" => options with { Key = Value() },
                "--secret" => options with { Secret = Value() },
                "--statements" => options with { Statements = Number(0) },
                "--batch" => options with { Batch = Number(1) },
                "--concurrency" => options with { Concurrency = Number(1) },
                "--queries" => options with { Queries = Number(0) },
                "--query-limit" => options with { QueryLimit = Number(1) },
                "--learners" => options with { Learners = Number(1) },
                "--server-pid" => options with { ServerPid = Number(1) },
                "--seed" => options with { Seed = Number(0) },
                "--wait-seconds" => options with { WaitSeconds = Number(0) },
                "--warmup" => options with { Warmup = Number(0) },
                "--generate-inline" => options with { GenerateInline = true },
                _ => throw new ArgumentException($"unknown option '{name}'"),
            };
        }

        if (options.Key.Length == 0 || options.Secret.Length == 0)
        {
            throw new ArgumentException("--key and --secret are required (create a client with 'lvault clients add --json')");
        }

        return options;
    }

    // Accepts the endpoint with or without its trailing slash; relative paths ("statements") resolve under it.
    private static Uri ParseEndpoint(string value)
    {
        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            throw new ArgumentException($"--endpoint must be an http(s) URL, not '{value}'");
        }

        return value.EndsWith('/') ? uri : new Uri(value + "/");
    }
}
