using System.Security.Cryptography;
using LearnerVault.Privacy;
using LearnerVault.Server.Options;
using LearnerVault.Storage;
using LearnerVault.Storage.Postgres;
using LearnerVault.Storage.Sqlite;
using Npgsql;

namespace LearnerVault.Server.Administration;

/// <summary>What <c>DataFolder.InitializeAsync</c> found or made.</summary>
/// <param name="Created">True when this call created the data file; false when the folder was already initialised.</param>
/// <param name="TenantId">The default tenant.</param>
/// <param name="MasterKeyFile">The master key file in use, or null when the key came from <c>LV_MASTER_KEY</c>.</param>
/// <param name="Store">Where the data lives.</param>
public sealed record InitResult(bool Created, Guid TenantId, string DataDirectory, string? MasterKeyFile, StoreLocation Store);

/// <summary>
/// The data folder and the store it opens. With the embedded default the folder holds the data file, the key store in
/// its own file beside it, and the master key file (unless the master key comes from the environment); with PostgreSQL
/// (<see cref="StoreLocation"/>) it holds only the master key file, and the data and key store are two schemas of the
/// database. Data and keys are backed up separately, so that a data backup alone never carries the means to read it.
/// </summary>
public sealed class DataFolder
{
    public const string DefaultTenantName = "demo";

    private DataFolder()
    {
    }

    /// <summary>The master key file: <paramref name="masterKeyFile"/> if given, else master.key in the data folder.</summary>
    public static string MasterKeyPath(string dataDirectory, string? masterKeyFile) =>
        string.IsNullOrWhiteSpace(masterKeyFile) ? Path.Combine(dataDirectory, SqliteBackend.MasterKeyFileName) : masterKeyFile;

    /// <summary>
    /// Creates the folder, the master key file (owner read/write only) unless <c>LV_MASTER_KEY</c> is set or the file
    /// exists, the data file and key store, and the default tenant with its keys. Safe to run again: an initialised
    /// folder is left as it is.
    /// </summary>
    /// <exception cref="AdministrationException">The folder holds one of the data file and key store without the other,
    /// or a key store without any master key.</exception>
    public static Task<InitResult> InitializeAsync(string dataDirectory, string? masterKeyFile, TimeProvider time, CancellationToken ct) =>
        InitializeAsync(dataDirectory, masterKeyFile, StoreLocation.Sqlite, time, ct);

    /// <summary>
    /// As above, for the store <paramref name="store"/>. A PostgreSQL store must have been migrated first
    /// (<c>lvault migrate</c>): only the embedded default creates its own schema.
    /// </summary>
    public static async Task<InitResult> InitializeAsync(string dataDirectory, string? masterKeyFile, StoreLocation store, TimeProvider time, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentException.ThrowIfNullOrWhiteSpace(dataDirectory);
        ArgumentNullException.ThrowIfNull(time);

        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(dataDirectory);
        }
        else
        {
            // The folder holds the master key file: keep other users out of it from the start.
            Directory.CreateDirectory(dataDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        var created = !File.Exists(DataFile(dataDirectory));
        if (!store.IsPostgres)
        {
            CheckComplete(dataDirectory, allowEmpty: true);
        }

        var keyPath = MasterKeyPath(dataDirectory, masterKeyFile);
        var fromEnvironment = !string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable(MasterKey.EnvironmentVariable));
        var newKey = !fromEnvironment && !File.Exists(keyPath);
        var masterKey = newKey ? CreateMasterKey(dataDirectory, keyPath, store) : LoadMasterKey(keyPath);

        IStorageBackend backend;
        try
        {
            backend = OpenBackend(dataDirectory, masterKey, store, time);
        }
        catch (AdministrationException) when (newKey && store.IsPostgres)
        {
            // A key made a moment ago cannot be the one an existing key store was sealed with: take it back.
            File.Delete(keyPath);
            throw;
        }

        await using (backend)
        {
            var tenants = await backend.Clients.ListTenantsAsync(ct);
            if (store.IsPostgres)
            {
                created = tenants.Count == 0;
            }

            var tenantId = tenants.Count > 0 ? tenants[0].Id : Guid.NewGuid();
            await backend.Clients.EnsureTenantAsync(tenantId, DefaultTenantName, ct);
            backend.Keys.EnsureTenant(tenantId);
            return new InitResult(created, tenantId, dataDirectory, fromEnvironment ? null : keyPath, store);
        }
    }

    /// <summary>Opens an initialised data folder with its master key (from <c>LV_MASTER_KEY</c> or the key file).</summary>
    /// <exception cref="AdministrationException">The folder is not initialised, is incomplete, or the master key is missing or unusable.</exception>
    public static IStorageBackend Open(string dataDirectory, string? masterKeyFile, TimeProvider time) =>
        Open(dataDirectory, masterKeyFile, StoreLocation.Sqlite, time);

    /// <summary>Opens the store <paramref name="store"/> with the master key of the data folder (or <c>LV_MASTER_KEY</c>).</summary>
    /// <exception cref="AdministrationException">The store is not initialised or migrated, cannot be reached, or the master
    /// key is missing or not the key store's.</exception>
    public static IStorageBackend Open(string dataDirectory, string? masterKeyFile, StoreLocation store, TimeProvider time)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(dataDirectory);
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(time);

        if (store.IsPostgres)
        {
            return OpenBackend(dataDirectory, LoadMasterKey(MasterKeyPath(dataDirectory, masterKeyFile)), store, time);
        }

        if (!Directory.Exists(dataDirectory) || (!File.Exists(DataFile(dataDirectory)) && !File.Exists(KeyStoreFile(dataDirectory))))
        {
            throw new AdministrationException($"the data folder '{dataDirectory}' is not initialised: run 'lvault init --data {dataDirectory}'");
        }

        CheckComplete(dataDirectory, allowEmpty: false);
        return OpenBackend(dataDirectory, LoadMasterKey(MasterKeyPath(dataDirectory, masterKeyFile)), store, time);
    }

    /// <summary>The default tenant of an initialised folder: the first one created.</summary>
    public static async Task<Guid> DefaultTenantAsync(IStorageBackend backend, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(backend);
        var tenants = await backend.Clients.ListTenantsAsync(ct);
        return tenants.Count > 0
            ? tenants[0].Id
            : throw new AdministrationException($"the store ({backend.Description}) has no tenant: run 'lvault init' on it");
    }

    private static string DataFile(string dataDirectory) => Path.Combine(dataDirectory, SqliteBackend.DataFileName);

    private static string KeyStoreFile(string dataDirectory) => Path.Combine(dataDirectory, SqliteBackend.KeyStoreFileName);

    // Opening would silently create whichever file is missing: a fresh key store beside old data makes that data
    // unreadable for good, so a half-restored folder is refused instead.
    private static void CheckComplete(string dataDirectory, bool allowEmpty)
    {
        var hasData = File.Exists(DataFile(dataDirectory));
        var hasKeys = File.Exists(KeyStoreFile(dataDirectory));
        if (hasData && !hasKeys)
        {
            throw new AdministrationException(
                $"'{dataDirectory}' has {SqliteBackend.DataFileName} but no {SqliteBackend.KeyStoreFileName}: restore the key store from its backup");
        }

        if (hasKeys && !hasData)
        {
            throw new AdministrationException(
                $"'{dataDirectory}' has {SqliteBackend.KeyStoreFileName} but no {SqliteBackend.DataFileName}: restore the data file from its backup");
        }

        if (!allowEmpty && !hasData)
        {
            throw new AdministrationException($"the data folder '{dataDirectory}' is not initialised: run 'lvault init --data {dataDirectory}'");
        }
    }

    private static MasterKey CreateMasterKey(string dataDirectory, string keyPath, StoreLocation store)
    {
        if (!store.IsPostgres && File.Exists(KeyStoreFile(dataDirectory)))
        {
            throw new AdministrationException(
                $"'{dataDirectory}' has a key store but no master key: set {MasterKey.EnvironmentVariable} or restore the master key file '{keyPath}'");
        }

        try
        {
            return MasterKey.CreateFile(keyPath);
        }
        catch (IOException) when (File.Exists(keyPath))
        {
            // Another process created it first: use theirs.
            return LoadMasterKey(keyPath);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new AdministrationException($"cannot create the master key file '{keyPath}': {ex.Message}", ex);
        }
    }

    private static MasterKey LoadMasterKey(string keyPath)
    {
        try
        {
            return MasterKey.Load(keyPath);
        }
        catch (FileNotFoundException ex)
        {
            throw new AdministrationException(
                $"no master key: set {MasterKey.EnvironmentVariable} or restore the master key file '{keyPath}'", ex);
        }
        catch (CryptographicException ex)
        {
            throw new AdministrationException(ex.Message, ex);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new AdministrationException($"cannot read the master key file '{keyPath}': {ex.Message}", ex);
        }
    }

    private static IStorageBackend OpenBackend(string dataDirectory, MasterKey masterKey, StoreLocation store, TimeProvider time)
    {
        if (store.IsPostgres)
        {
            try
            {
                return PostgresBackend.Open(store.ToPostgresOptions(), masterKey, time);
            }
            catch (StoreNotMigratedException ex)
            {
                throw new AdministrationException(ex.Message, ex);
            }
            catch (CryptographicException ex)
            {
                throw new AdministrationException(
                    $"the PostgreSQL key store ({store}) cannot be opened with this master key: set {MasterKey.EnvironmentVariable} or restore the master key file of this installation", ex);
            }
            catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException or ArgumentException or TimeoutException)
            {
                throw new AdministrationException($"cannot open the PostgreSQL store ({store}): {ex.Message}", ex);
            }
        }

        try
        {
            return SqliteBackend.Open(dataDirectory, masterKey, time);
        }
        catch (CryptographicException ex)
        {
            throw new AdministrationException(
                $"the key store in '{dataDirectory}' cannot be opened with this master key (wrong key, or a damaged key store)", ex);
        }
    }

    /// <summary>
    /// Creates or upgrades the store's schemas. PostgreSQL: both schemas (data, keys), under an advisory lock, so that
    /// two nodes migrating at once cannot interleave. The embedded default migrates itself whenever it opens; this
    /// opens it (creating the folder's files if needed is left to <c>init</c>) and reports its state.
    /// </summary>
    /// <returns>What was applied, as "schema/NNNN_name" (empty when the store was current).</returns>
    public static async Task<IReadOnlyList<string>> MigrateAsync(string dataDirectory, string? masterKeyFile, StoreLocation store, TimeProvider time, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(store);
        if (store.IsPostgres)
        {
            try
            {
                return await PostgresBackend.MigrateAsync(store.ToPostgresOptions(), time, ct);
            }
            catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException or TimeoutException)
            {
                throw new AdministrationException($"cannot migrate the PostgreSQL store ({store}): {ex.Message}", ex);
            }
        }

        await using var backend = Open(dataDirectory, masterKeyFile, store, time);
        return [];
    }
}
