using System.Buffers;
using System.Buffers.Binary;
using System.Buffers.Text;
using Microsoft.Data.Sqlite;

namespace LearnerVault.Storage.Sqlite;

/// <summary>
/// One merge of the recent statements into a new segment, done in steps between the writer's groups rather than in
/// one long transaction that holds every write back: a snapshot of the memory index (the ids, and each term's postings
/// at or below <see cref="Through"/>), then <see cref="Step"/> after step writes the ids, the postings and the term
/// counts in key order, and <see cref="Finish"/> writes the <c>segments</c> row, which publishes the segment.
/// </summary>
/// <remarks>
/// <para>Until <see cref="Finish"/> commits, no reader sees the new rows: queries reach postings only through
/// <c>segments</c> and only up to the memory index's floor, and the memory index keeps every statement after the floor
/// until then. The steps' rows are idempotent (<c>INSERT OR IGNORE</c>, and a partial segment's id is the one the next
/// merge takes again), so a step lost with a failed group, or a merge cut short by a crash, is simply written again by
/// the next merge, which covers at least the same statements.</para>
/// <para>The counts are not idempotent by themselves: each term's row remembers the segment that added to it last and
/// how much (<c>last_segment</c>, <c>last_n</c>), and a merge adding to a term its own segment added to before (the same
/// merge redone) replaces that contribution. So each posting of a published segment is counted exactly once. (Counts
/// written in one piece with the <c>segments</c> row took about 60 ms for 30,000 statements, during which the reads'
/// access-log appends, which go through the same writer, waited.)</para>
/// <para>Terms a statement of the snapshot inherits after the snapshot was taken (a target stored after its referrers)
/// are handed to <see cref="AddLate"/> once committed; <see cref="Finish"/> writes their postings and counts them.</para>
/// <para>Why rows are written from the memory index and not by <c>INSERT … SELECT … ORDER BY</c> from the statements
/// table: SQLite's sorter then sorts every posting afresh (measured: about 60% of a 20,000-statement merge), although
/// the index in memory already groups the postings by term, each list in seq order. Here only the distinct keys are
/// sorted, in managed code, and the rows reach SQLite in chunks: one blob of fixed-width records per chunk, which a
/// recursive CTE unpacks with <c>substr</c> (constant time on a blob). Binding each row on its own was measured slower
/// than that (about 2.5 µs a row against 1). Integers travel as 19 ASCII digits, which <c>CAST … AS INTEGER</c> reads
/// back; each chunk holds one tenant, bound as a parameter.</para>
/// <para>Writer thread only.</para>
/// </remarks>
internal sealed class SegmentMerge : IDisposable
{
    private const int ChunkRecords = 8192;
    private const int DigitsLength = 19; // any non-negative long, zero-padded
    private const int IdRecordLength = 16 + DigitsLength;
    private const int TermRecordLength = StoredTerm.Length + DigitsLength;
    private static readonly StandardFormat Digits = new('D', DigitsLength);

    // record (n) counts 0 .. $count - 1; a chunk is never empty.
    private const string RecordsCte = "WITH RECURSIVE record (n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM record WHERE n + 1 < $count) ";

    private static readonly string InsertIds = RecordsCte + $"""
        INSERT OR IGNORE INTO statement_ids (tenant_no, id, seq)
        SELECT $tenant, substr($rows, n * {IdRecordLength} + 1, 16), CAST(substr($rows, n * {IdRecordLength} + 17, {DigitsLength}) AS INTEGER)
        FROM record;
        """;

    private static readonly string InsertPostings = RecordsCte + $"""
        INSERT OR IGNORE INTO statement_terms (segment, tenant_no, term, seq)
        SELECT $segment, $tenant, substr($rows, n * {TermRecordLength} + 1, {StoredTerm.Length}),
               CAST(substr($rows, n * {TermRecordLength} + {StoredTerm.Length + 1}, {DigitsLength}) AS INTEGER)
        FROM record;
        """;

    // The right-hand sides of SET read the row as it was before the update.
    private static readonly string AddCounts = RecordsCte + $"""
        INSERT INTO term_counts (tenant_no, term, n, last_segment, last_n)
        SELECT $tenant, substr($rows, n * {TermRecordLength} + 1, {StoredTerm.Length}), count, $segment, count
        FROM (SELECT n, CAST(substr($rows, n * {TermRecordLength} + {StoredTerm.Length + 1}, {DigitsLength}) AS INTEGER) AS count FROM record)
        WHERE true
        ON CONFLICT (tenant_no, term) DO UPDATE SET
            n = CASE WHEN last_segment = excluded.last_segment THEN n - last_n + excluded.n ELSE n + excluded.n END,
            last_segment = excluded.last_segment,
            last_n = excluded.last_n;
        """;

    private const string InsertLatePosting = """
        INSERT OR IGNORE INTO statement_terms (segment, tenant_no, term, seq) VALUES ($segment, $t, $term, $seq);
        INSERT INTO term_counts (tenant_no, term, n, last_segment, last_n) VALUES ($t, $term, 1, $segment, 1)
        ON CONFLICT (tenant_no, term) DO UPDATE SET
            n = n + 1,
            last_n = CASE WHEN last_segment = excluded.last_segment THEN last_n + 1 ELSE 1 END,
            last_segment = excluded.last_segment;
        """;

    private readonly SqliteConnection connection;
    private readonly (long Tenant, UInt128 Id, long Seq)[] ids;
    private readonly (long Tenant, StoredTerm Term, List<long> Seqs, int Count)[] terms;
    private readonly List<(long Tenant, long Seq, StoredTerm Term)> late = [];
    private readonly ChunkedInsert idRows;
    private readonly ChunkedInsert postingRows;
    private readonly ChunkedInsert countRows;

    // Where the written rows end: committed, and as far as the step of the open transaction got.
    private Cursor committed;
    private Cursor tentative;

    private SegmentMerge(SqliteConnection connection, long segment, long first, long through,
        (long, UInt128, long)[] ids, (long, StoredTerm, List<long>, int)[] terms)
    {
        this.connection = connection;
        Segment = segment;
        First = first;
        Through = through;
        this.ids = ids;
        this.terms = terms;
        Records = ids.Length + terms.Sum(t => t.Item4) + terms.Length;
        idRows = new ChunkedInsert(connection, InsertIds, IdRecordLength, segment: null);
        postingRows = new ChunkedInsert(connection, InsertPostings, TermRecordLength, segment);
        countRows = new ChunkedInsert(connection, AddCounts, TermRecordLength, segment);
    }

    /// <summary>The new segment's id.</summary>
    public long Segment { get; }

    /// <summary>The first seq the segment covers (the floor before it, plus one).</summary>
    public long First { get; }

    /// <summary>The last seq the segment covers: every recent statement when the merge began.</summary>
    public long Through { get; }

    /// <summary>Statements in the segment.</summary>
    public int Size => ids.Length;

    /// <summary>Id, posting and count rows the steps write in all.</summary>
    public long Records { get; }

    /// <summary>True once every id, posting and count row has been written by committed steps: <see cref="Finish"/> is next.</summary>
    public bool RowsWritten => committed.Id == ids.Length && committed.Term == terms.Length && committed.Count == terms.Length;

    /// <summary>Takes the snapshot of every recent statement (writer thread, outside a transaction).</summary>
    public static SegmentMerge Start(SqliteConnection connection, RecentIndex recent, long through)
    {
        long segment;
        using (var command = connection.CreateCommand())
        {
            // The id an interrupted merge used, if any: its leftover rows become this segment's.
            command.CommandText = "SELECT coalesce(max(id), 0) + 1 FROM segments;";
            segment = (long)command.ExecuteScalar()!;
        }

        var ids = new (long Tenant, UInt128 Id, long Seq)[recent.Count];
        var at = 0;
        Span<byte> idBytes = stackalloc byte[16];
        foreach (var ((tenant, id), entry) in recent.Ids)
        {
            id.TryWriteBytes(idBytes, bigEndian: true, out _);
            ids[at++] = (tenant, BinaryPrimitives.ReadUInt128BigEndian(idBytes), entry.Seq);
        }

        // UInt128 order of the big-endian value is the byte order SQLite compares the blobs in.
        Array.Sort(ids, static (a, b) => a.Tenant != b.Tenant ? a.Tenant.CompareTo(b.Tenant) : a.Id.CompareTo(b.Id));

        // The lists themselves, not copies: they only gain seqs after Through at their end, and inherited terms of
        // older statements anywhere (which shift later seqs right, so a step may write a posting twice, never skip one).
        var terms = recent.PostingLists
            .Where(list => list.Value.Count > 0)
            .Select(list => (list.Key.Tenant, list.Key.Term, Seqs: list.Value, list.Value.Count))
            .ToArray();
        Array.Sort(terms, static (a, b) =>
            a.Tenant != b.Tenant ? a.Tenant.CompareTo(b.Tenant)
            : a.Term.Kind != b.Term.Kind ? a.Term.Kind.CompareTo(b.Term.Kind)
            : a.Term.Hash.CompareTo(b.Term.Hash));
        return new SegmentMerge(connection, segment, recent.Floor + 1, through, ids, terms);
    }

    /// <summary>Writes up to <paramref name="budget"/> more id, posting and count rows, inside the caller's transaction.
    /// They count as written once that transaction has committed (<see cref="Committed"/>).</summary>
    public void Step(int budget)
    {
        var (idAt, termAt, offset, countAt) = committed;
        while (budget > 0 && idAt < ids.Length)
        {
            var (tenant, id, seq) = ids[idAt++];
            var record = idRows.Next(tenant);
            BinaryPrimitives.WriteUInt128BigEndian(record, id);
            WriteDigits(record[16..], seq);
            budget--;
        }

        idRows.Finish();
        while (budget > 0 && termAt < terms.Length)
        {
            var (tenant, term, seqs, _) = terms[termAt];
            while (budget > 0 && offset < seqs.Count && seqs[offset] <= Through)
            {
                var record = postingRows.Next(tenant);
                term.Write(record);
                WriteDigits(record[StoredTerm.Length..], seqs[offset++]);
                budget--;
            }

            if (offset >= seqs.Count || seqs[offset] > Through)
            {
                termAt++;
                offset = 0;
            }
        }

        postingRows.Finish();
        while (budget > 0 && termAt == terms.Length && countAt < terms.Length)
        {
            var (tenant, term, _, count) = terms[countAt++];
            var record = countRows.Next(tenant);
            term.Write(record);
            WriteDigits(record[StoredTerm.Length..], count);
            budget--;
        }

        countRows.Finish();
        tentative = new Cursor(idAt, termAt, offset, countAt);
    }

    /// <summary>The transaction of the last <see cref="Step"/> has committed.</summary>
    public void Committed() => committed = tentative;

    /// <summary>A term that a statement of the snapshot inherited after the snapshot (committed).</summary>
    public void AddLate(long tenantNo, long seq, StoredTerm term) => late.Add((tenantNo, seq, term));

    /// <summary>Writes the postings inherited late and their counts, and the <c>segments</c> row that publishes the segment,
    /// inside the caller's transaction; the memory index may forget the segment's statements once it commits.</summary>
    public void Finish()
    {
        if (late.Count > 0)
        {
            using var insert = connection.CreateCommand();
            insert.CommandText = InsertLatePosting;
            insert.Parameters.AddWithValue("$segment", Segment);
            var tenant = insert.Parameters.Add("$t", SqliteType.Integer);
            var term = insert.Parameters.Add("$term", SqliteType.Blob);
            var seq = insert.Parameters.Add("$seq", SqliteType.Integer);
            foreach (var posting in late)
            {
                tenant.Value = posting.Tenant;
                term.Value = posting.Term.ToBytes();
                seq.Value = posting.Seq;
                insert.ExecuteNonQuery();
            }
        }

        using var publish = connection.CreateCommand();
        publish.CommandText = "INSERT INTO segments (id, first_seq, last_seq, size) VALUES ($id, $first, $last, $size);";
        publish.Parameters.AddWithValue("$id", Segment);
        publish.Parameters.AddWithValue("$first", First);
        publish.Parameters.AddWithValue("$last", Through);
        publish.Parameters.AddWithValue("$size", Size);
        publish.ExecuteNonQuery();
    }

    public void Dispose()
    {
        idRows.Dispose();
        postingRows.Dispose();
        countRows.Dispose();
    }

    private static void WriteDigits(Span<byte> destination, long value)
    {
        if (value < 0 || !Utf8Formatter.TryFormat(value, destination, out var written, Digits) || written != DigitsLength)
        {
            throw new ArgumentOutOfRangeException(nameof(value), value, "A merged seq or count must be a non-negative 64-bit number.");
        }
    }

    /// <summary>How far the rows are written: ids[..Id], then terms[..Term]'s postings whole and terms[Term]'s
    /// postings[..Offset], then terms[..Count]'s counts.</summary>
    private readonly record struct Cursor(int Id, int Term, int Offset, int Count);

    /// <summary>Gathers fixed-width records into a chunk and runs its statement once the chunk is full, the tenant
    /// changes, or <see cref="Finish"/> is called.</summary>
    private sealed class ChunkedInsert : IDisposable
    {
        private readonly RawStatement statement;
        private readonly int rowsIndex;
        private readonly int tenantIndex;
        private readonly int countIndex;
        private readonly byte[] buffer;
        private readonly int recordLength;
        private long tenant;
        private int count;

        /// <param name="segment">Bound as <c>$segment</c>; null for a statement without it.</param>
        public ChunkedInsert(SqliteConnection connection, string sql, int recordLength, long? segment)
        {
            this.recordLength = recordLength;
            buffer = new byte[ChunkRecords * recordLength];
            statement = new RawStatement(connection, sql);
            rowsIndex = statement.ParameterIndex("$rows");
            tenantIndex = statement.ParameterIndex("$tenant");
            countIndex = statement.ParameterIndex("$count");
            if (segment is { } number)
            {
                statement.Bind(statement.ParameterIndex("$segment"), number);
            }
        }

        public Span<byte> Next(long tenantNo)
        {
            if (count == ChunkRecords || (count > 0 && tenantNo != tenant))
            {
                Flush();
            }

            tenant = tenantNo;
            return buffer.AsSpan(count++ * recordLength, recordLength);
        }

        /// <summary>Writes the last chunk.</summary>
        public void Finish() => Flush();

        private void Flush()
        {
            if (count == 0)
            {
                return;
            }

            // Only this chunk's records are bound: SQLite copies a bound blob, and a step often fills a small share of
            // the buffer. Binding all of it (about 300 KB, up to three times a group) came to some 6% of the writer
            // thread's samples at batch ingest, in that copy and SQLite's own copy of the value.
            statement.Bind(rowsIndex, buffer.AsSpan(0, count * recordLength));
            statement.Bind(tenantIndex, tenant);
            statement.Bind(countIndex, count);
            count = 0;
            statement.Execute();
        }

        public void Dispose() => statement.Dispose();
    }
}
