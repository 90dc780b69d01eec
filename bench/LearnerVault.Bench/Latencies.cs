using System.Diagnostics;

namespace LearnerVault.Bench;

/// <summary>Request latencies of one phase, from all workers; percentiles by nearest rank.</summary>
public sealed class Latencies
{
    private readonly List<long> ticks = [];
    private int errors;

    public int Count
    {
        get
        {
            lock (ticks)
            {
                return ticks.Count;
            }
        }
    }

    public int Errors => Volatile.Read(ref errors);

    public void Add(long elapsedTicks)
    {
        lock (ticks)
        {
            ticks.Add(elapsedTicks);
        }
    }

    public void AddError() => Interlocked.Increment(ref errors);

    /// <summary>The <paramref name="percentile"/> (0–100) latency in milliseconds; 0 when nothing was measured.</summary>
    public double Milliseconds(double percentile)
    {
        lock (ticks)
        {
            if (ticks.Count == 0)
            {
                return 0;
            }

            ticks.Sort();
            var rank = (int)Math.Ceiling(percentile / 100.0 * ticks.Count);
            return ticks[Math.Clamp(rank - 1, 0, ticks.Count - 1)] * 1000.0 / Stopwatch.Frequency;
        }
    }
}
