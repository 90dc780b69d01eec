using System.Buffers;
using System.Buffers.Binary;
using System.Buffers.Text;
using Microsoft.Data.Sqlite;

namespace LearnerVault.Storage.Sqlite;

/// <summary>
/// Writes a merge's rows (the recent statements' ids, postings and per-term counts) from the in-memory index into a
/// new segment, in key order.
/// </summary>
/// <remarks>
/// Why not <c>INSERT … SELECT … ORDER BY</c> from the statements table: SQLite's sorter then sorts every posting
/// afresh (measured: about 60% of a 20,000-statement merge, all of it holding the writer), although the index in
/// memory already groups the postings by term, each list in seq order. Here only the distinct keys are sorted, in
/// managed code, and the rows reach SQLite in chunks: one blob of fixed-width records per chunk, which a recursive
/// CTE unpacks with <c>substr</c> (constant time on a blob). Binding each row on its own was measured slower than
/// that (about 2.5 µs a row against 1). Integers travel as 19 ASCII digits, which <c>CAST … AS INTEGER</c> reads
/// back; each chunk holds one tenant, bound as a parameter.
/// </remarks>
internal static class SegmentRows
{
    private const int ChunkRecords = 8192;
    private const int DigitsLength = 19; // any non-negative long, zero-padded
    private const int IdRecordLength = 16 + DigitsLength;
    private const int TermRecordLength = StoredTerm.Length + DigitsLength;
    private static readonly StandardFormat Digits = new('D', DigitsLength);

    // record (n) counts 0 .. $count - 1; a chunk is never empty.
    private const string Records = "WITH RECURSIVE record (n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM record WHERE n + 1 < $count) ";

    private static readonly string InsertIds = Records + $"""
        INSERT INTO statement_ids (tenant_no, id, seq)
        SELECT $tenant, substr($rows, n * {IdRecordLength} + 1, 16), CAST(substr($rows, n * {IdRecordLength} + 17, {DigitsLength}) AS INTEGER)
        FROM record;
        """;

    private static readonly string InsertPostings = Records + $"""
        INSERT OR IGNORE INTO statement_terms (segment, tenant_no, term, seq)
        SELECT $segment, $tenant, substr($rows, n * {TermRecordLength} + 1, {StoredTerm.Length}),
               CAST(substr($rows, n * {TermRecordLength} + {StoredTerm.Length + 1}, {DigitsLength}) AS INTEGER)
        FROM record;
        """;

    private static readonly string AddCounts = Records + $"""
        INSERT INTO term_counts (tenant_no, term, n)
        SELECT $tenant, substr($rows, n * {TermRecordLength} + 1, {StoredTerm.Length}),
               CAST(substr($rows, n * {TermRecordLength} + {StoredTerm.Length + 1}, {DigitsLength}) AS INTEGER)
        FROM record WHERE true
        ON CONFLICT (tenant_no, term) DO UPDATE SET n = n + excluded.n;
        """;

    /// <summary>Writes every recent statement's id, posting and term count into <paramref name="segment"/>, inside the
    /// caller's transaction (writer thread only).</summary>
    public static void Write(SqliteConnection connection, RecentIndex recent, long segment)
    {
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
        using (var insert = new ChunkedInsert(connection, InsertIds, IdRecordLength, segment: null))
        {
            foreach (var (tenant, id, seq) in ids)
            {
                var record = insert.Next(tenant);
                BinaryPrimitives.WriteUInt128BigEndian(record, id);
                WriteDigits(record[16..], seq);
            }

            insert.Finish();
        }

        var lists = recent.PostingLists.ToArray();
        Array.Sort(lists, static (a, b) =>
            a.Key.Tenant != b.Key.Tenant ? a.Key.Tenant.CompareTo(b.Key.Tenant)
            : a.Key.Term.Kind != b.Key.Term.Kind ? a.Key.Term.Kind.CompareTo(b.Key.Term.Kind)
            : a.Key.Term.Hash.CompareTo(b.Key.Term.Hash));
        using var postings = new ChunkedInsert(connection, InsertPostings, TermRecordLength, segment);
        using var counts = new ChunkedInsert(connection, AddCounts, TermRecordLength, segment: null);
        foreach (var ((tenant, term), seqs) in lists)
        {
            if (seqs.Count == 0)
            {
                continue;
            }

            foreach (var seq in seqs)
            {
                var record = postings.Next(tenant);
                term.Write(record);
                WriteDigits(record[StoredTerm.Length..], seq);
            }

            var count = counts.Next(tenant);
            term.Write(count);
            WriteDigits(count[StoredTerm.Length..], seqs.Count);
        }

        postings.Finish();
        counts.Finish();
    }

    private static void WriteDigits(Span<byte> destination, long value)
    {
        if (value < 0 || !Utf8Formatter.TryFormat(value, destination, out var written, Digits) || written != DigitsLength)
        {
            throw new ArgumentOutOfRangeException(nameof(value), value, "A merged seq or count must be a non-negative 64-bit number.");
        }
    }

    /// <summary>Gathers fixed-width records into a chunk and runs its statement once the chunk is full, the tenant
    /// changes, or <see cref="Finish"/> is called.</summary>
    private sealed class ChunkedInsert : IDisposable
    {
        private readonly SqliteCommand command;
        private readonly SqliteParameter tenantParameter;
        private readonly SqliteParameter countParameter;
        private readonly byte[] buffer;
        private readonly int recordLength;
        private long tenant;
        private int count;

        /// <param name="segment">Bound as <c>$segment</c>; null for a statement without it.</param>
        public ChunkedInsert(SqliteConnection connection, string sql, int recordLength, long? segment)
        {
            this.recordLength = recordLength;
            buffer = new byte[ChunkRecords * recordLength];
            command = connection.CreateCommand();
            command.CommandText = sql;
            command.Parameters.AddWithValue("$rows", buffer);
            tenantParameter = command.Parameters.Add("$tenant", SqliteType.Integer);
            countParameter = command.Parameters.Add("$count", SqliteType.Integer);
            if (segment is { } number)
            {
                command.Parameters.AddWithValue("$segment", number);
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

            // The whole buffer is bound; $count says how many records of it are this chunk's.
            tenantParameter.Value = tenant;
            countParameter.Value = count;
            command.ExecuteNonQuery();
            count = 0;
        }

        public void Dispose() => command.Dispose();
    }
}
