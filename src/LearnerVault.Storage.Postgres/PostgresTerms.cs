using System.Buffers.Binary;

namespace LearnerVault.Storage.Postgres;

/// <summary>
/// The stored form of an index term (as in the SQLite backend): the kind byte followed by the 16-byte keyed hash
/// (17 bytes), so that equal hashes of different kinds never match. Kind 255 is reserved for the writing client
/// (statements/read/mine), which is a posting but never an inherited term.
/// </summary>
internal readonly record struct PostgresTerm(byte Kind, UInt128 Hash)
{
    public const int Length = 17;
    public const int HashLength = 16;
    public const byte ClientKind = 255;

    /// <exception cref="ArgumentException">The hash is not 16 bytes, or the kind is the reserved one.</exception>
    public static PostgresTerm From(IndexTerm term)
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

        return new PostgresTerm((byte)term.Kind, BinaryPrimitives.ReadUInt128BigEndian(hash));
    }

    /// <summary>The client's pseudo-term: not a keyed hash (client ids are not personal data) and never inherited.</summary>
    public static PostgresTerm ForClient(long clientId) => new(ClientKind, (UInt128)(ulong)clientId);

    public static PostgresTerm Read(ReadOnlySpan<byte> bytes) =>
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
}

/// <summary>An insertion-ordered set of terms, convertible to and from the <c>statements.terms</c> column.</summary>
internal sealed class PostgresTermSet
{
    private readonly List<PostgresTerm> order = [];
    private readonly HashSet<PostgresTerm> set = [];

    public int Count => order.Count;

    public IReadOnlyList<PostgresTerm> Items => order;

    public bool Add(PostgresTerm term)
    {
        if (!set.Add(term))
        {
            return false;
        }

        order.Add(term);
        return true;
    }

    public void AddRange(IEnumerable<PostgresTerm> terms)
    {
        foreach (var term in terms)
        {
            Add(term);
        }
    }

    public static PostgresTermSet FromBlob(ReadOnlySpan<byte> blob)
    {
        var terms = new PostgresTermSet();
        for (var offset = 0; offset + PostgresTerm.Length <= blob.Length; offset += PostgresTerm.Length)
        {
            terms.Add(PostgresTerm.Read(blob.Slice(offset, PostgresTerm.Length)));
        }

        return terms;
    }

    public byte[] ToBlob()
    {
        var blob = new byte[order.Count * PostgresTerm.Length];
        for (var i = 0; i < order.Count; i++)
        {
            order[i].Write(blob.AsSpan(i * PostgresTerm.Length, PostgresTerm.Length));
        }

        return blob;
    }
}
