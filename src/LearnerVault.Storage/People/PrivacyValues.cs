using System.Text;
using System.Text.Json;
using LearnerVault.Privacy.Access;

namespace LearnerVault.Storage.People;

/// <summary>
/// How both backends spell the privacy store's values, and the checks they make before writing, in one place so that a
/// store copy moves them unchanged and both reject the same inputs. Enumerations are stored by kebab-case name
/// (<c>school-administrator</c>, <c>legitimate-interest</c>), not by number: a reordered enum must not silently
/// change what a stored row means.
/// </summary>
internal static class PrivacyValues
{
    public static string Name<T>(T value)
        where T : struct, Enum
    {
        if (!Enum.IsDefined(value))
        {
            throw new ArgumentOutOfRangeException(nameof(value), value, $"unknown {typeof(T).Name}");
        }

        var text = value.ToString();
        var builder = new StringBuilder(text.Length + 4);
        for (var i = 0; i < text.Length; i++)
        {
            if (char.IsUpper(text[i]) && i > 0)
            {
                builder.Append('-');
            }

            builder.Append(char.ToLowerInvariant(text[i]));
        }

        return builder.ToString();
    }

    /// <exception cref="InvalidOperationException">The stored name is not a value of <typeparamref name="T"/> (a newer build wrote it).</exception>
    public static T Parse<T>(string name)
        where T : struct, Enum
    {
        foreach (var value in Enum.GetValues<T>())
        {
            if (string.Equals(Name(value), name, StringComparison.Ordinal))
            {
                return value;
            }
        }

        throw new InvalidOperationException($"The store holds an unknown {typeof(T).Name} '{name}'.");
    }

    public static string[] RoleNames(IReadOnlyList<Role> roles) => [.. roles.Select(Name)];

    public static IReadOnlyList<Role> Roles(IEnumerable<string> names) => [.. names.Select(Parse<Role>)];

    public static string[] PurposeNames(IReadOnlyList<Purpose> purposes) => [.. purposes.Select(p => p.Name)];

    public static IReadOnlyList<Purpose> Purposes(IEnumerable<string> names) => [.. names.Select(Purpose.Parse)];

    public static string ToJson(string[] values) => JsonSerializer.Serialize(values);

    public static string[] FromJson(string json) => JsonSerializer.Deserialize<string[]>(json) ?? [];

    /// <summary>The policy's lawful bases as a JSON object (purpose name → basis name), sorted by purpose.</summary>
    public static string BasesJson(TenantPolicy policy) => JsonSerializer.Serialize(
        new SortedDictionary<string, string>(
            policy.ConfiguredBases.ToDictionary(b => b.Key.Name, b => Name(b.Value)), StringComparer.Ordinal));

    /// <summary>Rebuilds a stored policy on top of the defaults, so a purpose added to the defaults later still has its basis.</summary>
    public static TenantPolicy Policy(Guid tenantId, int ageOfDigitalConsent, string restrictedWrites, string basesJson)
    {
        var policy = TenantPolicy.CreateDefault(tenantId);
        foreach (var (purpose, basis) in JsonSerializer.Deserialize<Dictionary<string, string>>(basesJson) ?? [])
        {
            policy = policy.WithBasis(Purpose.Parse(purpose), Parse<LawfulBasis>(basis));
        }

        return policy.WithAgeOfDigitalConsent(ageOfDigitalConsent).WithRestrictedWrites(Parse<RestrictedWritePolicy>(restrictedWrites));
    }

    public static void Check(PersonRecord person)
    {
        ArgumentNullException.ThrowIfNull(person);
        ArgumentNullException.ThrowIfNull(person.Roles, nameof(person.Roles));
        if (person.Roles.Contains(Role.ClientApp))
        {
            throw new ArgumentException("A person never holds the client-app role.", nameof(person));
        }

        foreach (var role in person.Roles)
        {
            _ = Name(role);
        }
    }

    public static void Check(AccountCredentials credentials)
    {
        ArgumentNullException.ThrowIfNull(credentials);
        ArgumentNullException.ThrowIfNull(credentials.PasswordHash, nameof(credentials.PasswordHash));
    }

    public static void Check(LearnerRecord learner)
    {
        ArgumentNullException.ThrowIfNull(learner);
        ArgumentNullException.ThrowIfNull(learner.Pseudonyms, nameof(learner.Pseudonyms));
        ArgumentNullException.ThrowIfNull(learner.Objections, nameof(learner.Objections));
        foreach (var pseudonym in learner.Pseudonyms)
        {
            ArgumentNullException.ThrowIfNull(pseudonym, nameof(learner.Pseudonyms));
        }

        if (learner.Pseudonyms.Distinct(ByteArrayComparer.Instance).Count() != learner.Pseudonyms.Count)
        {
            throw new ArgumentException("A learner's pseudonyms must be distinct.", nameof(learner));
        }
    }

    public static void Check(ConsentRecord record, string recordedBy)
    {
        ArgumentNullException.ThrowIfNull(record);
        ArgumentNullException.ThrowIfNull(record.Purpose, nameof(record.Purpose));
        ArgumentNullException.ThrowIfNull(record.GiverId, nameof(record.GiverId));
        ArgumentNullException.ThrowIfNull(record.Channel, nameof(record.Channel));
        ArgumentNullException.ThrowIfNull(record.NoticeVersion, nameof(record.NoticeVersion));
        ArgumentNullException.ThrowIfNull(recordedBy);
        _ = Name(record.Choice);
        _ = Name(record.GivenBy);
    }

    /// <summary>Groups rows read for <see cref="IPrivacyStore.GetLearnerFactsAsync"/> into facts.</summary>
    public static LearnerFacts Facts(
        Guid tenantId, Guid learnerId, int? birthYear, AgeBand? ageBand, bool restricted, IEnumerable<Purpose> objections,
        IEnumerable<Guid> guardians, IEnumerable<Guid> classes, IEnumerable<ConsentRecord> consents) => new()
        {
            TenantId = tenantId,
            LearnerId = learnerId.ToString("D"),
            BirthYear = birthYear,
            AgeBand = ageBand,
            Restricted = restricted,
            Objections = objections.ToHashSet(),
            GuardianIds = guardians.Select(g => g.ToString("D")).ToHashSet(StringComparer.Ordinal),
            ClassIds = classes.Select(c => c.ToString("D")).ToHashSet(StringComparer.Ordinal),
            Consents = [.. consents],
        };

    public static AgeBand? Band(int? min, int? max) => min is { } lowest ? new AgeBand(lowest, max) : null;

    internal sealed class ByteArrayComparer : IEqualityComparer<byte[]>
    {
        public static readonly ByteArrayComparer Instance = new();

        public bool Equals(byte[]? x, byte[]? y) => x is null ? y is null : y is not null && x.AsSpan().SequenceEqual(y);

        public int GetHashCode(byte[] obj)
        {
            var hash = new HashCode();
            hash.AddBytes(obj);
            return hash.ToHashCode();
        }
    }
}
