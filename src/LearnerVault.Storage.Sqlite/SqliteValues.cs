using System.Buffers.Binary;

namespace LearnerVault.Storage.Sqlite;

/// <summary>How values are laid out in the SQLite files: ids as RFC 4122 byte order, times as unix microseconds.</summary>
internal static class SqliteValues
{
    private const long TicksPerMicrosecond = TimeSpan.TicksPerMillisecond / 1000;

    public static byte[] GuidBytes(Guid id)
    {
        var bytes = new byte[16];
        id.TryWriteBytes(bytes, bigEndian: true, out _);
        return bytes;
    }

    public static Guid ToGuid(ReadOnlySpan<byte> bytes) => new(bytes, bigEndian: true);

    public static long ToUnixMicroseconds(DateTimeOffset time) =>
        FloorDivide(time.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks, TicksPerMicrosecond);

    public static DateTimeOffset FromUnixMicroseconds(long microseconds) =>
        new(DateTimeOffset.UnixEpoch.UtcTicks + (microseconds * TicksPerMicrosecond), TimeSpan.Zero);

    public static byte[] Int64Bytes(long value)
    {
        var bytes = new byte[8];
        BinaryPrimitives.WriteInt64BigEndian(bytes, value);
        return bytes;
    }

    private static long FloorDivide(long value, long divisor)
    {
        var quotient = Math.DivRem(value, divisor, out var remainder);
        return remainder < 0 ? quotient - 1 : quotient;
    }
}
