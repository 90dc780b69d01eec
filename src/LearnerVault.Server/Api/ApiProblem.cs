using System.Text.Json;

namespace LearnerVault.Server.Api;

/// <summary>
/// An admin-API request answered with an RFC 9457 problem document. <see cref="Slug"/> makes the stable type
/// <c>urn:learnervault:problem:&lt;slug&gt;</c>; the detail is one sentence that never quotes a secret or personal datum.
/// </summary>
public sealed class ApiProblemException(int status, string slug, string title, string? detail = null) : Exception(detail ?? title)
{
    public int Status { get; } = status;

    public string Slug { get; } = slug;

    public string Title { get; } = title;

    public string? Detail { get; } = detail;
}

/// <summary>The problems the admin API answers with, and how they are written.</summary>
public static class ApiProblems
{
    public const string TypePrefix = "urn:learnervault:problem:";
    public const string ContentType = "application/problem+json";

    public static ApiProblemException BadRequest(string detail) => new(400, "bad-request", "The request is malformed.", detail);

    public static ApiProblemException Invalid(string detail) => new(422, "invalid", "The request cannot be carried out as asked.", detail);

    public static ApiProblemException NotFound(string what) => new(404, "not-found", "No such resource.", $"no such {what}");

    public static ApiProblemException Forbidden(string detail) => new(403, "forbidden", "Not permitted.", detail);

    public static ApiProblemException Conflict(string detail) => new(409, "conflict", "The request conflicts with what is stored.", detail);

    public static ApiProblemException Denied(string reason) => new(403, "access-denied", "The access decision denied this.", reason);

    public static ApiProblemException Unauthenticated() =>
        new(401, "unauthenticated", "Authentication is required.", "log in (POST /api/auth/login) or send a bearer token");

    public static async Task WriteAsync(HttpContext context, int status, string slug, string title, string? detail)
    {
        if (context.Response.HasStarted)
        {
            return;
        }

        context.Response.StatusCode = status;
        context.Response.ContentType = ContentType;
        context.Response.Headers.CacheControl = "no-store";
        await using var writer = new Utf8JsonWriter(context.Response.Body);
        writer.WriteStartObject();
        writer.WriteString("type", TypePrefix + slug);
        writer.WriteString("title", title);
        writer.WriteNumber("status", status);
        if (detail is not null)
        {
            writer.WriteString("detail", detail);
        }

        writer.WriteEndObject();
        await writer.FlushAsync(context.RequestAborted);
    }

    public static Task WriteAsync(HttpContext context, ApiProblemException problem) =>
        WriteAsync(context, problem.Status, problem.Slug, problem.Title, problem.Detail);
}
