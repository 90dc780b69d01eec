using LearnerVault.Privacy.Audit;
using Microsoft.Data.Sqlite;

namespace LearnerVault.Storage.Sqlite;

/// <summary>
/// Statements in the SQLite data file. Writes go through one group-committing writer (<see cref="StatementWriter"/>);
/// reads use pooled WAL reader connections. <c>stored</c> is unix microseconds and doubles as the sequence number.
/// </summary>
public sealed class SqliteStatementStore : IStatementStore, IAsyncDisposable
{
    private readonly StatementWriter writer;
    private readonly SerialWriter storeWriter;
    private readonly SqliteReaderPool readers;
    private readonly TenantDirectory tenants;
    private readonly RecentIndex recent;

    internal SqliteStatementStore(StatementWriter writer, SerialWriter storeWriter, SqliteReaderPool readers, TenantDirectory tenants, RecentIndex recent)
    {
        this.writer = writer;
        this.storeWriter = storeWriter;
        this.readers = readers;
        this.tenants = tenants;
        this.recent = recent;
    }

    /// <inheritdoc />
    /// <remarks>Cancellation is honoured until the writer takes the batch; after that the batch is written and
    /// the task completes normally.</remarks>
    public Task<IReadOnlyList<WriteOutcome>> WriteAsync(Guid tenantId, IReadOnlyList<StatementRecord> batch, CancellationToken cancellationToken = default)
    {
        StoreArguments.Check(batch);
        if (batch.Count == 0)
        {
            return Task.FromResult<IReadOnlyList<WriteOutcome>>([]);
        }

        return writer.WriteAsync(tenantId, batch, cancellationToken);
    }

    /// <inheritdoc />
    /// <remarks>One transaction, so one commit (and one WAL sync), for the entries and the batch: the entries in a savepoint
    /// of their own, so that a conflict rolls back the batch alone. Cancellation as for the write without entries.</remarks>
    public async Task<StatementWrite> WriteAsync(
        Guid tenantId, IReadOnlyList<StatementRecord> batch, IReadOnlyList<AccessLogEntry> accessLogEntries, CancellationToken cancellationToken = default)
    {
        StoreArguments.Check(batch);
        ArgumentNullException.ThrowIfNull(accessLogEntries);
        var result = await writer.WriteAsync(
            tenantId, batch, _ => SqliteAccessLogStore.Append(storeWriter, tenantId, accessLogEntries), cancellationToken);
        return new StatementWrite(result.Outcomes, result.AccessLogHead!);
    }

    public async Task<IReadOnlyList<StoredAttachment>> GetAttachmentsAsync(
        Guid tenantId, IReadOnlyList<byte[]> hashKeys, IReadOnlyList<long>? carriedBy = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(hashKeys);
        if (hashKeys.Count == 0 || carriedBy is { Count: 0 })
        {
            return [];
        }

        using var lease = await readers.RentAsync(cancellationToken);
        var reader = lease.Reader;
        if (tenants.Find(reader, tenantId) is not { } tenantNo)
        {
            return [];
        }

        var command = carriedBy is null
            ? reader.Command(StatementQuerySql.GetAttachment, ("$t", SqliteType.Integer), ("$hash", SqliteType.Blob))
            : reader.Command(StatementQuerySql.GetCarriedAttachment, ("$t", SqliteType.Integer), ("$hash", SqliteType.Blob), ("$seqs", SqliteType.Text));
        command.Parameters[0].Value = tenantNo;
        if (carriedBy is not null)
        {
            command.Parameters[2].Value = "[" + string.Join(',', carriedBy) + "]";
        }
        var found = new List<StoredAttachment>(hashKeys.Count);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var hashKey in hashKeys)
        {
            ArgumentNullException.ThrowIfNull(hashKey, nameof(hashKeys));
            if (!seen.Add(Convert.ToHexString(hashKey)))
            {
                continue;
            }

            command.Parameters[1].Value = hashKey;
            using var row = command.ExecuteReader();
            if (row.Read())
            {
                found.Add(new StoredAttachment(hashKey, row.GetInt64(0), (byte[])row.GetValue(1), row.GetInt64(2)));
            }
        }

        return found;
    }

    public async Task<StoredStatement?> GetAsync(Guid tenantId, Guid id, CancellationToken cancellationToken = default)
    {
        using var lease = await readers.RentAsync(cancellationToken);
        var reader = lease.Reader;
        if (tenants.Find(reader, tenantId) is not { } tenantNo)
        {
            return null;
        }

        SqliteCommand command;
        if (recent.FindSeq(tenantNo, id, out _) is { } recentSeq)
        {
            command = reader.Command(StatementQuerySql.GetBySeq, ("$seq", SqliteType.Integer), ("$t", SqliteType.Integer));
            command.Parameters[0].Value = recentSeq;
            command.Parameters[1].Value = tenantNo;
        }
        else
        {
            command = reader.Command(StatementQuerySql.GetMerged, ("$t", SqliteType.Integer), ("$id", SqliteType.Blob));
            command.Parameters[0].Value = tenantNo;
            command.Parameters[1].Value = SqliteValues.GuidBytes(id);
        }

        using var row = command.ExecuteReader();
        if (!row.Read())
        {
            return null;
        }

        var seq = row.GetInt64(0);
        return new StoredStatement(
            id,
            seq,
            SqliteValues.FromUnixMicroseconds(seq),
            row.GetInt64(1),
            (byte[])row.GetValue(2),
            row.GetInt64(3) != 0,
            row.GetInt64(4) != 0,
            row.GetInt64(5))
        {
            Learner = row.IsDBNull(6) ? null : (byte[])row.GetValue(6),
            Restricted = row.GetInt64(7) != 0,
        };
    }

    public async Task<StatementPage> QueryAsync(Guid tenantId, StatementQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(query.Limit);

        var terms = StoredTermSet.ForQuery(query);

        // Bounds on seq (= stored in microseconds): lo exclusive, hi inclusive. stored is whole microseconds, so
        // flooring the bounds keeps "stored > since" and "stored <= until" exact.
        var lo = query.Since is { } since ? SqliteValues.ToUnixMicroseconds(since) : long.MinValue;
        var hi = query.Until is { } until ? SqliteValues.ToUnixMicroseconds(until) : long.MaxValue;
        if (query.After is { } after)
        {
            if (query.Ascending)
            {
                lo = Math.Max(lo, after);
            }
            else
            {
                hi = Math.Min(hi, after - 1);
            }
        }

        var empty = new StatementPage([], null);
        if (lo >= hi)
        {
            return empty;
        }

        using var lease = await readers.RentAsync(cancellationToken);
        var reader = lease.Reader;
        if (tenants.Find(reader, tenantId) is not { } tenantNo)
        {
            return empty;
        }

        var need = (long)query.Limit + 1;
        var statements = new List<StoredStatement>((int)Math.Min(need, 1024));
        if (terms.Count == 0)
        {
            var command = reader.Command(StatementQuerySql.AllQuery(query.Ascending),
                ("$t", SqliteType.Integer), ("$lo", SqliteType.Integer), ("$hi", SqliteType.Integer), ("$limit", SqliteType.Integer));
            command.Parameters[0].Value = tenantNo;
            command.Parameters[1].Value = lo;
            command.Parameters[2].Value = hi;
            command.Parameters[3].Value = need;
            ReadPage(command, statements);
        }
        else
        {
            // Recent statements (after the floor) are matched in memory, merged ones in the segments; every recent
            // statement is newer than every merged one, so the two parts simply follow each other.
            var recentMatches = recent.Match(tenantNo, terms.Items, lo, hi, out var floor);
            var mergedHi = Math.Min(hi, floor);
            if (query.Ascending)
            {
                ReadMerged(reader, tenantNo, terms.Items, lo, mergedHi, ascending: true, need, statements);
                ReadRecent(reader, tenantNo, recentMatches, ascending: true, need, statements);
            }
            else
            {
                recentMatches.Reverse();
                ReadRecent(reader, tenantNo, recentMatches, ascending: false, need, statements);
                ReadMerged(reader, tenantNo, terms.Items, lo, mergedHi, ascending: false, need, statements);
            }
        }

        long? continueAfter = null;
        if (statements.Count > query.Limit)
        {
            statements.RemoveAt(statements.Count - 1);
            continueAfter = statements[^1].Sequence;
        }

        return new StatementPage(statements, continueAfter);
    }

    private static void ReadMerged(PooledReader reader, long tenantNo, IReadOnlyList<StoredTerm> terms, long lo, long hi, bool ascending, long need, List<StoredStatement> statements)
    {
        if (statements.Count >= need || lo >= hi)
        {
            return;
        }

        var ordered = OrderBySelectivity(reader, tenantNo, terms);
        var parameters = new (string, SqliteType)[4 + ordered.Count];
        parameters[0] = ("$t", SqliteType.Integer);
        parameters[1] = ("$lo", SqliteType.Integer);
        parameters[2] = ("$hi", SqliteType.Integer);
        parameters[3] = ("$limit", SqliteType.Integer);
        parameters[4] = ("$d", SqliteType.Blob);
        for (var i = 1; i < ordered.Count; i++)
        {
            parameters[4 + i] = ($"$x{i - 1}", SqliteType.Blob);
        }

        var command = reader.Command(StatementQuerySql.TermQuery(ordered.Count - 1, ascending), parameters);
        command.Parameters[0].Value = tenantNo;
        command.Parameters[1].Value = lo;
        command.Parameters[2].Value = hi;
        command.Parameters[3].Value = need - statements.Count;
        for (var i = 0; i < ordered.Count; i++)
        {
            command.Parameters[4 + i].Value = ordered[i].ToBytes();
        }

        ReadPage(command, statements);
    }

    /// <summary>Reads the live statements among <paramref name="seqs"/> (in query order) until the page is full;
    /// voided ones drop out, so it reads a little ahead in chunks.</summary>
    private static void ReadRecent(PooledReader reader, long tenantNo, List<long> seqs, bool ascending, long need, List<StoredStatement> statements)
    {
        var command = reader.Command(StatementQuerySql.BySeqsQuery(ascending), ("$seqs", SqliteType.Text), ("$t", SqliteType.Integer));
        command.Parameters[1].Value = tenantNo;
        var next = 0;
        while (statements.Count < need && next < seqs.Count)
        {
            var take = (int)Math.Min(seqs.Count - next, need - statements.Count + 16);
            command.Parameters[0].Value = "[" + string.Join(',', seqs.GetRange(next, take)) + "]";
            next += take;
            ReadPage(command, statements, need);
        }
    }

    private static void ReadPage(SqliteCommand command, List<StoredStatement> statements, long max = long.MaxValue)
    {
        using var row = command.ExecuteReader();
        while (statements.Count < max && row.Read())
        {
            var seq = row.GetInt64(0);
            statements.Add(new StoredStatement(
                SqliteValues.ToGuid((byte[])row.GetValue(1)),
                seq,
                SqliteValues.FromUnixMicroseconds(seq),
                row.GetInt64(2),
                (byte[])row.GetValue(3),
                Voided: false,
                row.GetInt64(4) != 0,
                row.GetInt64(5))
            {
                Learner = row.IsDBNull(6) ? null : (byte[])row.GetValue(6),
                Restricted = row.GetInt64(7) != 0,
            });
        }
    }

    /// <summary>The terms, most selective first (by their merged postings: the bounds are not taken into account).</summary>
    private static List<StoredTerm> OrderBySelectivity(PooledReader reader, long tenantNo, IReadOnlyList<StoredTerm> terms)
    {
        var ordered = terms.ToList();
        if (terms.Count < 2)
        {
            return ordered;
        }

        var parameters = new (string, SqliteType)[1 + terms.Count];
        parameters[0] = ("$t", SqliteType.Integer);
        for (var i = 0; i < terms.Count; i++)
        {
            parameters[1 + i] = ($"$s{i}", SqliteType.Blob);
        }

        var command = reader.Command(StatementQuerySql.CountSql(terms.Count), parameters);
        command.Parameters[0].Value = tenantNo;
        for (var i = 0; i < terms.Count; i++)
        {
            command.Parameters[1 + i].Value = terms[i].ToBytes();
        }

        var counts = new long[terms.Count];
        using (var row = command.ExecuteReader())
        {
            row.Read();
            for (var i = 0; i < terms.Count; i++)
            {
                counts[i] = row.GetInt64(i);
            }
        }

        // Ties go to the kind that is usually the most selective.
        var indices = Enumerable.Range(0, terms.Count)
            .OrderBy(i => counts[i])
            .ThenBy(i => terms[i].SelectivityRank)
            .ToList();
        return indices.ConvertAll(i => terms[i]);
    }

    public Task<DateTimeOffset?> ConsistentThroughAsync(Guid tenantId, CancellationToken cancellationToken = default) =>
        Task.FromResult<DateTimeOffset?>(writer.ConsistentThrough());

    /// <summary>Drains the writes already accepted, then closes the writer. Readers are closed by the backend.</summary>
    public ValueTask DisposeAsync() => writer.DisposeAsync();
}
