namespace LearnerVault.Privacy.Access;

/// <summary>The kind of principal asking for access: a person with one of the roles, or a client app.</summary>
public enum Role
{
    /// <summary>A learner, reading and managing their own data.</summary>
    Learner,

    /// <summary>A parent or guardian of one or more learners (linked on the learner's record).</summary>
    Guardian,

    /// <summary>A teacher, linked to the classes they teach.</summary>
    Teacher,

    /// <summary>A school administrator, working for the school-administration purpose.</summary>
    SchoolAdministrator,

    /// <summary>The data protection officer: oversight of consents and the access log, not of learning content.</summary>
    DataProtectionOfficer,

    /// <summary>A policy analyst: aggregate, differentially private answers only, never a learner.</summary>
    Analyst,

    /// <summary>A researcher: consented-only, de-identified extracts.</summary>
    Researcher,

    /// <summary>An app with client credentials (LMS, content, assessment tool) and the purposes it declares.</summary>
    ClientApp,
}
