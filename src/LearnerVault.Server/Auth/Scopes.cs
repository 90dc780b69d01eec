using LearnerVault.Server.Administration;
using LearnerVault.Storage;

namespace LearnerVault.Server.Auth;

/// <summary>What each xAPI scope lets a client do (xAPI 1.0.3 Communication 4.2, the OAuth scope list).</summary>
public static class Scopes
{
    public static bool CanWriteStatements(ClientRecord client) => Has(client, XapiScopes.All, XapiScopes.StatementsWrite);

    /// <summary>Reading every statement of the tenant (as far as the access decision allows).</summary>
    public static bool CanReadAllStatements(ClientRecord client) => Has(client, XapiScopes.All, XapiScopes.AllRead, XapiScopes.StatementsRead);

    /// <summary>Reading only the statements this client wrote.</summary>
    public static bool CanReadOwnStatements(ClientRecord client) => CanReadAllStatements(client) || Has(client, XapiScopes.StatementsReadMine);

    public static bool CanUseState(ClientRecord client) => Has(client, XapiScopes.All, XapiScopes.State);

    public static bool CanReadState(ClientRecord client) => CanUseState(client) || Has(client, XapiScopes.AllRead);

    public static bool CanUseProfiles(ClientRecord client) => Has(client, XapiScopes.All, XapiScopes.Profile);

    public static bool CanReadProfiles(ClientRecord client) => CanUseProfiles(client) || Has(client, XapiScopes.AllRead);

    public static bool CanDefine(ClientRecord client) => Has(client, XapiScopes.All, XapiScopes.Define);

    private static bool Has(ClientRecord client, params ReadOnlySpan<string> any)
    {
        foreach (var scope in any)
        {
            if (client.Scopes.Contains(scope, StringComparer.Ordinal))
            {
                return true;
            }
        }

        return false;
    }
}
