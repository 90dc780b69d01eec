namespace LearnerVault.Storage.Tests;

/// <summary>
/// The lifetime every store contract class shares: open the store under test before each test, close it and remove the
/// test class's storage after, and reopen it in the middle of a test (everything written before must still be there).
/// </summary>
/// <typeparam name="THandle">An opened store (or stores) and how to close it.</typeparam>
public abstract class StoreContractLifetime<THandle> : IAsyncLifetime
    where THandle : class, IAsyncDisposable
{
    private THandle? handle;

    /// <summary>The store opened for the running test.</summary>
    protected THandle Handle => handle ?? throw new InvalidOperationException("Not opened.");

    protected static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>Opens the store under test on the test class's storage.</summary>
    protected abstract ValueTask<THandle> OpenHandleAsync();

    /// <summary>Removes the test class's storage once the store is closed.</summary>
    protected virtual ValueTask CleanUpAsync() => ValueTask.CompletedTask;

    public async ValueTask InitializeAsync() => handle = await OpenHandleAsync();

    public async ValueTask DisposeAsync()
    {
        if (handle is not null)
        {
            await handle.DisposeAsync();
            handle = null;
        }

        await CleanUpAsync();
        GC.SuppressFinalize(this);
    }

    /// <summary>Closes the store and opens it again on the same storage.</summary>
    protected async Task ReopenAsync()
    {
        if (handle is not null)
        {
            await handle.DisposeAsync();
        }

        handle = null;
        handle = await OpenHandleAsync();
    }
}
