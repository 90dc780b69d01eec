using LearnerVault.Privacy.Access;
using LearnerVault.Server.Access;
using LearnerVault.Server.Api;
using LearnerVault.Storage;

namespace LearnerVault.Server.Endpoints.Api;

/// <summary><c>/api/access-log</c>: the tenant's whole access log, for the data protection officer.</summary>
public static class AccessLogEndpoints
{
    public const int MaxPage = 1000;

    public static RouteGroupBuilder MapAccessLogEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/access-log").WithTags("access-log");
        group.MapGet("/", ReadAsync).WithName("accessLog")
            .WithSummary("The tenant's access log in chain order from position ?from= (default 1), ?limit= entries; next gives the following page");
        return group;
    }

    private static async Task<IResult> ReadAsync(long? from, int? limit, HttpContext context, IAccessGate gate, IAccessLogStore log, CancellationToken ct)
    {
        var caller = context.Caller();
        var dpo = caller.As(Role.DataProtectionOfficer);
        var pageSize = limit ?? 100;
        if (pageSize is < 1 or > MaxPage || from is < 1)
        {
            throw ApiProblems.Invalid($"from is at least 1 and limit between 1 and {MaxPage}");
        }

        await gate.RequireTenantAsync(dpo, AccessAction.AccessLogRead, ct);
        var records = await log.ReadAsync(caller.TenantId, from ?? 1, pageSize, ct);
        return TypedResults.Ok(new AccessLogPage([.. records.Select(r => r.View())], records.Count == pageSize ? records[^1].Position + 1 : null));
    }
}
