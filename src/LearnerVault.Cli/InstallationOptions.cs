using System.CommandLine;
using LearnerVault.Server.Administration;
using LearnerVault.Server.Options;
using LearnerVault.Storage;

namespace LearnerVault.Cli;

/// <summary>
/// The options that say which installation a command works on — the data folder, its master key, the store and the
/// key store — declared once for every command that touches data, so that they cannot drift apart.
/// </summary>
internal sealed class InstallationOptions(CliSettings settings)
{
    public Option<string> Data { get; } = CommonOptions.Data(settings);

    public Option<string?> MasterKeyFile { get; } = CommonOptions.MasterKeyFile(settings);

    public Option<string?> Store { get; } = CommonOptions.Store(settings);

    public Option<string?> KeyStore { get; } = CommonOptions.KeyStore(settings);

    public void AddTo(Command command)
    {
        command.Options.Add(Data);
        command.Options.Add(MasterKeyFile);
        command.Options.Add(Store);
        command.Options.Add(KeyStore);
    }

    public string DataDirectory(CommandContext context) => context.GetValue(Data)!;

    public string? MasterKeyFileOf(CommandContext context) => context.GetValue(MasterKeyFile);

    /// <summary>The store the options name (a malformed one is a one-line error).</summary>
    public StoreLocation Location(CommandContext context) =>
        CommonOptions.ParseStore(context.GetValue(Store), context.GetValue(KeyStore));

    /// <summary>Opens the initialised installation the options name.</summary>
    public IStorageBackend Open(CommandContext context) =>
        DataFolder.Open(DataDirectory(context), MasterKeyFileOf(context), Location(context), context.Time);
}
