namespace LearnerVault.Privacy.Access;

/// <summary>
/// Who asks for access: a person in a <see cref="Access.Role"/>, or a client app with the purposes it declares.
/// Built through the factory methods, which set exactly the facts each kind of principal has.
/// </summary>
public sealed class Principal
{
    private Principal(
        Guid tenantId,
        Role role,
        string id,
        string? clientId = null,
        IEnumerable<Purpose>? declaredPurposes = null,
        string? learnerId = null,
        IEnumerable<string>? classIds = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        TenantId = tenantId;
        Role = role;
        Id = id;
        ClientId = clientId;
        DeclaredPurposes = (declaredPurposes ?? []).ToHashSet();
        LearnerId = learnerId;
        ClassIds = (classIds ?? []).ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>The tenant the principal belongs to. A principal never acts in another tenant.</summary>
    public Guid TenantId { get; }

    /// <summary>The principal's role.</summary>
    public Role Role { get; }

    /// <summary>The person's id, or for a client app its client key.</summary>
    public string Id { get; }

    /// <summary>The client app's key when the principal is one; null for a person.</summary>
    public string? ClientId { get; }

    /// <summary>The purposes a client app declares (a client added without any declares <c>instruction</c>). Empty for people.</summary>
    public IReadOnlySet<Purpose> DeclaredPurposes { get; }

    /// <summary>For <see cref="Role.Learner"/>: the learner record this person is.</summary>
    public string? LearnerId { get; }

    /// <summary>For <see cref="Role.Teacher"/>: the classes they teach (teacher–class links).</summary>
    public IReadOnlySet<string> ClassIds { get; }

    /// <summary>A client app declaring <paramref name="declaredPurposes"/>.</summary>
    public static Principal Client(Guid tenantId, string clientId, IEnumerable<Purpose> declaredPurposes) =>
        new(tenantId, Role.ClientApp, clientId, clientId, declaredPurposes);

    /// <summary>A learner person, who is learner <paramref name="learnerId"/>.</summary>
    public static Principal Learner(Guid tenantId, string personId, string learnerId) =>
        new(tenantId, Role.Learner, personId, learnerId: learnerId);

    /// <summary>A guardian; which learners are theirs is recorded on each learner (<see cref="LearnerFacts.GuardianIds"/>).</summary>
    public static Principal Guardian(Guid tenantId, string personId) => new(tenantId, Role.Guardian, personId);

    /// <summary>A teacher of <paramref name="classIds"/>.</summary>
    public static Principal Teacher(Guid tenantId, string personId, IEnumerable<string> classIds) =>
        new(tenantId, Role.Teacher, personId, classIds: classIds);

    /// <summary>
    /// A person in a role that needs no further facts: school administrator, data protection officer, analyst or
    /// researcher.
    /// </summary>
    /// <exception cref="ArgumentException">A role that needs facts (use <see cref="Learner"/>, <see cref="Guardian"/>,
    /// <see cref="Teacher"/> or <see cref="Client"/>).</exception>
    public static Principal Person(Guid tenantId, string personId, Role role) =>
        role is Role.SchoolAdministrator or Role.DataProtectionOfficer or Role.Analyst or Role.Researcher
            ? new(tenantId, role, personId)
            : throw new ArgumentException($"role {role} needs its own factory method", nameof(role));
}
