namespace LearnerVault.Privacy.Access;

/// <summary>An age band recorded instead of a birth year, e.g. 13–15 or 18 and over (<see cref="MaxAge"/> null).</summary>
public sealed record AgeBand
{
    public AgeBand(int minAge, int? maxAge)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(minAge);
        if (maxAge is { } max)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(max, minAge, nameof(maxAge));
        }

        MinAge = minAge;
        MaxAge = maxAge;
    }

    /// <summary>The youngest age in the band.</summary>
    public int MinAge { get; }

    /// <summary>The oldest age in the band, or null for an open band ("18 and over").</summary>
    public int? MaxAge { get; }
}

/// <summary>
/// What the access decision needs to know about one learner, loaded by the caller (identity vault, consent
/// store, class links) before calling <see cref="AccessRules.Decide"/>. Pure data: nothing here is fetched lazily; a
/// changed copy is a <c>with</c> expression.
/// </summary>
public sealed record LearnerFacts
{
    /// <summary>The tenant the learner belongs to.</summary>
    public required Guid TenantId { get; init; }

    /// <summary>The learner's id in the identity vault.</summary>
    public required string LearnerId { get; init; }

    /// <summary>The learner's keyed pseudonym as it appears in the access log (hex); null when not yet computed.</summary>
    public string? Pseudonym { get; init; }

    /// <summary>The learner's birth year, if recorded.</summary>
    public int? BirthYear { get; init; }

    /// <summary>The learner's age band, if recorded (instead of or besides the birth year).</summary>
    public AgeBand? AgeBand { get; init; }

    /// <summary>Person ids of the learner's guardians (guardian links).</summary>
    public IReadOnlySet<string> GuardianIds { get; init; } = new HashSet<string>(StringComparer.Ordinal);

    /// <summary>The classes the learner is in (teacher–class links go through these).</summary>
    public IReadOnlySet<string> ClassIds { get; init; } = new HashSet<string>(StringComparer.Ordinal);

    /// <summary>Every consent record of the learner, in any order (all purposes; the evaluation picks).</summary>
    public IReadOnlyList<ConsentRecord> Consents { get; init; } = [];

    /// <summary>
    /// The learner obtained restriction of processing (GDPR Art. 18): their data may be stored but not otherwise
    /// processed, except by themself, their guardians, and the DPO's oversight of consents and the log.
    /// </summary>
    public bool Restricted { get; init; }

    /// <summary>Purposes the learner objected to (GDPR Art. 21).</summary>
    public IReadOnlySet<Purpose> Objections { get; init; } = new HashSet<Purpose>();
}
