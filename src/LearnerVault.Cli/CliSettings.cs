namespace LearnerVault.Cli;

/// <summary>What the commands take from their surroundings, injectable so tests need no wall clock and no process environment.</summary>
public sealed record CliSettings(TimeProvider Time, Func<string, string?> GetEnvironment)
{
    public static CliSettings Default { get; } = new(TimeProvider.System, Environment.GetEnvironmentVariable);
}
