using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace LearnerVault.Privacy.Audit;

/// <summary>
/// The access log's hash chain: <c>hash_n = SHA-256(hash_{n-1} || encode(n, entry_n))</c>, with <c>hash_0</c> a genesis
/// value bound to the tenant, so that a tenant's log cannot be passed off as another's. The encoding is canonical and
/// unambiguous: a version byte, then fixed-size integers and length-prefixed fields (a length of -1 for null), so two
/// different entries never encode alike.
/// </summary>
public static class AccessLogChain
{
    public const byte EncodingVersion = 1;
    public const int HashSize = 32;

    private static readonly byte[] GenesisLabel = Encoding.ASCII.GetBytes("learnervault:access-log:genesis:v1");
    private const long TicksPerMicrosecond = TimeSpan.TicksPerMillisecond / 1000;

    /// <summary>hash_0 of the tenant's chain.</summary>
    public static byte[] Genesis(Guid tenantId)
    {
        var input = new byte[GenesisLabel.Length + 16];
        GenesisLabel.CopyTo(input, 0);
        tenantId.TryWriteBytes(input.AsSpan(GenesisLabel.Length), bigEndian: true, out _);
        return SHA256.HashData(input);
    }

    /// <summary>hash_n from hash_{n-1}: SHA-256(hash_{n-1} || the entry's canonical encoding).</summary>
    public static byte[] Next(ReadOnlySpan<byte> previous, long position, AccessLogEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        using var buffer = new MemoryStream(256);
        buffer.Write(previous);
        WriteEntry(buffer, position, entry);
        return SHA256.HashData(buffer.GetBuffer().AsSpan(0, (int)buffer.Length));
    }

    /// <summary>The time as the log keeps it: whole microseconds since the Unix epoch (UTC), floored.</summary>
    public static long UnixMicroseconds(DateTimeOffset time)
    {
        var ticks = time.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks;
        var quotient = Math.DivRem(ticks, TicksPerMicrosecond, out var remainder);
        return remainder < 0 ? quotient - 1 : quotient;
    }

    /// <summary>The time a log stores for <paramref name="time"/> (floored to the microsecond, UTC).</summary>
    public static DateTimeOffset Truncate(DateTimeOffset time) =>
        new(DateTimeOffset.UnixEpoch.UtcTicks + (UnixMicroseconds(time) * TicksPerMicrosecond), TimeSpan.Zero);

    /// <summary>The canonical encoding of the entry at <paramref name="position"/>.</summary>
    public static byte[] Encode(long position, AccessLogEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        using var buffer = new MemoryStream(256);
        WriteEntry(buffer, position, entry);
        return buffer.ToArray();
    }

    private static void WriteEntry(MemoryStream buffer, long position, AccessLogEntry entry)
    {
        buffer.WriteByte(EncodingVersion);
        WriteInt64(buffer, position);
        WriteInt64(buffer, UnixMicroseconds(entry.Time));
        WriteString(buffer, entry.Principal);
        WriteString(buffer, entry.Client);
        WriteString(buffer, entry.Action);
        WriteString(buffer, entry.Purpose);
        WriteBytes(buffer, entry.LearnerPseudonym);
        WriteInt64(buffer, entry.Records);
        buffer.WriteByte((byte)entry.Decision);
        WriteString(buffer, entry.Reason);
    }

    private static void WriteInt64(Stream stream, long value)
    {
        Span<byte> bytes = stackalloc byte[8];
        BinaryPrimitives.WriteInt64BigEndian(bytes, value);
        stream.Write(bytes);
    }

    /// <summary>Length-prefixed UTF-8 (length -1: null), encoded straight into the buffer.</summary>
    private static void WriteString(MemoryStream buffer, string? value)
    {
        if (value is null)
        {
            WriteBytes(buffer, null);
            return;
        }

        var length = Encoding.UTF8.GetByteCount(value);
        WriteInt32(buffer, length);
        var start = (int)buffer.Length;
        buffer.SetLength(start + length);
        Encoding.UTF8.GetBytes(value, buffer.GetBuffer().AsSpan(start, length));
        buffer.Position = start + length;
    }

    private static void WriteBytes(Stream stream, byte[]? value)
    {
        WriteInt32(stream, value?.Length ?? -1);
        if (value is not null)
        {
            stream.Write(value);
        }
    }

    private static void WriteInt32(Stream stream, int value)
    {
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(bytes, value);
        stream.Write(bytes);
    }
}
