using LearnerVault.Privacy;

namespace LearnerVault.Storage.Keys;

/// <summary>
/// The unwrapped data keys a key store holds in memory (any backend), by id and by learner pseudonym, both bounded.
/// Erasure goes through <see cref="Forget"/>, which bumps an epoch: a lookup that read a key from storage before the
/// key was destroyed passes the epoch it started under to <see cref="Add"/>, and is then not cached.
/// </summary>
/// <remarks>
/// The epoch covers erasure by this process only. Where several processes share one key store, a key destroyed by
/// another process stays in this cache until it is evicted, so such a store gives its entries a lifetime: a destroyed
/// key is then handed out by other processes for at most that long after the erasure. Without a lifetime (one process
/// owns the store) entries live until evicted.
/// </remarks>
internal sealed class DataKeyCache
{
    private readonly Lock cacheLock = new();
    private readonly KeyCache<(Guid Tenant, long Id), Entry> keysById;
    private readonly KeyCache<(Guid Tenant, string Learner), Entry> keysByLearner;
    private readonly TimeProvider? time;
    private readonly TimeSpan? lifetime;
    private long destroyEpoch;

    /// <param name="lifetime">How long an entry is handed out; null: until evicted. Needs <paramref name="time"/>.</param>
    public DataKeyCache(int capacity, TimeProvider? time = null, TimeSpan? lifetime = null)
    {
        if (lifetime is not null)
        {
            ArgumentNullException.ThrowIfNull(time);
        }

        keysById = new(capacity);
        keysByLearner = new(capacity);
        this.time = time;
        this.lifetime = lifetime;
    }

    /// <summary>Read before looking a key up in storage, and passed to <see cref="Add"/> after.</summary>
    public long Epoch => Volatile.Read(ref destroyEpoch);

    public bool TryGet(Guid tenantId, long keyId, out DataKey key)
    {
        if (keysById.TryGet((tenantId, keyId), out var entry) && IsFresh(entry))
        {
            key = entry.Key;
            return true;
        }

        key = default!;
        return false;
    }

    /// <summary>
    /// Fills <paramref name="result"/> with the cached keys of <paramref name="learnerPseudonyms"/>; returns the
    /// indexes of those not cached, or null when all were.
    /// </summary>
    /// <exception cref="ArgumentException">A pseudonym is null or empty.</exception>
    public List<int>? TryGetLearners(Guid tenantId, IReadOnlyList<byte[]> learnerPseudonyms, DataKey[] result)
    {
        List<int>? misses = null;
        for (var i = 0; i < result.Length; i++)
        {
            if (learnerPseudonyms[i] is not { Length: > 0 } learner)
            {
                throw new ArgumentException("A learner pseudonym is required.", nameof(learnerPseudonyms));
            }

            if (keysByLearner.TryGet((tenantId, Convert.ToHexString(learner)), out var cached) && IsFresh(cached))
            {
                result[i] = cached.Key;
            }
            else
            {
                (misses ??= []).Add(i);
            }
        }

        return misses;
    }

    /// <summary>Caches a key read or created under <paramref name="epoch"/>, unless a key was destroyed since.</summary>
    public void Add(long epoch, Guid tenantId, DataKey key, byte[]? learnerPseudonym)
    {
        lock (cacheLock)
        {
            if (destroyEpoch != epoch)
            {
                return;
            }

            var entry = new Entry(key, time is null || lifetime is null ? 0 : time.GetUtcNow().UtcTicks);
            keysById.Set((tenantId, key.Id), entry);
            if (learnerPseudonym is not null)
            {
                keysByLearner.Set((tenantId, Convert.ToHexString(learnerPseudonym)), entry);
            }
        }
    }

    /// <summary>Drops a destroyed key, and keeps lookups that started before from caching it again.</summary>
    public void Forget(Guid tenantId, long keyId, byte[] learnerPseudonym)
    {
        lock (cacheLock)
        {
            destroyEpoch++;
            keysById.Remove((tenantId, keyId));
            keysByLearner.Remove((tenantId, Convert.ToHexString(learnerPseudonym)));
        }
    }

    /// <summary>Within its lifetime; a clock stepped back also ends it, so an entry never outlives the lifetime.</summary>
    private bool IsFresh(Entry entry)
    {
        if (time is null || lifetime is not { } maxAge)
        {
            return true;
        }

        var age = time.GetUtcNow().UtcTicks - entry.CachedTicks;
        return age >= 0 && age < maxAge.Ticks;
    }

    private sealed record Entry(DataKey Key, long CachedTicks);
}
