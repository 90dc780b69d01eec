using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace LearnerVault.Bench;

/// <summary>One line of the final summary.</summary>
public sealed record ReportRow(string Phase, int Requests, int Errors, double Rate, string RateUnit, double P50, double P99, double Max, string Note);

/// <summary>Runs the phases against a running server and prints what it measured. It asserts nothing about speed.</summary>
public static class BenchRunner
{
    private const string Version = "2.0.0";

    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Any(a => a is "--help" or "-h" or "-?"))
        {
            Console.WriteLine(BenchOptions.Usage);
            return 0;
        }

        BenchOptions options;
        try
        {
            options = BenchOptions.Parse(args);
        }
        catch (ArgumentException ex)
        {
            await Console.Error.WriteLineAsync($"error: {ex.Message} (see --help)");
            return 2;
        }

        using var http = CreateClient(options);
        if (!await WaitForServerAsync(http, options.WaitSeconds))
        {
            await Console.Error.WriteLineAsync($"error: {options.Endpoint}about did not answer within {options.WaitSeconds} s");
            return 1;
        }

        using (var probe = await http.GetAsync("statements?limit=1"))
        {
            if (probe.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
            {
                await Console.Error.WriteLineAsync($"error: the server answered {(int)probe.StatusCode} to the client's credentials (needs statements/read and statements/write)");
                return 1;
            }
        }

        Console.WriteLine($"endpoint {options.Endpoint}  statements {options.Statements}  batch {options.Batch}  concurrency {options.Concurrency}  queries {options.Queries}  learners {options.Learners}");
        var data = new SyntheticData(options.Learners, options.Seed);
        var rows = new List<ReportRow>();
        if (options.Warmup > 0)
        {
            // The server's code is compiled as it runs (tiered JIT): without a warm-up the first tens of seconds measure
            // the compiler as much as the server. Warm-up rows are printed but left out of the summary.
            Console.WriteLine($"warm-up: {options.Warmup} statements and 10 queries of each kind, not counted");
            var warmupStart = DateTimeOffset.UtcNow;
            await IngestAsync(http, data, options with { Statements = options.Warmup });
            await QueryAsync(http, data, options with { Queries = 80 }, warmupStart, DateTimeOffset.UtcNow);
        }

        var ingestStart = DateTimeOffset.UtcNow;
        if (options.Statements > 0)
        {
            rows.Add(await IngestAsync(http, data, options));
        }

        var ingestEnd = DateTimeOffset.UtcNow;
        var afterIngest = options.ServerPid is { } pid ? ServerMemory.Read(pid) : null;
        if (afterIngest is not null)
        {
            Console.WriteLine($"server memory after ingest: {afterIngest}");
        }

        if (options.Queries > 0)
        {
            if (options.Statements == 0)
            {
                ingestStart = ingestEnd.AddHours(-1);
            }

            rows.AddRange(await QueryAsync(http, data, options, ingestStart, ingestEnd));
        }

        Console.WriteLine();
        PrintSummary(rows);
        if (options.ServerPid is { } serverPid)
        {
            var memory = ServerMemory.Read(serverPid);
            Console.WriteLine(memory is null
                ? $"server memory: /proc/{serverPid}/status is not readable"
                : $"server memory at the end: {memory}");
        }

        return rows.Sum(r => r.Errors) > 0 ? 1 : 0;
    }

    private static HttpClient CreateClient(BenchOptions options)
    {
        var handler = new SocketsHttpHandler
        {
            MaxConnectionsPerServer = options.Concurrency,
            UseCookies = false,
            AutomaticDecompression = DecompressionMethods.None,
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
        };
        var http = new HttpClient(handler) { BaseAddress = options.Endpoint, Timeout = TimeSpan.FromMinutes(2) };
        http.DefaultRequestHeaders.Add("X-Experience-API-Version", Version);
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue(
            "Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{options.Key}:{options.Secret}")));
        return http;
    }

    private static async Task<bool> WaitForServerAsync(HttpClient http, int seconds)
    {
        var deadline = Stopwatch.GetTimestamp() + (seconds * Stopwatch.Frequency);
        while (true)
        {
            try
            {
                using var response = await http.GetAsync("about");
                if (response.IsSuccessStatusCode)
                {
                    return true;
                }
            }
            catch (HttpRequestException)
            {
            }

            if (Stopwatch.GetTimestamp() > deadline)
            {
                return false;
            }

            await Task.Delay(200);
        }
    }

    private static async Task<ReportRow> IngestAsync(HttpClient http, SyntheticData data, BenchOptions options)
    {
        var batches = (int)Math.Ceiling(options.Statements / (double)options.Batch);
        var single = options.Batch == 1;
        var latencies = new Latencies();
        var posted = 0;
        var firstError = 0;
        Console.WriteLine($"ingest: {options.Statements} statements in {batches} POSTs of {options.Batch}, {options.Concurrency} at a time");
        int Count(int index) => Math.Min(options.Batch, options.Statements - (index * options.Batch));
        byte[] Build(int index) => data.Batch(index, Count(index), single);
        var bodies = Pregenerate(options, batches, Build);

        using var stopProgress = new CancellationTokenSource();
        var started = Stopwatch.GetTimestamp();
        var progress = ReportProgressAsync(() => Volatile.Read(ref posted), options.Statements, started, stopProgress.Token);

        var wall = await RunConcurrentlyAsync(batches, options.Concurrency, async index =>
        {
            var count = Count(index);
            var payload = bodies?[index] ?? Build(index);
            if (bodies is not null)
            {
                bodies[index] = null; // posted once; let the collector have it
            }

            using var content = new ByteArrayContent(payload);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/json");

            var start = Stopwatch.GetTimestamp();
            using var response = await http.PostAsync("statements", content);
            var body = await response.Content.ReadAsStringAsync();
            var elapsed = Stopwatch.GetTimestamp() - start;

            if (response.StatusCode is HttpStatusCode.OK or HttpStatusCode.NoContent)
            {
                latencies.Add(elapsed);
                Interlocked.Add(ref posted, count);
            }
            else
            {
                latencies.AddError();
                if (Interlocked.Exchange(ref firstError, 1) == 0)
                {
                    await Console.Error.WriteLineAsync($"  first failed POST: {(int)response.StatusCode} {Truncate(body)}");
                }
            }
        });

        await stopProgress.CancelAsync();
        await progress;

        var rate = posted / wall.TotalSeconds;
        Console.WriteLine($"ingest: {posted} statements in {wall.TotalSeconds:F1} s = {rate:F0} statements/s; POST p50 {latencies.Milliseconds(50):F1} ms, p99 {latencies.Milliseconds(99):F1} ms");
        return new ReportRow(
            $"ingest (batch {options.Batch})", batches, latencies.Errors, rate, "statements/s",
            latencies.Milliseconds(50), latencies.Milliseconds(99), latencies.Milliseconds(100), $"{batches / wall.TotalSeconds:F0} POST/s");
    }

    /// <summary>
    /// Every request body of the ingest, built before the timed phase and in parallel, so that building them takes no
    /// CPU from a server on the same machine while it is measured (about 8 µs a statement). Null when
    /// <c>--generate-inline</c> is given or the bodies would take more than 2 GiB: then each is built just before it
    /// is posted.
    /// </summary>
    private static byte[]?[]? Pregenerate(BenchOptions options, int batches, Func<int, byte[]> build)
    {
        const long MaxBytes = 2L << 30;
        const int BytesPerStatement = 1100; // the bench's statements average about 1,040 bytes
        if (options.GenerateInline || (long)options.Statements * BytesPerStatement > MaxBytes)
        {
            Console.WriteLine("ingest: request bodies built while posting (inside the timed phase)");
            return null;
        }

        var started = Stopwatch.GetTimestamp();
        var bodies = new byte[]?[batches];
        Parallel.For(0, batches, index => bodies[index] = build(index));
        GC.Collect(); // the builders' buffers are garbage now, not a collection in the timed phase
        var megabytes = bodies.Sum(body => (long)body!.Length) / (1024.0 * 1024.0);
        Console.WriteLine($"ingest: {batches} request bodies ({megabytes:F0} MiB) built before the timed phase in {Stopwatch.GetElapsedTime(started).TotalSeconds:F1} s");
        return bodies;
    }

    private static async Task<List<ReportRow>> QueryAsync(HttpClient http, SyntheticData data, BenchOptions options, DateTimeOffset since, DateTimeOffset until)
    {
        var limit = options.QueryLimit;
        var kinds = new (string Name, Func<Random, string> Query)[]
        {
            ("agent", r => $"agent={Escape(data.AgentJson(r.Next(data.Learners)))}&limit={limit}"),
            ("verb", r => $"verb={Escape(SyntheticData.VerbId(r.Next(SyntheticData.Verbs.Length)))}&limit={limit}"),
            ("activity", r => $"activity={Escape(SyntheticData.LessonId(r.Next(SyntheticData.Courses), r.Next(SyntheticData.LessonsPerCourse)))}&limit={limit}"),
            ("registration", r =>
            {
                var learner = r.Next(data.Learners);
                return $"registration={data.Registration(learner, r.Next(SyntheticData.CoursesPerLearner))}&limit={limit}";
            }),
            ("agent+verb", r => $"agent={Escape(data.AgentJson(r.Next(data.Learners)))}&verb={Escape(SyntheticData.VerbId(r.Next(SyntheticData.Verbs.Length)))}&limit={limit}"),
            ("since", r =>
            {
                var at = since + ((until - since) * r.NextDouble());
                return $"since={Escape(at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", System.Globalization.CultureInfo.InvariantCulture))}&limit={limit}";
            }),
            ("limit=10", _ => "limit=10"),
            ("limit=100", _ => "limit=100"),
        };

        var perKind = Math.Max(1, options.Queries / kinds.Length);
        Console.WriteLine($"queries: {perKind} of each of {kinds.Length} kinds, {options.Concurrency} at a time, filtered ones with limit={limit}");
        var rows = new List<ReportRow>();
        foreach (var (name, query) in kinds)
        {
            var random = new Random(HashCode.Combine(options.Seed, name));
            var urls = Enumerable.Range(0, perKind).Select(_ => "statements?" + query(random)).ToArray();
            var latencies = new Latencies();
            long hits = 0;
            var firstError = 0;

            var wall = await RunConcurrentlyAsync(urls.Length, options.Concurrency, async index =>
            {
                var start = Stopwatch.GetTimestamp();
                using var response = await http.GetAsync(urls[index]);
                var body = await response.Content.ReadAsByteArrayAsync();
                var elapsed = Stopwatch.GetTimestamp() - start;

                if (response.StatusCode == HttpStatusCode.OK)
                {
                    latencies.Add(elapsed);
                    using var document = JsonDocument.Parse(body);
                    Interlocked.Add(ref hits, document.RootElement.GetProperty("statements").GetArrayLength());
                }
                else
                {
                    latencies.AddError();
                    if (Interlocked.Exchange(ref firstError, 1) == 0)
                    {
                        await Console.Error.WriteLineAsync($"  first failed {name} query: {(int)response.StatusCode} {Truncate(Encoding.UTF8.GetString(body))}");
                    }
                }
            });

            var row = new ReportRow(
                $"query {name}", urls.Length, latencies.Errors, urls.Length / wall.TotalSeconds, "queries/s",
                latencies.Milliseconds(50), latencies.Milliseconds(99), latencies.Milliseconds(100),
                $"{hits / (double)Math.Max(1, latencies.Count):F1} statements/answer");
            Console.WriteLine($"  {row.Phase,-20} {row.Rate,8:F0} queries/s  p50 {row.P50:F1} ms  p99 {row.P99:F1} ms  ({row.Note})");
            rows.Add(row);
        }

        return rows;
    }

    /// <summary>Runs <paramref name="total"/> numbered requests with at most <paramref name="concurrency"/> in flight; returns the wall time.</summary>
    private static async Task<TimeSpan> RunConcurrentlyAsync(int total, int concurrency, Func<int, Task> request)
    {
        var next = -1;
        var started = Stopwatch.GetTimestamp();
        var workers = Enumerable.Range(0, Math.Min(concurrency, total)).Select(_ => Task.Run(async () =>
        {
            int index;
            while ((index = Interlocked.Increment(ref next)) < total)
            {
                try
                {
                    await request(index);
                }
                catch (HttpRequestException ex)
                {
                    await Console.Error.WriteLineAsync($"  request failed: {ex.Message}");
                    throw;
                }
            }
        }));
        await Task.WhenAll(workers);
        return Stopwatch.GetElapsedTime(started);
    }

    private static async Task ReportProgressAsync(Func<int> done, int total, long started, CancellationToken ct)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(5));
        try
        {
            while (await timer.WaitForNextTickAsync(ct))
            {
                var count = done();
                var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
                Console.WriteLine($"  {count} / {total} statements, {count / seconds:F0} statements/s so far");
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static void PrintSummary(IReadOnlyList<ReportRow> rows)
    {
        Console.WriteLine($"{"phase",-22} {"requests",9} {"errors",7} {"rate",12} {"unit",-13} {"p50 ms",8} {"p99 ms",8} {"max ms",8}  note");
        Console.WriteLine(new string('-', 110));
        foreach (var r in rows)
        {
            Console.WriteLine($"{r.Phase,-22} {r.Requests,9} {r.Errors,7} {r.Rate,12:F0} {r.RateUnit,-13} {r.P50,8:F1} {r.P99,8:F1} {r.Max,8:F1}  {r.Note}");
        }
    }

    private static string Escape(string value) => Uri.EscapeDataString(value);

    private static string Truncate(string body) => body.Length <= 300 ? body : body[..300] + "…";
}
