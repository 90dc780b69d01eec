using System.Globalization;
using System.Text;

namespace LearnerVault.Xapi;

/// <summary>
/// ISO 8601 combined date and time, as xAPI Timestamps use it: extended (2015-11-18T12:17:00.123+01:00) or basic
/// (20151118T121700Z) format, seconds and fraction optional, offset Z, ±hh:mm, ±hhmm or ±hh. A timestamp without
/// an offset is read as UTC. The "unknown local offset" forms -00, -0000 and -00:00 are rejected.
/// </summary>
public static class XapiTimestamp
{
    /// <summary>Parses a timestamp (also for since/until query parameters). Fractions beyond 100 ns are truncated.</summary>
    public static bool TryParse(string? value, out DateTimeOffset instant)
    {
        instant = default;
        if (value is null)
        {
            return false;
        }

        var text = value.Length <= 64 ? stackalloc byte[256] : new byte[Encoding.UTF8.GetMaxByteCount(value.Length)];
        var length = Encoding.UTF8.GetBytes(value, text);
        if (!TryParse(text[..length], out var parts))
        {
            return false;
        }

        instant = parts.ToInstant();
        return true;
    }

    /// <summary>
    /// The same instant in UTC, "yyyy-MM-ddTHH:mm:ss[.fraction]Z", keeping every fraction digit that was sent.
    /// Null when <paramref name="value"/> is not a timestamp.
    /// </summary>
    public static string? ToUtc(string value) => Convert(value, trimFraction: false);

    /// <summary>Like <see cref="ToUtc"/>, with trailing zeros of the fraction removed: one string per instant.</summary>
    internal static string? ToCanonical(string value) => Convert(value, trimFraction: true);

    private static string? Convert(string value, bool trimFraction)
    {
        var buffer = value.Length <= 64 ? stackalloc byte[256] : new byte[Encoding.UTF8.GetMaxByteCount(value.Length)];
        var length = Encoding.UTF8.GetBytes(value, buffer);
        var text = buffer[..length];
        var output = length <= 100 ? stackalloc byte[128] : new byte[MaxUtcLength(length)];
        return TryFormatUtc(text, trimFraction, output, out var written) ? Encoding.ASCII.GetString(output[..written]) : null;
    }

    /// <summary>The largest number of bytes <see cref="TryFormatUtc"/> writes for a timestamp of <paramref name="textLength"/> bytes.</summary>
    internal static int MaxUtcLength(int textLength) => textLength + 21;

    /// <summary>
    /// Writes the UTC form ("yyyy-MM-ddTHH:mm:ss[.fraction]Z", ASCII) of the UTF-8 timestamp <paramref name="text"/>;
    /// false when it is not a timestamp. <paramref name="destination"/> must hold <see cref="MaxUtcLength"/> bytes.
    /// </summary>
    internal static bool TryFormatUtc(ReadOnlySpan<byte> text, bool trimFraction, Span<byte> destination, out int written)
    {
        written = 0;
        if (!TryParse(text, out var parts))
        {
            return false;
        }

        var utc = new DateTime(parts.Year, parts.Month, parts.Day, parts.Hour, parts.Minute, parts.Second, DateTimeKind.Unspecified)
            .AddMinutes(-parts.OffsetMinutes);
        var fraction = text.Slice(parts.FractionStart, parts.FractionLength);
        if (trimFraction)
        {
            fraction = fraction.TrimEnd((byte)'0');
        }

        if (destination.Length < 21 + fraction.Length
            || !utc.TryFormat(destination, out var length, "yyyy-MM-dd'T'HH:mm:ss", CultureInfo.InvariantCulture))
        {
            throw new ArgumentException("The destination is too small for the timestamp.", nameof(destination));
        }

        if (!fraction.IsEmpty)
        {
            destination[length++] = (byte)'.';
            fraction.CopyTo(destination[length..]);
            length += fraction.Length;
        }

        destination[length++] = (byte)'Z';
        written = length;
        return true;
    }

    internal static bool IsValid(ReadOnlySpan<byte> s) => TryParse(s, out _);

    internal static bool TryParse(ReadOnlySpan<byte> s, out Parts parts)
    {
        parts = default;
        var i = 0;
        if (!Digits(s, ref i, 4, out var year))
        {
            return false;
        }

        var extendedDate = i < s.Length && s[i] == '-';
        if (extendedDate)
        {
            i++;
        }

        if (!Digits(s, ref i, 2, out var month) || (extendedDate && !Expect(s, ref i, (byte)'-')) || !Digits(s, ref i, 2, out var day))
        {
            return false;
        }

        if (i >= s.Length || (s[i] | 0x20) != 't')
        {
            return false;
        }

        i++;
        if (!Digits(s, ref i, 2, out var hour))
        {
            return false;
        }

        var extendedTime = i < s.Length && s[i] == ':';
        if (extendedTime)
        {
            i++;
        }

        if (!Digits(s, ref i, 2, out var minute))
        {
            return false;
        }

        var second = 0;
        var fractionStart = 0;
        var fractionLength = 0;
        var hasSeconds = extendedTime ? i < s.Length && s[i] == ':' : i < s.Length && XapiFormats.IsDigit(s[i]);
        if (hasSeconds)
        {
            if (extendedTime)
            {
                i++;
            }

            if (!Digits(s, ref i, 2, out second))
            {
                return false;
            }

            if (i < s.Length && s[i] is (byte)'.' or (byte)',')
            {
                i++;
                fractionStart = i;
                while (i < s.Length && XapiFormats.IsDigit(s[i]))
                {
                    i++;
                }

                fractionLength = i - fractionStart;
                if (fractionLength == 0)
                {
                    return false;
                }
            }
        }

        var offset = 0;
        if (i < s.Length)
        {
            var sign = s[i];
            if ((sign | 0x20) == 'z')
            {
                i++;
            }
            else if (sign is (byte)'+' or (byte)'-')
            {
                i++;
                if (!Digits(s, ref i, 2, out var offsetHours))
                {
                    return false;
                }

                var offsetMinutes = 0;
                if (i < s.Length)
                {
                    if (s[i] == ':')
                    {
                        i++;
                    }

                    if (!Digits(s, ref i, 2, out offsetMinutes))
                    {
                        return false;
                    }
                }

                if (offsetHours > 23 || offsetMinutes > 59)
                {
                    return false;
                }

                offset = (offsetHours * 60) + offsetMinutes;
                if (sign == '-')
                {
                    // RFC 3339: -00:00 means "offset unknown"; xAPI rejects it in every spelling.
                    if (offset == 0)
                    {
                        return false;
                    }

                    offset = -offset;
                }
            }
            else
            {
                return false;
            }
        }

        if (i != s.Length)
        {
            return false;
        }

        if (year < 1 || month is < 1 or > 12 || day < 1 || day > DateTime.DaysInMonth(year, month) || hour > 23 || minute > 59 || second > 59)
        {
            return false;
        }

        long fractionTicks = 0;
        for (var k = 0; k < 7; k++)
        {
            fractionTicks = (fractionTicks * 10) + (k < fractionLength ? s[fractionStart + k] - '0' : 0);
        }

        parts = new Parts(year, month, day, hour, minute, second, fractionStart, fractionLength, offset, fractionTicks);

        // The instant must be representable after applying the offset (e.g. not before 0001-01-01T00:00Z).
        var ticks = new DateTime(year, month, day, hour, minute, second).Ticks - (offset * TimeSpan.TicksPerMinute);
        return ticks >= DateTime.MinValue.Ticks && ticks <= DateTime.MaxValue.Ticks - TimeSpan.TicksPerSecond;
    }

    private static bool Digits(ReadOnlySpan<byte> s, ref int i, int count, out int value)
    {
        value = 0;
        if (i + count > s.Length)
        {
            return false;
        }

        for (var k = 0; k < count; k++)
        {
            var c = s[i + k];
            if (!XapiFormats.IsDigit(c))
            {
                return false;
            }

            value = (value * 10) + (c - '0');
        }

        i += count;
        return true;
    }

    private static bool Expect(ReadOnlySpan<byte> s, ref int i, byte c)
    {
        if (i < s.Length && s[i] == c)
        {
            i++;
            return true;
        }

        return false;
    }

    internal readonly record struct Parts(
        int Year,
        int Month,
        int Day,
        int Hour,
        int Minute,
        int Second,
        int FractionStart,
        int FractionLength,
        int OffsetMinutes,
        long FractionTicks)
    {
        public DateTimeOffset ToInstant()
        {
            var local = new DateTime(Year, Month, Day, Hour, Minute, Second, DateTimeKind.Unspecified).Ticks + FractionTicks;
            return new DateTimeOffset(local - (OffsetMinutes * TimeSpan.TicksPerMinute), TimeSpan.Zero);
        }
    }
}
