using System.Collections.Concurrent;
using System.Text;

namespace LearnerVault.Storage.Sqlite;

/// <summary>
/// The SQL of statement reads, one text per shape (number of terms, direction), so each shape is prepared once per
/// reader connection. Plans are fixed by the text rather than left to the planner: a term query walks the segments
/// newest first (or oldest first), in each the postings of the driving term (the most selective, by <see cref="CountSql"/>) in sequence order, probes the other terms by primary key, and stops at the limit.
/// Nothing scans a table except <c>segments</c>, which has one row per merge.
/// </summary>
internal static class StatementQuerySql
{
    private const string RowColumns = "seq, key_id, blob, voided, has_timestamp, client_id, learner, restricted";
    private const string PageColumns = "s.seq, s.id, s.key_id, s.blob, s.has_timestamp, s.client_id, s.learner, s.restricted";

    /// <summary>A merged statement by id.</summary>
    public const string GetMerged = $"""
        SELECT s.{RowColumns} FROM statement_ids AS i CROSS JOIN statements AS s
        WHERE i.tenant_no = $t AND i.id = $id AND s.seq = i.seq;
        """;

    /// <summary>A statement by seq (a recent one, found in memory).</summary>
    public const string GetBySeq = $"""
        SELECT {RowColumns} FROM statements WHERE seq = $seq AND tenant_no = $t;
        """;

    /// <summary>An attachment's content by its content address.</summary>
    public const string GetAttachment = """
        SELECT key_id, blob, refs FROM attachments WHERE tenant_no = $t AND hash_key = $hash;
        """;

    /// <summary>The same, only if one of the statements in $seqs (a JSON array) carried it: each is probed by the
    /// primary key of statement_attachments.</summary>
    public const string GetCarriedAttachment = """
        SELECT a.key_id, a.blob, a.refs FROM attachments AS a
        WHERE a.tenant_no = $t AND a.hash_key = $hash
          AND EXISTS (SELECT 1 FROM json_each($seqs) AS j CROSS JOIN statement_attachments AS sa
                      WHERE sa.seq = j.value AND sa.attachment_no = a.no);
        """;

    public const string Newest = """
        SELECT seq FROM statements INDEXED BY statements_by_tenant WHERE tenant_no = $t ORDER BY seq DESC LIMIT 1;
        """;

    private static readonly ConcurrentDictionary<(int Others, bool Ascending), string> TermQueries = new();
    private static readonly ConcurrentDictionary<int, string> CountQueries = new();
    private static readonly string AllAscending = All("ASC");
    private static readonly string AllDescending = All("DESC");
    private static readonly string BySeqsAscending = BySeqs("ASC");
    private static readonly string BySeqsDescending = BySeqs("DESC");

    /// <summary>Every statement of the tenant in the bounds (no filter): the tenant's own index, kept at every write.</summary>
    public static string AllQuery(bool ascending) => ascending ? AllAscending : AllDescending;

    /// <summary>The live statements among the seqs in the JSON array <c>$seqs</c> (recent matches found in memory).</summary>
    public static string BySeqsQuery(bool ascending) => ascending ? BySeqsAscending : BySeqsDescending;

    private static string All(string direction) => $"""
        SELECT {PageColumns} FROM statements AS s INDEXED BY statements_by_tenant
        WHERE s.tenant_no = $t AND s.seq > $lo AND s.seq <= $hi AND s.voided = 0
        ORDER BY s.seq {direction}
        LIMIT $limit;
        """;

    // "+s.tenant_no" keeps the planner on the rowid lookups.
    private static string BySeqs(string direction) => $"""
        SELECT {PageColumns} FROM statements AS s
        WHERE s.seq IN (SELECT value FROM json_each($seqs)) AND +s.tenant_no = $t AND s.voided = 0
        ORDER BY s.seq {direction};
        """;

    /// <summary>Merged statements having the driving term <c>$d</c> and the other terms <c>$x0</c>…, in the bounds.
    /// CROSS JOIN fixes the loop order, which also yields the rows in seq order without sorting.</summary>
    public static string TermQuery(int otherTerms, bool ascending) =>
        TermQueries.GetOrAdd((otherTerms, ascending), static key =>
        {
            var direction = key.Ascending ? "ASC" : "DESC";
            var sql = new StringBuilder();
            sql.Append($"""
                SELECT {PageColumns}
                FROM segments AS g CROSS JOIN statement_terms AS d CROSS JOIN statements AS s
                WHERE g.last_seq > $lo AND g.first_seq <= $hi
                  AND d.segment = g.id AND d.tenant_no = $t AND d.term = $d AND d.seq > $lo AND d.seq <= $hi
                """);
            for (var i = 0; i < key.Others; i++)
            {
                sql.Append($"""

                      AND EXISTS (SELECT 1 FROM statement_terms AS x{i}
                                  WHERE x{i}.segment = g.id AND x{i}.tenant_no = $t AND x{i}.term = $x{i} AND x{i}.seq = d.seq)
                    """);
            }

            sql.Append($"""

                  AND s.seq = d.seq AND s.tenant_no = $t AND s.voided = 0
                ORDER BY g.id {direction}, d.seq {direction}
                LIMIT $limit;
                """);
            return sql.ToString();
        });

    /// <summary>One row: for each term <c>$s0</c>…, its number of merged postings (maintained by the merges).</summary>
    public static string CountSql(int terms) =>
        CountQueries.GetOrAdd(terms, static count =>
        {
            var columns = Enumerable.Range(0, count).Select(i =>
                $"coalesce((SELECT n FROM term_counts WHERE tenant_no = $t AND term = $s{i}), 0)");
            return $"SELECT {string.Join(", ", columns)};";
        });
}
