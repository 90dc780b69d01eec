using LearnerVault.Privacy.Access;
using LearnerVault.Server.Access;
using LearnerVault.Server.Api;
using LearnerVault.Server.Options;
using LearnerVault.Storage.People;

namespace LearnerVault.Server.Endpoints.Api;

/// <summary><c>/api/classes</c>: teaching groups, their learners and their teachers (school administrators).</summary>
public static class ClassesEndpoints
{
    public const int MaxNameLength = 100;

    public sealed record CreateClassRequest(string? Name);

    public static RouteGroupBuilder MapClassesEndpoints(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/classes").WithTags("classes");
        group.MapGet("/", ListAsync).WithName("listClasses").WithSummary("The tenant's classes");
        group.MapPost("/", CreateAsync).WithName("createClass").WithSummary("Add a class (its name is a label such as 7B)");
        group.MapGet("/{id:guid}", GetAsync).WithName("getClass").WithSummary("A class with its learners and teachers");
        group.MapGet("/{id:guid}/learners", LearnersAsync).WithName("classLearners").WithSummary("The learners of a class");
        group.MapPut("/{id:guid}/learners/{learnerId:guid}", (Guid id, Guid learnerId, HttpContext c, IPrivacyStore s, IAccessGate g, CancellationToken ct) =>
            SetMemberAsync(id, learnerId, true, c, s, g, ct)).WithName("addClassLearner").WithSummary("Put a learner in the class");
        group.MapDelete("/{id:guid}/learners/{learnerId:guid}", (Guid id, Guid learnerId, HttpContext c, IPrivacyStore s, IAccessGate g, CancellationToken ct) =>
            SetMemberAsync(id, learnerId, false, c, s, g, ct)).WithName("removeClassLearner").WithSummary("Take a learner out of the class");
        group.MapGet("/{id:guid}/teachers", TeachersAsync).WithName("classTeachers").WithSummary("The teachers of a class");
        group.MapPut("/{id:guid}/teachers/{personId:guid}", (Guid id, Guid personId, HttpContext c, IPrivacyStore s, CancellationToken ct) =>
            SetTeacherAsync(id, personId, true, c, s, ct)).WithName("addClassTeacher").WithSummary("Make a person (role teacher) a teacher of the class");
        group.MapDelete("/{id:guid}/teachers/{personId:guid}", (Guid id, Guid personId, HttpContext c, IPrivacyStore s, CancellationToken ct) =>
            SetTeacherAsync(id, personId, false, c, s, ct)).WithName("removeClassTeacher").WithSummary("Remove a teacher from the class");
        return group;
    }

    private static async Task<IResult> ListAsync(HttpContext context, IPrivacyStore store, CancellationToken ct)
    {
        var caller = context.Caller();
        caller.As(Role.SchoolAdministrator);
        var classes = await store.ListClassesAsync(caller.TenantId, ct);
        return TypedResults.Ok(classes.Select(c => new ClassView(c.Id, c.Name, c.Created, null, null)).ToList());
    }

    private static async Task<IResult> CreateAsync(CreateClassRequest? request, HttpContext context, IPrivacyStore store, ServerOptions options, CancellationToken ct)
    {
        var caller = context.Caller();
        caller.As(Role.SchoolAdministrator);
        var name = request?.Name?.Trim();
        if (name is not { Length: > 0 and <= MaxNameLength } || name.Any(char.IsControl))
        {
            throw ApiProblems.Invalid($"a class name has 1 to {MaxNameLength} characters, with no control characters");
        }

        var record = new ClassRecord(caller.TenantId, Guid.NewGuid(), name, options.TimeProvider.GetUtcNow());
        await store.AddClassAsync(record, ct);
        return TypedResults.Created($"/api/classes/{record.Id:D}", new ClassView(record.Id, record.Name, record.Created, [], []));
    }

    private static async Task<IResult> GetAsync(Guid id, HttpContext context, IPrivacyStore store, CancellationToken ct)
    {
        var caller = context.Caller();
        caller.As(Role.SchoolAdministrator);
        var record = await ClassAsync(store, caller.TenantId, id, ct);
        return TypedResults.Ok(new ClassView(
            record.Id, record.Name, record.Created, await store.ListClassMembersAsync(caller.TenantId, id, ct), await store.ListClassTeachersAsync(caller.TenantId, id, ct)));
    }

    private static async Task<IResult> LearnersAsync(Guid id, HttpContext context, IPrivacyStore store, CancellationToken ct)
    {
        var caller = context.Caller();
        caller.As(Role.SchoolAdministrator);
        await ClassAsync(store, caller.TenantId, id, ct);
        return TypedResults.Ok(await store.ListClassMembersAsync(caller.TenantId, id, ct));
    }

    private static async Task<IResult> TeachersAsync(Guid id, HttpContext context, IPrivacyStore store, CancellationToken ct)
    {
        var caller = context.Caller();
        caller.As(Role.SchoolAdministrator);
        await ClassAsync(store, caller.TenantId, id, ct);
        return TypedResults.Ok(await store.ListClassTeachersAsync(caller.TenantId, id, ct));
    }

    private static async Task<IResult> SetMemberAsync(Guid id, Guid learnerId, bool member, HttpContext context, IPrivacyStore store, IAccessGate gate, CancellationToken ct)
    {
        var caller = context.Caller();
        var admin = caller.As(Role.SchoolAdministrator);
        await ClassAsync(store, caller.TenantId, id, ct);
        await gate.RequireLearnerAsync(admin, AccessAction.LearnerRecordWrite, learnerId, ct);
        await store.SetClassMemberAsync(caller.TenantId, id, learnerId, member, ct);
        return TypedResults.NoContent();
    }

    private static async Task<IResult> SetTeacherAsync(Guid id, Guid personId, bool teaches, HttpContext context, IPrivacyStore store, CancellationToken ct)
    {
        var caller = context.Caller();
        caller.As(Role.SchoolAdministrator);
        await ClassAsync(store, caller.TenantId, id, ct);
        var person = await store.GetPersonAsync(caller.TenantId, personId, ct) ?? throw ApiProblems.NotFound("person");
        if (teaches && !person.Roles.Contains(Role.Teacher))
        {
            throw ApiProblems.Invalid("only a person with the role teacher can teach a class");
        }

        await store.SetClassTeacherAsync(caller.TenantId, id, personId, teaches, ct);
        return TypedResults.NoContent();
    }

    /// <summary>The class, when it belongs to the caller's tenant; a class of another tenant is as unknown as none.</summary>
    private static async Task<ClassRecord> ClassAsync(IPrivacyStore store, Guid tenantId, Guid id, CancellationToken ct) =>
        await store.GetClassAsync(tenantId, id, ct) ?? throw ApiProblems.NotFound("class");
}
