namespace LearnerVault.Server.Tests;

/// <summary>One server for a test class: each class owns its data folder.</summary>
public sealed class ServerFixture : IAsyncLifetime
{
    public LearnerVaultAppFactory Factory { get; private set; } = null!;

    public async ValueTask InitializeAsync() => Factory = await LearnerVaultAppFactory.StartAsync();

    public async ValueTask DisposeAsync() => await Factory.DisposeAsync();
}
