using System.Security.Cryptography;
using LearnerVault.Privacy.Audit;

namespace LearnerVault.Privacy.Tests.Audit;

public sealed class AccessLogVerifierTests : IDisposable
{
    private static readonly DateTimeOffset Start = new(2026, 3, 1, 8, 0, 0, TimeSpan.Zero);

    private readonly Guid tenant = Guid.NewGuid();
    private readonly ECDsa key = AccessLogSigning.ImportSigningKey(AccessLogSigning.NewSigningKey());

    public void Dispose() => key.Dispose();

    private static AccessLogEntry Entry(int i) => new(
        Start.AddSeconds(i), $"client:key{i % 3}", $"key{i % 3}", "statements.read", "instruction",
        i % 4 == 0 ? null : RandomNumberGenerator.GetBytes(32), i, i % 5 == 0 ? AccessDecision.Deny : AccessDecision.Allow, "rule");

    /// <summary>A chain of <paramref name="count"/> entries with a checkpoint every <paramref name="every"/>.</summary>
    private (List<AccessLogRecord> Records, List<AccessLogCheckpoint> Checkpoints) Chain(int count, int every = 10)
    {
        var records = new List<AccessLogRecord>();
        var checkpoints = new List<AccessLogCheckpoint>();
        var hash = AccessLogChain.Genesis(tenant);
        for (var p = 1; p <= count; p++)
        {
            var entry = Entry(p);
            hash = AccessLogChain.Next(hash, p, entry);
            records.Add(new AccessLogRecord(p, entry, hash));
            if (p % every == 0)
            {
                checkpoints.Add(AccessLogSigning.Sign(key, tenant, new AccessLogHead(p, hash), Start.AddMinutes(p)));
            }
        }

        return (records, checkpoints);
    }

    private AccessLogFault Fault(List<AccessLogRecord> records, List<AccessLogCheckpoint> checkpoints)
    {
        var result = AccessLogVerifier.Verify(tenant, records, checkpoints, key);
        Assert.False(result.IsClean);
        return result.Fault!;
    }

    private static AccessLogRecord At(AccessLogRecord record, long position) => record with { Position = position };

    [Fact]
    public void Verify_UntouchedChain_IsClean()
    {
        var (records, checkpoints) = Chain(50);

        var result = AccessLogVerifier.Verify(tenant, records, checkpoints, key);

        Assert.True(result.IsClean);
        Assert.Equal(50, result.Entries);
        Assert.Equal(5, result.Checkpoints);
    }

    [Fact]
    public void Verify_EmptyLog_IsClean() =>
        Assert.True(AccessLogVerifier.Verify(tenant, [], [], key).IsClean);

    [Fact]
    public void Verify_ChainOfAnotherTenant_FirstEntryAltered()
    {
        var (records, _) = Chain(5);

        var fault = AccessLogVerifier.Verify(Guid.NewGuid(), records, [], key).Fault!;

        Assert.Equal((1, AccessLogDamage.Altered), (fault.Position, fault.Damage));
    }

    [Fact]
    public void Verify_AlteredField_NamesThatEntry()
    {
        var (records, checkpoints) = Chain(50);
        records[22] = records[22] with { Entry = records[22].Entry with { Records = 999 } };

        var fault = Fault(records, checkpoints);

        Assert.Equal((23, AccessLogDamage.Altered), (fault.Position, fault.Damage));
    }

    [Fact]
    public void Verify_AlteredAndRehashedEntry_NamesTheNextEntry()
    {
        var (records, checkpoints) = Chain(50);
        var entry = records[22].Entry with { Reason = "other" };
        records[22] = new AccessLogRecord(23, entry, AccessLogChain.Next(records[21].Hash, 23, entry));

        var fault = Fault(records, checkpoints);

        Assert.Equal((24, AccessLogDamage.Altered), (fault.Position, fault.Damage));
    }

    [Fact]
    public void Verify_DeletedEntry_NamesItsPosition()
    {
        var (records, checkpoints) = Chain(50);
        records.RemoveAt(16);

        var fault = Fault(records, checkpoints);

        Assert.Equal((17, AccessLogDamage.Deleted), (fault.Position, fault.Damage));
    }

    [Fact]
    public void Verify_InsertedEntryWithCorrectHash_NamesTheInsertedPosition()
    {
        var (records, checkpoints) = Chain(50);
        var forged = Entry(1000);
        var shifted = records.Skip(19).Select(r => At(r, r.Position + 1)).ToList();
        records.RemoveRange(19, 31);
        records.Add(new AccessLogRecord(20, forged, AccessLogChain.Next(records[18].Hash, 20, forged)));
        records.AddRange(shifted);

        var fault = Fault(records, checkpoints);

        Assert.Equal((20, AccessLogDamage.Inserted), (fault.Position, fault.Damage));
    }

    [Fact]
    public void Verify_InsertedEntryWithCopiedHash_NamesTheInsertedPosition()
    {
        var (records, checkpoints) = Chain(50);
        var shifted = records.Skip(19).Select(r => At(r, r.Position + 1)).ToList();
        records.RemoveRange(19, 31);
        records.Add(new AccessLogRecord(20, Entry(1000), records[18].Hash));
        records.AddRange(shifted);

        var fault = Fault(records, checkpoints);

        Assert.Equal((20, AccessLogDamage.Inserted), (fault.Position, fault.Damage));
    }

    [Fact]
    public void Verify_DuplicatePosition_Inserted()
    {
        var (records, checkpoints) = Chain(50);
        records.Insert(31, At(records[40], 31));

        var fault = Fault(records, checkpoints);

        Assert.Equal((31, AccessLogDamage.Inserted), (fault.Position, fault.Damage));
    }

    [Theory]
    [InlineData(12, 13)]
    [InlineData(12, 37)]
    public void Verify_SwappedEntries_NamesTheFirstOfThem(int first, int second)
    {
        var (records, checkpoints) = Chain(50);
        var a = records[first - 1];
        var b = records[second - 1];
        records[first - 1] = At(b, first);
        records[second - 1] = At(a, second);

        var fault = Fault(records, checkpoints);

        Assert.Equal((first, AccessLogDamage.Swapped), (fault.Position, fault.Damage));
        Assert.Contains($"{second}", fault.Description, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_TailTruncatedPastCheckpoint_NamesTheFirstMissingEntry()
    {
        var (records, checkpoints) = Chain(50);
        records.RemoveRange(35, 15);

        var fault = Fault(records, checkpoints);

        Assert.Equal((36, AccessLogDamage.Truncated), (fault.Position, fault.Damage));
    }

    [Fact]
    public void Verify_RewrittenAndRehashedHistory_CheckpointDisagrees()
    {
        var (records, checkpoints) = Chain(50);
        var hash = records[13].Hash;
        for (var i = 14; i < records.Count; i++)
        {
            var entry = i == 14 ? records[i].Entry with { Decision = AccessDecision.Allow, Reason = "x" } : records[i].Entry;
            hash = AccessLogChain.Next(hash, i + 1, entry);
            records[i] = new AccessLogRecord(i + 1, entry, hash);
        }

        var fault = Fault(records, checkpoints);

        Assert.Equal((11, AccessLogDamage.Rewritten), (fault.Position, fault.Damage));
    }

    [Fact]
    public void Verify_CheckpointSignedByAnotherKey_SignatureInvalid()
    {
        var (records, checkpoints) = Chain(50);
        using var other = AccessLogSigning.ImportSigningKey(AccessLogSigning.NewSigningKey());
        checkpoints[2] = AccessLogSigning.Sign(other, tenant, new AccessLogHead(30, records[29].Hash), Start);

        var fault = Fault(records, checkpoints);

        Assert.Equal((30, AccessLogDamage.CheckpointSignatureInvalid), (fault.Position, fault.Damage));
    }

    [Fact]
    public void Verify_CheckpointOfAnotherTenant_SignatureInvalid()
    {
        var (records, checkpoints) = Chain(20);
        checkpoints[0] = AccessLogSigning.Sign(key, Guid.NewGuid(), new AccessLogHead(10, records[9].Hash), Start);

        Assert.Equal(AccessLogDamage.CheckpointSignatureInvalid, Fault(records, checkpoints).Damage);
    }

    [Fact]
    public void Encode_NullAndEmptyFields_DifferAndTimeIsMicroseconds()
    {
        var entry = Entry(1) with { Client = null, LearnerPseudonym = null };

        Assert.NotEqual(AccessLogChain.Encode(1, entry), AccessLogChain.Encode(1, entry with { Client = "" }));
        Assert.NotEqual(AccessLogChain.Encode(1, entry), AccessLogChain.Encode(1, entry with { LearnerPseudonym = [] }));
        Assert.NotEqual(AccessLogChain.Encode(1, entry with { Principal = "ab", Action = "c" }), AccessLogChain.Encode(1, entry with { Principal = "a", Action = "bc" }));
        Assert.Equal(AccessLogChain.Encode(1, entry), AccessLogChain.Encode(1, entry with { Time = entry.Time.AddTicks(9) }));
        Assert.NotEqual(AccessLogChain.Encode(1, entry), AccessLogChain.Encode(2, entry));
    }

    /// <summary>Logs written by earlier versions must keep verifying: the encoding and the chain hash are fixed byte for
    /// byte. The vectors were computed with the implementation of 2026-11-28 (commit 47a61dd), before its rewrite.</summary>
    [Fact]
    public void EncodeAndNext_KnownEntries_GiveTheBytesEarlierVersionsWrote()
    {
        var time = new DateTimeOffset(2026, 3, 1, 8, 0, 0, TimeSpan.Zero).AddTicks(7);
        var first = new AccessLogEntry(time, "client:kéy", null, "statements.write", "instruction", [.. Enumerable.Range(0, 32).Select(i => (byte)i)], 3, AccessDecision.Allow, "");
        var second = new AccessLogEntry(time, "person:42", "key1", "statements.read", "research", null, 0, AccessDecision.Deny, "purpose-not-lawful ✓");
        var genesis = AccessLogChain.Genesis(new Guid("0ee87784-d17d-4e42-af3e-7c470de403d6"));

        Assert.Equal("01000000000000000700064BF1DB6080000000000B636C69656E743A6BC3A979FFFFFFFF0000001073746174656D656E74732E77726974650000000B696E737472756374696F6E00000020000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F00000000000000030100000000", Convert.ToHexString(AccessLogChain.Encode(7, first)));
        Assert.Equal("01000000000000000800064BF1DB60800000000009706572736F6E3A3432000000046B6579310000000F73746174656D656E74732E72656164000000087265736561726368FFFFFFFF00000000000000000000000016707572706F73652D6E6F742D6C617766756C20E29C93", Convert.ToHexString(AccessLogChain.Encode(8, second)));
        var hash = AccessLogChain.Next(genesis, 7, first);
        Assert.Equal("F45D68510FE52BD912BF4DCD60F2759B50EDC2DB98FB5299519477945108B734", Convert.ToHexString(hash));
        Assert.Equal("C6475E17139392ADE1A807A87423F7E84E0442CB0FD2209980B65C52D2B66CF1", Convert.ToHexString(AccessLogChain.Next(hash, 8, second)));
    }

    [Fact]
    public void Genesis_DependsOnTheTenant() =>
        Assert.NotEqual(AccessLogChain.Genesis(tenant), AccessLogChain.Genesis(Guid.NewGuid()));
}
