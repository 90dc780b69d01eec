using LearnerVault.Privacy;

namespace LearnerVault.Storage.Keys;

/// <summary>
/// The unwrapped data keys a key store holds in memory (any backend), by id and by learner pseudonym, both bounded.
/// Erasure goes through <see cref="Forget"/>, which bumps an epoch: a lookup that read a key from storage before the
/// key was destroyed passes the epoch it started under to <see cref="Add"/>, and is then not cached.
/// </summary>
internal sealed class DataKeyCache(int capacity)
{
    private readonly Lock cacheLock = new();
    private readonly KeyCache<(Guid Tenant, long Id), DataKey> keysById = new(capacity);
    private readonly KeyCache<(Guid Tenant, string Learner), DataKey> keysByLearner = new(capacity);
    private long destroyEpoch;

    /// <summary>Read before looking a key up in storage, and passed to <see cref="Add"/> after.</summary>
    public long Epoch => Volatile.Read(ref destroyEpoch);

    public bool TryGet(Guid tenantId, long keyId, out DataKey key) => keysById.TryGet((tenantId, keyId), out key);

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

            if (keysByLearner.TryGet((tenantId, Convert.ToHexString(learner)), out var cached))
            {
                result[i] = cached;
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

            keysById.Set((tenantId, key.Id), key);
            if (learnerPseudonym is not null)
            {
                keysByLearner.Set((tenantId, Convert.ToHexString(learnerPseudonym)), key);
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
}
