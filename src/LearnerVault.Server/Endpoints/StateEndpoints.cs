using LearnerVault.Server.Documents;
using LearnerVault.Storage;

namespace LearnerVault.Server.Endpoints;

/// <summary>The xAPI State resource (xAPI Communication 2.3): one document per activity, agent, optional registration and stateId; GET and DELETE without stateId act on the whole context.</summary>
public static class StateEndpoints
{
    public const string Path = "/xapi/activities/state";

    public static IEndpointRouteBuilder MapStateEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapMethods(Path, [HttpMethods.Get, HttpMethods.Head], (HttpContext context, DocumentService documents) =>
            DocumentResource.GetAsync(context, documents, DocumentKind.State));
        app.MapPut(Path, (HttpContext context, DocumentService documents) => DocumentResource.PutAsync(context, documents, DocumentKind.State));
        app.MapPost(Path, (HttpContext context, DocumentService documents) => DocumentResource.PostAsync(context, documents, DocumentKind.State));
        app.MapDelete(Path, (HttpContext context, DocumentService documents) => DocumentResource.DeleteAsync(context, documents, DocumentKind.State));
        return app;
    }
}
