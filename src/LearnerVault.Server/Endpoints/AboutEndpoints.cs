using System.Text.Json.Nodes;
using LearnerVault.Xapi;

namespace LearnerVault.Server.Endpoints;

public static class AboutEndpoints
{
    public static IEndpointRouteBuilder MapAboutEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapMethods("/xapi/about", [HttpMethods.Get, HttpMethods.Head], () =>
        {
            var about = new JsonObject
            {
                ["version"] = new JsonArray([.. XapiVersions.Supported.Select(v => JsonValue.Create(v))]),
                ["extensions"] = new JsonObject
                {
                    ["https://learnervault.org/xapi/extensions/product"] = new JsonObject
                    {
                        ["name"] = "LearnerVault",
                        ["version"] = typeof(AboutEndpoints).Assembly.GetName().Version?.ToString(3) ?? "0.1.0",
                    },
                },
            };
            return TypedResults.Json(about);
        });
        return app;
    }
}
