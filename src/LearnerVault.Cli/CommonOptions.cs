using System.CommandLine;

namespace LearnerVault.Cli;

/// <summary>Options that several commands share, with their environment-variable defaults.</summary>
internal static class CommonOptions
{
    public const string DataVariable = "LV_DATA";
    public const string MasterKeyFileVariable = "LV_MASTER_KEY_FILE";
    public const string DefaultDataDirectory = "./data";

    public static Option<string> Data(CliSettings settings) => new("--data")
    {
        Description = $"The data folder (data file, key store, master key file). Env: {DataVariable}.",
        HelpName = "DIR",
        DefaultValueFactory = _ => NonEmpty(settings.GetEnvironment(DataVariable)) ?? DefaultDataDirectory,
    };

    public static Option<string?> MasterKeyFile(CliSettings settings) => new("--master-key-file")
    {
        Description = $"The master key file; default master.key in the data folder. LV_MASTER_KEY (base64) overrides it. Env: {MasterKeyFileVariable}.",
        HelpName = "FILE",
        DefaultValueFactory = _ => NonEmpty(settings.GetEnvironment(MasterKeyFileVariable)),
    };

    public static Option<bool> Json() => new("--json")
    {
        Description = "Print one JSON document on stdout instead of text for people.",
    };

    public static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}
