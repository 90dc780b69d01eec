namespace LearnerVault.Privacy.Access;

/// <summary>What happens to NEW statements and documents about a restricted or objecting learner.</summary>
public enum RestrictedWritePolicy
{
    /// <summary>Store them, marked restricted: kept (so the sending app does not fail) but processed no further.</summary>
    StoreRestricted,

    /// <summary>Refuse them: the write is denied.</summary>
    Refuse,
}

/// <summary>
/// A tenant's privacy settings that the access decision reads: the lawful basis per purpose, the age of digital
/// consent, and what to do with new data about a restricted or objecting learner. Immutable; the <c>With…</c>
/// methods return a changed copy.
/// </summary>
/// <remarks>
/// Defaults of a new tenant (<see cref="CreateDefault"/>), chosen so that a plain LRS keeps working and everything
/// beyond the school's own task needs consent:
/// <list type="table">
/// <item><term>instruction, assessment, school-administration</term><description>public task (a school's task in the
/// public interest; a fresh installation with clients declaring <c>instruction</c> runs unchanged)</description></item>
/// <item><term>research, policy-statistics</term><description>consent</description></item>
/// <item><term>vendor:&lt;name&gt;</term><description>consent (a vendor's own service is not the school's task unless the
/// tenant says so with <see cref="WithBasis"/>)</description></item>
/// <item><term>age of digital consent</term><description>16, the GDPR default (Art. 8(1)); 13 to 16 can be set</description></item>
/// <item><term>new data of a restricted/objecting learner</term><description><see cref="RestrictedWritePolicy.StoreRestricted"/>
/// (restriction means "store only", which is exactly that)</description></item>
/// </list>
/// </remarks>
public sealed class TenantPolicy
{
    /// <summary>The youngest age of digital consent a tenant may set (GDPR Art. 8(1) lets member states go down to 13).</summary>
    public const int MinimumAgeOfDigitalConsent = 13;

    /// <summary>The oldest age of digital consent a tenant may set, and the default (GDPR Art. 8(1)).</summary>
    public const int MaximumAgeOfDigitalConsent = 16;

    private readonly Dictionary<Purpose, LawfulBasis> bases;

    private TenantPolicy(
        Guid tenantId, int ageOfDigitalConsent, Dictionary<Purpose, LawfulBasis> bases, RestrictedWritePolicy restrictedWrites)
    {
        ValidateAge(ageOfDigitalConsent);
        TenantId = tenantId;
        AgeOfDigitalConsent = ageOfDigitalConsent;
        this.bases = bases;
        RestrictedWrites = restrictedWrites;
    }

    /// <summary>The tenant this policy belongs to.</summary>
    public Guid TenantId { get; }

    /// <summary>Below this age (13 to 16) a learner's consent must come from a guardian.</summary>
    public int AgeOfDigitalConsent { get; }

    /// <summary>What happens to new data about a restricted or objecting learner.</summary>
    public RestrictedWritePolicy RestrictedWrites { get; }

    /// <summary>The bases set explicitly (built-in defaults included); vendor purposes not listed fall back to consent.</summary>
    public IReadOnlyDictionary<Purpose, LawfulBasis> ConfiguredBases => bases;

    /// <summary>The policy of a new tenant (see the remarks on <see cref="TenantPolicy"/> for the defaults).</summary>
    public static TenantPolicy CreateDefault(Guid tenantId) => new(
        tenantId,
        MaximumAgeOfDigitalConsent,
        new Dictionary<Purpose, LawfulBasis>
        {
            [Purpose.Instruction] = LawfulBasis.PublicTask,
            [Purpose.Assessment] = LawfulBasis.PublicTask,
            [Purpose.SchoolAdministration] = LawfulBasis.PublicTask,
            [Purpose.Research] = LawfulBasis.Consent,
            [Purpose.PolicyStatistics] = LawfulBasis.Consent,
        },
        RestrictedWritePolicy.StoreRestricted);

    /// <summary>The lawful basis for <paramref name="purpose"/>: as configured, else consent (for vendor purposes).</summary>
    public LawfulBasis BasisFor(Purpose purpose) =>
        bases.TryGetValue(purpose, out var basis) ? basis : LawfulBasis.Consent;

    /// <summary>A copy with <paramref name="purpose"/> under <paramref name="basis"/>.</summary>
    public TenantPolicy WithBasis(Purpose purpose, LawfulBasis basis)
    {
        ArgumentNullException.ThrowIfNull(purpose);
        if (!Enum.IsDefined(basis))
        {
            throw new ArgumentOutOfRangeException(nameof(basis), basis, "unknown lawful basis");
        }

        return new(TenantId, AgeOfDigitalConsent, new(bases) { [purpose] = basis }, RestrictedWrites);
    }

    /// <summary>A copy with another age of digital consent.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Not within 13 to 16.</exception>
    public TenantPolicy WithAgeOfDigitalConsent(int age) => new(TenantId, age, new(bases), RestrictedWrites);

    /// <summary>A copy with another policy for new data about restricted or objecting learners.</summary>
    public TenantPolicy WithRestrictedWrites(RestrictedWritePolicy policy) =>
        Enum.IsDefined(policy)
            ? new(TenantId, AgeOfDigitalConsent, new(bases), policy)
            : throw new ArgumentOutOfRangeException(nameof(policy), policy, "unknown policy");

    private static void ValidateAge(int age)
    {
        if (age is < MinimumAgeOfDigitalConsent or > MaximumAgeOfDigitalConsent)
        {
            throw new ArgumentOutOfRangeException(
                nameof(age), age, $"the age of digital consent must be between {MinimumAgeOfDigitalConsent} and {MaximumAgeOfDigitalConsent}");
        }
    }
}
