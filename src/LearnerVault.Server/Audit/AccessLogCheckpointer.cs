using LearnerVault.Server.Options;
using LearnerVault.Storage;

namespace LearnerVault.Server.Audit;

/// <summary>
/// Checkpoints idle tails: the access log signs a checkpoint when an append finds one due (every N entries or M
/// minutes), so entries appended just before a quiet night would stay unsigned until the next access. Every
/// <see cref="ServerOptions.AuditCheckpointInterval"/> this signs the head of every tenant whose newest entries have no
/// checkpoint yet. Several nodes doing so only add checkpoints (one per position).
/// </summary>
public sealed partial class AccessLogCheckpointer(AccessLog log, IClientStore clients, ServerOptions options, ILogger<AccessLogCheckpointer> logger)
    : BackgroundService
{
    /// <summary>Signs a checkpoint of every tenant's head that has none; returns how many were written.</summary>
    public async Task<int> RunOnceAsync(CancellationToken cancellationToken)
    {
        var written = 0;
        foreach (var tenant in await clients.ListTenantsAsync(cancellationToken))
        {
            if (await log.CheckpointIfUncoveredAsync(tenant.Id, cancellationToken))
            {
                written++;
            }
        }

        return written;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.AuditCheckpointInterval, options.TimeProvider);
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
                    LogFailed(logger, ex.GetType().Name);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down.
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Idle access-log checkpoints could not be written ({Error}); retried at the next interval.")]
    private static partial void LogFailed(ILogger logger, string error);
}
