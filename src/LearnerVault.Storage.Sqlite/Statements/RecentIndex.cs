using Microsoft.Data.Sqlite;

namespace LearnerVault.Storage.Sqlite;

/// <summary>
/// The id index and the postings of the recent statements (those after the last merged segment), in memory.
/// </summary>
/// <remarks>
/// Why: in SQLite's WAL every modified page is written whole at every commit, so inserting a statement's ~10 index
/// entries into random-key B-trees (ids are random UUIDs; terms are keyed hashes) costs ~10 page writes per statement.
/// Here a write only appends the statement row; the writer merges the recent statements into a new segment of
/// <c>statement_ids</c> / <c>statement_terms</c> in bulk (sorted, appended pages) once enough have gathered, and the
/// index is rebuilt from the statements table at open, so nothing durable depends on memory.
/// <para>Readers use the memory for seq &gt; <see cref="Floor"/> and the tables for seq &lt;= Floor. The floor moves
/// only after a merge has committed, so the tables always hold everything at or below it; statements stored while a
/// merge is under way join the memory as usual and stay when it forgets the merged ones.</para>
/// <para>Only the writer thread mutates, always under the lock; readers read under the lock; the writer may read
/// without it, since nobody else writes.</para>
/// </remarks>
internal sealed class RecentIndex
{
    private static readonly List<long> NoPostings = [];

    private readonly Lock gate = new();
    private readonly Dictionary<(long Tenant, Guid Id), RecentEntry> ids = [];
    private readonly Dictionary<(long Tenant, StoredTerm Term), List<long>> postings = [];

    /// <summary>The last seq held by the merged tables; memory holds the statements after it.</summary>
    public long Floor { get; private set; }

    /// <summary>Number of recent statements (writer thread).</summary>
    public int Count => ids.Count;

    public RecentIndex(long floor) => Floor = floor;

    /// <summary>Rebuilds the index of the statements after the last merged segment (at open).</summary>
    public static RecentIndex Load(SqliteConnection connection)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT coalesce(max(last_seq), 0) FROM segments;";
        var index = new RecentIndex((long)command.ExecuteScalar()!);

        command.CommandText = "SELECT seq, tenant_no, id, terms, client_id FROM statements WHERE seq > $floor ORDER BY seq;";
        command.Parameters.AddWithValue("$floor", index.Floor);
        var statements = new List<RecentStatement>();
        using (var reader = command.ExecuteReader())
        {
            while (reader.Read())
            {
                var postings = StoredTermSet.FromBlob((byte[])reader.GetValue(3)).Items.ToList();
                postings.Add(StoredTerm.ForClient(reader.GetInt64(4)));
                statements.Add(new RecentStatement(reader.GetInt64(1), SqliteValues.ToGuid((byte[])reader.GetValue(2)), reader.GetInt64(0), postings));
            }
        }

        index.Publish(statements, []);
        return index;
    }

    /// <summary>Writer only (it alone mutates, so it reads without the lock): every recent statement's id.</summary>
    public IEnumerable<KeyValuePair<(long Tenant, Guid Id), RecentEntry>> Ids => ids;

    /// <summary>Writer only: every term's postings, each list in seq order without repeats.</summary>
    public IEnumerable<KeyValuePair<(long Tenant, StoredTerm Term), List<long>>> PostingLists => postings;

    /// <summary>Writer only: the recent statement with this id.</summary>
    public bool TryGet(long tenantNo, Guid id, out RecentEntry entry) => ids.TryGetValue((tenantNo, id), out entry);

    /// <summary>Adds committed statements and terms (writer only, after the commit).</summary>
    public void Publish(List<RecentStatement> statements, List<(long Tenant, long Seq, StoredTerm Term)> addedTerms)
    {
        lock (gate)
        {
            foreach (var statement in statements)
            {
                ids[(statement.TenantNo, statement.Id)] = new RecentEntry(statement.Seq);
                foreach (var term in statement.Postings)
                {
                    Postings(statement.TenantNo, term).Add(statement.Seq);
                }
            }

            foreach (var (tenant, seq, term) in addedTerms)
            {
                // Terms inherited late (a target stored after its referrers) belong to older statements: keep order.
                var list = Postings(tenant, term);
                var at = list.BinarySearch(seq);
                if (at < 0)
                {
                    list.Insert(~at, seq);
                }
            }
        }
    }

    /// <summary>After a merge up to <paramref name="mergedThrough"/> has committed, forgets the statements it merged and
    /// keeps those stored since it began (writer only). The dictionaries keep their capacity: the next merge cycle fills
    /// them to about the same size again, and growing them afresh each cycle allocated arrays of megabytes on the
    /// large-object heap, whose budget then forced full collections.</summary>
    public void Forget(long mergedThrough)
    {
        lock (gate)
        {
            Floor = mergedThrough;
            if (!ids.Values.Any(entry => entry.Seq > mergedThrough))
            {
                ids.Clear();
                postings.Clear();
                return;
            }

            foreach (var (key, entry) in ids)
            {
                if (entry.Seq <= mergedThrough)
                {
                    ids.Remove(key);
                }
            }

            foreach (var (key, list) in postings)
            {
                var merged = UpperBound(list, mergedThrough);
                if (merged == list.Count)
                {
                    postings.Remove(key);
                }
                else if (merged > 0)
                {
                    list.RemoveRange(0, merged);
                }
            }
        }
    }

    /// <summary>A recent statement's seq, and the floor below which the tables must be asked instead.</summary>
    public long? FindSeq(long tenantNo, Guid id, out long floor)
    {
        lock (gate)
        {
            floor = Floor;
            return ids.TryGetValue((tenantNo, id), out var entry) ? entry.Seq : null;
        }
    }

    /// <summary>
    /// The recent statements having all <paramref name="terms"/> with <paramref name="lo"/> &lt; seq &lt;= <paramref name="hi"/>,
    /// ascending; and the floor (the tables answer for seq &lt;= floor).
    /// </summary>
    public List<long> Match(long tenantNo, IReadOnlyList<StoredTerm> terms, long lo, long hi, out long floor)
    {
        lock (gate)
        {
            floor = Floor;
            var from = Math.Max(lo, Floor);
            var ranges = new (List<long> List, int Start, int End)[terms.Count];
            var smallest = 0;
            for (var i = 0; i < terms.Count; i++)
            {
                var list = postings.TryGetValue((tenantNo, terms[i]), out var found) ? found : NoPostings;
                var start = UpperBound(list, from);
                var end = UpperBound(list, hi);
                if (start >= end)
                {
                    return [];
                }

                ranges[i] = (list, start, end);
                if (end - start < ranges[smallest].End - ranges[smallest].Start)
                {
                    smallest = i;
                }
            }

            var (driver, driverStart, driverEnd) = ranges[smallest];
            var matches = new List<long>();
            for (var at = driverStart; at < driverEnd; at++)
            {
                var seq = driver[at];
                var all = true;
                for (var i = 0; i < ranges.Length && all; i++)
                {
                    if (i != smallest)
                    {
                        var (list, start, end) = ranges[i];
                        all = list.BinarySearch(start, end - start, seq, null) >= 0;
                    }
                }

                if (all)
                {
                    matches.Add(seq);
                }
            }

            return matches;
        }
    }

    private List<long> Postings(long tenantNo, StoredTerm term)
    {
        if (!postings.TryGetValue((tenantNo, term), out var list))
        {
            list = [];
            postings.Add((tenantNo, term), list);
        }

        return list;
    }

    /// <summary>Index of the first element greater than <paramref name="value"/>.</summary>
    private static int UpperBound(List<long> list, long value)
    {
        if (value == long.MaxValue)
        {
            return list.Count;
        }

        // Seqs are unique: the element equal to value + 1, or else the insertion point, is the first one above value.
        var at = list.BinarySearch(value + 1);
        return at >= 0 ? at : ~at;
    }
}

/// <summary>A recent statement as the writer needs it to detect duplicates and conflicts.</summary>
/// <remarks>Only the seq, no reference: the id index then holds no object per statement for the garbage collector to
/// trace and, once merged, to collect from its oldest generation. The writer reads a content hash from the statements
/// table when an id repeats.</remarks>
internal readonly record struct RecentEntry(long Seq);

/// <summary>A statement just committed: its id and postings (its terms plus the client's pseudo-term).</summary>
internal sealed record RecentStatement(long TenantNo, Guid Id, long Seq, IReadOnlyList<StoredTerm> Postings);
