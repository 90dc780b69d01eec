using LearnerVault.Server.Documents;
using LearnerVault.Storage;

namespace LearnerVault.Server.Endpoints;

/// <summary>The xAPI Activity Profile resource (xAPI Communication 2.7): documents about an activity, encrypted under the tenant's key.</summary>
public static class ActivityProfileEndpoints
{
    public const string Path = "/xapi/activities/profile";

    public static IEndpointRouteBuilder MapActivityProfileEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapMethods(Path, [HttpMethods.Get, HttpMethods.Head], (HttpContext context, DocumentService documents) =>
            DocumentResource.GetAsync(context, documents, DocumentKind.ActivityProfile));
        app.MapPut(Path, (HttpContext context, DocumentService documents) => DocumentResource.PutAsync(context, documents, DocumentKind.ActivityProfile));
        app.MapPost(Path, (HttpContext context, DocumentService documents) => DocumentResource.PostAsync(context, documents, DocumentKind.ActivityProfile));
        app.MapDelete(Path, (HttpContext context, DocumentService documents) => DocumentResource.DeleteAsync(context, documents, DocumentKind.ActivityProfile));
        return app;
    }
}
