namespace LearnerVault.Storage.Postgres;

/// <summary>
/// The in-memory half of one write batch, computed under the tenant's advisory lock from what the database already
/// holds (the batch's ids, their StatementRef targets, and every stored statement that references a batch id, directly
/// or through a chain): outcomes, sequence numbers and stored times, inherited terms, voiding in either order, and the
/// rows to insert or update. Nothing here touches the database, so a conflict simply abandons the plan (and the
/// transaction rolls back).
/// </summary>
internal sealed class StatementWritePlan
{
    private readonly Dictionary<Guid, Node> byId = [];
    private readonly Dictionary<Guid, List<Node>> referrersOf = [];
    private long lastSeq;
    private long lastStoredTicks;

    /// <param name="lastSeq">The tenant's newest sequence number (0 when it has none).</param>
    /// <param name="lastStored">The tenant's newest stored time, if any.</param>
    public StatementWritePlan(long lastSeq, DateTimeOffset? lastStored)
    {
        this.lastSeq = lastSeq;
        lastStoredTicks = lastStored?.UtcTicks ?? 0;
    }

    /// <summary>New statements in batch order.</summary>
    public List<Node> Inserted { get; } = [];

    /// <summary>Stored statements that this batch voids.</summary>
    public List<long> NewlyVoided { get; } = [];

    /// <summary>Stored statements whose terms grew (they reference a statement of this batch).</summary>
    public List<Node> TermsChanged { get; } = [];

    /// <summary>Adds a statement already stored (read under the lock).</summary>
    public void AddStored(long seq, Guid id, byte[] contentHash, Guid? refTarget, bool isVoiding, bool voided, byte[] terms)
    {
        if (byId.ContainsKey(id))
        {
            return;
        }

        var node = new Node(id, seq, contentHash, refTarget, isVoiding, StoredTermSet.FromBlob(terms), record: null) { Voided = voided };
        Index(node);
    }

    /// <summary>Plans the batch; returns one outcome per statement.</summary>
    /// <exception cref="StatementConflictException">An id is stored (or earlier in the batch) with different content.</exception>
    public WriteOutcome[] Apply(IReadOnlyList<StatementRecord> batch, DateTimeOffset now)
    {
        // Whole microseconds: PostgreSQL's timestamptz precision, so what is returned equals what is stored.
        var nowTicks = now.UtcTicks - (now.UtcTicks % 10);
        var outcomes = new WriteOutcome[batch.Count];
        for (var i = 0; i < batch.Count; i++)
        {
            var statement = batch[i];
            if (byId.TryGetValue(statement.Id, out var existing))
            {
                if (existing.ContentHash.AsSpan().SequenceEqual(statement.ContentHash))
                {
                    outcomes[i] = WriteOutcome.Duplicate;
                    continue;
                }

                throw new StatementConflictException(statement.Id);
            }

            var terms = StoredTermSet.From(statement.Terms);

            if (statement.RefTarget is { } targetId && byId.TryGetValue(targetId, out var target))
            {
                // Filters match a statement that references a matching one (xAPI Communication 2.1.3), recursively:
                // the target's terms already include what it inherited.
                terms.AddRange(target.Terms.Items);
                if (statement.IsVoiding && !target.IsVoiding && !target.Voided)
                {
                    target.Voided = true;
                    if (target.Record is null)
                    {
                        NewlyVoided.Add(target.Seq);
                    }
                }
            }

            // A voiding statement that references this one (stored, or earlier in the batch) voids it, unless this one
            // is itself voiding.
            var voided = !statement.IsVoiding
                && referrersOf.TryGetValue(statement.Id, out var voiders) && voiders.Exists(r => r.IsVoiding);

            lastStoredTicks = Math.Max(nowTicks, lastStoredTicks + 10);
            var node = new Node(statement.Id, ++lastSeq, statement.ContentHash, statement.RefTarget, statement.IsVoiding, terms, statement)
            {
                Voided = voided,
                Stored = new DateTime(lastStoredTicks, DateTimeKind.Utc),
            };
            Index(node);
            Inserted.Add(node);
            outcomes[i] = WriteOutcome.Stored;
            if (terms.Count > 0)
            {
                Propagate(node);
            }
        }

        return outcomes;
    }

    private void Index(Node node)
    {
        byId[node.Id] = node;
        if (node.RefTarget is { } target)
        {
            if (!referrersOf.TryGetValue(target, out var list))
            {
                referrersOf[target] = list = [];
            }

            list.Add(node);
        }
    }

    /// <summary>A target stored after (or with) the statements that reference it: they, and recursively their
    /// referrers, gain its terms, so that filters match in whatever order the statements arrived.</summary>
    private void Propagate(Node target)
    {
        if (!referrersOf.TryGetValue(target.Id, out var direct))
        {
            return;
        }

        var visited = new HashSet<Guid> { target.Id };
        var queue = new Queue<(Node Referrer, IReadOnlyList<StoredTerm> Added)>();
        foreach (var referrer in direct)
        {
            queue.Enqueue((referrer, target.Terms.Items.ToList()));
        }

        while (queue.TryDequeue(out var item))
        {
            var (referrer, added) = item;
            if (!visited.Add(referrer.Id))
            {
                continue;
            }

            var gained = added.Where(referrer.Terms.Add).ToList();
            if (gained.Count == 0)
            {
                continue;
            }

            if (referrer.Record is null)
            {
                if (referrer.Gained.Count == 0)
                {
                    TermsChanged.Add(referrer);
                }

                referrer.Gained.AddRange(gained);
            }

            if (referrersOf.TryGetValue(referrer.Id, out var next))
            {
                foreach (var r in next)
                {
                    queue.Enqueue((r, gained));
                }
            }
        }
    }

    /// <summary>A statement of the plan: stored already (<see cref="Record"/> null) or new in this batch.</summary>
    internal sealed class Node(Guid id, long seq, byte[] contentHash, Guid? refTarget, bool isVoiding, StoredTermSet terms, StatementRecord? record)
    {
        public Guid Id { get; } = id;

        public long Seq { get; } = seq;

        public byte[] ContentHash { get; } = contentHash;

        public Guid? RefTarget { get; } = refTarget;

        public bool IsVoiding { get; } = isVoiding;

        public StoredTermSet Terms { get; } = terms;

        /// <summary>The statement being written; null for one already stored.</summary>
        public StatementRecord? Record { get; } = record;

        public bool Voided { get; set; }

        public DateTime Stored { get; init; }

        /// <summary>Terms a stored statement gained from this batch (its new postings).</summary>
        public List<StoredTerm> Gained { get; } = [];
    }
}
