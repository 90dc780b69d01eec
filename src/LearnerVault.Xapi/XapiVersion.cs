namespace LearnerVault.Xapi;

/// <summary>The xAPI versions this LRS speaks. Every 1.0.x request is served as 1.0.3.</summary>
public enum XapiVersion
{
    V1_0_3,
    V2_0_0,
}

public static class XapiVersions
{
    public const string HeaderName = "X-Experience-API-Version";

    /// <summary>Versions listed by the About resource, newest first.</summary>
    public static readonly IReadOnlyList<string> Supported = ["2.0.0", "1.0.3"];

    /// <summary>Maps a request's version header to the version it is served as; false for a missing or unknown one.</summary>
    public static bool TryNegotiate(string? header, out XapiVersion version)
    {
        version = XapiVersion.V2_0_0;
        if (string.IsNullOrEmpty(header))
        {
            return false;
        }

        var value = header.Trim();
        if (value is "2.0.0" or "2.0")
        {
            version = XapiVersion.V2_0_0;
            return true;
        }

        if (value == "1.0" || (value.StartsWith("1.0.", StringComparison.Ordinal) && value.Length > 4 && value[4..].All(char.IsAsciiDigit)))
        {
            version = XapiVersion.V1_0_3;
            return true;
        }

        return false;
    }

    public static string ToHeader(this XapiVersion version) => version == XapiVersion.V2_0_0 ? "2.0.0" : "1.0.3";
}
