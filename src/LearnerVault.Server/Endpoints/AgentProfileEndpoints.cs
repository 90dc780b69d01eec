using LearnerVault.Server.Documents;
using LearnerVault.Storage;

namespace LearnerVault.Server.Endpoints;

/// <summary>The xAPI Agent Profile resource (xAPI Communication 2.6): documents about an agent, encrypted under the learner's key.</summary>
public static class AgentProfileEndpoints
{
    public const string Path = "/xapi/agents/profile";

    public static IEndpointRouteBuilder MapAgentProfileEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapMethods(Path, [HttpMethods.Get, HttpMethods.Head], (HttpContext context, DocumentService documents) =>
            DocumentResource.GetAsync(context, documents, DocumentKind.AgentProfile));
        app.MapPut(Path, (HttpContext context, DocumentService documents) => DocumentResource.PutAsync(context, documents, DocumentKind.AgentProfile));
        app.MapPost(Path, (HttpContext context, DocumentService documents) => DocumentResource.PostAsync(context, documents, DocumentKind.AgentProfile));
        app.MapDelete(Path, (HttpContext context, DocumentService documents) => DocumentResource.DeleteAsync(context, documents, DocumentKind.AgentProfile));
        return app;
    }
}
