using System.Threading.Channels;
using LearnerVault.Privacy.Audit;

namespace LearnerVault.Server.Audit;

/// <summary>
/// Group commit for the access log: every request's entries are queued, and one consumer appends everything queued for
/// a tenant in one <see cref="AccessLog.AppendAsync(Guid, IReadOnlyList{AccessLogEntry}, CancellationToken)"/> call (one
/// transaction, one flush), then completes each waiting caller. Without it every xAPI request would pay a durable write
/// of its own on top of the statement write, which halved ingest with single-statement POSTs.
/// </summary>
/// <remarks>
/// A caller's task completes only once its entries are committed; a failure to append reaches every caller of that
/// round as <see cref="AccessLogUnavailableException"/> (the request then fails as on a store outage: nothing is
/// disclosed or stored without its trace). The queue is bounded, so a slow store slows requests instead of growing
/// memory. Disposal stops taking entries and drains what is queued.
/// </remarks>
public sealed partial class AccessLogWriter : IAsyncDisposable
{
    /// <summary>Requests waiting in the queue before new ones wait for room.</summary>
    public const int QueueCapacity = 4096;

    /// <summary>Entries appended in one transaction at most (a round takes what is queued, up to this).</summary>
    public const int MaxEntriesPerRound = 10_000;

    private readonly AccessLog log;
    private readonly ILogger<AccessLogWriter> logger;
    private readonly Channel<Pending> queue = Channel.CreateBounded<Pending>(new BoundedChannelOptions(QueueCapacity)
    {
        SingleReader = true,
        FullMode = BoundedChannelFullMode.Wait,
    });

    private readonly Task consumer;

    public AccessLogWriter(AccessLog log, ILogger<AccessLogWriter> logger)
    {
        this.log = log;
        this.logger = logger;
        consumer = Task.Run(ConsumeAsync);
    }

    /// <summary>Appends the entries to the tenant's log; completes once they are durable.</summary>
    /// <exception cref="AccessLogUnavailableException">The entries could not be appended (or the writer is shut down).</exception>
    public async Task AppendAsync(Guid tenantId, IReadOnlyList<AccessLogEntry> entries, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entries);
        if (entries.Count == 0)
        {
            return;
        }

        var pending = new Pending(tenantId, entries, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
        try
        {
            await queue.Writer.WriteAsync(pending, cancellationToken);
        }
        catch (ChannelClosedException ex)
        {
            throw new AccessLogUnavailableException("The access log is shutting down.", ex);
        }

        // Once queued the entries are written whatever happens to the request; only the wait can be abandoned.
        await pending.Done.Task.WaitAsync(cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        queue.Writer.TryComplete();
        await consumer;
    }

    private async Task ConsumeAsync()
    {
        var round = new List<Pending>();
        while (await queue.Reader.WaitToReadAsync())
        {
            round.Clear();
            var entries = 0;
            while (entries < MaxEntriesPerRound && queue.Reader.TryRead(out var pending))
            {
                round.Add(pending);
                entries += pending.Entries.Count;
            }

            var byTenant = round.GroupBy(p => p.TenantId).ToList();
            await Task.WhenAll(byTenant.Select(AppendTenantAsync));
        }
    }

    private async Task AppendTenantAsync(IGrouping<Guid, Pending> group)
    {
        var waiting = group.ToList();
        var entries = waiting.Count == 1 ? waiting[0].Entries : [.. waiting.SelectMany(p => p.Entries)];
        try
        {
            await log.AppendAsync(group.Key, entries, CancellationToken.None);
            foreach (var pending in waiting)
            {
                pending.Done.TrySetResult();
            }
        }
        catch (Exception ex)
        {
            LogAppendFailed(logger, group.Key, entries.Count, ex.GetType().Name);
            var failure = new AccessLogUnavailableException("The access log could not be written.", ex);
            foreach (var pending in waiting)
            {
                pending.Done.TrySetException(failure);
            }
        }
    }

    private sealed record Pending(Guid TenantId, IReadOnlyList<AccessLogEntry> Entries, TaskCompletionSource Done);

    [LoggerMessage(Level = LogLevel.Error, Message = "Access log of tenant {Tenant}: {Count} entries could not be appended ({Error}); the requests waiting for them fail.")]
    private static partial void LogAppendFailed(ILogger logger, Guid tenant, int count, string error);
}

/// <summary>The access log could not be written: the access it would record must not happen (answered 503).</summary>
public sealed class AccessLogUnavailableException : Exception
{
    public AccessLogUnavailableException()
    {
    }

    public AccessLogUnavailableException(string message)
        : base(message)
    {
    }

    public AccessLogUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
