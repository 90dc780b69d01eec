using System.Text.Json.Nodes;
using LearnerVault.Server.Activities;
using LearnerVault.Server.Documents;
using LearnerVault.Server.Pipeline;

namespace LearnerVault.Server.Endpoints;

/// <summary>The xAPI Activities resource (xAPI Communication 2.5): the canonical Activity object of an activity id.</summary>
public static class ActivitiesEndpoints
{
    public const string Path = "/xapi/activities";

    public static IEndpointRouteBuilder MapActivitiesEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapMethods(Path, [HttpMethods.Get, HttpMethods.Head], GetAsync);
        return app;
    }

    /// <summary>
    /// Any authenticated client may read: a definition describes an activity, not a learner, and the tenant's clients
    /// are the ones that send it. Without a definition the answer is still an Activity object holding the id.
    /// </summary>
    private static async Task GetAsync(HttpContext context, ActivityDefinitionService definitions)
    {
        var client = context.Client();
        var query = context.Request.Query;
        foreach (var (name, values) in query)
        {
            if (name != DocumentParameters.ActivityId)
            {
                throw new XapiException(400, "The Activities resource takes only the activityId parameter.");
            }

            if (values.Count > 1)
            {
                throw new XapiException(400, "The parameter 'activityId' is given more than once.");
            }
        }

        var activityId = DocumentParameters.ActivityIri(query);
        var activity = new JsonObject { ["objectType"] = "Activity", ["id"] = activityId };
        if (await definitions.GetAsync(client.TenantId, activityId, context.RequestAborted) is { } definition)
        {
            activity["definition"] = definition;
        }

        await JsonResponse.WriteAsync(context, activity);
    }
}
