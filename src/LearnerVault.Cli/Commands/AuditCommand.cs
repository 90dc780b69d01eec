using System.CommandLine;
using System.Globalization;
using LearnerVault.Privacy.Audit;
using LearnerVault.Server.Administration;
using LearnerVault.Server.Audit;

namespace LearnerVault.Cli.Commands;

/// <summary><c>lvault audit</c>: the tamper-evident access log.</summary>
internal static class AuditCommand
{
    public static Command Create(CliSettings settings) =>
        new("audit", "The access log: every access to personal data, hash-chained, with signed checkpoints.")
        {
            CreateVerify(settings),
        };

    /// <summary>
    /// <c>lvault audit verify</c>: checks every tenant's chain and checkpoints. Exit 0 when all are clean; exit 1 naming
    /// the first bad entry (its position and what is wrong) of each broken one, with one <c>error:</c> line on stderr.
    /// </summary>
    private static Command CreateVerify(CliSettings settings)
    {
        var installation = new InstallationOptions(settings);
        var json = CommonOptions.Json();
        var command = new Command("verify", "Check the access log of every tenant: the hash chain from its first entry and every signed checkpoint. Exits 0 when clean, 1 naming the first bad entry.")
        {
            json,
        };
        installation.AddTo(command);

        CommandRunner.SetAction(command, settings, async (context, ct) =>
        {
            await using var backend = installation.Open(context);
            var tenants = await backend.Clients.ListTenantsAsync(ct);
            if (tenants.Count == 0)
            {
                throw new AdministrationException($"the store ({backend.Description}) has no tenant: run 'lvault init' on it");
            }

            var results = new List<(Guid Tenant, string Name, AccessLogVerification Result)>();
            foreach (var tenant in tenants)
            {
                results.Add((tenant.Id, tenant.Name, await AccessLog.VerifyAsync(backend.AccessLog, backend.Keys, tenant.Id, ct)));
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
