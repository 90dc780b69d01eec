using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using LearnerVault.Privacy.Audit;
using LearnerVault.Server.Administration;

namespace LearnerVault.Cli.Commands;

/// <summary>A tenant's latest checkpoint with the public key that checks it, as <c>lvault audit checkpoint</c> publishes it.</summary>
internal sealed record PublishedCheckpoint(Guid Tenant, string Name, AccessLogCheckpoint Checkpoint, byte[] PublicKey);

/// <summary>
/// The publication format of checkpoints: <c>{"checkpoints":[{"tenant","name","position","headHash","time","signature",
/// "publicKey"}]}</c> with hex head hash, base64 IEEE P1363 signature and base64 SubjectPublicKeyInfo, so that anyone can
/// check a signature with standard tools and an auditor can later check the log against it.
/// </summary>
internal static class PublishedCheckpoints
{
    /// <summary>A published file is a few hundred bytes per tenant; anything far larger is not one.</summary>
    private const long MaxFileBytes = 64L * 1024 * 1024;

    public static void Write(Utf8JsonWriter w, IEnumerable<PublishedCheckpoint> rows)
    {
        w.WriteStartObject();
        w.WriteStartArray("checkpoints");
        foreach (var row in rows)
        {
            w.WriteStartObject();
            w.WriteString("tenant", row.Tenant.ToString("D"));
            w.WriteString("name", row.Name);
            w.WriteNumber("position", row.Checkpoint.Position);
            w.WriteString("headHash", Convert.ToHexStringLower(row.Checkpoint.HeadHash));
            w.WriteString("time", row.Checkpoint.Time.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.ffffffZ", CultureInfo.InvariantCulture));
            w.WriteString("signature", Convert.ToBase64String(row.Checkpoint.Signature));
            w.WriteString("publicKey", Convert.ToBase64String(row.PublicKey));
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteEndObject();
    }

    /// <summary>
    /// Reads a published file, checking each checkpoint's signature against the public key published with it (a file
    /// edited after publishing is refused here rather than blamed on the store). Checkpoints by tenant.
    /// </summary>
    /// <exception cref="AdministrationException">The file is missing, not a published-checkpoint file, or a signature in it
    /// does not verify.</exception>
    public static async Task<Dictionary<Guid, List<AccessLogCheckpoint>>> ReadAsync(FileInfo file, CancellationToken ct)
    {
        if (!file.Exists)
        {
            throw new AdministrationException($"published checkpoint file '{file.FullName}' does not exist");
        }

        if (file.Length > MaxFileBytes)
        {
            throw new AdministrationException($"'{file.FullName}' is too large to be a published checkpoint file");
        }

        var result = new Dictionary<Guid, List<AccessLogCheckpoint>>();
        try
        {
            await using var stream = file.OpenRead();
            using var document = await JsonDocument.ParseAsync(stream, default, ct);
            foreach (var item in document.RootElement.GetProperty("checkpoints").EnumerateArray())
            {
                var tenant = Guid.ParseExact(item.GetProperty("tenant").GetString()!, "D");
                var checkpoint = new AccessLogCheckpoint(
                    item.GetProperty("position").GetInt64(),
                    Convert.FromHexString(item.GetProperty("headHash").GetString()!),
                    DateTimeOffset.Parse(item.GetProperty("time").GetString()!, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal),
                    Convert.FromBase64String(item.GetProperty("signature").GetString()!));
                using var key = ECDsa.Create();
                key.ImportSubjectPublicKeyInfo(Convert.FromBase64String(item.GetProperty("publicKey").GetString()!), out _);
                if (!AccessLogSigning.Verify(key, tenant, checkpoint))
                {
                    throw new AdministrationException(string.Create(CultureInfo.InvariantCulture,
                        $"the published checkpoint of tenant {tenant:D} at entry {checkpoint.Position} does not verify against the public key published with it: the file was changed after publishing"));
                }

                if (!result.TryGetValue(tenant, out var list))
                {
                    result[tenant] = list = [];
                }

                list.Add(checkpoint);
            }
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException or FormatException
            or CryptographicException or ArgumentException)
        {
            throw new AdministrationException($"'{file.FullName}' is not a file written by 'lvault audit checkpoint --json'");
        }

        return result;
    }
}
