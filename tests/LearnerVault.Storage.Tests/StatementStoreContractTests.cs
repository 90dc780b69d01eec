using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using LearnerVault.Privacy.Audit;

namespace LearnerVault.Storage.Tests;

/// <summary>An opened statement store and how to close it (flushing whatever the backend holds).</summary>
public sealed class StatementStoreHandle(IStatementStore statements, IAccessLogStore accessLog, Func<ValueTask> close) : IAsyncDisposable
{
    public IStatementStore Statements { get; } = statements;

    /// <summary>The same backend's access log, which statement writes that carry entries append to.</summary>
    public IAccessLogStore AccessLog { get; } = accessLog;

    public ValueTask DisposeAsync() => close();
}

/// <summary>
/// The behaviour every <see cref="IStatementStore"/> backend must have. A backend's test class derives from this and
/// says how to open the store on storage the test class owns; nothing here knows which backend it is testing.
/// Each test uses its own tenant ids, so a backend may share one database between tests.
/// </summary>
public abstract class StatementStoreContractTests : StoreContractLifetime<StatementStoreHandle>
{
    private static readonly DateTimeOffset Start = new(2026, 3, 1, 8, 0, 0, TimeSpan.Zero);

    protected ManualTimeProvider Time { get; } = new(Start);

    protected IStatementStore Store => Handle.Statements;

    protected Guid Tenant { get; } = Guid.NewGuid();

    /// <summary>Opens the store under test on this test class's own storage. Opening again after the previous handle
    /// was disposed must find everything written before.</summary>
    protected abstract ValueTask<StatementStoreHandle> OpenAsync(TimeProvider timeProvider);

    protected sealed override ValueTask<StatementStoreHandle> OpenHandleAsync() => OpenAsync(Time);

    // ---- helpers -------------------------------------------------------------------------------------------------

    protected static IndexTerm Term(TermKind kind, string value) =>
        new(kind, SHA256.HashData(Encoding.UTF8.GetBytes(value))[..16]);

    protected static StatementRecord Statement(
        Guid? id = null,
        IReadOnlyList<IndexTerm>? terms = null,
        Guid? refTarget = null,
        bool voiding = false,
        long client = 1,
        bool hasTimestamp = true,
        byte[]? contentHash = null,
        byte[]? blob = null,
        long keyId = 7) =>
        new(
            id ?? Guid.NewGuid(),
            keyId,
            blob ?? RandomNumberGenerator.GetBytes(48),
            contentHash ?? RandomNumberGenerator.GetBytes(32),
            terms ?? [],
            refTarget,
            voiding,
            client,
            hasTimestamp);

    protected static StatementRecord Voiding(Guid target, long client = 1) =>
        Statement(terms: [Term(TermKind.Verb, "http://adlnet.gov/expapi/verbs/voided")], refTarget: target, voiding: true, client: client);

    protected Task<IReadOnlyList<WriteOutcome>> WriteAsync(params StatementRecord[] batch) => Store.WriteAsync(Tenant, batch, Ct);

    protected async Task<StoredStatement> WriteOneAsync(StatementRecord statement)
    {
        await WriteAsync(statement);
        return (await Store.GetAsync(Tenant, statement.Id, Ct))!;
    }

    protected async Task<List<Guid>> QueryIdsAsync(StatementQuery query, Guid? tenant = null) =>
        (await Store.QueryAsync(tenant ?? Tenant, query, Ct)).Statements.Select(s => s.Id).ToList();

    protected static StatementQuery ByTerms(params IndexTerm[] terms) => new() { Terms = terms };

    /// <summary>Follows ContinueAfter to the end.</summary>
    protected async Task<List<StoredStatement>> QueryAllPagesAsync(StatementQuery query, Func<Task>? betweenPages = null)
    {
        var all = new List<StoredStatement>();
        var page = await Store.QueryAsync(Tenant, query, Ct);
        all.AddRange(page.Statements);
        var guard = 0;
        while (page.ContinueAfter is { } after)
        {
            Assert.True(++guard < 10_000, "Paging never ended.");
            if (betweenPages is not null)
            {
                await betweenPages();
            }

            page = await Store.QueryAsync(Tenant, query with { After = after }, Ct);
            all.AddRange(page.Statements);
        }

        return all;
    }

    // ---- write and read ------------------------------------------------------------------------------------------

    [Fact]
    public async Task WriteAsync_NewStatement_IsReadableWithSameContent()
    {
        var statement = Statement(client: 42, hasTimestamp: false, keyId: 99);

        var outcomes = await WriteAsync(statement);
        var stored = await Store.GetAsync(Tenant, statement.Id, Ct);

        Assert.Equal([WriteOutcome.Stored], outcomes);
        Assert.NotNull(stored);
        Assert.Equal(statement.Id, stored.Id);
        Assert.Equal(statement.Blob, stored.Blob);
        Assert.Equal(99, stored.KeyId);
        Assert.Equal(42, stored.ClientId);
        Assert.False(stored.HasTimestamp);
        Assert.False(stored.Voided);
        Assert.Equal(TimeSpan.Zero, stored.Stored.Offset);
        Assert.True(stored.Stored >= Start);
    }

    [Fact]
    public async Task GetAsync_UnknownId_ReturnsNull()
    {
        await WriteAsync(Statement());

        Assert.Null(await Store.GetAsync(Tenant, Guid.NewGuid(), Ct));
    }

    [Fact]
    public async Task WriteAsync_EmptyBatch_ReturnsNoOutcomes()
    {
        Assert.Empty(await WriteAsync());
    }

    [Fact]
    public async Task WriteAsync_SameIdSameContent_ReturnsDuplicateAndKeepsFirst()
    {
        var first = Statement();
        var again = first with { Blob = RandomNumberGenerator.GetBytes(48) };
        var before = await WriteOneAsync(first);
        Time.Advance(TimeSpan.FromSeconds(1));

        var outcomes = await WriteAsync(again, Statement());
        var after = await Store.GetAsync(Tenant, first.Id, Ct);

        Assert.Equal([WriteOutcome.Duplicate, WriteOutcome.Stored], outcomes);
        Assert.Equal(first.Blob, after!.Blob);
        Assert.Equal(before.Stored, after.Stored);
    }

    [Fact]
    public async Task WriteAsync_SameIdDifferentContent_ThrowsConflictAndWritesNothingOfTheBatch()
    {
        var existing = Statement();
        await WriteAsync(existing);
        var fresh = Statement();
        var conflicting = Statement(id: existing.Id);

        var exception = await Assert.ThrowsAsync<StatementConflictException>(() => WriteAsync(fresh, conflicting));

        Assert.Equal(existing.Id, exception.StatementId);
        Assert.Null(await Store.GetAsync(Tenant, fresh.Id, Ct));
        Assert.Equal(existing.Blob, (await Store.GetAsync(Tenant, existing.Id, Ct))!.Blob);
    }

    [Fact]
    public async Task WriteAsync_ConflictWithEarlierStatementOfSameBatch_ThrowsAndWritesNothing()
    {
        var first = Statement();
        var second = Statement(id: first.Id);

        await Assert.ThrowsAsync<StatementConflictException>(() => WriteAsync(first, second));

        Assert.Null(await Store.GetAsync(Tenant, first.Id, Ct));
    }

    [Fact]
    public async Task WriteAsync_SameStatementTwiceInOneBatch_StoresItOnce()
    {
        var statement = Statement(terms: [Term(TermKind.Verb, "twice")]);

        var outcomes = await WriteAsync(statement, statement);

        Assert.Equal([WriteOutcome.Stored, WriteOutcome.Duplicate], outcomes);
        Assert.Single(await QueryIdsAsync(ByTerms(Term(TermKind.Verb, "twice"))));
    }

    [Fact]
    public async Task WriteAsync_VoidingStatementInConflictingBatch_VoidsNothing()
    {
        var target = Statement();
        var existing = Statement();
        await WriteAsync(target, existing);

        await Assert.ThrowsAsync<StatementConflictException>(() => WriteAsync(Voiding(target.Id), Statement(id: existing.Id)));

        Assert.False((await Store.GetAsync(Tenant, target.Id, Ct))!.Voided);
    }

    [Fact]
    public async Task WriteAsync_PreCancelledToken_ThrowsAndWritesNothing()
    {
        var statement = Statement();
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Store.WriteAsync(Tenant, [statement], cancelled.Token));

        Assert.Null(await Store.GetAsync(Tenant, statement.Id, Ct));
    }

    // ---- learner and restriction ---------------------------------------------------------------------------------

    protected static byte[] Pseudonym() => RandomNumberGenerator.GetBytes(32);

    /// <summary>Every read path: by id, the unfiltered list, and a filtered query (which, on backends with an index of
    /// their own, takes another path than the unfiltered one).</summary>
    protected async Task<List<StoredStatement>> ReadEveryWayAsync(Guid id, IndexTerm term)
    {
        var byId = (await Store.GetAsync(Tenant, id, Ct))!;
        var listed = (await Store.QueryAsync(Tenant, new StatementQuery { Limit = 1000 }, Ct)).Statements.Single(s => s.Id == id);
        var filtered = (await Store.QueryAsync(Tenant, ByTerms(term) with { Limit = 1000, Ascending = true }, Ct)).Statements.Single(s => s.Id == id);
        return [byId, listed, filtered];
    }

    [Fact]
    public async Task WriteAsync_LearnerAndRestricted_ReturnedByGetAndQuery()
    {
        var learner = Pseudonym();
        var verb = Term(TermKind.Verb, "learner-restricted");
        var statement = Statement(terms: [verb]) with { Learner = learner, Restricted = true };

        await WriteAsync(statement);

        Assert.All(await ReadEveryWayAsync(statement.Id, verb), stored =>
        {
            Assert.Equal(learner, stored.Learner);
            Assert.True(stored.Restricted);
        });
    }

    [Fact]
    public async Task WriteAsync_NoLearner_ReadsBackNullAndUnrestricted()
    {
        var verb = Term(TermKind.Verb, "no-learner");
        var statement = Statement(terms: [verb]);

        await WriteAsync(statement);

        Assert.All(await ReadEveryWayAsync(statement.Id, verb), stored =>
        {
            Assert.Null(stored.Learner);
            Assert.False(stored.Restricted);
        });
    }

    [Fact]
    public async Task WriteAsync_BatchWithMixedLearners_EachStatementKeepsItsOwn()
    {
        var (ann, bob) = (Pseudonym(), Pseudonym());
        var verb = Term(TermKind.Verb, "mixed-learners");
        StatementRecord[] batch =
        [
            Statement(terms: [verb]) with { Learner = ann },
            Statement(terms: [verb]),
            Statement(terms: [verb]) with { Learner = bob, Restricted = true },
            Statement(terms: [verb]) with { Learner = ann, Restricted = true },
            Statement(terms: [verb]) with { Restricted = true },
        ];

        await WriteAsync(batch);

        foreach (var statement in batch)
        {
            Assert.All(await ReadEveryWayAsync(statement.Id, verb), stored =>
            {
                Assert.Equal(statement.Learner, stored.Learner);
                Assert.Equal(statement.Restricted, stored.Restricted);
            });
        }
    }

    [Fact]
    public async Task WriteAsync_DuplicateWithOtherLearnerOrRestriction_KeepsTheFirstWritesValues()
    {
        var learner = Pseudonym();
        var verb = Term(TermKind.Verb, "duplicate-learner");
        var first = Statement(terms: [verb]) with { Learner = learner };
        await WriteAsync(first);

        var later = await WriteAsync(first with { Learner = Pseudonym(), Restricted = true });
        var inBatch = Statement(terms: [verb]) with { Learner = learner, Restricted = true };
        var sameBatch = await WriteAsync(inBatch, inBatch with { Learner = null, Restricted = false });

        Assert.Equal([WriteOutcome.Duplicate], later);
        Assert.Equal([WriteOutcome.Stored, WriteOutcome.Duplicate], sameBatch);
        Assert.All(await ReadEveryWayAsync(first.Id, verb), stored =>
        {
            Assert.Equal(learner, stored.Learner);
            Assert.False(stored.Restricted);
        });
        Assert.All(await ReadEveryWayAsync(inBatch.Id, verb), stored =>
        {
            Assert.Equal(learner, stored.Learner);
            Assert.True(stored.Restricted);
        });
    }

    [Fact]
    public async Task WriteAsync_EmptyLearner_ThrowsArgumentExceptionAndWritesNothing()
    {
        var fresh = Statement();

        await Assert.ThrowsAsync<ArgumentException>(() => WriteAsync(fresh, Statement() with { Learner = [] }));

        Assert.Null(await Store.GetAsync(Tenant, fresh.Id, Ct));
    }

    [Fact]
    public async Task Reopen_AfterWritingLearnersAndRestrictions_TheyAreStillThere()
    {
        var verb = Term(TermKind.Verb, "learner-reopen");
        StatementRecord[] batch =
        [
            Statement(terms: [verb]) with { Learner = Pseudonym(), Restricted = true },
            Statement(terms: [verb]) with { Learner = Pseudonym() },
            Statement(terms: [verb]),
        ];
        await WriteAsync(batch);

        await ReopenAsync();

        foreach (var statement in batch)
        {
            Assert.All(await ReadEveryWayAsync(statement.Id, verb), stored =>
            {
                Assert.Equal(statement.Learner, stored.Learner);
                Assert.Equal(statement.Restricted, stored.Restricted);
            });
        }
    }

    // ---- stored --------------------------------------------------------------------------------------------------

    [Fact]
    public async Task WriteAsync_BatchWithFrozenClock_AssignsStrictlyIncreasingStoredInBatchOrder()
    {
        var batch = Enumerable.Range(0, 50).Select(_ => Statement()).ToArray();

        await WriteAsync(batch);
        var stored = new List<StoredStatement>();
        foreach (var statement in batch)
        {
            stored.Add((await Store.GetAsync(Tenant, statement.Id, Ct))!);
        }

        for (var i = 1; i < stored.Count; i++)
        {
            Assert.True(stored[i].Stored > stored[i - 1].Stored);
            Assert.True(stored[i].Sequence > stored[i - 1].Sequence);
        }
    }

    [Fact]
    public async Task WriteAsync_ClockSteppedBack_StoredStillIncreases()
    {
        var first = await WriteOneAsync(Statement());
        Time.Set(Start - TimeSpan.FromHours(1));

        var second = await WriteOneAsync(Statement());

        Assert.True(second.Stored > first.Stored);
        Assert.True(second.Sequence > first.Sequence);
    }

    [Fact]
    public async Task WriteAsync_ClockAheadOfLastStored_StoredIsTheClockToTheMicrosecond()
    {
        var now = new DateTimeOffset(2090, 1, 1, 0, 0, 1, TimeSpan.Zero).AddTicks(2_345_670);
        Time.Set(now);

        var stored = await WriteOneAsync(Statement());

        Assert.Equal(now, stored.Stored);
    }

    [Fact]
    public async Task ConsistentThroughAsync_IdleStore_IsJustBeforeNow()
    {
        await WriteAsync(Statement());
        Time.Advance(TimeSpan.FromSeconds(3));

        var through = await Store.ConsistentThroughAsync(Tenant, Ct);

        Assert.NotNull(through);
        Assert.InRange(Time.GetUtcNow() - through.Value, TimeSpan.Zero, TimeSpan.FromMilliseconds(1));
    }

    [Fact]
    public async Task ConsistentThroughAsync_AfterWrites_CoversEveryStoredStatement()
    {
        var verb = Term(TermKind.Verb, "consistent");
        await WriteAsync(Statement(terms: [verb]), Statement(terms: [verb]));

        var through = await Store.ConsistentThroughAsync(Tenant, Ct);
        var visible = await Store.QueryAsync(Tenant, ByTerms(verb) with { Until = through }, Ct);

        Assert.Equal(2, visible.Statements.Count);
    }

    // ---- filters -------------------------------------------------------------------------------------------------

    public static TheoryData<TermKind> AllTermKinds() => new(Enum.GetValues<TermKind>());

    [Theory]
    [MemberData(nameof(AllTermKinds))]
    public async Task QueryAsync_ByTermOfEachKind_ReturnsOnlyStatementsWithThatTerm(TermKind kind)
    {
        var otherKind = kind == TermKind.Verb ? TermKind.Activity : TermKind.Verb;
        var match = Statement(terms: [Term(kind, "x")]);
        var otherValue = Statement(terms: [Term(kind, "y")]);
        var sameHashOtherKind = Statement(terms: [Term(otherKind, "x")]);
        await WriteAsync(match, otherValue, sameHashOtherKind);

        var ids = await QueryIdsAsync(ByTerms(Term(kind, "x")));

        Assert.Equal([match.Id], ids);
    }

    [Fact]
    public async Task QueryAsync_SeveralTerms_ReturnsOnlyStatementsWithAllOfThem()
    {
        var verb = Term(TermKind.Verb, "completed");
        var activity = Term(TermKind.Activity, "course-1");
        var agent = Term(TermKind.Agent, "learner-1");
        var all = Statement(terms: [verb, activity, agent]);
        var twoOfThree = Statement(terms: [verb, activity]);
        var one = Statement(terms: [agent]);
        // Many statements with the broad term, so the intersection has to be found, not stumbled upon.
        var noise = Enumerable.Range(0, 200).Select(_ => Statement(terms: [verb])).ToArray();
        await WriteAsync([all, twoOfThree, one, .. noise]);

        Assert.Equal([all.Id], await QueryIdsAsync(ByTerms(verb, activity, agent)));
        Assert.Equal([twoOfThree.Id, all.Id], await QueryIdsAsync(ByTerms(activity, verb)));
        Assert.Equal([one.Id, all.Id], await QueryIdsAsync(ByTerms(agent)));
        Assert.Empty(await QueryIdsAsync(ByTerms(agent, Term(TermKind.Verb, "never-used"))));
    }

    [Fact]
    public async Task QueryAsync_RepeatedTerm_ActsAsOneTerm()
    {
        var verb = Term(TermKind.Verb, "repeat");
        var statement = Statement(terms: [verb]);
        await WriteAsync(statement);

        Assert.Equal([statement.Id], await QueryIdsAsync(ByTerms(verb, verb)));
    }

    [Fact]
    public async Task QueryAsync_NoFilter_ReturnsEveryStatementOfTheTenantNewestFirst()
    {
        var batch = Enumerable.Range(0, 5).Select(_ => Statement()).ToArray();
        await WriteAsync(batch);

        var ids = await QueryIdsAsync(new StatementQuery());

        Assert.Equal(batch.Select(s => s.Id).Reverse(), ids);
    }

    [Fact]
    public async Task QueryAsync_Ascending_ReturnsOldestFirst()
    {
        var verb = Term(TermKind.Verb, "order");
        var batch = Enumerable.Range(0, 5).Select(_ => Statement(terms: [verb])).ToArray();
        await WriteAsync(batch);

        Assert.Equal(batch.Select(s => s.Id), await QueryIdsAsync(ByTerms(verb) with { Ascending = true }));
        Assert.Equal(batch.Select(s => s.Id), await QueryIdsAsync(new StatementQuery { Ascending = true }));
        Assert.Equal(batch.Select(s => s.Id).Reverse(), await QueryIdsAsync(ByTerms(verb)));
    }

    [Fact]
    public async Task QueryAsync_SinceAndUntil_SinceExclusiveUntilInclusive()
    {
        var verb = Term(TermKind.Verb, "timed");
        var stored = new List<StoredStatement>();
        for (var i = 0; i < 5; i++)
        {
            stored.Add(await WriteOneAsync(Statement(terms: [verb])));
            Time.Advance(TimeSpan.FromMilliseconds(10));
        }

        var ids = stored.Select(s => s.Id).ToList();
        foreach (var query in new[] { ByTerms(verb), new StatementQuery() })
        {
            Assert.Equal([ids[4], ids[3], ids[2]], await QueryIdsAsync(query with { Since = stored[1].Stored }));
            Assert.Equal([ids[3], ids[2], ids[1], ids[0]], await QueryIdsAsync(query with { Until = stored[3].Stored }));
            Assert.Equal([ids[3], ids[2]], await QueryIdsAsync(query with { Since = stored[1].Stored, Until = stored[3].Stored }));
            Assert.Equal([ids[2], ids[3]], await QueryIdsAsync(query with { Since = stored[1].Stored, Until = stored[3].Stored, Ascending = true }));
            Assert.Empty(await QueryIdsAsync(query with { Since = stored[3].Stored, Until = stored[3].Stored }));
            Assert.Empty(await QueryIdsAsync(query with { Since = stored[4].Stored }));
            Assert.Equal(ids, await QueryIdsAsync(query with { Since = stored[0].Stored - TimeSpan.FromTicks(1), Ascending = true }));
        }
    }

    [Fact]
    public async Task QueryAsync_ClientId_ReturnsOnlyThatClientsStatements()
    {
        var verb = Term(TermKind.Verb, "mine");
        var fromOne = Statement(client: 1, terms: [verb]);
        var fromTwo = Statement(client: 2, terms: [verb]);
        var alsoFromOne = Statement(client: 1);
        await WriteAsync(fromOne, fromTwo, alsoFromOne);

        Assert.Equal([alsoFromOne.Id, fromOne.Id], await QueryIdsAsync(new StatementQuery { ClientId = 1 }));
        Assert.Equal([fromTwo.Id], await QueryIdsAsync(new StatementQuery { ClientId = 2 }));
        Assert.Equal([fromOne.Id], await QueryIdsAsync(ByTerms(verb) with { ClientId = 1 }));
        Assert.Empty(await QueryIdsAsync(new StatementQuery { ClientId = 3 }));
    }

    // ---- paging --------------------------------------------------------------------------------------------------

    [Fact]
    public async Task QueryAsync_Limit_PagesWithContinueAfterUntilTheEnd()
    {
        var batch = Enumerable.Range(0, 5).Select(_ => Statement()).ToArray();
        await WriteAsync(batch);

        var first = await Store.QueryAsync(Tenant, new StatementQuery { Limit = 2 }, Ct);
        var second = await Store.QueryAsync(Tenant, new StatementQuery { Limit = 2, After = first.ContinueAfter }, Ct);
        var third = await Store.QueryAsync(Tenant, new StatementQuery { Limit = 2, After = second.ContinueAfter }, Ct);

        Assert.Equal([batch[4].Id, batch[3].Id], first.Statements.Select(s => s.Id));
        Assert.Equal(first.Statements[^1].Sequence, first.ContinueAfter);
        Assert.Equal([batch[2].Id, batch[1].Id], second.Statements.Select(s => s.Id));
        Assert.Equal([batch[0].Id], third.Statements.Select(s => s.Id));
        Assert.Null(third.ContinueAfter);
    }

    [Fact]
    public async Task QueryAsync_ResultsExactlyFillTheLimit_NoContinuation()
    {
        await WriteAsync(Statement(), Statement());

        var page = await Store.QueryAsync(Tenant, new StatementQuery { Limit = 2 }, Ct);

        Assert.Equal(2, page.Statements.Count);
        Assert.Null(page.ContinueAfter);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task QueryAsync_PagingWhileWritesHappen_NoStatementLostOrRepeated(bool ascending)
    {
        var verb = Term(TermKind.Verb, "paged");
        var initial = Enumerable.Range(0, 230).Select(_ => Statement(terms: [verb])).ToList();
        await WriteAsync([.. initial]);
        var written = new List<StatementRecord>();

        var pages = await QueryAllPagesAsync(ByTerms(verb) with { Limit = 17, Ascending = ascending }, async () =>
        {
            Time.Advance(TimeSpan.FromMilliseconds(1));
            var more = Enumerable.Range(0, 3).Select(_ => Statement(terms: [verb])).ToArray();
            written.AddRange(more);
            await WriteAsync(more);
        });

        var ids = pages.Select(s => s.Id).ToList();
        Assert.Equal(ids.Count, ids.Distinct().Count());
        Assert.All(initial, s => Assert.Contains(s.Id, ids));
        var sequences = pages.Select(s => s.Sequence).ToList();
        Assert.Equal(ascending ? sequences.Order() : sequences.OrderDescending(), sequences);
        if (ascending)
        {
            // Ascending paging reaches the statements written meanwhile, except those written after the last page.
            Assert.True(ids.Count >= initial.Count + written.Count - 3);
        }
        else
        {
            Assert.Equal(initial.Count, ids.Count);
        }
    }

    // ---- voiding -------------------------------------------------------------------------------------------------

    [Fact]
    public async Task WriteAsync_VoidingStatement_HidesTargetFromQueriesButNotFromGet()
    {
        var activity = Term(TermKind.Activity, "voided-course");
        var target = Statement(terms: [activity]);
        await WriteAsync(target);
        var voiding = Voiding(target.Id);

        await WriteAsync(voiding);

        var stored = await Store.GetAsync(Tenant, target.Id, Ct);
        Assert.True(stored!.Voided);
        Assert.Equal(target.Blob, stored.Blob);
        Assert.False((await Store.GetAsync(Tenant, voiding.Id, Ct))!.Voided);
        Assert.DoesNotContain(target.Id, await QueryIdsAsync(new StatementQuery()));
        // The voiding statement targets a statement that matched, so it is returned in its place (Communication 2.1.3).
        Assert.Equal([voiding.Id], await QueryIdsAsync(ByTerms(activity)));
    }

    [Fact]
    public async Task WriteAsync_VoidingAVoidingStatement_DoesNotVoidIt()
    {
        var target = Statement();
        var voiding = Voiding(target.Id);
        await WriteAsync(target, voiding);

        var voidingTheVoiding = Voiding(voiding.Id);
        await WriteAsync(voidingTheVoiding);

        Assert.True((await Store.GetAsync(Tenant, target.Id, Ct))!.Voided);
        Assert.False((await Store.GetAsync(Tenant, voiding.Id, Ct))!.Voided);
        Assert.Contains(voiding.Id, await QueryIdsAsync(new StatementQuery()));
    }

    [Fact]
    public async Task WriteAsync_VoidingBeforeTarget_TargetStoredVoided()
    {
        var activity = Term(TermKind.Activity, "late");
        var target = Statement(terms: [activity]);
        await WriteAsync(Voiding(target.Id));
        Time.Advance(TimeSpan.FromSeconds(1));

        await WriteAsync(target);

        Assert.True((await Store.GetAsync(Tenant, target.Id, Ct))!.Voided);
        Assert.DoesNotContain(target.Id, await QueryIdsAsync(ByTerms(activity)));
        Assert.DoesNotContain(target.Id, await QueryIdsAsync(new StatementQuery()));
    }

    [Fact]
    public async Task WriteAsync_VoidingStatementArrivesBeforeItsVoidingTarget_TargetNotVoided()
    {
        var firstVoiding = Statement(voiding: true, refTarget: Guid.NewGuid());
        await WriteAsync(Voiding(firstVoiding.Id));

        await WriteAsync(firstVoiding);

        Assert.False((await Store.GetAsync(Tenant, firstVoiding.Id, Ct))!.Voided);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task WriteAsync_TargetAndVoidingInOneBatch_TargetVoidedInEitherOrder(bool voidingFirst)
    {
        var target = Statement();
        var voiding = Voiding(target.Id);

        await WriteAsync(voidingFirst ? [voiding, target] : [target, voiding]);

        Assert.True((await Store.GetAsync(Tenant, target.Id, Ct))!.Voided);
        Assert.Equal([voiding.Id], await QueryIdsAsync(new StatementQuery()));
    }

    [Fact]
    public async Task WriteAsync_VoidingStatementWithUnknownTarget_IsStored()
    {
        var voiding = Voiding(Guid.NewGuid());

        Assert.Equal([WriteOutcome.Stored], await WriteAsync(voiding));
        Assert.Equal([voiding.Id], await QueryIdsAsync(new StatementQuery()));
    }

    // ---- statement references ------------------------------------------------------------------------------------

    [Fact]
    public async Task WriteAsync_StatementRefToStoredTarget_MatchesTargetsTerms()
    {
        var agent = Term(TermKind.Agent, "ben");
        var activity = Term(TermKind.Activity, "explosives-training");
        var target = Statement(terms: [agent, activity, Term(TermKind.Verb, "passed")]);
        await WriteAsync(target);
        var confirm = Statement(terms: [Term(TermKind.Agent, "andrew"), Term(TermKind.Verb, "confirmed")], refTarget: target.Id);

        await WriteAsync(confirm);

        Assert.Equal([confirm.Id, target.Id], await QueryIdsAsync(ByTerms(agent)));
        Assert.Equal([confirm.Id, target.Id], await QueryIdsAsync(ByTerms(activity, agent)));
        Assert.Equal([confirm.Id], await QueryIdsAsync(ByTerms(activity, Term(TermKind.Verb, "confirmed"))));
    }

    [Fact]
    public async Task WriteAsync_StatementRefToTargetEarlierInSameBatch_MatchesTargetsTerms()
    {
        var activity = Term(TermKind.Activity, "same-batch");
        var target = Statement(terms: [activity]);
        var referrer = Statement(refTarget: target.Id);

        await WriteAsync(target, referrer);

        Assert.Equal([referrer.Id, target.Id], await QueryIdsAsync(ByTerms(activity)));
    }

    [Fact]
    public async Task WriteAsync_ChainOfStatementRefs_MatchesTermsRecursively()
    {
        var activity = Term(TermKind.Activity, "chain");
        var c = Statement(terms: [activity]);
        var b = Statement(refTarget: c.Id);
        var a = Statement(refTarget: b.Id);

        await WriteAsync(c);
        await WriteAsync(b);
        await WriteAsync(a);

        Assert.Equal([a.Id, b.Id, c.Id], await QueryIdsAsync(ByTerms(activity)));
    }

    [Fact]
    public async Task WriteAsync_TargetArrivesAfterItsReferrers_ReferrersGainItsTerms()
    {
        var activity = Term(TermKind.Activity, "late-target");
        var c = Statement(terms: [activity]);
        var b = Statement(refTarget: c.Id);
        var a = Statement(refTarget: b.Id);
        await WriteAsync(a);
        await WriteAsync(b);

        await WriteAsync(c);

        Assert.Equal([c.Id, b.Id, a.Id], await QueryIdsAsync(ByTerms(activity)));
    }

    [Fact]
    public async Task WriteAsync_StatementRef_DoesNotInheritTheTargetsClient()
    {
        var activity = Term(TermKind.Activity, "clients");
        var target = Statement(client: 1, terms: [activity]);
        var referrer = Statement(client: 2, refTarget: target.Id);
        await WriteAsync(target, referrer);

        Assert.Equal([target.Id], await QueryIdsAsync(ByTerms(activity) with { ClientId = 1 }));
        Assert.Equal([referrer.Id], await QueryIdsAsync(ByTerms(activity) with { ClientId = 2 }));
    }

    // ---- attachments ---------------------------------------------------------------------------------------------

    protected static AttachmentRecord Attachment(byte[]? hashKey = null, long keyId = 3, byte[]? blob = null) =>
        new(hashKey ?? RandomNumberGenerator.GetBytes(32), keyId, blob ?? RandomNumberGenerator.GetBytes(64));

    protected static StatementRecord WithAttachments(StatementRecord statement, params AttachmentRecord[] attachments) =>
        statement with { Attachments = attachments };

    [Fact]
    public async Task WriteAsync_StatementWithAttachment_ContentReadableByHashKey()
    {
        var attachment = Attachment(keyId: 12);

        await WriteAsync(WithAttachments(Statement(), attachment));
        var found = await Store.GetAttachmentsAsync(Tenant, [attachment.HashKey], cancellationToken: Ct);

        var stored = Assert.Single(found);
        Assert.Equal(attachment.HashKey, stored.HashKey);
        Assert.Equal(attachment.Blob, stored.Blob);
        Assert.Equal(12, stored.KeyId);
        Assert.Equal(1, stored.References);
    }

    [Fact]
    public async Task WriteAsync_StatementsShareAttachment_StoredOnceWithOneReferenceEach()
    {
        var hashKey = RandomNumberGenerator.GetBytes(32);
        var first = Attachment(hashKey);

        await WriteAsync(WithAttachments(Statement(), first), WithAttachments(Statement(), Attachment(hashKey)));
        await WriteAsync(WithAttachments(Statement(), Attachment(hashKey)));
        var stored = Assert.Single(await Store.GetAttachmentsAsync(Tenant, [hashKey], cancellationToken: Ct));

        Assert.Equal(3, stored.References);
        Assert.Equal(first.Blob, stored.Blob);
    }

    [Fact]
    public async Task WriteAsync_SameAttachmentListedTwiceInOneStatement_CountsOnce()
    {
        var attachment = Attachment();

        await WriteAsync(WithAttachments(Statement(), attachment, attachment));

        Assert.Equal(1, Assert.Single(await Store.GetAttachmentsAsync(Tenant, [attachment.HashKey], cancellationToken: Ct)).References);
    }

    [Fact]
    public async Task WriteAsync_DuplicateStatementWithAttachment_AddsNoReference()
    {
        var attachment = Attachment();
        var statement = WithAttachments(Statement(), attachment);
        await WriteAsync(statement);

        var outcomes = await WriteAsync(statement);

        Assert.Equal([WriteOutcome.Duplicate], outcomes);
        Assert.Equal(1, Assert.Single(await Store.GetAttachmentsAsync(Tenant, [attachment.HashKey], cancellationToken: Ct)).References);
    }

    [Fact]
    public async Task WriteAsync_ConflictingBatchWithAttachments_StoresNoAttachment()
    {
        var existing = await WriteOneAsync(Statement());
        var shared = Attachment();
        await WriteAsync(WithAttachments(Statement(), shared));
        var fresh = Attachment();

        await Assert.ThrowsAsync<StatementConflictException>(() => WriteAsync(
            WithAttachments(Statement(), fresh, Attachment(shared.HashKey)),
            Statement(id: existing.Id)));

        Assert.Empty(await Store.GetAttachmentsAsync(Tenant, [fresh.HashKey], cancellationToken: Ct));
        Assert.Equal(1, Assert.Single(await Store.GetAttachmentsAsync(Tenant, [shared.HashKey], cancellationToken: Ct)).References);
    }

    [Fact]
    public async Task GetAttachmentsAsync_UnknownAndRepeatedKeys_ReturnsEachStoredKeyOnceInOrder()
    {
        var a = Attachment();
        var b = Attachment();
        await WriteAsync(WithAttachments(Statement(), a, b));

        var found = await Store.GetAttachmentsAsync(Tenant, [b.HashKey, RandomNumberGenerator.GetBytes(32), a.HashKey, b.HashKey], cancellationToken: Ct);

        Assert.Equal([b.HashKey, a.HashKey], found.Select(f => f.HashKey));
        Assert.Empty(await Store.GetAttachmentsAsync(Tenant, [], cancellationToken: Ct));
    }

    [Fact]
    public async Task GetAttachmentsAsync_CarriedBy_OnlyContentsThoseStatementsCarried()
    {
        var a = Attachment();
        var b = Attachment();
        var carriesA = await WriteOneAsync(WithAttachments(Statement(), a));
        var carriesB = await WriteOneAsync(WithAttachments(Statement(), b));
        var carriesNothing = await WriteOneAsync(Statement());
        byte[][] both = [a.HashKey, b.HashKey];

        Assert.Equal([a.HashKey], (await Store.GetAttachmentsAsync(Tenant, both, [carriesA.Sequence], Ct)).Select(f => f.HashKey));
        Assert.Equal(both, (await Store.GetAttachmentsAsync(Tenant, both, [carriesNothing.Sequence, carriesB.Sequence, carriesA.Sequence], Ct)).Select(f => f.HashKey));
        Assert.Empty(await Store.GetAttachmentsAsync(Tenant, both, [carriesNothing.Sequence], Ct));
        Assert.Empty(await Store.GetAttachmentsAsync(Tenant, both, [], Ct));
    }

    [Fact]
    public async Task GetAttachmentsAsync_OtherTenant_FindsNothingAndKeepsItsOwnCopy()
    {
        var hashKey = RandomNumberGenerator.GetBytes(32);
        var other = Guid.NewGuid();
        await WriteAsync(WithAttachments(Statement(), Attachment(hashKey)));

        Assert.Empty(await Store.GetAttachmentsAsync(other, [hashKey], cancellationToken: Ct));
        var theirs = Attachment(hashKey);
        await Store.WriteAsync(other, [WithAttachments(Statement(), theirs)], Ct);

        Assert.Equal(theirs.Blob, Assert.Single(await Store.GetAttachmentsAsync(other, [hashKey], cancellationToken: Ct)).Blob);
        Assert.Equal(1, Assert.Single(await Store.GetAttachmentsAsync(Tenant, [hashKey], cancellationToken: Ct)).References);
    }

    [Fact]
    public async Task Reopen_AfterWritingAttachment_ContentIsStillThere()
    {
        var attachment = Attachment();
        await WriteAsync(WithAttachments(Statement(), attachment));

        await ReopenAsync();

        Assert.Equal(attachment.Blob, Assert.Single(await Store.GetAttachmentsAsync(Tenant, [attachment.HashKey], cancellationToken: Ct)).Blob);
    }

    // ---- tenants -------------------------------------------------------------------------------------------------

    [Fact]
    public async Task Queries_OtherTenant_NeverSeeThisTenantsStatements()
    {
        var other = Guid.NewGuid();
        var verb = Term(TermKind.Verb, "shared-term");
        var mine = Statement(terms: [verb], client: 5);
        var theirs = mine with { ContentHash = RandomNumberGenerator.GetBytes(32), Blob = RandomNumberGenerator.GetBytes(48) };
        await WriteAsync(mine);
        var voidingInOtherTenant = Voiding(mine.Id);

        Assert.Equal([WriteOutcome.Stored], await Store.WriteAsync(other, [theirs], Ct));
        await Store.WriteAsync(other, [voidingInOtherTenant], Ct);

        Assert.Equal(mine.Blob, (await Store.GetAsync(Tenant, mine.Id, Ct))!.Blob);
        Assert.False((await Store.GetAsync(Tenant, mine.Id, Ct))!.Voided);
        Assert.Equal(theirs.Blob, (await Store.GetAsync(other, mine.Id, Ct))!.Blob);
        Assert.Null(await Store.GetAsync(Tenant, voidingInOtherTenant.Id, Ct));
        Assert.Equal([mine.Id], await QueryIdsAsync(ByTerms(verb)));
        Assert.Equal([mine.Id], await QueryIdsAsync(new StatementQuery { ClientId = 5 }));
        Assert.Equal([voidingInOtherTenant.Id], await QueryIdsAsync(ByTerms(verb), other));
        Assert.Empty(await QueryIdsAsync(new StatementQuery(), Guid.NewGuid()));
        Assert.Null(await Store.GetAsync(Guid.NewGuid(), mine.Id, Ct));
    }

    // ---- concurrency and durability ------------------------------------------------------------------------------

    [Fact]
    public async Task WriteAsync_ManyConcurrentCallers_AllStoredAndQueryable()
    {
        var verb = Term(TermKind.Verb, "concurrent");
        var written = new ConcurrentBag<Guid>();

        await Parallel.ForEachAsync(Enumerable.Range(0, 32), new ParallelOptions { MaxDegreeOfParallelism = 32, CancellationToken = Ct }, async (writer, ct) =>
        {
            for (var i = 0; i < 20; i++)
            {
                var batch = Enumerable.Range(0, 1 + (i % 3)).Select(_ => Statement(terms: [verb], client: writer)).ToArray();
                var outcomes = await Store.WriteAsync(Tenant, batch, ct);
                Assert.All(outcomes, o => Assert.Equal(WriteOutcome.Stored, o));
                foreach (var statement in batch)
                {
                    written.Add(statement.Id);
                }
            }
        });

        var found = await QueryAllPagesAsync(ByTerms(verb) with { Limit = 500 });
        Assert.Equal(written.Order(), found.Select(s => s.Id).Order());
        var sequences = found.Select(s => s.Sequence).ToList();
        Assert.Equal(sequences.Count, sequences.Distinct().Count());
    }

    [Fact]
    public async Task WriteAsync_ConcurrentConflictingBatch_FailsAloneOthersCommit()
    {
        var existing = Statement();
        await WriteAsync(existing);
        var good = new ConcurrentBag<Guid>();
        var rejected = new ConcurrentBag<Guid>();

        await Parallel.ForEachAsync(Enumerable.Range(0, 40), new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = Ct }, async (i, ct) =>
        {
            var fresh = Statement();
            if (i % 4 == 0)
            {
                await Assert.ThrowsAsync<StatementConflictException>(() => Store.WriteAsync(Tenant, [fresh, Statement(id: existing.Id)], ct));
                rejected.Add(fresh.Id);
            }
            else
            {
                await Store.WriteAsync(Tenant, [fresh], ct);
                good.Add(fresh.Id);
            }
        });

        foreach (var id in good)
        {
            Assert.NotNull(await Store.GetAsync(Tenant, id, Ct));
        }

        foreach (var id in rejected)
        {
            Assert.Null(await Store.GetAsync(Tenant, id, Ct));
        }
    }

    [Fact]
    public async Task Reopen_AfterAcknowledgedWrites_EverythingIsStillThere()
    {
        var verb = Term(TermKind.Verb, "durable");
        var target = Statement(terms: [verb]);
        var voiding = Voiding(target.Id);
        var pending = Enumerable.Range(0, 20).Select(_ => Store.WriteAsync(Tenant, [Statement(terms: [verb])], Ct)).ToList();
        await WriteAsync(target, voiding);
        await Task.WhenAll(pending);
        var before = await Store.QueryAsync(Tenant, ByTerms(verb) with { Limit = 100 }, Ct);
        var newest = before.Statements.Max(s => s.Stored);

        await ReopenAsync();
        Time.Set(Start - TimeSpan.FromDays(1));
        var afterReopen = await WriteOneAsync(Statement());

        var after = await Store.QueryAsync(Tenant, ByTerms(verb) with { Limit = 100 }, Ct);
        Assert.Equal(21, after.Statements.Count);
        Assert.Equal(before.Statements.Select(s => (s.Id, s.Sequence, s.Stored)), after.Statements.Select(s => (s.Id, s.Sequence, s.Stored)));
        Assert.True((await Store.GetAsync(Tenant, target.Id, Ct))!.Voided);
        Assert.True(afterReopen.Stored > newest);
    }

    // ---- writes that carry access-log entries ---------------------------------------------------------------------

    private static AccessLogEntry LogEntry(int i) => new(
        Start.AddSeconds(i), $"client:key{i}", $"key{i}", "statements.write", "instruction", RandomNumberGenerator.GetBytes(32), 1, AccessDecision.Allow, "");

    /// <summary>The tenant's whole log, checked to be chained from the genesis value with no gap.</summary>
    private async Task<IReadOnlyList<AccessLogRecord>> ChainedLogAsync()
    {
        var records = await Handle.AccessLog.ReadAsync(Tenant, 1, 100_000, Ct);
        var hash = AccessLogChain.Genesis(Tenant);
        for (var i = 0; i < records.Count; i++)
        {
            Assert.Equal(i + 1, records[i].Position);
            hash = AccessLogChain.Next(hash, i + 1, records[i].Entry);
            Assert.Equal(hash, records[i].Hash);
        }

        return records;
    }

    [Fact]
    public async Task WriteWithEntries_AppendsThemOnTheChainAndStoresTheBatch()
    {
        await Handle.AccessLog.AppendAsync(Tenant, [LogEntry(1)], Ct);
        var batch = new[] { Statement(), Statement() };
        var entries = new[] { LogEntry(2), LogEntry(3) };

        var written = await Store.WriteAsync(Tenant, batch, entries, Ct);

        Assert.Equal([WriteOutcome.Stored, WriteOutcome.Stored], written.Outcomes);
        Assert.Equal(3, written.AccessLogHead.Position);
        var head = await Handle.AccessLog.GetHeadAsync(Tenant, Ct);
        Assert.Equal(head.Position, written.AccessLogHead.Position);
        Assert.Equal(head.Hash, written.AccessLogHead.Hash);
        var log = await ChainedLogAsync();
        Assert.Equal(3, log.Count);
        Assert.Equal(entries.Select(e => (e.Principal, e.LearnerPseudonym)), log.Skip(1).Select(r => (r.Entry.Principal, r.Entry.LearnerPseudonym)));
        foreach (var statement in batch)
        {
            Assert.NotNull(await Store.GetAsync(Tenant, statement.Id, Ct));
        }

        // Appends after it go on from its head.
        Assert.Equal(4, (await Handle.AccessLog.AppendAsync(Tenant, [LogEntry(4)], Ct)).Position);
        Assert.Equal(4, (await ChainedLogAsync()).Count);
    }

    [Fact]
    public async Task WriteWithEntries_Conflict_KeepsTheEntriesAndStoresNothing()
    {
        var stored = Statement();
        await WriteAsync(stored);
        var fresh = Statement();
        var conflicting = Statement(id: stored.Id);

        await Assert.ThrowsAsync<StatementConflictException>(() => Store.WriteAsync(Tenant, [fresh, conflicting], [LogEntry(1), LogEntry(2)], Ct));

        Assert.Null(await Store.GetAsync(Tenant, fresh.Id, Ct));
        Assert.Equal(2, (await ChainedLogAsync()).Count);
        // The refused batch left the writer in order: the next write and its entries go through.
        var next = await Store.WriteAsync(Tenant, [fresh], [LogEntry(3)], Ct);
        Assert.Equal([WriteOutcome.Stored], next.Outcomes);
        Assert.Equal(3, next.AccessLogHead.Position);
        Assert.NotNull(await Store.GetAsync(Tenant, fresh.Id, Ct));
    }

    [Fact]
    public async Task WriteWithEntries_EntriesCannotBeAppended_StoresNothing()
    {
        await Handle.AccessLog.AppendAsync(Tenant, [LogEntry(1)], Ct);
        var statement = Statement();

        // The second entry cannot be written (the append fails after chaining the first).
        await Assert.ThrowsAsync<AccessLogAppendException>(() => Store.WriteAsync(Tenant, [statement], [LogEntry(2), null!], Ct));

        Assert.Null(await Store.GetAsync(Tenant, statement.Id, Ct));
        Assert.Single(await ChainedLogAsync());
        var next = await Store.WriteAsync(Tenant, [statement], [LogEntry(3)], Ct);
        Assert.Equal(2, next.AccessLogHead.Position);
        Assert.Equal(2, (await ChainedLogAsync()).Count);
        Assert.NotNull(await Store.GetAsync(Tenant, statement.Id, Ct));
    }

    [Fact]
    public async Task WriteWithEntries_DuplicateOrEmptyBatch_StillAppendsTheEntries()
    {
        var statement = Statement();
        await WriteAsync(statement);

        var duplicate = await Store.WriteAsync(Tenant, [statement], [LogEntry(1)], Ct);
        var empty = await Store.WriteAsync(Tenant, [], [LogEntry(2), LogEntry(3)], Ct);

        Assert.Equal([WriteOutcome.Duplicate], duplicate.Outcomes);
        Assert.Empty(empty.Outcomes);
        Assert.Equal(3, empty.AccessLogHead.Position);
        Assert.Equal(3, (await ChainedLogAsync()).Count);
    }

    [Fact]
    public async Task WriteWithEntries_ConcurrentWithAppends_MakeOneUnbrokenChain()
    {
        // Writes with entries and plain appends at once (on SQLite they share group commits): every entry gets its own
        // position, the chain has no gap, and every write's head is a position its own entries reached.
        var writes = Enumerable.Range(0, 24).Select(i => Store.WriteAsync(Tenant, [Statement(), Statement()], [LogEntry(i), LogEntry(i)], Ct)).ToList();
        var appends = Enumerable.Range(0, 8).Select(i => Handle.AccessLog.AppendAsync(Tenant, [LogEntry(100 + i)], Ct)).ToList();
        var written = await Task.WhenAll(writes);
        var appended = await Task.WhenAll(appends);

        var log = await ChainedLogAsync();
        Assert.Equal((24 * 2) + 8, log.Count);
        var heads = written.Select(w => w.AccessLogHead.Position).Concat(appended.Select(a => a.Position)).ToList();
        Assert.Equal(heads.Count, heads.Distinct().Count());
        foreach (var write in written)
        {
            Assert.Equal(log[(int)write.AccessLogHead.Position - 1].Hash, write.AccessLogHead.Hash);
            Assert.Equal(log[(int)write.AccessLogHead.Position - 1].Entry.Principal, log[(int)write.AccessLogHead.Position - 2].Entry.Principal);
        }
    }
}
