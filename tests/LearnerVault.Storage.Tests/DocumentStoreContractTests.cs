using System.Security.Cryptography;
using System.Text;

namespace LearnerVault.Storage.Tests;

/// <summary>An opened document store (and the activity-definition store beside it) and how to close it.</summary>
public sealed class DocumentStoreHandle(IDocumentStore documents, IActivityDefinitionStore definitions, Func<ValueTask> close) : IAsyncDisposable
{
    public IDocumentStore Documents { get; } = documents;

    public IActivityDefinitionStore Definitions { get; } = definitions;

    public ValueTask DisposeAsync() => close();
}

/// <summary>
/// The behaviour every <see cref="IDocumentStore"/> and <see cref="IActivityDefinitionStore"/> backend must have. A
/// backend's test class derives from this and says how to open the stores on storage it owns.
/// </summary>
public abstract class DocumentStoreContractTests : StoreContractLifetime<DocumentStoreHandle>
{
    private static readonly DateTimeOffset Start = new(2026, 3, 1, 8, 0, 0, TimeSpan.Zero);

    protected ManualTimeProvider Time { get; } = new(Start);

    protected IDocumentStore Store => Handle.Documents;

    protected IActivityDefinitionStore Definitions => Handle.Definitions;

    protected Guid Tenant { get; } = Guid.NewGuid();

    /// <summary>Opens the stores on this test class's own storage. Opening again after the previous handle was disposed
    /// must find everything written before.</summary>
    protected abstract ValueTask<DocumentStoreHandle> OpenAsync(TimeProvider timeProvider);

    protected sealed override ValueTask<DocumentStoreHandle> OpenHandleAsync() => OpenAsync(Time);

    // ---- helpers -------------------------------------------------------------------------------------------------

    protected static byte[] T(string value) => SHA256.HashData(Encoding.UTF8.GetBytes(value))[..16];

    protected static DocumentKey State(string id, string activity = "act", string agent = "agent", string? registration = null) =>
        new(DocumentKind.State, T(activity), T(agent), registration is null ? [] : T(registration), T(id));

    protected static DocumentFilter States(string activity = "act", string agent = "agent", string? registration = null, bool anyRegistration = false) =>
        new(DocumentKind.State, T(activity), T(agent), anyRegistration ? null : registration is null ? [] : T(registration));

    protected static DocumentContent Content(string text, long keyId = 7) =>
        new(keyId, Encoding.UTF8.GetBytes("blob:" + text), Encoding.UTF8.GetBytes("id:" + text), T("etag:" + text));

    protected static string Text(StoredDocument? document) =>
        document is null ? "<none>" : Encoding.UTF8.GetString(document.Blob)["blob:".Length..];

    protected static string IdText(StoredDocumentId id) => Encoding.UTF8.GetString(id.IdBlob)["id:".Length..];

    // ---- single documents ----------------------------------------------------------------------------------------

    [Fact]
    public async Task Get_Absent_ReturnsNull()
    {
        Assert.Null(await Store.GetAsync(Tenant, State("nothing"), Ct));
    }

    [Fact]
    public async Task Put_NewDocument_CreatedAndReadBackWithUpdateTime()
    {
        var result = await Store.PutAsync(Tenant, State("s1"), Content("one", keyId: 42), DocumentPrecondition.None, Ct);

        Assert.Equal(DocumentOutcome.Created, result.Outcome);
        Assert.Equal(Start, result.Updated);
        var stored = await Store.GetAsync(Tenant, State("s1"), Ct);
        Assert.NotNull(stored);
        Assert.Equal("one", Text(stored));
        Assert.Equal(42, stored.KeyId);
        Assert.Equal(Content("one").IdBlob, stored.IdBlob);
        Assert.Equal(T("etag:one"), stored.ETag);
        Assert.Equal(Start, stored.Updated);
    }

    [Fact]
    public async Task Put_ExistingWithoutPrecondition_ReplacesAndMovesUpdateForward()
    {
        await Store.PutAsync(Tenant, State("s1"), Content("one"), DocumentPrecondition.None, Ct);

        // The clock has not moved: the update time must still increase, or Last-Modified and since would lie.
        var result = await Store.PutAsync(Tenant, State("s1"), Content("two"), DocumentPrecondition.None, Ct);

        Assert.Equal(DocumentOutcome.Replaced, result.Outcome);
        Assert.Equal(Start.AddTicks(10), result.Updated);
        Assert.Equal("two", Text(await Store.GetAsync(Tenant, State("s1"), Ct)));
    }

    [Fact]
    public async Task Put_IfMatchCurrentTag_Replaces()
    {
        await Store.PutAsync(Tenant, State("s1"), Content("one"), DocumentPrecondition.None, Ct);

        var result = await Store.PutAsync(Tenant, State("s1"), Content("two"), DocumentPrecondition.Unchanged(T("etag:one")), Ct);

        Assert.Equal(DocumentOutcome.Replaced, result.Outcome);
        Assert.Equal("two", Text(await Store.GetAsync(Tenant, State("s1"), Ct)));
    }

    [Fact]
    public async Task Put_IfMatchStaleTag_PreconditionFailedAndUnchanged()
    {
        await Store.PutAsync(Tenant, State("s1"), Content("one"), DocumentPrecondition.None, Ct);
        Time.Advance(TimeSpan.FromSeconds(1));

        var result = await Store.PutAsync(Tenant, State("s1"), Content("two"), DocumentPrecondition.Unchanged(T("etag:zero")), Ct);

        Assert.Equal(DocumentOutcome.PreconditionFailed, result.Outcome);
        Assert.Null(result.Updated);
        var stored = await Store.GetAsync(Tenant, State("s1"), Ct);
        Assert.Equal("one", Text(stored));
        Assert.Equal(Start, stored!.Updated);
    }

    [Fact]
    public async Task Put_IfMatchOnAbsentDocument_PreconditionFailedAndNothingCreated()
    {
        var result = await Store.PutAsync(Tenant, State("s1"), Content("one"), new DocumentPrecondition(IfMatch: EntityTagCondition.Star), Ct);

        Assert.Equal(DocumentOutcome.PreconditionFailed, result.Outcome);
        Assert.Null(await Store.GetAsync(Tenant, State("s1"), Ct));
    }

    [Fact]
    public async Task Put_IfMatchStarOnExisting_Replaces()
    {
        await Store.PutAsync(Tenant, State("s1"), Content("one"), DocumentPrecondition.None, Ct);

        var result = await Store.PutAsync(Tenant, State("s1"), Content("two"), new DocumentPrecondition(IfMatch: EntityTagCondition.Star), Ct);

        Assert.Equal(DocumentOutcome.Replaced, result.Outcome);
    }

    [Fact]
    public async Task Put_IfMatchListContainingCurrent_Replaces()
    {
        await Store.PutAsync(Tenant, State("s1"), Content("one"), DocumentPrecondition.None, Ct);

        var condition = new DocumentPrecondition(IfMatch: EntityTagCondition.Of(T("etag:x"), T("etag:one")));
        var result = await Store.PutAsync(Tenant, State("s1"), Content("two"), condition, Ct);

        Assert.Equal(DocumentOutcome.Replaced, result.Outcome);
    }

    [Fact]
    public async Task Put_IfNoneMatchStar_CreatesWhenAbsentAndRefusesWhenPresent()
    {
        var first = await Store.PutAsync(Tenant, State("s1"), Content("one"), DocumentPrecondition.Absent, Ct);
        var second = await Store.PutAsync(Tenant, State("s1"), Content("two"), DocumentPrecondition.Absent, Ct);

        Assert.Equal(DocumentOutcome.Created, first.Outcome);
        Assert.Equal(DocumentOutcome.PreconditionFailed, second.Outcome);
        Assert.Equal("one", Text(await Store.GetAsync(Tenant, State("s1"), Ct)));
    }

    [Fact]
    public async Task Put_IfNoneMatchTag_RefusesOnlyWhenCurrentMatches()
    {
        await Store.PutAsync(Tenant, State("s1"), Content("one"), DocumentPrecondition.None, Ct);

        var matching = await Store.PutAsync(Tenant, State("s1"), Content("two"), new DocumentPrecondition(IfNoneMatch: EntityTagCondition.Of(T("etag:one"))), Ct);
        var other = await Store.PutAsync(Tenant, State("s1"), Content("three"), new DocumentPrecondition(IfNoneMatch: EntityTagCondition.Of(T("etag:zero"))), Ct);

        Assert.Equal(DocumentOutcome.PreconditionFailed, matching.Outcome);
        Assert.Equal(DocumentOutcome.Replaced, other.Outcome);
        Assert.Equal("three", Text(await Store.GetAsync(Tenant, State("s1"), Ct)));
    }

    [Fact]
    public async Task Put_ConflictIfExists_ConflictOnExistingAndCreatedOtherwise()
    {
        var precondition = new DocumentPrecondition(ConflictIfExists: true);

        var first = await Store.PutAsync(Tenant, State("s1"), Content("one"), precondition, Ct);
        var second = await Store.PutAsync(Tenant, State("s1"), Content("two"), precondition, Ct);

        Assert.Equal(DocumentOutcome.Created, first.Outcome);
        Assert.Equal(DocumentOutcome.Conflict, second.Outcome);
        Assert.Equal("one", Text(await Store.GetAsync(Tenant, State("s1"), Ct)));
    }

    [Fact]
    public async Task Put_FiftyConcurrentWritersWithSameTag_ExactlyOneWinsAndTheRestFail()
    {
        await Store.PutAsync(Tenant, State("race"), Content("start"), DocumentPrecondition.None, Ct);
        var expected = DocumentPrecondition.Unchanged(T("etag:start"));

        var results = await Task.WhenAll(Enumerable.Range(0, 50).Select(i =>
            Task.Run(() => Store.PutAsync(Tenant, State("race"), Content("writer-" + i), expected, Ct), Ct)));

        var winners = results.Select((r, i) => (r, i)).Where(x => x.r.Outcome == DocumentOutcome.Replaced).ToList();
        Assert.Single(winners);
        Assert.Equal(49, results.Count(r => r.Outcome == DocumentOutcome.PreconditionFailed));
        Assert.Equal("writer-" + winners[0].i, Text(await Store.GetAsync(Tenant, State("race"), Ct)));
    }

    [Fact]
    public async Task Put_SameAddressOtherKindTenantOrRegistration_AreSeparateDocuments()
    {
        var state = State("x");
        var profile = state with { Kind = DocumentKind.ActivityProfile };
        var withRegistration = State("x", registration: "r1");
        var otherTenant = Guid.NewGuid();

        await Store.PutAsync(Tenant, state, Content("state"), DocumentPrecondition.None, Ct);
        await Store.PutAsync(Tenant, profile, Content("profile"), DocumentPrecondition.None, Ct);
        await Store.PutAsync(Tenant, withRegistration, Content("registered"), DocumentPrecondition.None, Ct);
        await Store.PutAsync(otherTenant, state, Content("other tenant"), DocumentPrecondition.None, Ct);

        Assert.Equal("state", Text(await Store.GetAsync(Tenant, state, Ct)));
        Assert.Equal("profile", Text(await Store.GetAsync(Tenant, profile, Ct)));
        Assert.Equal("registered", Text(await Store.GetAsync(Tenant, withRegistration, Ct)));
        Assert.Equal("other tenant", Text(await Store.GetAsync(otherTenant, state, Ct)));
        Assert.Null(await Store.GetAsync(Guid.NewGuid(), state, Ct));
    }

    [Fact]
    public async Task Put_ThenReopen_DocumentAndDefinitionAreStillThere()
    {
        await Store.PutAsync(Tenant, State("durable"), Content("kept"), DocumentPrecondition.None, Ct);
        await Definitions.TryWriteAsync(Tenant, T("act"), 3, [9], null, Ct);

        await ReopenAsync();

        Assert.Equal("kept", Text(await Store.GetAsync(Tenant, State("durable"), Ct)));
        Assert.Equal([9], (await Definitions.GetAsync(Tenant, T("act"), Ct))!.Blob);
    }

    // ---- restricted ----------------------------------------------------------------------------------------------

    [Fact]
    public async Task Put_Restricted_ReadBackRestrictedInGetAndList()
    {
        await Store.PutAsync(Tenant, State("kept"), Content("kept") with { Restricted = true }, DocumentPrecondition.None, Ct);
        await Store.PutAsync(Tenant, State("open"), Content("open"), DocumentPrecondition.None, Ct);

        Assert.True((await Store.GetAsync(Tenant, State("kept"), Ct))!.Restricted);
        Assert.False((await Store.GetAsync(Tenant, State("open"), Ct))!.Restricted);
        var listed = await Store.ListAsync(Tenant, States(), null, Ct);
        Assert.True(listed.Single(d => IdText(d) == "kept").Restricted);
        Assert.False(listed.Single(d => IdText(d) == "open").Restricted);
    }

    [Fact]
    public async Task Put_UnrestrictedOverRestricted_StaysRestricted()
    {
        var profile = new DocumentKey(DocumentKind.AgentProfile, [], T("agent"), [], T("p"));
        await Store.PutAsync(Tenant, State("s"), Content("one") with { Restricted = true }, DocumentPrecondition.None, Ct);
        await Store.PutAsync(Tenant, profile, Content("p1") with { Restricted = true }, DocumentPrecondition.None, Ct);

        // The replaced content may have carried the restricted data on (a merge does): only a delete clears the mark.
        var replaced = await Store.PutAsync(Tenant, State("s"), Content("two"), DocumentPrecondition.Unchanged(T("etag:one")), Ct);
        await Store.PutAsync(Tenant, profile, Content("p2"), DocumentPrecondition.None, Ct);

        Assert.Equal(DocumentOutcome.Replaced, replaced.Outcome);
        var state = await Store.GetAsync(Tenant, State("s"), Ct);
        Assert.Equal("two", Text(state));
        Assert.True(state!.Restricted);
        Assert.True((await Store.GetAsync(Tenant, profile, Ct))!.Restricted);
        Assert.True((await Store.ListAsync(Tenant, profile.Context, null, Ct)).Single().Restricted);
    }

    [Fact]
    public async Task Put_RestrictedOverUnrestricted_BecomesRestricted()
    {
        await Store.PutAsync(Tenant, State("s"), Content("one"), DocumentPrecondition.None, Ct);

        await Store.PutAsync(Tenant, State("s"), Content("two") with { Restricted = true }, DocumentPrecondition.None, Ct);

        Assert.True((await Store.GetAsync(Tenant, State("s"), Ct))!.Restricted);
    }

    [Fact]
    public async Task Put_RestrictedButPreconditionFails_NothingMarked()
    {
        await Store.PutAsync(Tenant, State("s"), Content("one"), DocumentPrecondition.None, Ct);

        var refused = await Store.PutAsync(Tenant, State("s"), Content("two") with { Restricted = true }, DocumentPrecondition.Absent, Ct);

        Assert.Equal(DocumentOutcome.PreconditionFailed, refused.Outcome);
        Assert.False((await Store.GetAsync(Tenant, State("s"), Ct))!.Restricted);
    }

    [Fact]
    public async Task Delete_Restricted_ClearsTheMarkForTheNextDocument()
    {
        await Store.PutAsync(Tenant, State("s"), Content("one") with { Restricted = true }, DocumentPrecondition.None, Ct);
        await Store.PutAsync(Tenant, State("all", registration: "r1"), Content("all") with { Restricted = true }, DocumentPrecondition.None, Ct);

        Assert.Equal(DocumentOutcome.Deleted, await Store.DeleteAsync(Tenant, State("s"), DocumentPrecondition.None, Ct));
        Assert.Equal(1, await Store.DeleteAllAsync(Tenant, States(registration: "r1"), Ct));
        await Store.PutAsync(Tenant, State("s"), Content("fresh"), DocumentPrecondition.None, Ct);
        await Store.PutAsync(Tenant, State("all", registration: "r1"), Content("fresh all"), DocumentPrecondition.None, Ct);

        Assert.False((await Store.GetAsync(Tenant, State("s"), Ct))!.Restricted);
        Assert.False((await Store.GetAsync(Tenant, State("all", registration: "r1"), Ct))!.Restricted);
    }

    [Fact]
    public async Task Put_RestrictedThenReopen_StillRestricted()
    {
        await Store.PutAsync(Tenant, State("durable"), Content("kept") with { Restricted = true }, DocumentPrecondition.None, Ct);

        await ReopenAsync();

        Assert.True((await Store.GetAsync(Tenant, State("durable"), Ct))!.Restricted);
        Assert.True((await Store.ListAsync(Tenant, States(), null, Ct)).Single().Restricted);
    }

    // ---- delete --------------------------------------------------------------------------------------------------

    [Fact]
    public async Task Delete_Absent_NotFound()
    {
        Assert.Equal(DocumentOutcome.NotFound, await Store.DeleteAsync(Tenant, State("none"), DocumentPrecondition.None, Ct));
    }

    [Fact]
    public async Task Delete_Existing_DeletedAndGone()
    {
        await Store.PutAsync(Tenant, State("s1"), Content("one"), DocumentPrecondition.None, Ct);

        Assert.Equal(DocumentOutcome.Deleted, await Store.DeleteAsync(Tenant, State("s1"), DocumentPrecondition.None, Ct));
        Assert.Null(await Store.GetAsync(Tenant, State("s1"), Ct));
    }

    [Fact]
    public async Task Delete_IfMatchStale_PreconditionFailedAndKept()
    {
        await Store.PutAsync(Tenant, State("s1"), Content("one"), DocumentPrecondition.None, Ct);

        var stale = await Store.DeleteAsync(Tenant, State("s1"), DocumentPrecondition.Unchanged(T("etag:zero")), Ct);
        Assert.Equal(DocumentOutcome.PreconditionFailed, stale);
        Assert.NotNull(await Store.GetAsync(Tenant, State("s1"), Ct));

        var current = await Store.DeleteAsync(Tenant, State("s1"), DocumentPrecondition.Unchanged(T("etag:one")), Ct);
        Assert.Equal(DocumentOutcome.Deleted, current);
    }

    [Fact]
    public async Task DeleteAll_AnyRegistration_DeletesTheWholeContextAndNothingElse()
    {
        await Store.PutAsync(Tenant, State("a"), Content("a"), DocumentPrecondition.None, Ct);
        await Store.PutAsync(Tenant, State("b", registration: "r1"), Content("b"), DocumentPrecondition.None, Ct);
        await Store.PutAsync(Tenant, State("c", registration: "r2"), Content("c"), DocumentPrecondition.None, Ct);
        await Store.PutAsync(Tenant, State("d", activity: "other"), Content("d"), DocumentPrecondition.None, Ct);
        await Store.PutAsync(Tenant, State("e", agent: "someone else"), Content("e"), DocumentPrecondition.None, Ct);

        var deleted = await Store.DeleteAllAsync(Tenant, States(anyRegistration: true), Ct);

        Assert.Equal(3, deleted);
        Assert.Empty(await Store.ListAsync(Tenant, States(anyRegistration: true), null, Ct));
        Assert.NotNull(await Store.GetAsync(Tenant, State("d", activity: "other"), Ct));
        Assert.NotNull(await Store.GetAsync(Tenant, State("e", agent: "someone else"), Ct));
    }

    [Fact]
    public async Task DeleteAll_OneRegistration_DeletesOnlyThatRegistration()
    {
        await Store.PutAsync(Tenant, State("a"), Content("a"), DocumentPrecondition.None, Ct);
        await Store.PutAsync(Tenant, State("b", registration: "r1"), Content("b"), DocumentPrecondition.None, Ct);
        await Store.PutAsync(Tenant, State("c", registration: "r2"), Content("c"), DocumentPrecondition.None, Ct);

        Assert.Equal(1, await Store.DeleteAllAsync(Tenant, States(registration: "r1"), Ct));
        Assert.Equal(1, await Store.DeleteAllAsync(Tenant, States(), Ct));

        var left = await Store.ListAsync(Tenant, States(anyRegistration: true), null, Ct);
        Assert.Equal(["c"], left.Select(IdText));
    }

    // ---- listing -------------------------------------------------------------------------------------------------

    [Fact]
    public async Task List_WithSince_ReturnsOnlyLaterUpdatesOldestFirst()
    {
        await Store.PutAsync(Tenant, State("old"), Content("old"), DocumentPrecondition.None, Ct);
        Time.Advance(TimeSpan.FromSeconds(10));
        var cut = Time.GetUtcNow();
        await Store.PutAsync(Tenant, State("at-cut"), Content("at-cut"), DocumentPrecondition.None, Ct);
        Time.Advance(TimeSpan.FromSeconds(10));
        await Store.PutAsync(Tenant, State("new"), Content("new"), DocumentPrecondition.None, Ct);
        Time.Advance(TimeSpan.FromSeconds(10));
        await Store.PutAsync(Tenant, State("old"), Content("old again"), DocumentPrecondition.None, Ct);

        var all = await Store.ListAsync(Tenant, States(), null, Ct);
        var since = await Store.ListAsync(Tenant, States(), cut, Ct);

        Assert.Equal(["at-cut", "new", "old again"], all.Select(IdText));
        Assert.Equal(["new", "old again"], since.Select(IdText)); // since is exclusive
        Assert.Equal(Start.AddSeconds(30), since[^1].Updated);
    }

    [Fact]
    public async Task List_ByRegistration_SeparatesRegistrationsAndNone()
    {
        await Store.PutAsync(Tenant, State("none"), Content("none"), DocumentPrecondition.None, Ct);
        await Store.PutAsync(Tenant, State("r1", registration: "r1"), Content("r1"), DocumentPrecondition.None, Ct);

        Assert.Equal(["none"], (await Store.ListAsync(Tenant, States(), null, Ct)).Select(IdText));
        Assert.Equal(["r1"], (await Store.ListAsync(Tenant, States(registration: "r1"), null, Ct)).Select(IdText));
        var any = await Store.ListAsync(Tenant, States(anyRegistration: true), null, Ct);
        Assert.Equal(2, any.Count);
        Assert.Equal(State("r1", registration: "r1").Registration, any.Single(d => IdText(d) == "r1").Registration);
        Assert.Equal(State("r1").Id, any.Single(d => IdText(d) == "r1").Id);
        Assert.Empty(any.Single(d => IdText(d) == "none").Registration);
        Assert.Empty(await Store.ListAsync(Guid.NewGuid(), States(anyRegistration: true), null, Ct));
    }

    [Fact]
    public async Task List_Profiles_OnlyTheirKindAndContext()
    {
        var activityProfile = new DocumentKey(DocumentKind.ActivityProfile, T("act"), [], [], T("p1"));
        var agentProfile = new DocumentKey(DocumentKind.AgentProfile, [], T("agent"), [], T("p2"));
        await Store.PutAsync(Tenant, activityProfile, Content("p1"), DocumentPrecondition.None, Ct);
        await Store.PutAsync(Tenant, agentProfile, Content("p2"), DocumentPrecondition.None, Ct);
        await Store.PutAsync(Tenant, State("s"), Content("s"), DocumentPrecondition.None, Ct);

        Assert.Equal(["p1"], (await Store.ListAsync(Tenant, activityProfile.Context, null, Ct)).Select(IdText));
        Assert.Equal(["p2"], (await Store.ListAsync(Tenant, agentProfile.Context, null, Ct)).Select(IdText));
    }

    // ---- activity definitions ------------------------------------------------------------------------------------

    [Fact]
    public async Task Definitions_CompareAndSwap_FirstWriteThenVersionedUpdates()
    {
        Assert.Null(await Definitions.GetAsync(Tenant, T("act"), Ct));

        Assert.True(await Definitions.TryWriteAsync(Tenant, T("act"), 3, [1], null, Ct));
        Assert.False(await Definitions.TryWriteAsync(Tenant, T("act"), 3, [2], null, Ct));
        var first = await Definitions.GetAsync(Tenant, T("act"), Ct);
        Assert.Equal(1, first!.Version);
        Assert.Equal([1], first.Blob);

        Assert.True(await Definitions.TryWriteAsync(Tenant, T("act"), 4, [3], 1, Ct));
        Assert.False(await Definitions.TryWriteAsync(Tenant, T("act"), 4, [4], 1, Ct));
        var second = await Definitions.GetAsync(Tenant, T("act"), Ct);
        Assert.Equal(2, second!.Version);
        Assert.Equal(4, second.KeyId);
        Assert.Equal([3], second.Blob);
        Assert.Null(await Definitions.GetAsync(Guid.NewGuid(), T("act"), Ct));
    }
}
