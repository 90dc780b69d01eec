using System.CommandLine;
using System.Globalization;
using LearnerVault.Privacy.Audit;
using LearnerVault.Server.Administration;
using LearnerVault.Server.Audit;
using LearnerVault.Server.Options;
using LearnerVault.Storage;
using Microsoft.Extensions.Logging.Abstractions;

namespace LearnerVault.Cli.Commands;

/// <summary><c>lvault audit</c>: the tamper-evident access log.</summary>
internal static class AuditCommand
{
    public static Command Create(CliSettings settings) =>
        new("audit", "The access log: every access to personal data, hash-chained, with signed checkpoints.")
        {
            CreateVerify(settings),
            CreateCheckpoint(settings),
        };

    /// <summary>
    /// <c>lvault audit verify</c>: checks every tenant's chain and checkpoints. Exit 0 when all are clean; exit 1 naming
    /// the first bad entry (its position and what is wrong) of each broken one, with one <c>error:</c> line on stderr.
    /// </summary>
    private static Command CreateVerify(CliSettings settings)
    {
        var installation = new InstallationOptions(settings);
        var json = CommonOptions.Json();
        var published = new Option<FileInfo?>("--published")
        {
            Description = "A file written by 'lvault audit checkpoint --json' and kept outside the store: its checkpoints are checked too, so a log rewritten by someone holding the signing key is caught.",
        };
        var command = new Command("verify", "Check the access log of every tenant: the hash chain from its first entry and every signed checkpoint. Exits 0 when clean, 1 naming the first bad entry.")
        {
            json,
            published,
        };
        installation.AddTo(command);

        CommandRunner.SetAction(command, settings, async (context, ct) =>
        {
            await using var backend = installation.Open(context);
            var tenants = await TenantsAsync(backend, ct);

            var publishedCheckpoints = context.GetValue(published) is { } file
                ? await PublishedCheckpoints.ReadAsync(file, ct)
                : new Dictionary<Guid, List<AccessLogCheckpoint>>();
            var unknown = publishedCheckpoints.Keys.FirstOrDefault(id => tenants.All(t => t.Id != id));
            if (unknown != Guid.Empty)
            {
                throw new AdministrationException($"the published checkpoints name tenant {unknown:D}, which this store does not have (a tenant removed, or another installation's file)");
            }

            var results = new List<(Guid Tenant, string Name, AccessLogVerification Result)>();
            foreach (var tenant in tenants)
            {
                var fromFile = publishedCheckpoints.GetValueOrDefault(tenant.Id);
                results.Add((tenant.Id, tenant.Name, await AccessLog.VerifyAsync(backend.AccessLog, backend.Keys, tenant.Id, ct, fromFile)));
            }

            if (context.GetValue(json))
            {
                await JsonOutput.WriteAsync(context.Output, w =>
                {
                    w.WriteStartObject();
                    w.WriteBoolean("clean", results.TrueForAll(r => r.Result.IsClean));
                    w.WriteStartArray("tenants");
                    foreach (var (tenant, name, result) in results)
                    {
                        w.WriteStartObject();
                        w.WriteString("tenant", tenant.ToString("D"));
                        w.WriteString("name", name);
                        w.WriteNumber("entries", result.Entries);
                        w.WriteNumber("checkpoints", result.Checkpoints);
                        w.WriteBoolean("clean", result.IsClean);
                        if (result.Fault is { } fault)
                        {
                            w.WriteStartObject("firstBadEntry");
                            w.WriteNumber("position", fault.Position);
                            w.WriteString("damage", DamageName(fault.Damage));
                            w.WriteString("description", fault.Description);
                            w.WriteEndObject();
                        }
                        else
                        {
                            w.WriteNull("firstBadEntry");
                        }

                        w.WriteEndObject();
                    }

                    w.WriteEndArray();
                    w.WriteEndObject();
                });
            }
            else
            {
                foreach (var (tenant, _, result) in results)
                {
                    await context.Output.WriteLineAsync(Line(tenant, result));
                }
            }

            var broken = results.FindAll(r => !r.Result.IsClean);
            if (broken.Count == 0)
            {
                return 0;
            }

            var (firstTenant, _, first) = broken[0];
            var more = broken.Count > 1 ? $" (and {broken.Count - 1} more broken tenant log(s))" : "";
            await context.Error.WriteLineAsync(CommandRunner.ErrorLine(
                $"audit log of tenant {firstTenant:D} is broken at entry {first.Fault!.Position} ({DamageName(first.Fault.Damage)}): {first.Fault.Description}{more}"));
            return CommandRunner.Failure;
        });
        return command;
    }

    /// <summary>
    /// <c>lvault audit checkpoint</c>: signs a checkpoint of every tenant's chain head now (the server does so every N
    /// entries or M minutes; this covers an idle tail, e.g. from cron) and prints the latest checkpoint of each tenant
    /// with the public key, for publishing outside the store (a notice board, a transparency log, the school's website).
    /// </summary>
    private static Command CreateCheckpoint(CliSettings settings)
    {
        var installation = new InstallationOptions(settings);
        var json = CommonOptions.Json();
        var command = new Command("checkpoint", "Sign a checkpoint of every tenant's access-log head now and print it for publishing (with --json, the file 'lvault audit verify --published' reads).")
        {
            json,
        };
        installation.AddTo(command);

        CommandRunner.SetAction(command, settings, async (context, ct) =>
        {
            await using var backend = installation.Open(context);
            var tenants = await TenantsAsync(backend, ct);

            var log = new AccessLog(backend.AccessLog, backend.Keys, new ServerOptions { TimeProvider = context.Time }, NullLogger<AccessLog>.Instance);
            var rows = new List<PublishedCheckpoint>();
            foreach (var tenant in tenants)
            {
                await log.CheckpointAsync(tenant.Id, ct);
                var checkpoints = await backend.AccessLog.ReadCheckpointsAsync(tenant.Id, ct);
                if (checkpoints.Count > 0)
                {
                    rows.Add(new PublishedCheckpoint(tenant.Id, tenant.Name, checkpoints[^1], AccessLog.PublicKey(backend.Keys, tenant.Id)));
                }
                else if (!context.GetValue(json))
                {
                    await context.Output.WriteLineAsync($"access log of tenant {tenant.Id:D}: empty, nothing to checkpoint");
                }
            }

            if (context.GetValue(json))
            {
                await JsonOutput.WriteAsync(context.Output, w => PublishedCheckpoints.Write(w, rows));
                return 0;
            }

            foreach (var row in rows)
            {
                await context.Output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"access log of tenant {row.Tenant:D}: checkpoint at entry {row.Checkpoint.Position}, {row.Checkpoint.Time:yyyy-MM-ddTHH:mm:ss.ffffffZ}, head {Convert.ToHexStringLower(row.Checkpoint.HeadHash)}"));
            }

            await context.Output.WriteLineAsync("publish the output of 'lvault audit checkpoint --json' outside this installation; 'lvault audit verify --published FILE' checks the log against it");
            return 0;
        });
        return command;
    }

    /// <summary>Every tenant of the store; an uninitialised store is an error (there is no log to speak of).</summary>
    private static async Task<IReadOnlyList<TenantRecord>> TenantsAsync(IStorageBackend backend, CancellationToken ct)
    {
        var tenants = await backend.Clients.ListTenantsAsync(ct);
        return tenants.Count > 0
            ? tenants
            : throw new AdministrationException($"the store ({backend.Description}) has no tenant: run 'lvault init' on it");
    }

    private static string Line(Guid tenant, AccessLogVerification result)
    {
        var head = string.Create(CultureInfo.InvariantCulture,
            $"audit log of tenant {tenant:D}: {result.Entries} entries, {result.Checkpoints} checkpoints: ");
        return result.Fault is { } fault
            ? string.Create(CultureInfo.InvariantCulture, $"{head}BROKEN at entry {fault.Position} ({DamageName(fault.Damage)}): {fault.Description}")
            : head + "clean";
    }

    /// <summary>The damage as scripts see it (stable names).</summary>
    public static string DamageName(AccessLogDamage damage) => damage switch
    {
        AccessLogDamage.Altered => "altered",
        AccessLogDamage.Deleted => "deleted",
        AccessLogDamage.Inserted => "inserted",
        AccessLogDamage.Swapped => "swapped",
        AccessLogDamage.CheckpointSignatureInvalid => "checkpoint-signature-invalid",
        AccessLogDamage.Truncated => "truncated",
        AccessLogDamage.Rewritten => "rewritten",
        _ => throw new ArgumentOutOfRangeException(nameof(damage)),
    };
}
