namespace LearnerVault.Privacy.Access;

/// <summary>What a principal asks to do with a learner's data. <see cref="AccessActions.Name"/> gives the log spelling.</summary>
public enum AccessAction
{
    /// <summary><c>statements.write</c>: store new xAPI statements about the learner.</summary>
    StatementsWrite,

    /// <summary><c>statements.read</c>: read the learner's xAPI statements (content).</summary>
    StatementsRead,

    /// <summary><c>documents.read</c>: read the learner's state and agent-profile documents (content).</summary>
    DocumentsRead,

    /// <summary><c>documents.write</c>: write the learner's state and agent-profile documents.</summary>
    DocumentsWrite,

    /// <summary><c>consents.read</c>: read the learner's consent records.</summary>
    ConsentsRead,

    /// <summary><c>consents.write</c>: record a consent given or withdrawn.</summary>
    ConsentsWrite,

    /// <summary><c>accesslog.read</c>: read who accessed the learner's data, when and why.</summary>
    AccessLogRead,

    /// <summary><c>export</c>: take a copy of the learner's data out (portability, or a research extract).</summary>
    Export,

    /// <summary><c>learner.read</c>: read the learner's identity record (age, guardians, classes, restriction, objections).</summary>
    LearnerRecordRead,

    /// <summary><c>learner.write</c>: keep the learner's identity record (register, age, guardian links, class membership).</summary>
    LearnerRecordWrite,

    /// <summary><c>restriction.write</c>: record the learner's restriction of processing or objections (GDPR Art. 18, 21).</summary>
    RestrictionWrite,
}

/// <summary>Spellings and groupings of <see cref="AccessAction"/>.</summary>
public static class AccessActions
{
    /// <summary>Every action, in declaration order.</summary>
    public static IReadOnlyList<AccessAction> All { get; } = Enum.GetValues<AccessAction>();

    /// <summary>The machine-readable name used in the access log, e.g. <c>statements.read</c>.</summary>
    public static string Name(this AccessAction action) => action switch
    {
        AccessAction.StatementsWrite => "statements.write",
        AccessAction.StatementsRead => "statements.read",
        AccessAction.DocumentsRead => "documents.read",
        AccessAction.DocumentsWrite => "documents.write",
        AccessAction.ConsentsRead => "consents.read",
        AccessAction.ConsentsWrite => "consents.write",
        AccessAction.AccessLogRead => "accesslog.read",
        AccessAction.Export => "export",
        AccessAction.LearnerRecordRead => "learner.read",
        AccessAction.LearnerRecordWrite => "learner.write",
        AccessAction.RestrictionWrite => "restriction.write",
        _ => throw new ArgumentOutOfRangeException(nameof(action), action, null),
    };

    /// <summary>Whether the action creates or changes learning data (as opposed to reading it or touching consents/logs).</summary>
    public static bool IsContentWrite(this AccessAction action) =>
        action is AccessAction.StatementsWrite or AccessAction.DocumentsWrite;

    /// <summary>Whether the action discloses learning data itself (statements, documents, or an export of them).</summary>
    public static bool IsContentRead(this AccessAction action) =>
        action is AccessAction.StatementsRead or AccessAction.DocumentsRead or AccessAction.Export;
}
