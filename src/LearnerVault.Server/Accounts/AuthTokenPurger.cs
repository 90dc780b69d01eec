using LearnerVault.Server.Options;
using LearnerVault.Storage.People;

namespace LearnerVault.Server.Accounts;

/// <summary>
/// Deletes dead authentication tokens: every session that slides past half its idle span continues under a new token,
/// and the old rows would otherwise pile up for ever. A token expired or revoked more than <see cref="Grace"/> ago can
/// never authenticate again; the rows of the last day are kept so that recent sessions can still be looked at (who was
/// logged in, which token was revoked when). Runs every <see cref="Interval"/>; several nodes doing so only delete the
/// same rows.
/// </summary>
public sealed class AuthTokenPurger(IPrivacyStore store, ServerOptions options, ILogger<AuthTokenPurger> logger) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromHours(1);

    public static readonly TimeSpan Grace = TimeSpan.FromDays(1);

    /// <summary>Deletes the tokens of every tenant expired or revoked more than <see cref="Grace"/> ago; returns how many.</summary>
    public async Task<int> RunOnceAsync(CancellationToken cancellationToken)
    {
        var purged = await store.PurgeTokensAsync(options.TimeProvider.GetUtcNow() - Grace, cancellationToken);
        if (purged > 0)
        {
            logger.TokensPurged(purged);
        }

        return purged;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, options.TimeProvider);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    await RunOnceAsync(stoppingToken);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // The store may be out of reach for a while; the next tick tries again.
                    logger.PurgeFailed(ex.GetType().Name);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down.
        }
    }
}
