using System.Security.Cryptography;

namespace LearnerVault.Privacy;

/// <summary>
/// The root of the key hierarchy. Read from a file with 0600 permissions, or from the environment (base64).
/// It wraps each tenant's key-encryption key and is never written anywhere else.
/// </summary>
public sealed class MasterKey
{
    public const string EnvironmentVariable = "LV_MASTER_KEY";
    public const int Size = 32;

    private readonly byte[] key;

    private MasterKey(byte[] key) => this.key = key;

    public ReadOnlySpan<byte> Bytes => key;

    public static MasterKey FromBytes(byte[] key)
    {
        if (key.Length != Size)
        {
            throw new CryptographicException($"The master key must be {Size} bytes.");
        }

        return new MasterKey(key.ToArray());
    }

    public static MasterKey FromBase64(string value)
    {
        byte[] bytes;
        try
        {
            bytes = Convert.FromBase64String(value.Trim());
        }
        catch (FormatException)
        {
            throw new CryptographicException("The master key is not valid base64.");
        }

        return FromBytes(bytes);
    }

    /// <summary>Creates a new random master key file, readable and writable by its owner only.</summary>
    public static MasterKey CreateFile(string path)
    {
        var bytes = RandomNumberGenerator.GetBytes(Size);
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using (var stream = new FileStream(path, options))
        using (var writer = new StreamWriter(stream))
        {
            writer.Write(Convert.ToBase64String(bytes));
        }

        return new MasterKey(bytes);
    }

    /// <summary>Loads the master key from the environment variable if set, otherwise from the file.</summary>
    public static MasterKey Load(string path, Func<string, string?>? getEnvironment = null)
    {
        var fromEnvironment = (getEnvironment ?? Environment.GetEnvironmentVariable)(EnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(fromEnvironment))
        {
            return FromBase64(fromEnvironment);
        }

        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"No master key: set {EnvironmentVariable} or create the key file (lvault init).", path);
        }

        if (!OperatingSystem.IsWindows())
        {
            var mode = File.GetUnixFileMode(path);
            if ((mode & (UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.OtherRead | UnixFileMode.OtherWrite)) != 0)
            {
                throw new CryptographicException($"The master key file {path} is readable by others; set its permissions to 0600.");
            }
        }

        return FromBase64(File.ReadAllText(path));
    }
}
