using LearnerVault.Server.Pipeline;
using LearnerVault.Storage;

namespace LearnerVault.Server.Endpoints;

/// <summary>
/// Probes for a load balancer or an orchestrator, outside the xAPI endpoint and without credentials: they say whether
/// this node runs and whether it can reach its store, and nothing else (no counts, no names, no versions).
/// <c>/health/live</c>: the process answers. <c>/health/ready</c>: a read on the store succeeded within 2 s; otherwise
/// 503, so that a node whose database is out of reach is taken out of rotation.
/// </summary>
public static class HealthEndpoints
{
    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(2);

    public static void MapHealthEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/health/live", () => TypedResults.Text("live\n", "text/plain"));
        app.MapGet("/health/ready", ReadyAsync);
    }

    private static async Task<IResult> ReadyAsync(IStorageBackend store, HttpContext context)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        timeout.CancelAfter(ProbeTimeout);
        try
        {
            await store.Clients.ListTenantsAsync(timeout.Token);
            return TypedResults.Text("ready\n", "text/plain");
        }
        catch (Exception ex) when (UnhandledErrors.IsStoreUnavailable(ex) || ex is OperationCanceledException)
        {
            context.Response.Headers.RetryAfter = UnhandledErrors.RetryAfterSeconds;
            return TypedResults.Text("store unavailable\n", "text/plain", statusCode: StatusCodes.Status503ServiceUnavailable);
        }
    }
}
