using System.Collections.Concurrent;

namespace LearnerVault.Storage.Keys;

/// <summary>
/// A bounded cache of unwrapped keys for the ingest hot path: lock-free reads, and "second chance" eviction (an
/// approximation of LRU) when it grows past its capacity: entries not used since the previous sweep go first.
/// </summary>
internal sealed class KeyCache<TKey, TValue>(int capacity) where TKey : notnull
{
    private readonly ConcurrentDictionary<TKey, Entry> entries = new();
    private readonly Lock sweepLock = new();
    private int count;

    public int Count => Volatile.Read(ref count);

    public bool TryGet(TKey key, out TValue value)
    {
        if (entries.TryGetValue(key, out var entry))
        {
            entry.Used = true;
            value = entry.Value;
            return true;
        }

        value = default!;
        return false;
    }

    public void Set(TKey key, TValue value)
    {
        var entry = new Entry(value);
        if (entries.TryAdd(key, entry))
        {
            if (Interlocked.Increment(ref count) > capacity)
            {
                Sweep();
            }
        }
        else
        {
            entries[key] = entry;
        }
    }

    public void Remove(TKey key)
    {
        if (entries.TryRemove(key, out _))
        {
            Interlocked.Decrement(ref count);
        }
    }

    private void Sweep()
    {
        lock (sweepLock)
        {
            var target = capacity - (capacity / 10);
            if (Count <= capacity)
            {
                return;
            }

            foreach (var (key, entry) in entries)
            {
                if (Count <= target)
                {
                    return;
                }

                if (entry.Used)
                {
                    entry.Used = false;
                }
                else
                {
                    Remove(key);
                }
            }

            // Everything was in use: drop arbitrary entries until under the target.
            foreach (var key in entries.Keys)
            {
                if (Count <= target)
                {
                    return;
                }

                Remove(key);
            }
        }
    }

    private sealed class Entry(TValue value)
    {
        public TValue Value { get; } = value;

        public volatile bool Used = true;
    }
}
