using System.Buffers.Binary;

namespace LearnerVault.Storage.Sqlite;

/// <summary>
/// The stored form of an index term: the kind byte followed by the 16-byte keyed hash (17 bytes), so that equal
/// hashes of different kinds never match. Kind 255 is reserved for the writing client (statements/read/mine).
/// </summary>
internal readonly record struct StoredTerm(byte Kind, UInt128 Hash)
{
    public const int Length = 17;
    public const int HashLength = 16;
    public const byte ClientKind = 255;

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
}

/// <summary>An insertion-ordered set of terms, convertible to and from the <c>statements.terms</c> blob.</summary>
internal sealed class StoredTermSet
{
    private readonly List<StoredTerm> order = [];
    private readonly HashSet<StoredTerm> set = [];

    public int Count => order.Count;

    public IReadOnlyList<StoredTerm> Items => order;

    public bool Add(StoredTerm term)
    {
        if (!set.Add(term))
        {
            return false;
        }

        order.Add(term);
        return true;
    }

    public bool Contains(StoredTerm term) => set.Contains(term);

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
