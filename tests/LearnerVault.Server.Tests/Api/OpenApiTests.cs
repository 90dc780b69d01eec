using System.Net;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace LearnerVault.Server.Tests.Api;

public sealed class OpenApiTests : IAsyncLifetime
{
    private ApiHarness api = null!;

    public async ValueTask InitializeAsync() => api = await ApiHarness.StartAsync();

    public async ValueTask DisposeAsync() => await api.DisposeAsync();

    [Fact]
    public async Task OpenApiDocument_WithoutCredentials_DescribesEveryApiRouteAndNoXapiRoute()
    {
        using var response = await api.Anonymous().GetAsync("api/openapi.json");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var document = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        var paths = document["paths"]!.AsObject();
        var described = paths.SelectMany(p => p.Value!.AsObject().Select(op => $"{op.Key.ToUpperInvariant()} {Normalise(p.Key)}")).ToHashSet();

        var routes = api.Factory.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText!.StartsWith("/api/", StringComparison.Ordinal) && e.RoutePattern.RawText != "/api/openapi.json")
            .SelectMany(e => e.Metadata.GetMetadata<HttpMethodMetadata>()!.HttpMethods.Select(m => $"{m} {Normalise(e.RoutePattern.RawText!)}"))
            .ToList();
        Assert.True(routes.Count >= 40, $"only {routes.Count} routes found");
        Assert.DoesNotContain(routes, r => !described.Contains(r));
        Assert.DoesNotContain(paths, p => p.Key.StartsWith("/xapi", StringComparison.Ordinal));
        foreach (var path in paths)
        {
            foreach (var operation in path.Value!.AsObject())
            {
                Assert.False(string.IsNullOrEmpty(operation.Value!["summary"]?.GetValue<string>()), $"{operation.Key} {path.Key} has no summary");
                Assert.False(string.IsNullOrEmpty(operation.Value!["operationId"]?.GetValue<string>()), $"{operation.Key} {path.Key} has no operationId");
            }
        }
    }

    /// <summary>"/api/people/{id:guid}/" and "/api/people/{id}" alike.</summary>
    private static string Normalise(string route) =>
        System.Text.RegularExpressions.Regex.Replace(route, "{([a-zA-Z]+)(:[a-z]+)?}", "{$1}").TrimEnd('/');
}
