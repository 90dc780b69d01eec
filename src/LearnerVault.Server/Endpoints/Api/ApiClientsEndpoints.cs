using LearnerVault.Privacy.Access;
using LearnerVault.Server.Administration;
using LearnerVault.Server.Api;
using LearnerVault.Server.Options;
using LearnerVault.Storage;

namespace LearnerVault.Server.Endpoints.Api;

/// <summary><c>/api/clients</c>: the tenant's xAPI clients, as <c>lvault clients</c> manages them (school administrators).</summary>
public static class ApiClientsEndpoints
{
    public sealed record CreateClientRequest(string? Name, IReadOnlyList<string>? Scopes, IReadOnlyList<string>? Purposes);

    public sealed record CreatedClientView(ClientView Client, string Secret);

    public static RouteGroupBuilder MapApiClientsEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/clients").WithTags("clients");
        group.MapGet("/", ListAsync).WithName("listClients").WithSummary("The tenant's xAPI clients with their scopes and declared purposes");
        group.MapPost("/", CreateAsync).WithName("createClient").WithSummary("Create a client; its secret is shown once");
        group.MapDelete("/{key}", RevokeAsync).WithName("revokeClient").WithSummary("Revoke a client: its requests get 401 from then on");
        return group;
    }

    private static async Task<IResult> ListAsync(HttpContext context, IClientStore clients, CancellationToken ct)
    {
        var caller = context.Caller();
        caller.As(Role.SchoolAdministrator);
        return TypedResults.Ok((await clients.ListClientsAsync(caller.TenantId, ct)).Select(c => c.View()).ToList());
    }

    private static async Task<IResult> CreateAsync(
        CreateClientRequest? request, HttpContext context, IClientStore clients, ServerOptions options, CancellationToken ct)
    {
        var caller = context.Caller();
        caller.As(Role.SchoolAdministrator);
        foreach (var purpose in request?.Purposes ?? [])
        {
            ApiViews.ParsePurpose(purpose);
        }

        var (client, secret) = await ClientAdmin.AddAsync(
            clients, caller.TenantId, request?.Name ?? string.Empty, request?.Scopes ?? [], request?.Purposes ?? [], options.TimeProvider, ct);
        return TypedResults.Created($"/api/clients/{client.Key}", new CreatedClientView(client.View(), secret));
    }

    private static async Task<IResult> RevokeAsync(string key, HttpContext context, IClientStore clients, ServerOptions options, CancellationToken ct)
    {
        var caller = context.Caller();
        caller.As(Role.SchoolAdministrator);
        var client = await clients.FindClientByKeyAsync(key, ct);
        if (client is null || client.TenantId != caller.TenantId)
        {
            throw ApiProblems.NotFound("client");
        }

        if (client.Revoked is not null)
        {
            throw ApiProblems.Conflict("the client was already revoked");
        }

        await ClientAdmin.RevokeAsync(clients, caller.TenantId, key, options.TimeProvider, ct);
        return TypedResults.NoContent();
    }
}
