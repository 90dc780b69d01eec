namespace LearnerVault.Storage.Postgres;

/// <summary>
/// timestamptz holds whole microseconds, a <see cref="DateTimeOffset"/> 100 ns ticks. Values are floored to the
/// microsecond (and put in UTC, which Npgsql requires for timestamptz) before they are written or compared, so that
/// what a store returns is exactly what a later read returns.
/// </summary>
internal static class PostgresTimestamps
{
    private const long TicksPerMicrosecond = TimeSpan.TicksPerMillisecond / 1000;

    public static DateTimeOffset Floor(DateTimeOffset time)
    {
        var ticks = time.UtcTicks;
        var remainder = ticks % TicksPerMicrosecond;
        return new DateTimeOffset(ticks - (remainder < 0 ? remainder + TicksPerMicrosecond : remainder), TimeSpan.Zero);
    }

    public static DateTimeOffset OneMicrosecondAfter(DateTimeOffset time) => Floor(time).AddTicks(TicksPerMicrosecond);
}
