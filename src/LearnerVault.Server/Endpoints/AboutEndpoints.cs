using System.Text.Json.Nodes;
using LearnerVault.Xapi;

namespace LearnerVault.Server.Endpoints;

public static class AboutEndpoints
{
    public static IEndpointRouteBuilder MapAboutEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapMethods("/xapi/about", [HttpMethods.Get, HttpMethods.Head], (LearnerVault.Server.Options.ServerOptions options) =>
        {
            var about = new JsonObject
            {
                ["version"] = new JsonArray([.. options.XapiVersions.Select(v => JsonValue.Create(v.ToHeader()))]),
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
