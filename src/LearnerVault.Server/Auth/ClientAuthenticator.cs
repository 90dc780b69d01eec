using System.Collections.Concurrent;
using System.Text;
using LearnerVault.Server.Administration;
using LearnerVault.Storage;

namespace LearnerVault.Server.Auth;

/// <summary>
/// HTTP Basic authentication of xAPI clients against hashed secrets. Client records are cached for a few
/// seconds (a revocation takes effect within <see cref="CacheLifetime"/>) so that the hot statement path does
/// not read the client table on every request.
/// </summary>
public sealed class ClientAuthenticator(IClientStore clients, TimeProvider time)
{
    public static readonly TimeSpan CacheLifetime = TimeSpan.FromSeconds(5);
    private const int MaxCacheEntries = 10_000;

    private readonly ConcurrentDictionary<string, (ClientRecord? Client, DateTimeOffset Until)> cache = new(StringComparer.Ordinal);

    public async Task<ClientRecord?> AuthenticateAsync(string authorization, CancellationToken cancellationToken)
    {
        if (!TryParseBasic(authorization, out var key, out var secret))
        {
            return null;
        }

        var client = await FindAsync(key, cancellationToken);
        if (client is null || client.Revoked is not null || !ClientCredentials.Verify(secret, client.SecretHash))
        {
            return null;
        }

        return client;
    }

    /// <summary>Forgets cached client records, e.g. after a revocation made in this process.</summary>
    public void Invalidate() => cache.Clear();

    private async Task<ClientRecord?> FindAsync(string key, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (cache.TryGetValue(key, out var entry) && entry.Until > now)
        {
            return entry.Client;
        }

        var client = await clients.FindClientByKeyAsync(key, cancellationToken);
        if (cache.Count >= MaxCacheEntries)
        {
            cache.Clear();
        }

        cache[key] = (client, now + CacheLifetime);
        return client;
    }

    internal static bool TryParseBasic(string header, out string key, out string secret)
    {
        key = secret = string.Empty;
        const string Scheme = "Basic ";
        if (header.Length <= Scheme.Length || !header.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        string decoded;
        try
        {
            decoded = Encoding.UTF8.GetString(Convert.FromBase64String(header[Scheme.Length..].Trim()));
        }
        catch (FormatException)
        {
            return false;
        }

        var colon = decoded.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0)
        {
            return false;
        }

        key = decoded[..colon];
        secret = decoded[(colon + 1)..];
        return secret.Length > 0;
    }
}
