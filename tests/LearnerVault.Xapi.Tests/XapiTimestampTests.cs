namespace LearnerVault.Xapi.Tests;

public sealed class XapiTimestampTests
{
    [Theory]
    [InlineData("2023-05-04T12:00:00-05:00", "2023-05-04T17:00:00.0000000+00:00")]
    [InlineData("2023-05-04T17:00:00Z", "2023-05-04T17:00:00.0000000+00:00")]
    [InlineData("2023-05-04T22:30:00+05:30", "2023-05-04T17:00:00.0000000+00:00")]
    [InlineData("2023-05-04T22:30:00+0530", "2023-05-04T17:00:00.0000000+00:00")]
    [InlineData("20230504T170000Z", "2023-05-04T17:00:00.0000000+00:00")]
    [InlineData("2023-05-04T17:00Z", "2023-05-04T17:00:00.0000000+00:00")]
    [InlineData("2023-05-04T17:00:00.1234567891Z", "2023-05-04T17:00:00.1234567+00:00")]
    [InlineData("2023-05-04T17:00:00", "2023-05-04T17:00:00.0000000+00:00")]
    public void TryParse_ValidTimestamp_ReturnsUtcInstant(string value, string expected)
    {
        Assert.True(XapiTimestamp.TryParse(value, out var instant));

        Assert.Equal(expected, instant.ToString("O", System.Globalization.CultureInfo.InvariantCulture));
    }

    [Theory]
    [InlineData("2008-09-15T15:53:00.601-00")]
    [InlineData("2008-09-15T15:53:00.601-0000")]
    [InlineData("2008-09-15T15:53:00.601-00:00")]
    [InlineData("2015-11-18")]
    [InlineData("2015-11-18 12:17:00Z")]
    [InlineData("2015-02-29T12:00:00Z")]
    [InlineData("2015-11-18T24:00:00Z")]
    [InlineData("2015-11-18T12:17:60Z")]
    [InlineData("2015-11-18T12:17:00+24:00")]
    [InlineData("0000-01-01T00:00:00Z")]
    [InlineData("0001-01-01T00:30:00+01:00")]
    [InlineData("should fail")]
    [InlineData("")]
    [InlineData(null)]
    public void TryParse_InvalidTimestamp_ReturnsFalse(string? value) => Assert.False(XapiTimestamp.TryParse(value, out _));

    [Theory]
    [InlineData("2023-05-04T12:00:00.123456789-05:00", "2023-05-04T17:00:00.123456789Z")]
    [InlineData("2024-03-01T01:30:00+02:00", "2024-02-29T23:30:00Z")]
    [InlineData("2015-11-18T12:17:00.100Z", "2015-11-18T12:17:00.100Z")]
    [InlineData("2015-11-18t12:17z", "2015-11-18T12:17:00Z")]
    [InlineData("2015-11-18T12:17:00,5+00:00", "2015-11-18T12:17:00.5Z")]
    public void ToUtc_TimestampWithOffset_KeepsEveryFractionDigit(string value, string expected) =>
        Assert.Equal(expected, XapiTimestamp.ToUtc(value));

    [Fact]
    public void ToUtc_VeryLongFraction_KeepsEveryDigit()
    {
        var fraction = new string('7', 90);

        Assert.Equal($"2023-05-04T17:00:00.{fraction}Z", XapiTimestamp.ToUtc($"2023-05-04T19:00:00.{fraction}+02:00"));
    }

    [Fact]
    public void ToUtc_NotATimestamp_ReturnsNull() => Assert.Null(XapiTimestamp.ToUtc("yesterday"));
}
