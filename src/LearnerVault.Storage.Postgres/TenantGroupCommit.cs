namespace LearnerVault.Storage.Postgres;

/// <summary>
/// The queues of a per-tenant group commit: items queued for a tenant are taken in arrival order, a group at a time, by
/// one loop per tenant while it has work (the next item after an idle spell starts a new loop). Different tenants run
/// side by side. A group holds at most <paramref name="maxItems"/> items and, unless it is a single item, at most
/// <paramref name="maxSize"/> in total <paramref name="size"/>. <paramref name="commitGroup"/> writes a group and
/// completes its callers; it must not throw.
/// </summary>
internal sealed class TenantGroupCommit<T>(string ownerName, Func<Guid, List<T>, Task> commitGroup, Func<T, int> size, int maxItems, int maxSize)
    : IAsyncDisposable
{
    private readonly object gate = new();
    private readonly Dictionary<Guid, TenantQueue> tenants = [];
    private bool disposed;

    /// <summary>Queues <paramref name="item"/> for the tenant's next group.</summary>
    /// <exception cref="ObjectDisposedException">The owner is shut down.</exception>
    public void Enqueue(Guid tenantId, T item)
    {
        lock (gate)
        {
            ObjectDisposedException.ThrowIf(disposed, ownerName);
            if (!tenants.TryGetValue(tenantId, out var queue))
            {
                queue = new TenantQueue();
                tenants.Add(tenantId, queue);
                queue.Loop = Task.Run(() => RunAsync(tenantId, queue), CancellationToken.None);
            }

            queue.Pending.Enqueue(item);
        }
    }

    /// <summary>Commits the tenant's groups until its queue is empty, then leaves.</summary>
    private async Task RunAsync(Guid tenantId, TenantQueue queue)
    {
        var group = new List<T>();
        while (true)
        {
            group.Clear();
            lock (gate)
            {
                var total = 0;
                while (group.Count < maxItems && queue.Pending.TryPeek(out var next) && (group.Count == 0 || total + size(next) <= maxSize))
                {
                    group.Add(queue.Pending.Dequeue());
                    total += size(next);
                }

                if (group.Count == 0)
                {
                    tenants.Remove(tenantId);
                    return;
                }
            }

            await commitGroup(tenantId, group);
        }
    }

    /// <summary>Refuses new items, then waits until every accepted one is committed or failed.</summary>
    public async ValueTask DisposeAsync()
    {
        Task[] loops;
        lock (gate)
        {
            disposed = true;
            loops = [.. tenants.Values.Select(q => q.Loop)];
        }

        await Task.WhenAll(loops);
    }

    private sealed class TenantQueue
    {
        public Queue<T> Pending { get; } = new();

        public Task Loop { get; set; } = Task.CompletedTask;
    }
}
