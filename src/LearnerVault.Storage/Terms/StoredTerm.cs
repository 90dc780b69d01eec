using System.Buffers.Binary;

namespace LearnerVault.Storage;

/// <summary>
/// The stored form of an index term, the same in every backend: the kind byte followed by the 16-byte keyed hash
/// (17 bytes), so that equal hashes of different kinds never match. Kind 255 is reserved for the writing client
/// (statements/read/mine), which is a posting but never an inherited term.
/// </summary>
internal readonly record struct StoredTerm(byte Kind, UInt128 Hash)
{
    public const int Length = 17;
    public const int HashLength = 16;
    public const byte ClientKind = 255;

    /// <summary>How selective a term of this kind usually is (lower: fewer postings), breaking ties when a query
    /// chooses the term that drives it.</summary>
    public int SelectivityRank => (TermKind)Kind switch
    {
        TermKind.Registration => 0,
        TermKind.Agent => 1,
        TermKind.Activity => 2,
        TermKind.RelatedAgent => 4,
        TermKind.RelatedActivity => 5,
        TermKind.Verb => 6,
        _ => 3,
    };

    /// <exception cref="ArgumentException">The hash is not 16 bytes, or the kind is the reserved one.</exception>
    public static StoredTerm From(IndexTerm term)
    {
        var hash = term.Hash ?? throw new ArgumentException("An index term has no hash.", nameof(term));
        if (hash.Length != HashLength)
        {
            throw new ArgumentException($"An index term hash must be {HashLength} bytes.", nameof(term));
        }

        if ((byte)term.Kind == ClientKind)
        {
            throw new ArgumentException("Term kind 255 is reserved.", nameof(term));
        }

        return new StoredTerm((byte)term.Kind, BinaryPrimitives.ReadUInt128BigEndian(hash));
    }

    /// <summary>The client's pseudo-term: not a keyed hash (client ids are not personal data) and never inherited.</summary>
    public static StoredTerm ForClient(long clientId) => new(ClientKind, (UInt128)(ulong)clientId);

    public static StoredTerm Read(ReadOnlySpan<byte> bytes) =>
        new(bytes[0], BinaryPrimitives.ReadUInt128BigEndian(bytes.Slice(1, HashLength)));

    public void Write(Span<byte> destination)
    {
        destination[0] = Kind;
        BinaryPrimitives.WriteUInt128BigEndian(destination.Slice(1, HashLength), Hash);
    }

    public byte[] ToBytes()
    {
        var bytes = new byte[Length];
        Write(bytes);
        return bytes;
    }

    /// <summary>Back to the backend-neutral form (kind and 16-byte hash); meaningless for the client pseudo-term.</summary>
    public IndexTerm ToIndexTerm()
    {
        var hash = new byte[HashLength];
        BinaryPrimitives.WriteUInt128BigEndian(hash, Hash);
        return new IndexTerm((TermKind)Kind, hash);
    }
}

/// <summary>An insertion-ordered set of terms, convertible to and from the <c>statements.terms</c> column.</summary>
internal sealed class StoredTermSet
{
    /// <summary>Up to this many terms a linear scan finds repeats; a hash set is made only past it. A statement has about
    /// ten, and a set per statement was a tenth of the bytes ingest allocated.</summary>
    private const int ScanLimit = 24;

    private readonly List<StoredTerm> order = new(12);
    private HashSet<StoredTerm>? set;

    public int Count => order.Count;

    public IReadOnlyList<StoredTerm> Items => order;

    public bool Add(StoredTerm term)
    {
        if (set is not null)
        {
            if (!set.Add(term))
            {
                return false;
            }
        }
        else if (order.Contains(term))
        {
            return false;
        }
        else if (order.Count == ScanLimit)
        {
            set = [.. order, term];
        }

        order.Add(term);
        return true;
    }

    public void AddRange(IEnumerable<StoredTerm> terms)
    {
        foreach (var term in terms)
        {
            Add(term);
        }
    }

    public bool Contains(StoredTerm term) => set?.Contains(term) ?? order.Contains(term);

    public void AddBlob(ReadOnlySpan<byte> blob)
    {
        for (var offset = 0; offset + StoredTerm.Length <= blob.Length; offset += StoredTerm.Length)
        {
            Add(StoredTerm.Read(blob.Slice(offset, StoredTerm.Length)));
        }
    }

    public static StoredTermSet FromBlob(ReadOnlySpan<byte> blob)
    {
        var terms = new StoredTermSet();
        terms.AddBlob(blob);
        return terms;
    }

    /// <summary>A statement's own terms, in order, without repeats.</summary>
    /// <exception cref="ArgumentException">A term's hash is not 16 bytes, or its kind is the reserved one.</exception>
    public static StoredTermSet From(IEnumerable<IndexTerm> terms)
    {
        var set = new StoredTermSet();
        foreach (var term in terms)
        {
            set.Add(StoredTerm.From(term));
        }

        return set;
    }

    /// <summary>What a query must match: its terms, and the client's pseudo-term when it asks for one client's statements.</summary>
    /// <exception cref="ArgumentException">A term's hash is not 16 bytes, or its kind is the reserved one.</exception>
    public static StoredTermSet ForQuery(StatementQuery query)
    {
        ArgumentNullException.ThrowIfNull(query);
        var terms = From(query.Terms);
        if (query.ClientId is { } clientId)
        {
            terms.Add(StoredTerm.ForClient(clientId));
        }

        return terms;
    }

    /// <summary>The terms other than the client pseudo-term, in the backend-neutral form.</summary>
    public List<IndexTerm> ToIndexTerms()
    {
        var terms = new List<IndexTerm>(order.Count);
        foreach (var term in order)
        {
            if (term.Kind != StoredTerm.ClientKind)
            {
                terms.Add(term.ToIndexTerm());
            }
        }

        return terms;
    }

    public byte[] ToBlob()
    {
        var blob = new byte[order.Count * StoredTerm.Length];
        for (var i = 0; i < order.Count; i++)
        {
            order[i].Write(blob.AsSpan(i * StoredTerm.Length, StoredTerm.Length));
        }

        return blob;
    }
}
