using LearnerVault.Privacy.Access;
using LearnerVault.Privacy.Audit;
using LearnerVault.Server.Accounts;
using LearnerVault.Storage;
using LearnerVault.Storage.People;

namespace LearnerVault.Server.Endpoints.Api;

/// <summary>A person as the admin API shows them.</summary>
public sealed record PersonView(
    Guid Id, IReadOnlyList<string> Roles, string? Name, Guid? LearnerId, bool HasLogin, DateTimeOffset Created, DateTimeOffset? Disabled);

/// <summary>A learner's identity record: never an identifier, only how many are registered.</summary>
public sealed record LearnerView(
    Guid Id,
    int? BirthYear,
    AgeBandView? AgeBand,
    int Identifiers,
    bool Restricted,
    IReadOnlyList<string> Objections,
    IReadOnlyList<Guid> Guardians,
    IReadOnlyList<Guid> Classes,
    DateTimeOffset Created);

public sealed record AgeBandView(int MinAge, int? MaxAge);

public sealed record ClassView(Guid Id, string Name, DateTimeOffset Created, IReadOnlyList<Guid>? Learners, IReadOnlyList<Guid>? Teachers);

public sealed record ConsentView(
    long Id, string Purpose, string Choice, string GivenBy, string GiverId, DateTimeOffset At, string Channel, string NoticeVersion, string RecordedBy);

public sealed record TokenView(string Id, string Kind, string? Label, DateTimeOffset Created, DateTimeOffset Expires, DateTimeOffset? Revoked);

public sealed record AccessLogEntryView(
    long Position,
    DateTimeOffset Time,
    string Principal,
    string? Client,
    string Action,
    string Purpose,
    string? LearnerPseudonym,
    long Records,
    string Decision,
    string Reason);

public sealed record AccessLogPage(IReadOnlyList<AccessLogEntryView> Entries, long? Next);

public sealed record ClientView(
    string Key, string Name, IReadOnlyList<string> Scopes, IReadOnlyList<string> Purposes, DateTimeOffset Created, DateTimeOffset? Revoked);

/// <summary>Turning stored records into views.</summary>
public static class ApiViews
{
    public static PersonView View(this PersonRecord person, AccountCrypto crypto) => new(
        person.Id,
        [.. person.Roles.Select(RoleNames.Name)],
        crypto.OpenProfile(person.TenantId, person.Id, person.Profile).Name,
        person.LearnerId,
        person.LoginKey is not null,
        person.Created,
        person.Disabled);

    public static LearnerView View(this LearnerRecord learner, LearnerFacts? facts) => new(
        learner.Id,
        learner.BirthYear,
        learner.AgeBand is { } band ? new AgeBandView(band.MinAge, band.MaxAge) : null,
        learner.Pseudonyms.Count,
        learner.Restricted,
        [.. learner.Objections.Select(p => p.Name)],
        [.. (facts?.GuardianIds ?? new HashSet<string>()).Select(Guid.Parse).Order()],
        [.. (facts?.ClassIds ?? new HashSet<string>()).Select(Guid.Parse).Order()],
        learner.Created);

    public static ConsentView View(this StoredConsent consent) => new(
        consent.Id,
        consent.Record.Purpose.Name,
        consent.Record.Choice == ConsentChoice.Given ? "given" : "withdrawn",
        consent.Record.GivenBy == ConsentGiver.Learner ? "learner" : "guardian",
        consent.Record.GiverId,
        consent.Record.At,
        consent.Record.Channel,
        consent.Record.NoticeVersion,
        consent.RecordedBy);

    public static TokenView View(this AuthTokenRecord token) => new(
        AccountService.TokenId(token), token.Kind == AuthTokenKind.Session ? "session" : "bearer", token.Label, token.Created, token.Expires, token.Revoked);

    public static AccessLogEntryView View(this AccessLogRecord record) => new(
        record.Position,
        record.Entry.Time,
        record.Entry.Principal,
        record.Entry.Client,
        record.Entry.Action,
        record.Entry.Purpose,
        record.Entry.LearnerPseudonym is { } p ? Convert.ToHexStringLower(p) : null,
        record.Entry.Records,
        record.Entry.Decision == Privacy.Audit.AccessDecision.Allow ? "allow" : "deny",
        record.Entry.Reason);

    public static ClientView View(this ClientRecord client) =>
        new(client.Key, client.Name, client.Scopes, client.Purposes, client.Created, client.Revoked);

    public static string Name(this LawfulBasis basis) => basis switch
    {
        LawfulBasis.Consent => "consent",
        LawfulBasis.PublicTask => "public-task",
        LawfulBasis.LegalObligation => "legal-obligation",
        LawfulBasis.LegitimateInterest => "legitimate-interest",
        LawfulBasis.Contract => "contract",
        _ => throw new ArgumentOutOfRangeException(nameof(basis)),
    };

    public static bool TryParseBasis(string? text, out LawfulBasis basis)
    {
        foreach (var candidate in Enum.GetValues<LawfulBasis>())
        {
            if (string.Equals(candidate.Name(), text?.Trim(), StringComparison.OrdinalIgnoreCase))
            {
                basis = candidate;
                return true;
            }
        }

        basis = default;
        return false;
    }

    /// <summary>A purpose from the request, or a 422 saying why it is refused (advertising, profiling…) or unknown.</summary>
    public static Purpose ParsePurpose(string? text)
    {
        if (Purpose.TryParse(text, out var purpose, out var error))
        {
            return purpose;
        }

        throw error.Contains("is refused", StringComparison.Ordinal)
            ? new LearnerVault.Server.Api.ApiProblemException(422, "purpose-refused", "This purpose is refused.", error)
            : LearnerVault.Server.Api.ApiProblems.Invalid(error);
    }
}
