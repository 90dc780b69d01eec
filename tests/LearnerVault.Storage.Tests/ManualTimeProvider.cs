namespace LearnerVault.Storage.Tests;

/// <summary>A clock the test sets, forwards or backwards (a wall clock can be stepped back by NTP).</summary>
public sealed class ManualTimeProvider(DateTimeOffset start) : TimeProvider
{
    private readonly Lock gate = new();
    private DateTimeOffset now = start;

    public override DateTimeOffset GetUtcNow()
    {
        lock (gate)
        {
            return now;
        }
    }

    public void Advance(TimeSpan delta)
    {
        lock (gate)
        {
            now += delta;
        }
    }

    public void Set(DateTimeOffset value)
    {
        lock (gate)
        {
            now = value;
        }
    }
}
