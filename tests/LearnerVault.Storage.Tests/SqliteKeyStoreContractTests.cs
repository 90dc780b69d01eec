using LearnerVault.Privacy;
using LearnerVault.Storage.Sqlite;
using Microsoft.Data.Sqlite;

namespace LearnerVault.Storage.Tests;

/// <summary>The key store contract against the SQLite key store file; its storage checks read the file itself, so they
/// also prove that <c>secure_delete</c> and the WAL checkpoint leave no destroyed key behind.</summary>
public sealed class SqliteKeyStoreContractTests : KeyStoreContractTests
{
    private readonly TempFolder folder = new();

    protected override MasterKey MasterKey { get; } = MasterKey.FromBytes(KeyWrapping.NewKey());

    private string KeyFile => Path.Combine(folder.Path, SqliteBackend.KeyStoreFileName);

    protected override KeyStoreUnderTest Open(MasterKey? key = null)
    {
        var store = SqliteKeyStore.Open(KeyFile, key ?? MasterKey, Time);
        return new KeyStoreUnderTest(store, store, store.Dispose);
    }

    protected override byte[]? ReadWrapped(long keyId)
    {
        using var connection = new SqliteConnection($"Data Source={KeyFile};Pooling=False;Mode=ReadOnly");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT wrapped FROM keys WHERE id = $id;";
        command.Parameters.AddWithValue("$id", keyId);
        return command.ExecuteScalar() as byte[];
    }

    // Read through the file system, as a thief with a copy would.
    protected override byte[] StoredBytes() => File.ReadAllBytes(KeyFile);

    public override async ValueTask DisposeAsync()
    {
        folder.Dispose();
        await base.DisposeAsync();
    }
}
