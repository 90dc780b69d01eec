using System.CommandLine;
using LearnerVault.Server.Administration;
using LearnerVault.Server.Options;

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

    public static Option<string?> Store(CliSettings settings) => new("--store")
    {
        Description = $"Where the data lives: 'sqlite' (the default: files in the data folder) or 'postgres:<Npgsql connection string>'. Env: {StoreLocation.EnvironmentVariable}.",
        HelpName = "STORE",
        DefaultValueFactory = _ => NonEmpty(settings.GetEnvironment(StoreLocation.EnvironmentVariable)),
    };

    public static Option<string?> KeyStore(CliSettings settings) => new("--key-store")
    {
        Description = $"PostgreSQL only: the Npgsql connection string of the key store when it lives apart from the data (another database, or another role); default: the data's connection string, schema {LearnerVault.Storage.Postgres.PostgresStoreOptions.DefaultKeySchema}. Env: {StoreLocation.KeyStoreEnvironmentVariable}.",
        HelpName = "CONNECTION STRING",
        DefaultValueFactory = _ => NonEmpty(settings.GetEnvironment(StoreLocation.KeyStoreEnvironmentVariable)),
    };

    /// <summary>The store the options name; a malformed one is a one-line error that never repeats the text (it may hold a password).</summary>
    public static StoreLocation ParseStore(string? text, string? keyStore = null)
    {
        try
        {
            return StoreLocation.Parse(text, keyStore);
        }
        catch (FormatException ex)
        {
            throw new AdministrationException($"--store: {ex.Message}", ex);
        }
    }

    public static Option<bool> Json() => new("--json")
    {
        Description = "Print one JSON document on stdout instead of text for people.",
    };

    public static string? NonEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}
