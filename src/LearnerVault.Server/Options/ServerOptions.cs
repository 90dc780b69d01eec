using LearnerVault.Xapi;

namespace LearnerVault.Server.Options;

/// <summary>How the server is started: where its data is and where it listens.</summary>
public sealed class ServerOptions
{
    public const string SectionName = "LearnerVault";

    /// <summary>The data folder (SQLite data file, key store, master key file). Env: LV_DATA.</summary>
    public string DataDirectory { get; set; } = "./data";

    /// <summary>Where the data lives: the SQLite files of the data folder (default) or PostgreSQL. Env: LV_STORE.</summary>
    public StoreLocation Store { get; set; } = StoreLocation.Sqlite;

    /// <summary>Listen addresses. Env: LV_URLS.</summary>
    public string Urls { get; set; } = "http://127.0.0.1:8080";

    /// <summary>Path of the master key file; defaults to master.key in the data folder. LV_MASTER_KEY (base64) overrides the file.</summary>
    public string? MasterKeyFile { get; set; }

    /// <summary>Largest accepted request body, in bytes. Env: LV_MAX_BODY_BYTES.</summary>
    public long MaxRequestBodyBytes { get; set; } = 20 * 1024 * 1024;

    /// <summary>Largest number of statements in one POST batch. Env: LV_MAX_BATCH.</summary>
    public int MaxBatchSize { get; set; } = 1000;

    /// <summary>Default and largest page size of a statement query. Env: LV_MAX_PAGE.</summary>
    public int MaxPageSize { get; set; } = 500;

    /// <summary>
    /// The xAPI versions served, newest first (env LV_XAPI_VERSIONS, e.g. "2.0.0,1.0.3" or "1.0.3"). The newest is
    /// the one a response names when the request named none; About lists exactly these.
    /// </summary>
    public IReadOnlyList<XapiVersion> XapiVersions { get; set; } = [XapiVersion.V2_0_0, XapiVersion.V1_0_3];

    /// <summary>A signed checkpoint of a tenant's access log every this many entries. Env: LV_AUDIT_CHECKPOINT_ENTRIES.</summary>
    public int AuditCheckpointEntries { get; set; } = 1000;

    /// <summary>A signed checkpoint of a tenant's access log when this long has passed since its last one (checked when
    /// an entry is appended). Env: LV_AUDIT_CHECKPOINT_MINUTES.</summary>
    public TimeSpan AuditCheckpointInterval { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>PBKDF2-HMAC-SHA256 iterations for new password hashes (older hashes are upgraded at login). Env:
    /// LV_PASSWORD_ITERATIONS, at least <see cref="MinimumPasswordIterations"/>; only code (tests) may go lower.</summary>
    public int PasswordIterations { get; set; } = Accounts.PasswordHasher.DefaultIterations;

    /// <summary>Failed logins in a row that lock an account. Env: LV_LOGIN_MAX_ATTEMPTS.</summary>
    public int LoginMaxAttempts { get; set; } = 5;

    /// <summary>How long a locked account stays locked. Env: LV_LOGIN_LOCKOUT_MINUTES.</summary>
    public TimeSpan LoginLockout { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>A browser session ends after this long without a request. Env: LV_SESSION_IDLE_MINUTES.</summary>
    public TimeSpan SessionIdleTimeout { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>A browser session ends this long after login, however active. Env: LV_SESSION_HOURS.</summary>
    public TimeSpan SessionLifetime { get; set; } = TimeSpan.FromHours(12);

    /// <summary>
    /// The reverse proxies (addresses, or networks as CIDR) whose <c>X-Forwarded-Proto</c> is believed, so that behind a
    /// TLS-terminating proxy the server knows the request came over HTTPS (session cookies then are <c>Secure</c> and
    /// <c>__Host-</c>). Env: LV_TRUSTED_PROXIES, comma-separated, or <c>none</c>. Default: this machine (loopback) only.
    /// </summary>
    public IReadOnlyList<string> TrustedProxies { get; set; } = ["127.0.0.0/8", "::1/128"];

    /// <summary>The fewest PBKDF2 iterations the environment may configure.</summary>
    public const int MinimumPasswordIterations = 100_000;

    /// <summary>The time provider; tests inject a fake one.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    public string MasterKeyPath => MasterKeyFile ?? Path.Combine(DataDirectory, "master.key");

    /// <summary>Applies the LV_* environment variables over the defaults (explicit command-line values win later).</summary>
    public ServerOptions ApplyEnvironment(Func<string, string?>? getEnvironment = null)
    {
        var env = getEnvironment ?? Environment.GetEnvironmentVariable;
        DataDirectory = env("LV_DATA") is { Length: > 0 } data ? data : DataDirectory;
        Urls = env("LV_URLS") is { Length: > 0 } urls ? urls : Urls;
        if (env(StoreLocation.EnvironmentVariable) is { Length: > 0 } store)
        {
            try
            {
                Store = StoreLocation.Parse(store, env(StoreLocation.KeyStoreEnvironmentVariable));
            }
            catch (FormatException ex)
            {
                throw new Microsoft.Extensions.Options.OptionsValidationException(SectionName, typeof(ServerOptions), [$"{StoreLocation.EnvironmentVariable}: {ex.Message}"]);
            }
        }

        MasterKeyFile = env("LV_MASTER_KEY_FILE") is { Length: > 0 } keyFile ? keyFile : MasterKeyFile;
        MaxRequestBodyBytes = Number(env, "LV_MAX_BODY_BYTES", MaxRequestBodyBytes);
        MaxBatchSize = (int)Number(env, "LV_MAX_BATCH", MaxBatchSize);
        MaxPageSize = (int)Number(env, "LV_MAX_PAGE", MaxPageSize);
        AuditCheckpointEntries = (int)Math.Min(Number(env, "LV_AUDIT_CHECKPOINT_ENTRIES", AuditCheckpointEntries), int.MaxValue);
        AuditCheckpointInterval = TimeSpan.FromMinutes(Math.Min(Number(env, "LV_AUDIT_CHECKPOINT_MINUTES", (long)AuditCheckpointInterval.TotalMinutes), 1_000_000));
        PasswordIterations = (int)Math.Min(Number(env, "LV_PASSWORD_ITERATIONS", PasswordIterations), int.MaxValue);
        if (PasswordIterations < MinimumPasswordIterations)
        {
            throw new Microsoft.Extensions.Options.OptionsValidationException(
                SectionName, typeof(ServerOptions), [$"LV_PASSWORD_ITERATIONS must be at least {MinimumPasswordIterations}."]);
        }

        LoginMaxAttempts = (int)Math.Min(Number(env, "LV_LOGIN_MAX_ATTEMPTS", LoginMaxAttempts), int.MaxValue);
        LoginLockout = TimeSpan.FromMinutes(Math.Min(Number(env, "LV_LOGIN_LOCKOUT_MINUTES", (long)LoginLockout.TotalMinutes), 1_000_000));
        SessionIdleTimeout = TimeSpan.FromMinutes(Math.Min(Number(env, "LV_SESSION_IDLE_MINUTES", (long)SessionIdleTimeout.TotalMinutes), 1_000_000));
        SessionLifetime = TimeSpan.FromHours(Math.Min(Number(env, "LV_SESSION_HOURS", (long)SessionLifetime.TotalHours), 1_000_000));
        if (env("LV_TRUSTED_PROXIES") is { Length: > 0 } proxies)
        {
            TrustedProxies = proxies.Trim().Equals("none", StringComparison.OrdinalIgnoreCase)
                ? []
                : proxies.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        }

        if (env("LV_XAPI_VERSIONS") is { Length: > 0 } versions)
        {
            XapiVersions = ParseVersions(versions);
        }
        return this;
    }

    /// <summary>Refuses a configuration that cannot work, at start rather than on the first request.</summary>
    public void Validate()
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(DataDirectory))
        {
            errors.Add("DataDirectory (LV_DATA) must be set.");
        }

        if (MaxRequestBodyBytes is < 64 * 1024 or > 1L << 31)
        {
            errors.Add("MaxRequestBodyBytes (LV_MAX_BODY_BYTES) must be between 64 KiB and 2 GiB.");
        }

        if (MaxBatchSize is < 1 or > 100_000)
        {
            errors.Add("MaxBatchSize (LV_MAX_BATCH) must be between 1 and 100000.");
        }

        if (MaxPageSize is < 1 or > 10_000)
        {
            errors.Add("MaxPageSize (LV_MAX_PAGE) must be between 1 and 10000.");
        }

        if (AuditCheckpointEntries is < 1 or > 1_000_000)
        {
            errors.Add("AuditCheckpointEntries (LV_AUDIT_CHECKPOINT_ENTRIES) must be between 1 and 1000000.");
        }

        if (AuditCheckpointInterval < TimeSpan.FromMinutes(1) || AuditCheckpointInterval > TimeSpan.FromDays(1))
        {
            errors.Add("AuditCheckpointInterval (LV_AUDIT_CHECKPOINT_MINUTES) must be between 1 minute and 1440 minutes.");
        }

        // Code may go below MinimumPasswordIterations (tests hash many passwords); the environment may not.
        if (PasswordIterations is < 1_000 or > 10_000_000)
        {
            errors.Add("PasswordIterations (LV_PASSWORD_ITERATIONS) must be between 100000 and 10000000.");
        }

        if (LoginMaxAttempts is < 1 or > 100)
        {
            errors.Add("LoginMaxAttempts (LV_LOGIN_MAX_ATTEMPTS) must be between 1 and 100.");
        }

        if (LoginLockout < TimeSpan.FromMinutes(1) || LoginLockout > TimeSpan.FromDays(1))
        {
            errors.Add("LoginLockout (LV_LOGIN_LOCKOUT_MINUTES) must be between 1 and 1440 minutes.");
        }

        if (SessionIdleTimeout < TimeSpan.FromMinutes(1) || SessionIdleTimeout > SessionLifetime)
        {
            errors.Add("SessionIdleTimeout (LV_SESSION_IDLE_MINUTES) must be at least 1 minute and at most the session lifetime.");
        }

        if (SessionLifetime < TimeSpan.FromHours(1) || SessionLifetime > TimeSpan.FromDays(7))
        {
            errors.Add("SessionLifetime (LV_SESSION_HOURS) must be between 1 and 168 hours.");
        }

        foreach (var proxy in TrustedProxies)
        {
            if (!TryParseNetwork(proxy, out _))
            {
                errors.Add($"TrustedProxies (LV_TRUSTED_PROXIES): '{proxy}' is not an IP address or a CIDR network (e.g. 10.0.0.0/8).");
            }
        }

        if (XapiVersions.Count == 0)
        {
            errors.Add("XapiVersions (LV_XAPI_VERSIONS) must name at least one of 2.0.0 and 1.0.3.");
        }

        if (errors.Count > 0)
        {
            throw new Microsoft.Extensions.Options.OptionsValidationException(SectionName, typeof(ServerOptions), errors);
        }
    }

    /// <summary>An address (as a one-address network) or a CIDR network.</summary>
    public static bool TryParseNetwork(string text, out System.Net.IPNetwork network)
    {
        if (System.Net.IPNetwork.TryParse(text, out network))
        {
            return true;
        }

        if (System.Net.IPAddress.TryParse(text, out var address))
        {
            network = new System.Net.IPNetwork(address, address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128);
            return true;
        }

        return false;
    }

    /// <summary>Parses "2.0.0,1.0.3" into versions, newest first.</summary>
    public static IReadOnlyList<XapiVersion> ParseVersions(string text)
    {
        var versions = new List<XapiVersion>();
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            versions.Add(part switch
            {
                "2.0.0" => XapiVersion.V2_0_0,
                "1.0.3" => XapiVersion.V1_0_3,
                _ => throw new Microsoft.Extensions.Options.OptionsValidationException(SectionName, typeof(ServerOptions), ["LV_XAPI_VERSIONS may list only 2.0.0 and 1.0.3."]),
            });
        }

        return [.. versions.Distinct().OrderByDescending(v => v)];
    }

    private static long Number(Func<string, string?> env, string name, long fallback)
    {
        var text = env(name);
        if (string.IsNullOrEmpty(text))
        {
            return fallback;
        }

        return long.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new Microsoft.Extensions.Options.OptionsValidationException(SectionName, typeof(ServerOptions), [$"{name} must be a whole number."]);
    }
}
