using Microsoft.AspNetCore.OpenApi;

namespace LearnerVault.Server.Api;

/// <summary>The admin API's OpenAPI document, served at <see cref="Route"/> without credentials.</summary>
public static class ApiDocument
{
    // MapOpenApi serves "v1" at a route without {documentName}.
    public const string Name = "v1";
    public const string Route = "/api/openapi.json";

    public static void Configure(OpenApiOptions options)
    {
        // Only /api: the xAPI endpoint is described by the xAPI specification, not by this document.
        options.ShouldInclude = description => description.RelativePath?.StartsWith("api/", StringComparison.Ordinal) == true;
        options.AddDocumentTransformer((document, _, _) =>
        {
            document.Info = new() { Title = "LearnerVault admin API", Version = "1" };
            return Task.CompletedTask;
        });
    }
}
