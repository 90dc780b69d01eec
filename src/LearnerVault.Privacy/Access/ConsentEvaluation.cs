namespace LearnerVault.Privacy.Access;

/// <summary>The state of one learner's consent to one purpose at one moment.</summary>
public enum ConsentStatus
{
    /// <summary>A current consent given by the right person: the learner if of age, else a guardian.</summary>
    Valid,

    /// <summary>No record at all for the purpose.</summary>
    NeverAsked,

    /// <summary>The latest record that counts is a withdrawal.</summary>
    Withdrawn,

    /// <summary>The learner is a minor (or of unknown age) and consent was given only by people other than a linked guardian (e.g. the child themself).</summary>
    NeedsGuardian,

    /// <summary>The learner is of age and consent was given only by a guardian (e.g. while they were a minor): they must give it themself.</summary>
    NeedsLearner,
}

/// <summary>
/// How consent records and the learner's age combine. Rules:
/// <list type="number">
/// <item>Only records for the purpose, made at or before <c>now</c>, are considered (a withdrawal at instant t already
/// holds for a decision at t).</item>
/// <item>A withdrawal counts whoever made it (the learner, even a minor, or any guardian): withdrawing can only reduce
/// processing, so a child's "no" is respected.</item>
/// <item>A giving counts only from the right person at <c>now</c>: a currently linked guardian while the learner is
/// a minor; the learner themself once of age. A minor's own consent never counts; a guardian's consent stops counting
/// when the learner comes of age (they are asked again, the conservative reading of GDPR Art. 8).</item>
/// <item>Of the records that count, the latest wins; at the same instant a withdrawal wins over a giving.</item>
/// </list>
/// Age: the learner is of age only when certainly at least the tenant's age of digital consent. From a birth year
/// alone the certain age is <c>now.Year − birthYear − 1</c> (the birthday may not have come yet), so a learner
/// counts as of age from 1 January of the year after they reach it; from an age band it is the band's lowest age;
/// when both are recorded the younger reading wins; when neither is, the learner is treated as a minor.
/// </summary>
public static class ConsentEvaluation
{
    /// <summary>The age the learner certainly has at <paramref name="now"/>, or null when nothing is recorded.</summary>
    public static int? CertainMinimumAge(LearnerFacts learner, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(learner);
        int? fromYear = learner.BirthYear is { } year ? Math.Max(0, now.UtcDateTime.Year - year - 1) : null;
        int? fromBand = learner.AgeBand?.MinAge;
        return (fromYear, fromBand) switch
        {
            ({ } a, { } b) => Math.Min(a, b),
            ({ } a, null) => a,
            (null, { } b) => b,
            _ => null,
        };
    }

    /// <summary>Whether the learner's consent must come from a guardian: below the age of digital consent, or age unknown.</summary>
    public static bool IsMinor(LearnerFacts learner, TenantPolicy policy, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(policy);
        return CertainMinimumAge(learner, now) is not { } age || age < policy.AgeOfDigitalConsent;
    }

    /// <summary>The learner's consent to <paramref name="purpose"/> at <paramref name="now"/> (see the class remarks).</summary>
    public static ConsentStatus Evaluate(LearnerFacts learner, Purpose purpose, TenantPolicy policy, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(learner);
        ArgumentNullException.ThrowIfNull(purpose);
        var minor = IsMinor(learner, policy, now);
        var relevant = learner.Consents.Where(r => r.Purpose == purpose && r.At <= now).ToList();
        if (relevant.Count == 0)
        {
            return ConsentStatus.NeverAsked;
        }

        var latest = relevant
            .Where(r => Counts(r, learner, minor))
            .OrderBy(r => r.At)
            .ThenBy(r => r.Choice == ConsentChoice.Withdrawn ? 1 : 0)
            .LastOrDefault();
        return latest switch
        {
            { Choice: ConsentChoice.Given } => ConsentStatus.Valid,
            { Choice: ConsentChoice.Withdrawn } => ConsentStatus.Withdrawn,
            _ => minor ? ConsentStatus.NeedsGuardian : ConsentStatus.NeedsLearner,
        };
    }

    private static bool Counts(ConsentRecord record, LearnerFacts learner, bool minor) =>
        record.Choice == ConsentChoice.Withdrawn
        || (minor
            ? record.GivenBy == ConsentGiver.Guardian && learner.GuardianIds.Contains(record.GiverId)
            : record.GivenBy == ConsentGiver.Learner && record.GiverId == learner.LearnerId);
}
