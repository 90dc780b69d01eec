using System.CommandLine;
using LearnerVault.Server.Administration;
using LearnerVault.Server.Options;
using LearnerVault.Storage.Postgres;
using LearnerVault.Storage.Sqlite;
using LearnerVault.Storage.Transfer;
using Npgsql;
using Spectre.Console;

namespace LearnerVault.Cli.Commands;

/// <summary><c>lvault store</c>: moving an installation between stores.</summary>
internal static class StoreCommand
{
    public static Command Create(CliSettings settings) =>
        new("store", "Move an installation between stores.")
        {
            CreateCopy(settings),
        };

    /// <summary>
    /// <c>lvault store copy --from &lt;sqlite file&gt; --to &lt;postgres connection string&gt;</c>: copies every table of an
    /// embedded installation (its data file and the key store beside it) into a freshly migrated, empty PostgreSQL
    /// database, then reads the target back and compares row counts and a content digest with the source. Ciphertext
    /// and wrapped keys are copied byte for byte: nothing is decrypted, and the PostgreSQL nodes need the same master key.
    /// </summary>
    private static Command CreateCopy(CliSettings settings)
    {
        var from = new Option<string>("--from")
        {
            Description = $"The embedded installation: its data file ({SqliteBackend.DataFileName}) or the data folder holding it; {SqliteBackend.KeyStoreFileName} must be beside it. Stop the server first.",
            HelpName = "SQLITE FILE",
            Required = true,
        };
        var to = new Option<string>("--to")
        {
            Description = "The target: an Npgsql connection string (with or without a 'postgres:' prefix) of a database migrated with 'lvault migrate' and still empty.",
            HelpName = "CONNECTION STRING",
            Required = true,
        };
        var keyStore = CommonOptions.KeyStore(settings);
        var json = CommonOptions.Json();
        var command = new Command("copy", "Copy an embedded (SQLite) installation into an empty, migrated PostgreSQL database, then verify row counts and a content digest.")
        {
            from,
            to,
            keyStore,
            json,
        };

        CommandRunner.SetAction(command, settings, async (context, ct) =>
        {
            var target = ParseTarget(context.GetValue(to)!, context.GetValue(keyStore));
            var options = target.ToPostgresOptions();

            await using var source = OpenSource(context.GetValue(from)!);
            StoreSummary copied;
            await using (var import = await OpenTargetAsync(options, ct))
            {
                copied = await CopyWithProgressAsync(context, source, import, context.GetValue(json), ct);
            }

            StoreSummary readBack;
            await using (var verify = await OpenTargetAsync(options, ct))
            {
                readBack = await StoreCopier.SummarizeAsync(verify, ct);
            }

            var verified = copied.Digest == readBack.Digest && copied.Counts.All(c => readBack.Counts[c.Key] == c.Value);
            if (context.GetValue(json))
            {
                await JsonOutput.WriteAsync(context.Output, w =>
                {
                    w.WriteStartObject();
                    w.WriteBoolean("verified", verified);
                    w.WriteString("target", target.ToString());
                    w.WriteStartObject("rows");
                    foreach (var (table, count) in copied.Counts)
                    {
                        w.WriteNumber(table.DisplayName(), count);
                    }

                    w.WriteEndObject();
                    w.WriteString("sourceDigest", copied.Digest);
                    w.WriteString("targetDigest", readBack.Digest);
                    w.WriteEndObject();
                });
            }
            else
            {
                Report(context.Console, copied, readBack, verified, target);
            }

            if (!verified)
            {
                throw new AdministrationException(
                    "the copy does not match its source (row counts or content digest differ): do not use the target; drop and migrate it again, then copy again");
            }

            return 0;
        });
        return command;
    }

    private static StoreLocation ParseTarget(string text, string? keyStore)
    {
        var trimmed = text.Trim();
        var prefixed = trimmed.StartsWith("postgres:", StringComparison.OrdinalIgnoreCase) || trimmed.StartsWith("postgresql:", StringComparison.OrdinalIgnoreCase);
        var location = CommonOptions.ParseStore(prefixed ? trimmed : "postgres:" + trimmed, keyStore);
        return location.IsPostgres ? location : throw new AdministrationException("--to must be a PostgreSQL connection string");
    }

    private static SqliteStoreExport OpenSource(string path)
    {
        try
        {
            return SqliteStoreExport.Open(path);
        }
        catch (FileNotFoundException ex)
        {
            throw new AdministrationException($"--from: {ex.Message}", ex);
        }
        catch (Microsoft.Data.Sqlite.SqliteException ex)
        {
            throw new AdministrationException($"--from: cannot read '{path}' as a LearnerVault data file: {ex.Message}", ex);
        }
    }

    private static async Task<PostgresStoreTransfer> OpenTargetAsync(PostgresStoreOptions options, CancellationToken ct)
    {
        try
        {
            return await PostgresStoreTransfer.OpenAsync(options, ct);
        }
        catch (StoreNotMigratedException ex)
        {
            throw new AdministrationException($"--to: {ex.Message}", ex);
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
        {
            throw new AdministrationException($"--to: cannot reach PostgreSQL ({PostgresBackend.Describe(options.ConnectionString)}): {ex.Message}", ex);
        }
    }

    private static async Task<StoreSummary> CopyWithProgressAsync(
        CommandContext context, SqliteStoreExport source, PostgresStoreTransfer target, bool quiet, CancellationToken ct)
    {
        try
        {
            if (quiet)
            {
                return await StoreCopier.CopyAsync(source, target, progress: null, ct);
            }

            StoreSummary? summary = null;
            await context.Console.Progress()
                .AutoClear(false)
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
                .StartAsync(async progress =>
                {
                    var tasks = new Dictionary<TransferTable, ProgressTask>();
                    foreach (var table in Enum.GetValues<TransferTable>())
                    {
                        tasks[table] = progress.AddTask(table.DisplayName(), autoStart: false);
                    }

                    summary = await StoreCopier.CopyAsync(source, target, p =>
                    {
                        var task = tasks[p.Table];
                        task.StartTask();
                        task.MaxValue = Math.Max(1, p.Total);
                        task.Value = p.Total == 0 ? 1 : p.Done;
                    }, ct);
                });
            return summary!;
        }
        catch (InvalidOperationException ex)
        {
            throw new AdministrationException($"--to: {ex.Message}", ex);
        }
        catch (PostgresException ex)
        {
            throw new AdministrationException($"the copy failed in PostgreSQL ({ex.SqlState}: {ex.MessageText}); drop and migrate the target again before retrying", ex);
        }
    }

    private static void Report(IAnsiConsole console, StoreSummary copied, StoreSummary readBack, bool verified, StoreLocation target)
    {
        var table = new Table().Border(TableBorder.Rounded).AddColumn("table").AddColumn(new TableColumn("source").RightAligned()).AddColumn(new TableColumn("target").RightAligned());
        foreach (var (name, count) in copied.Counts)
        {
            table.AddRow(new Text(name.DisplayName()), new Text(count.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                new Text(readBack.Counts[name].ToString(System.Globalization.CultureInfo.InvariantCulture)));
        }

        console.Write(table);
        console.MarkupLine($"content digest: source {copied.Digest}");
        console.MarkupLine($"                target {readBack.Digest}");
        if (verified)
        {
            console.MarkupLine($"[green]Verified[/]: {copied.Total} rows copied to {Markup.Escape(target.ToString())}.");
            console.MarkupLine("Serve it with [bold]--store \"postgres:…\"[/] and the same master key as the source installation.");
        }
    }
}
