using LearnerVault.Storage.Transfer;

namespace LearnerVault.Storage.Tests;

/// <summary>The copy's content digest covers what a statement says about its learner: a copy that lost or changed it
/// would not verify.</summary>
public sealed class ContentDigestTests
{
    private static readonly StatementRow Row = new(
        Guid.NewGuid(), Guid.NewGuid(), 1, DateTimeOffset.UnixEpoch, 7, 1, [1, 2, 3], [4, 5, 6], [], null, false, false, true, [],
        Learner: [9, 9, 9], Restricted: false);

    public static TheoryData<string> Changes => ["no learner", "other learner", "restricted"];

    [Theory]
    [MemberData(nameof(Changes))]
    public void Add_StatementRowsDifferingOnlyInLearnerOrRestriction_DigestsDiffer(string change)
    {
        var changed = change switch
        {
            "no learner" => Row with { Learner = null },
            "other learner" => Row with { Learner = [9, 9, 8] },
            _ => Row with { Restricted = true },
        };

        Assert.NotEqual(Digest(Row), Digest(changed));
        Assert.Equal(Digest(Row), Digest(Row with { Learner = [9, 9, 9] }));
    }

    private static string Digest(StatementRow row)
    {
        var digest = new ContentDigest();
        digest.Add(row);
        return digest.Summary().Digest;
    }
}
