namespace LearnerVault.Storage.Tests;

/// <summary>The term set drops repeats and keeps first-seen order, below and above the size where it starts hashing.</summary>
public sealed class StoredTermSetTests
{
    private static StoredTerm Term(int i) => new((byte)TermKind.Verb, (UInt128)(ulong)i);

    [Theory]
    [InlineData(5)]
    [InlineData(24)]
    [InlineData(25)]
    [InlineData(60)]
    public void Add_WithRepeats_KeepsEachTermOnceInFirstSeenOrder(int distinct)
    {
        var set = new StoredTermSet();
        for (var i = 0; i < distinct; i++)
        {
            Assert.True(set.Add(Term(i)));
            Assert.False(set.Add(Term(i / 2)), $"term {i / 2} is already in");
        }

        Assert.False(set.Add(Term(0)));
        Assert.Equal(Enumerable.Range(0, distinct).Select(Term), set.Items);
        Assert.True(set.Contains(Term(distinct - 1)));
        Assert.False(set.Contains(Term(distinct)));
        var copy = StoredTermSet.FromBlob(set.ToBlob());
        Assert.Equal(set.Items, copy.Items);
    }
}
