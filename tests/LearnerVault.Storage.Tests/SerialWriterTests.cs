using LearnerVault.Storage.Sqlite;

namespace LearnerVault.Storage.Tests;

/// <summary>The tenant numbers the writer keeps for the stores' writes never outlive a rolled-back row.</summary>
public sealed class SerialWriterTests : IAsyncDisposable
{
    private readonly TempFolder folder = new();
    private readonly StatementWriter writer;
    private readonly SerialWriter serial;

    public SerialWriterTests()
    {
        var connection = SqliteConnections.Open(Path.Combine(folder.Path, "data.db"), ConnectionRole.Writer);
        SchemaMigrator.Migrate(connection, SchemaMigrator.DataSet, TimeProvider.System);
        writer = new StatementWriter(connection, TimeProvider.System, RecentIndex.Load(connection));
        serial = new SerialWriter(writer, TimeProvider.System);
    }

    [Fact]
    public async Task EnsureTenant_SameTenantAgain_SameNumberFromTheRow()
    {
        var tenant = Guid.NewGuid();
        var first = await serial.WriteAsync(_ => serial.EnsureTenant(tenant), CancellationToken.None);
        var second = await serial.WriteAsync(_ => serial.EnsureTenant(tenant), CancellationToken.None);

        Assert.Equal(first, second);
        Assert.Equal(first, await RowNumberAsync(tenant));
    }

    [Fact]
    public async Task EnsureTenant_AfterAWorkThatInsertedItFailed_InsertsTheRowAgain()
    {
        var rolledBack = Guid.NewGuid();
        var other = Guid.NewGuid();
        await Assert.ThrowsAsync<InvalidOperationException>(() => serial.WriteAsync<long>(_ =>
        {
            serial.EnsureTenant(rolledBack);
            throw new InvalidOperationException("the store's write failed after its tenant row");
        }, CancellationToken.None));

        // The rolled-back row's number is free again, and SQLite hands it to the next tenant.
        var otherNumber = await serial.WriteAsync(_ => serial.EnsureTenant(other), CancellationToken.None);
        var number = await serial.WriteAsync(_ => serial.EnsureTenant(rolledBack), CancellationToken.None);

        Assert.NotEqual(otherNumber, number);
        Assert.Equal(number, await RowNumberAsync(rolledBack));
        Assert.Equal(otherNumber, await RowNumberAsync(other));
    }

    [Fact]
    public void EnsureTenant_OffTheWritersThread_Refused() =>
        Assert.Throws<InvalidOperationException>(() => serial.EnsureTenant(Guid.NewGuid()));

    private Task<long?> RowNumberAsync(Guid tenant) => serial.WriteAsync(connection =>
    {
        using var select = connection.CreateCommand();
        select.CommandText = "SELECT no FROM tenants WHERE id = $id;";
        select.Parameters.AddWithValue("$id", SqliteValues.GuidBytes(tenant));
        return select.ExecuteScalar() as long?;
    }, CancellationToken.None);

    public async ValueTask DisposeAsync()
    {
        await writer.DisposeAsync();
        folder.Dispose();
    }
}
