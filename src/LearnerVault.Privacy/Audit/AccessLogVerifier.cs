using System.Security.Cryptography;

namespace LearnerVault.Privacy.Audit;

/// <summary>What is wrong with a tenant's access log at the first bad place.</summary>
public enum AccessLogDamage
{
    /// <summary>An entry's content (or its stored hash) no longer matches the chain.</summary>
    Altered,

    /// <summary>Positions are missing: entries were deleted.</summary>
    Deleted,

    /// <summary>An entry that was never appended sits in the chain (or a position appears twice).</summary>
    Inserted,

    /// <summary>Two entries changed places.</summary>
    Swapped,

    /// <summary>A checkpoint's signature is not the tenant's signing key's (forged, or altered).</summary>
    CheckpointSignatureInvalid,

    /// <summary>A signed checkpoint covers a position beyond the last entry: the tail was cut off.</summary>
    Truncated,

    /// <summary>The chain is consistent but does not reach a signed checkpoint's head: history was rewritten and
    /// re-hashed.</summary>
    Rewritten,
}

/// <summary>The first bad place in a log: the position of the first bad entry, the kind of damage, and an explanation
/// (positions and kinds only: never an entry's content).</summary>
public sealed record AccessLogFault(long Position, AccessLogDamage Damage, string Description);

/// <summary>The outcome of <see cref="AccessLogVerifier.Verify"/>.</summary>
public sealed record AccessLogVerification(long Entries, int Checkpoints, AccessLogFault? Fault)
{
    public bool IsClean => Fault is null;
}

/// <summary>
/// Checks a tenant's access log: walks the entries in position order recomputing the chain from the tenant's genesis
/// value, then checks every checkpoint's signature and head against the recomputed chain. Returns the first bad entry.
/// </summary>
/// <remarks>What a hash chain cannot show: entries appended after the last checkpoint can be removed, or forged ones
/// added, by someone who can write the database, undetected until the next checkpoint is published elsewhere; hence
/// checkpoints every N entries or M minutes. The whole log is held in memory while it is checked.</remarks>
public static class AccessLogVerifier
{
    /// <param name="records">The tenant's entries as stored, ordered by position.</param>
    /// <param name="checkpoints">The tenant's stored checkpoints (any order).</param>
    /// <param name="verificationKey">The tenant's audit signing key (its public part is enough).</param>
    public static AccessLogVerification Verify(
        Guid tenantId, IReadOnlyList<AccessLogRecord> records, IReadOnlyList<AccessLogCheckpoint> checkpoints, ECDsa verificationKey)
    {
        ArgumentNullException.ThrowIfNull(records);
        ArgumentNullException.ThrowIfNull(checkpoints);
        ArgumentNullException.ThrowIfNull(verificationKey);

        // computed[p] is the recomputed hash at position p, for every position verified so far (computed[0]: genesis).
        var computed = new List<byte[]>(records.Count + 1) { AccessLogChain.Genesis(tenantId) };
        var entryFault = WalkEntries(records, computed);
        var checkpointFault = CheckCheckpoints(tenantId, records, checkpoints, verificationKey, computed, entryFault?.Position);
        var fault = entryFault is null ? checkpointFault
            : checkpointFault is null ? entryFault
            : checkpointFault.Position < entryFault.Position ? checkpointFault : entryFault;
        return new AccessLogVerification(records.Count, checkpoints.Count, fault);
    }

    private static AccessLogFault? WalkEntries(IReadOnlyList<AccessLogRecord> records, List<byte[]> computed)
    {
        long expected = 1;
        for (var i = 0; i < records.Count; i++)
        {
            var record = records[i];
            if (record.Position > expected)
            {
                return new AccessLogFault(expected, AccessLogDamage.Deleted, record.Position == expected + 1
                    ? $"entry {expected} is missing (deleted)"
                    : $"entries {expected} to {record.Position - 1} are missing (deleted)");
            }

            if (record.Position < expected)
            {
                return new AccessLogFault(record.Position, AccessLogDamage.Inserted, record.Position == expected - 1
                    ? $"a second entry at position {record.Position} (inserted)"
                    : $"an entry at position {record.Position} after position {expected - 1} (inserted or moved)");
            }

            var hash = AccessLogChain.Next(computed[^1], record.Position, record.Entry);
            if (!CryptographicOperations.FixedTimeEquals(hash, record.Hash))
            {
                return Classify(records, i, computed);
            }

            computed.Add(hash);
            expected++;
        }

        return null;
    }

    /// <summary>Names the damage at the first entry whose hash does not match, by finding where the entries involved
    /// belonged when they were appended.</summary>
    private static AccessLogFault Classify(IReadOnlyList<AccessLogRecord> records, int index, List<byte[]> computed)
    {
        var bad = records[index];
        var position = bad.Position;
        var previous = computed[(int)position - 1];

        // The entry that was appended at this position, if it is now elsewhere.
        for (var j = index + 1; j < records.Count; j++)
        {
            var other = records[j];
            if (!Matches(previous, position, other))
            {
                continue;
            }

            // The hash before the other entry's position, as it was appended: that entry's own if the two were neighbours.
            var beforeOther = j - 1 == index ? other.Hash : records[j - 1].Hash;
            return Matches(beforeOther, other.Position, bad)
                ? new AccessLogFault(position, AccessLogDamage.Swapped, $"entries {position} and {other.Position} were swapped")
                : new AccessLogFault(position, AccessLogDamage.Inserted,
                    $"entry {position} was never appended (inserted); the entry appended at {position} is now at {other.Position}");
        }

        // This entry was appended at an earlier position: entries were inserted before it.
        for (var earlier = position - 1; earlier >= 1; earlier--)
        {
            if (Matches(computed[(int)earlier - 1], earlier, bad))
            {
                return new AccessLogFault(earlier, AccessLogDamage.Inserted,
                    $"entry {earlier} was never appended (inserted); the entry appended at {earlier} is now at {position}");
            }
        }

        return new AccessLogFault(position, AccessLogDamage.Altered, $"entry {position} was altered (hash mismatch)");
    }

    private static bool Matches(ReadOnlySpan<byte> previous, long position, AccessLogRecord record) =>
        CryptographicOperations.FixedTimeEquals(AccessLogChain.Next(previous, position, record.Entry), record.Hash);

    private static AccessLogFault? CheckCheckpoints(
        Guid tenantId, IReadOnlyList<AccessLogRecord> records, IReadOnlyList<AccessLogCheckpoint> checkpoints, ECDsa key, List<byte[]> computed,
        long? firstBadEntry)
    {
        var last = records.Count == 0 ? 0 : records.Max(r => r.Position);
        var verified = computed.Count - 1;
        long lastGood = 0;
        foreach (var checkpoint in checkpoints.OrderBy(c => c.Position))
        {
            if (!AccessLogSigning.Verify(key, tenantId, checkpoint))
            {
                return new AccessLogFault(checkpoint.Position, AccessLogDamage.CheckpointSignatureInvalid,
                    $"the checkpoint at position {checkpoint.Position} is not signed by this tenant's audit key");
            }

            if (checkpoint.Position > last)
            {
                return new AccessLogFault(last + 1, AccessLogDamage.Truncated, last + 1 == checkpoint.Position
                    ? $"entry {checkpoint.Position} is missing: the log ends at {last} but a signed checkpoint covers {checkpoint.Position} (tail truncated)"
                    : $"entries {last + 1} to {checkpoint.Position} are missing: the log ends at {last} but a signed checkpoint covers {checkpoint.Position} (tail truncated)");
            }

            if (checkpoint.Position > verified || checkpoint.Position >= firstBadEntry)
            {
                // At or beyond the first bad entry, which already explains why its head would differ.
                continue;
            }

            if (!CryptographicOperations.FixedTimeEquals(computed[(int)checkpoint.Position], checkpoint.HeadHash))
            {
                return new AccessLogFault(lastGood + 1, AccessLogDamage.Rewritten,
                    $"history rewritten between entries {lastGood + 1} and {checkpoint.Position}: the chain does not reach the head signed at {checkpoint.Position}");
            }

            lastGood = checkpoint.Position;
        }

        return null;
    }
}
