namespace LearnerVault.Privacy.Access;

/// <summary>
/// The lawful basis on which a tenant processes learner data for a purpose (GDPR Art. 6(1)), configured per tenant
/// per purpose in <see cref="TenantPolicy"/>.
/// </summary>
public enum LawfulBasis
{
    /// <summary>Art. 6(1)(a): holds for a learner only while a current consent from the right person exists.</summary>
    Consent,

    /// <summary>Art. 6(1)(e): a task in the public interest (a public school teaching and assessing). The learner may object.</summary>
    PublicTask,

    /// <summary>Art. 6(1)(c): a legal obligation of the school. Not subject to objection.</summary>
    LegalObligation,

    /// <summary>Art. 6(1)(f): legitimate interests. The learner may object.</summary>
    LegitimateInterest,

    /// <summary>Art. 6(1)(b): performance of a contract with the learner. Not subject to objection.</summary>
    Contract,
}
