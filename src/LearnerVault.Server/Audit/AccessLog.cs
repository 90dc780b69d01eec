using System.Collections.Concurrent;
using System.Security.Cryptography;
using LearnerVault.Privacy;
using LearnerVault.Privacy.Audit;
using LearnerVault.Server.Options;
using LearnerVault.Storage;

namespace LearnerVault.Server.Audit;

/// <summary>
/// The access log as the access gate uses it: appends entries (the store chains them) and, every
/// <see cref="ServerOptions.AuditCheckpointEntries"/> entries or <see cref="ServerOptions.AuditCheckpointInterval"/>
/// (checked when an entry is appended), signs a checkpoint of the chain head with the tenant's audit signing key; and
/// verifies a tenant's whole log. Never logs an entry's content.
/// </summary>
/// <remarks>Checkpoint bookkeeping is per process: several nodes appending to one tenant each checkpoint on their own
/// count, which only adds checkpoints.</remarks>
public sealed partial class AccessLog(IAccessLogStore store, IKeyStore keys, ServerOptions options, ILogger<AccessLog> logger)
{
    /// <summary>Entries read per page while verifying.</summary>
    private const int Page = 10_000;

    private readonly ConcurrentDictionary<Guid, TenantState> tenants = new();

    public Task<AccessLogHead> AppendAsync(Guid tenantId, AccessLogEntry entry, CancellationToken cancellationToken = default) =>
        AppendAsync(tenantId, [entry], cancellationToken);

    /// <summary>Appends the entries (one transaction), then writes a signed checkpoint if one is due.</summary>
    public async Task<AccessLogHead> AppendAsync(Guid tenantId, IReadOnlyList<AccessLogEntry> entries, CancellationToken cancellationToken = default)
    {
        var head = await store.AppendAsync(tenantId, entries, cancellationToken);
        await CheckpointIfDueAsync(tenantId, head, cancellationToken);
        return head;
    }

    /// <summary>After entries were appended by another store's write (a statement write carries its own): signs a
    /// checkpoint of <paramref name="head"/> if one is due, as <see cref="AppendAsync(Guid, IReadOnlyList{AccessLogEntry}, CancellationToken)"/> does.</summary>
    public async Task CheckpointIfDueAsync(Guid tenantId, AccessLogHead head, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(head);
        var state = await StateAsync(tenantId, cancellationToken);
        // Statement writes call this from many requests at once: one of them signs, the others go on.
        if (state.TryClaim(head.Position, options.TimeProvider.GetUtcNow(), options.AuditCheckpointEntries, options.AuditCheckpointInterval))
        {
            try
            {
                await CheckpointAsync(tenantId, head, state, cancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // The entries are durable; the next append tries the checkpoint again.
                LogCheckpointFailed(logger, tenantId, head.Position, ex.GetType().Name);
            }
            finally
            {
                state.Release();
            }
        }
    }

    /// <summary>Signs and stores a checkpoint of the tenant's current head now (unless it has one there already);
    /// returns it, or null when the log is empty.</summary>
    public async Task<AccessLogCheckpoint?> CheckpointAsync(Guid tenantId, CancellationToken cancellationToken = default)
    {
        var head = await store.GetHeadAsync(tenantId, cancellationToken);
        return head.Position == 0 ? null : await CheckpointAsync(tenantId, head, await StateAsync(tenantId, cancellationToken), cancellationToken);
    }

    /// <summary>Signs a checkpoint of the tenant's head when its newest entries have none; true when one was written.</summary>
    public async Task<bool> CheckpointIfUncoveredAsync(Guid tenantId, CancellationToken cancellationToken = default)
    {
        var head = await store.GetHeadAsync(tenantId, cancellationToken);
        if (head.Position == 0)
        {
            return false;
        }

        var checkpoints = await store.ReadCheckpointsAsync(tenantId, cancellationToken);
        if (checkpoints.Count > 0 && checkpoints[^1].Position >= head.Position)
        {
            return false;
        }

        await CheckpointAsync(tenantId, head, await StateAsync(tenantId, cancellationToken), cancellationToken);
        return true;
    }

    /// <summary>Checks the tenant's whole log and its checkpoints.</summary>
    public Task<AccessLogVerification> VerifyAsync(Guid tenantId, CancellationToken cancellationToken = default) =>
        VerifyAsync(store, keys, tenantId, cancellationToken);

    /// <summary>Reads the tenant's entries and checkpoints and its signing key, and runs <see cref="AccessLogVerifier"/>.</summary>
    /// <param name="published">Checkpoints of this tenant published earlier outside the store (see <c>lvault audit
    /// checkpoint</c>), checked like the stored ones: someone who can write the store and holds the signing key can
    /// rewrite the stored chain and re-sign its checkpoints, but cannot make it reach a head published elsewhere.</param>
    public static async Task<AccessLogVerification> VerifyAsync(
        IAccessLogStore store, IKeyStore keys, Guid tenantId, CancellationToken cancellationToken, IReadOnlyList<AccessLogCheckpoint>? published = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(keys);
        var records = new List<AccessLogRecord>();
        long from = 1;
        while (true)
        {
            var page = await store.ReadAsync(tenantId, from, Page, cancellationToken);
            records.AddRange(page);
            if (page.Count < Page)
            {
                break;
            }

            from = page[^1].Position + 1;
        }

        var checkpoints = await store.ReadCheckpointsAsync(tenantId, cancellationToken);
        using var key = SigningKey(keys, tenantId);
        var stored = checkpoints.Count;
        if (published is { Count: > 0 })
        {
            // Published first: at a position where both exist, the verifier then holds the chain to the published head.
            checkpoints = [.. published, .. checkpoints];
        }

        var verification = AccessLogVerifier.Verify(tenantId, records, checkpoints, key);
        return verification with { Checkpoints = stored };
    }

    /// <summary>The public part (SubjectPublicKeyInfo, DER) of the tenant's audit signing key, to publish with checkpoints.</summary>
    public static byte[] PublicKey(IKeyStore keys, Guid tenantId)
    {
        ArgumentNullException.ThrowIfNull(keys);
        using var key = SigningKey(keys, tenantId);
        return key.ExportSubjectPublicKeyInfo();
    }

    private async Task<AccessLogCheckpoint> CheckpointAsync(Guid tenantId, AccessLogHead head, TenantState state, CancellationToken cancellationToken)
    {
        AccessLogCheckpoint checkpoint;
        using (var key = SigningKey(keys, tenantId))
        {
            checkpoint = AccessLogSigning.Sign(key, tenantId, head, options.TimeProvider.GetUtcNow());
        }

        await store.AddCheckpointAsync(tenantId, checkpoint, cancellationToken);
        state.Checkpointed(checkpoint.Position, checkpoint.Time);
        LogCheckpoint(logger, tenantId, checkpoint.Position);
        return checkpoint;
    }

    private static ECDsa SigningKey(IKeyStore keys, Guid tenantId)
    {
        var pkcs8 = keys.GetAuditSigningKey(tenantId);
        try
        {
            return AccessLogSigning.ImportSigningKey(pkcs8);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(pkcs8);
        }
    }

    private async Task<TenantState> StateAsync(Guid tenantId, CancellationToken cancellationToken)
    {
        if (tenants.TryGetValue(tenantId, out var state))
        {
            return state;
        }

        var checkpoints = await store.ReadCheckpointsAsync(tenantId, cancellationToken);
        var fresh = checkpoints.Count > 0
            ? new TenantState(checkpoints[^1].Position, checkpoints[^1].Time)
            : new TenantState(0, options.TimeProvider.GetUtcNow());
        return tenants.GetOrAdd(tenantId, fresh);
    }

    /// <summary>Where and when this process last knew the tenant's log to be checkpointed.</summary>
    private sealed class TenantState(long position, DateTimeOffset time)
    {
        private readonly Lock gate = new();
        private long position = position;
        private DateTimeOffset time = time;
        private bool claimed;

        /// <summary>True (and the checkpoint is the caller's to write, then <see cref="Release"/>) when one is due at
        /// <paramref name="head"/> and no other caller is writing one.</summary>
        public bool TryClaim(long head, DateTimeOffset now, int everyEntries, TimeSpan interval)
        {
            lock (gate)
            {
                if (claimed || !(head - position >= everyEntries || (head > position && now - time >= interval)))
                {
                    return false;
                }

                claimed = true;
                return true;
            }
        }

        public void Release()
        {
            lock (gate)
            {
                claimed = false;
            }
        }

        public void Checkpointed(long at, DateTimeOffset when)
        {
            lock (gate)
            {
                if (at > position)
                {
                    (position, time) = (at, when);
                }
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Access log of tenant {Tenant} checkpointed at position {Position}.")]
    private static partial void LogCheckpoint(ILogger logger, Guid tenant, long position);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Access log of tenant {Tenant}: the checkpoint at position {Position} could not be written ({Error}); retried on the next append.")]
    private static partial void LogCheckpointFailed(ILogger logger, Guid tenant, long position, string error);
}
