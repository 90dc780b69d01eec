using LearnerVault.Server.Administration;
using LearnerVault.Server.Statements;
using LearnerVault.Storage;
using LearnerVault.Xapi;

namespace LearnerVault.Cli.Demo;

/// <summary>Seeds the demo statements once, through the same ingest path as any xAPI client.</summary>
public static class DemoSeeder
{
    public const string ClientName = "demo-data";
    public const int BatchSize = 100;

    /// <summary>
    /// Whether the demo was seeded: its statement ids are fixed, so the last one being stored is the record of it, held
    /// in the data itself rather than in a marker file that a restore could separate from the data.
    /// </summary>
    public static async Task<bool> IsSeededAsync(IStatementStore statements, Guid tenantId, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(statements);
        var last = DemoData.LastStatementId(DemoData.Generate(DateTimeOffset.UnixEpoch));
        return await statements.GetAsync(tenantId, last, ct) is not null;
    }

    /// <summary>The client the demo statements are stored under (their authority): found, or created with a secret nobody sees.</summary>
    public static async Task<ClientRecord> EnsureClientAsync(IClientStore clients, Guid tenantId, TimeProvider time, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(clients);
        var existing = (await clients.ListClientsAsync(tenantId, ct))
            .FirstOrDefault(c => c.Name == ClientName && c.Revoked is null);
        if (existing is not null)
        {
            return existing;
        }

        var (client, _) = await ClientAdmin.AddAsync(
            clients, tenantId, ClientName, [XapiScopes.StatementsWrite], [ProcessingPurposes.Instruction], time, ct);
        return client;
    }

    /// <summary>Ingests the demo statements in batches; returns how many were stored by this call.</summary>
    public static async Task<int> SeedAsync(IStatementIngest ingest, ClientRecord client, TimeProvider time, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(ingest);
        ArgumentNullException.ThrowIfNull(time);

        var statements = DemoData.Generate(time.GetUtcNow());
        var stored = 0;
        foreach (var batch in statements.Chunk(BatchSize))
        {
            try
            {
                await ingest.IngestAsync(client, batch, XapiVersion.V2_0_0, ct);
                stored += batch.Length;
            }
            catch (StatementRejectedException ex) when (ex.Status == 409)
            {
                // A batch stored by an earlier, interrupted seeding (same ids, other timestamps): keep it and go on.
            }
        }

        return stored;
    }
}
