namespace LearnerVault.Xapi;

/// <summary>
/// Outcome of validating xAPI data. <see cref="Error"/> is a short English reason that names the property path
/// (e.g. "actor.mbox must be a mailto IRI") and never contains the offending value, which may be personal data.
/// </summary>
public sealed record ValidationResult(bool IsValid, string? Error)
{
    public static readonly ValidationResult Ok = new(true, null);

    public static ValidationResult Fail(string error) => new(false, error);
}
