using LearnerVault.Storage;
using LearnerVault.Xapi;

namespace LearnerVault.Server.Pipeline;

/// <summary>What the xAPI pipeline has established about a request: its negotiated version and its client.</summary>
public sealed class XapiContext
{
    public XapiVersion Version { get; set; } = XapiVersion.V2_0_0;
    public ClientRecord? Client { get; set; }

    /// <summary>The client as a principal and the purpose of the request (X-LearnerVault-Purpose, else its first).</summary>
    public Access.ClientAccess? Access { get; set; }
}

public static class XapiContextExtensions
{
    private static readonly object Key = new();

    public static XapiContext Xapi(this HttpContext context)
    {
        if (context.Items.TryGetValue(Key, out var value) && value is XapiContext existing)
        {
            return existing;
        }

        var created = new XapiContext();
        context.Items[Key] = created;
        return created;
    }

    /// <summary>The authenticated client; only valid behind the authentication step.</summary>
    public static ClientRecord Client(this HttpContext context) =>
        context.Xapi().Client ?? throw new InvalidOperationException("The request was not authenticated.");

    /// <summary>The authenticated client's principal and the request's purpose; only valid behind the authentication step.</summary>
    public static Access.ClientAccess Access(this HttpContext context) =>
        context.Xapi().Access ?? throw new InvalidOperationException("The request was not authenticated.");
}
