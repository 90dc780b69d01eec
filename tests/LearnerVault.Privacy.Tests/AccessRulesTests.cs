using LearnerVault.Privacy.Access;

namespace LearnerVault.Privacy.Tests;

/// <summary>One rule of <see cref="AccessRules.Decide"/> per test; the matrix covers the combinations.</summary>
public sealed class AccessRulesTests
{
    private static readonly Guid Tenant = Guid.Parse("10000000-0000-0000-0000-000000000001");
    private static readonly DateTimeOffset Now = new(2030, 6, 15, 12, 0, 0, TimeSpan.Zero);
    private static readonly TenantPolicy Policy = TenantPolicy.CreateDefault(Tenant);
    private static readonly Purpose Kolibri = Purpose.Vendor("kolibri");
    private static readonly Principal Lms =
        Principal.Client(Tenant, "lms", [Purpose.Instruction, Purpose.Research, Purpose.PolicyStatistics, Kolibri]);

    private static LearnerFacts Learner(params ConsentRecord[] consents) => new()
    {
        TenantId = Tenant,
        LearnerId = "L1",
        Pseudonym = "p-L1",
        BirthYear = 2000,
        GuardianIds = new HashSet<string> { "G1" },
        ClassIds = new HashSet<string> { "C1" },
        Consents = consents,
    };

    private static ConsentRecord ByLearner(Purpose purpose, ConsentChoice choice, DateTimeOffset at) =>
        new(purpose, choice, ConsentGiver.Learner, "L1", at, "web", "v1");

    private static ConsentRecord ByGuardian(Purpose purpose, ConsentChoice choice, DateTimeOffset at, string guardian = "G1") =>
        new(purpose, choice, ConsentGiver.Guardian, guardian, at, "paper form", "v1");

    private static AccessDecision Read(LearnerFacts learner, Purpose purpose, DateTimeOffset now, TenantPolicy? policy = null) =>
        AccessRules.Decide(Lms, AccessAction.StatementsRead, learner, purpose, policy ?? Policy, now);

    [Fact]
    public void CreateDefault_NewTenant_UsesTheDocumentedDefaults()
    {
        Assert.Equal(LawfulBasis.PublicTask, Policy.BasisFor(Purpose.Instruction));
        Assert.Equal(LawfulBasis.PublicTask, Policy.BasisFor(Purpose.Assessment));
        Assert.Equal(LawfulBasis.PublicTask, Policy.BasisFor(Purpose.SchoolAdministration));
        Assert.Equal(LawfulBasis.Consent, Policy.BasisFor(Purpose.Research));
        Assert.Equal(LawfulBasis.Consent, Policy.BasisFor(Purpose.PolicyStatistics));
        Assert.Equal(LawfulBasis.Consent, Policy.BasisFor(Kolibri));
        Assert.Equal(16, Policy.AgeOfDigitalConsent);
        Assert.Equal(RestrictedWritePolicy.StoreRestricted, Policy.RestrictedWrites);
    }

    [Theory]
    [InlineData(12)]
    [InlineData(17)]
    [InlineData(0)]
    public void WithAgeOfDigitalConsent_OutsideThirteenToSixteen_Throws(int age)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Policy.WithAgeOfDigitalConsent(age));
    }

    [Fact]
    public void Decide_PlainLrsOnNewTenant_ClientWithDefaultPurposeReadsAndWritesWithoutConsent()
    {
        var client = Principal.Client(Tenant, "plain", [Purpose.Instruction]);
        var learner = new LearnerFacts { TenantId = Tenant, LearnerId = "L9" };

        Assert.True(AccessRules.Decide(client, AccessAction.StatementsWrite, learner, Purpose.Instruction, Policy, Now).Allowed);
        Assert.True(AccessRules.Decide(client, AccessAction.StatementsRead, learner, Purpose.Instruction, Policy, Now).Allowed);
        Assert.True(AccessRules.Decide(client, AccessAction.DocumentsWrite, learner, Purpose.Instruction, Policy, Now).Allowed);
    }

    [Fact]
    public void Decide_ReadAfterWithdrawal_IsDeniedFromTheWithdrawalInstant()
    {
        var withdrawnAt = Now.AddMinutes(-5);
        var learner = Learner(
            ByLearner(Purpose.Research, ConsentChoice.Given, Now.AddDays(-30)),
            ByLearner(Purpose.Research, ConsentChoice.Withdrawn, withdrawnAt));

        Assert.True(Read(learner, Purpose.Research, withdrawnAt.AddTicks(-1)).Allowed);
        var atWithdrawal = Read(learner, Purpose.Research, withdrawnAt);
        Assert.False(atWithdrawal.Allowed);
        Assert.Equal(DecisionCode.ConsentWithdrawn, atWithdrawal.Code);
        Assert.Equal("consent_withdrawn", atWithdrawal.ReasonCode);
        Assert.False(Read(learner, Purpose.Research, withdrawnAt.AddTicks(1)).Allowed);
    }

    [Fact]
    public void Decide_GivenAgainAfterWithdrawal_LatestRecordWins()
    {
        var learner = Learner(
            ByLearner(Purpose.Research, ConsentChoice.Given, Now.AddDays(-30)),
            ByLearner(Purpose.Research, ConsentChoice.Withdrawn, Now.AddDays(-20)),
            ByLearner(Purpose.Research, ConsentChoice.Given, Now.AddDays(-10)));

        Assert.True(Read(learner, Purpose.Research, Now).Allowed);
        Assert.False(Read(learner, Purpose.Research, Now.AddDays(-15)).Allowed);
    }

    [Fact]
    public void Decide_RecordsInAnyOrder_LatestByTimeWins()
    {
        var learner = Learner(
            ByLearner(Purpose.Research, ConsentChoice.Withdrawn, Now.AddDays(-1)),
            ByLearner(Purpose.Research, ConsentChoice.Given, Now.AddDays(-30)));

        Assert.Equal(DecisionCode.ConsentWithdrawn, Read(learner, Purpose.Research, Now).Code);
    }

    [Fact]
    public void Decide_GivenAndWithdrawnAtTheSameInstant_WithdrawalWins()
    {
        var at = Now.AddDays(-1);
        var learner = Learner(
            ByLearner(Purpose.Research, ConsentChoice.Withdrawn, at),
            ByLearner(Purpose.Research, ConsentChoice.Given, at));

        Assert.Equal(DecisionCode.ConsentWithdrawn, Read(learner, Purpose.Research, Now).Code);
    }

    [Fact]
    public void Decide_ConsentDatedAfterNow_DoesNotCountYet()
    {
        var learner = Learner(ByLearner(Purpose.Research, ConsentChoice.Given, Now.AddSeconds(1)));

        Assert.Equal(DecisionCode.ConsentMissing, Read(learner, Purpose.Research, Now).Code);
    }

    [Fact]
    public void Decide_ConsentToAnotherPurpose_DoesNotCount()
    {
        var learner = Learner(ByLearner(Kolibri, ConsentChoice.Given, Now.AddDays(-1)));

        Assert.Equal(DecisionCode.ConsentMissing, Read(learner, Purpose.Research, Now).Code);
        Assert.True(Read(learner, Kolibri, Now).Allowed);
    }

    [Theory]
    [InlineData(13)]
    [InlineData(14)]
    [InlineData(15)]
    [InlineData(16)]
    public void Decide_AgeBandStartingExactlyAtTheAgeOfConsent_OwnConsentCounts(int age)
    {
        var policy = Policy.WithAgeOfDigitalConsent(age);
        var atAge = Learner(ByLearner(Purpose.Research, ConsentChoice.Given, Now.AddDays(-1)));
        var ofAge = WithAge(atAge, birthYear: null, new AgeBand(age, age + 2));
        var oneBelow = WithAge(atAge, birthYear: null, new AgeBand(age - 1, age + 2));

        Assert.True(Read(ofAge, Purpose.Research, Now, policy).Allowed);
        Assert.Equal(DecisionCode.ConsentNeedsGuardian, Read(oneBelow, Purpose.Research, Now, policy).Code);
    }

    [Theory]
    [InlineData(13)]
    [InlineData(16)]
    public void Decide_BirthYearExactlyAgeOfConsentYearsAgo_StillMinorUntilTheNextYear(int age)
    {
        var policy = Policy.WithAgeOfDigitalConsent(age);
        var consent = ByLearner(Purpose.Research, ConsentChoice.Given, Now.AddDays(-1));
        var mayNotHaveHadTheBirthday = WithAge(Learner(consent), Now.Year - age, band: null);
        var certainlyOfAge = WithAge(Learner(consent), Now.Year - age - 1, band: null);

        Assert.Equal(DecisionCode.ConsentNeedsGuardian, Read(mayNotHaveHadTheBirthday, Purpose.Research, Now, policy).Code);
        Assert.True(Read(certainlyOfAge, Purpose.Research, Now, policy).Allowed);
        Assert.True(Read(mayNotHaveHadTheBirthday, Purpose.Research, new DateTimeOffset(Now.Year + 1, 1, 1, 0, 0, 0, TimeSpan.Zero), policy).Allowed);
    }

    [Fact]
    public void Decide_UnknownAge_TreatedAsMinor()
    {
        var ownConsent = WithAge(Learner(ByLearner(Purpose.Research, ConsentChoice.Given, Now.AddDays(-1))), null, null);
        var guardianConsent = WithAge(Learner(ByGuardian(Purpose.Research, ConsentChoice.Given, Now.AddDays(-1))), null, null);

        Assert.Equal(DecisionCode.ConsentNeedsGuardian, Read(ownConsent, Purpose.Research, Now).Code);
        Assert.True(Read(guardianConsent, Purpose.Research, Now).Allowed);
    }

    [Fact]
    public void Decide_BirthYearAndBandDisagree_TheYoungerReadingWins()
    {
        var learner = WithAge(Learner(ByLearner(Purpose.Research, ConsentChoice.Given, Now.AddDays(-1))), 2000, new AgeBand(13, 15));

        Assert.Equal(DecisionCode.ConsentNeedsGuardian, Read(learner, Purpose.Research, Now).Code);
    }

    [Fact]
    public void Decide_MinorWithConsentFromAnUnlinkedGuardian_IsDenied()
    {
        var learner = WithAge(Learner(ByGuardian(Purpose.Research, ConsentChoice.Given, Now.AddDays(-1), guardian: "G-stranger")), 2020, null);

        Assert.Equal(DecisionCode.ConsentNeedsGuardian, Read(learner, Purpose.Research, Now).Code);
    }

    [Fact]
    public void Decide_MinorWithdrawsAfterGuardianConsent_TheChildsWithdrawalCounts()
    {
        var learner = WithAge(
            Learner(
                ByGuardian(Purpose.Research, ConsentChoice.Given, Now.AddDays(-10)),
                ByLearner(Purpose.Research, ConsentChoice.Withdrawn, Now.AddDays(-1))),
            2020,
            null);

        Assert.Equal(DecisionCode.ConsentWithdrawn, Read(learner, Purpose.Research, Now).Code);
    }

    [Fact]
    public void Decide_MinorGivesOwnConsentAfterGuardian_GuardianConsentStillHolds()
    {
        var learner = WithAge(
            Learner(
                ByGuardian(Purpose.Research, ConsentChoice.Given, Now.AddDays(-10)),
                ByLearner(Purpose.Research, ConsentChoice.Given, Now.AddDays(-1))),
            2020,
            null);

        Assert.True(Read(learner, Purpose.Research, Now).Allowed);
    }

    [Fact]
    public void Decide_LearnerCameOfAgeWithOnlyGuardianConsent_MustConsentThemself()
    {
        var learner = Learner(ByGuardian(Purpose.Research, ConsentChoice.Given, Now.AddYears(-10)));

        Assert.Equal(DecisionCode.ConsentNeedsLearner, Read(learner, Purpose.Research, Now).Code);
    }

    [Fact]
    public void Decide_VendorPurpose_NeedsConsentByDefaultAndDeclaration()
    {
        var consented = Learner(ByLearner(Kolibri, ConsentChoice.Given, Now.AddDays(-1)));
        var undeclaring = Principal.Client(Tenant, "other", [Purpose.Instruction]);

        Assert.True(Read(consented, Kolibri, Now).Allowed);
        Assert.Equal(DecisionCode.ConsentMissing, Read(Learner(), Kolibri, Now).Code);
        Assert.Equal(
            DecisionCode.PurposeNotDeclared,
            AccessRules.Decide(undeclaring, AccessAction.StatementsRead, consented, Kolibri, Policy, Now).Code);
    }

    [Fact]
    public void Decide_VendorPurposeUnderContract_HoldsWithoutConsent()
    {
        var policy = Policy.WithBasis(Kolibri, LawfulBasis.Contract);

        var other = Purpose.Vendor("other");
        var client = Principal.Client(Tenant, "apps", [Kolibri, other]);

        Assert.True(AccessRules.Decide(client, AccessAction.StatementsRead, Learner(), Kolibri, policy, Now).Allowed);
        Assert.Equal(
            DecisionCode.ConsentMissing, AccessRules.Decide(client, AccessAction.StatementsRead, Learner(), other, policy, Now).Code);
    }

    [Fact]
    public void Decide_ObjectionToPublicTaskPurpose_DeniesThatPurposeOnly()
    {
        var learner = Learner(ByLearner(Purpose.Research, ConsentChoice.Given, Now.AddDays(-1)));
        var objecting = With(learner, objections: [Purpose.Instruction]);

        var decision = Read(objecting, Purpose.Instruction, Now);
        Assert.False(decision.Allowed);
        Assert.Equal(DecisionCode.Objection, decision.Code);
        Assert.True(Read(objecting, Purpose.Research, Now).Allowed);
    }

    [Theory]
    [InlineData(LawfulBasis.PublicTask, false)]
    [InlineData(LawfulBasis.LegitimateInterest, false)]
    [InlineData(LawfulBasis.LegalObligation, true)]
    [InlineData(LawfulBasis.Contract, true)]
    public void Decide_ObjectionUnderEachBasis_DeniesOnlyWhereTheRightToObjectApplies(LawfulBasis basis, bool allowed)
    {
        var policy = Policy.WithBasis(Purpose.Assessment, basis);
        var client = Principal.Client(Tenant, "quiz", [Purpose.Assessment]);
        var objecting = With(Learner(), objections: [Purpose.Assessment]);

        Assert.Equal(allowed, AccessRules.Decide(client, AccessAction.StatementsRead, objecting, Purpose.Assessment, policy, Now).Allowed);
    }

    [Fact]
    public void Decide_NewStatementOfObjectingLearner_StoredRestrictedOrRefusedPerPolicy()
    {
        var objecting = With(Learner(), objections: [Purpose.Instruction]);

        var stored = AccessRules.Decide(Lms, AccessAction.StatementsWrite, objecting, Purpose.Instruction, Policy, Now);
        var refused = AccessRules.Decide(
            Lms, AccessAction.StatementsWrite, objecting, Purpose.Instruction, Policy.WithRestrictedWrites(RestrictedWritePolicy.Refuse), Now);

        Assert.True(stored.Allowed);
        Assert.True(stored.StoreRestricted);
        Assert.Equal(DecisionCode.StoredRestricted, stored.Code);
        Assert.False(refused.Allowed);
        Assert.False(refused.StoreRestricted);
        Assert.Equal(DecisionCode.Objection, refused.Code);
    }

    [Fact]
    public void Decide_RestrictedLearner_OthersDeniedButLearnerAndDpoKeepAccess()
    {
        var restricted = With(Learner(), restricted: true);
        var teacher = Principal.Teacher(Tenant, "T1", ["C1"]);
        var dpo = Principal.Person(Tenant, "dpo", Role.DataProtectionOfficer);
        var self = Principal.Learner(Tenant, "person-L1", "L1");

        Assert.Equal(DecisionCode.Restricted, Read(restricted, Purpose.Instruction, Now).Code);
        Assert.Equal(DecisionCode.Restricted, AccessRules.Decide(teacher, AccessAction.StatementsRead, restricted, Purpose.Instruction, Policy, Now).Code);
        Assert.True(AccessRules.Decide(self, AccessAction.StatementsRead, restricted, Purpose.Instruction, Policy, Now).Allowed);
        Assert.True(AccessRules.Decide(self, AccessAction.Export, restricted, Purpose.Instruction, Policy, Now).Allowed);
        Assert.True(AccessRules.Decide(dpo, AccessAction.ConsentsRead, restricted, Purpose.Instruction, Policy, Now).Allowed);
        var write = AccessRules.Decide(Lms, AccessAction.StatementsWrite, restricted, Purpose.Instruction, Policy, Now);
        Assert.True(write.Allowed && write.StoreRestricted);
    }

    [Fact]
    public void Decide_ClientReadingForPolicyStatistics_IsAggregateOnlyEvenWithConsent()
    {
        var consented = Learner(ByLearner(Purpose.PolicyStatistics, ConsentChoice.Given, Now.AddDays(-1)));

        Assert.Equal(DecisionCode.AggregateOnly, Read(consented, Purpose.PolicyStatistics, Now).Code);
        Assert.True(AccessRules.Decide(Lms, AccessAction.StatementsWrite, consented, Purpose.PolicyStatistics, Policy, Now).Allowed);
    }

    [Fact]
    public void Decide_AnalystWithEverything_IsAggregateOnly()
    {
        var analyst = Principal.Person(Tenant, "analyst", Role.Analyst);
        var consented = Learner(ByLearner(Purpose.PolicyStatistics, ConsentChoice.Given, Now.AddDays(-1)));

        foreach (var action in AccessActions.All)
        {
            Assert.Equal(DecisionCode.AggregateOnly, AccessRules.Decide(analyst, action, consented, Purpose.PolicyStatistics, Policy, Now).Code);
        }
    }

    [Fact]
    public void Decide_ResearcherWhenTenantPutsResearchUnderPublicTask_StillNeedsConsent()
    {
        var researcher = Principal.Person(Tenant, "r1", Role.Researcher);
        var policy = Policy.WithBasis(Purpose.Research, LawfulBasis.PublicTask);
        var consented = Learner(ByLearner(Purpose.Research, ConsentChoice.Given, Now.AddDays(-1)));

        Assert.Equal(DecisionCode.ConsentMissing, AccessRules.Decide(researcher, AccessAction.Export, Learner(), Purpose.Research, policy, Now).Code);
        Assert.True(AccessRules.Decide(researcher, AccessAction.Export, consented, Purpose.Research, policy, Now).Allowed);
    }

    [Fact]
    public void Decide_DpoReadingContent_IsDenied()
    {
        var dpo = Principal.Person(Tenant, "dpo", Role.DataProtectionOfficer);

        Assert.Equal(
            DecisionCode.ActionNotPermittedForRole,
            AccessRules.Decide(dpo, AccessAction.StatementsRead, Learner(), Purpose.SchoolAdministration, Policy, Now).Code);
        Assert.True(AccessRules.Decide(dpo, AccessAction.AccessLogRead, learner: null, Purpose.SchoolAdministration, Policy, Now).Allowed);
    }

    [Fact]
    public void Decide_SchoolAdministratorKeepingTheRegisterOfARestrictedLearner_IsAllowedForSchoolAdministrationOnly()
    {
        var admin = Principal.Person(Tenant, "admin", Role.SchoolAdministrator);
        var restricted = new LearnerFacts { TenantId = Tenant, LearnerId = "L1", Restricted = true };

        var write = AccessRules.Decide(admin, AccessAction.LearnerRecordWrite, restricted, Purpose.SchoolAdministration, Policy, Now);
        var read = AccessRules.Decide(admin, AccessAction.LearnerRecordRead, restricted, Purpose.SchoolAdministration, Policy, Now);

        Assert.Equal(DecisionCode.IdentityAdministration, write.Code);
        Assert.Equal(DecisionCode.IdentityAdministration, read.Code);
        Assert.Equal(
            DecisionCode.PurposeNotPermittedForRole,
            AccessRules.Decide(admin, AccessAction.LearnerRecordWrite, restricted, Purpose.Instruction, Policy, Now).Code);
        Assert.Equal(
            DecisionCode.ActionNotPermittedForRole,
            AccessRules.Decide(admin, AccessAction.RestrictionWrite, restricted, Purpose.SchoolAdministration, Policy, Now).Code);
    }

    [Fact]
    public void Decide_RestrictionWrite_IsTheDposOversightOnly()
    {
        var dpo = Principal.Person(Tenant, "dpo", Role.DataProtectionOfficer);
        var self = Principal.Learner(Tenant, "p1", "L1");

        Assert.Equal(DecisionCode.Oversight, AccessRules.Decide(dpo, AccessAction.RestrictionWrite, Learner(), Purpose.Instruction, Policy, Now).Code);
        Assert.Equal(DecisionCode.Oversight, AccessRules.Decide(dpo, AccessAction.LearnerRecordRead, Learner(), Purpose.Instruction, Policy, Now).Code);
        Assert.Equal(
            DecisionCode.ActionNotPermittedForRole,
            AccessRules.Decide(dpo, AccessAction.LearnerRecordWrite, Learner(), Purpose.SchoolAdministration, Policy, Now).Code);
        Assert.Equal(
            DecisionCode.ActionNotPermittedForRole, AccessRules.Decide(self, AccessAction.RestrictionWrite, Learner(), Purpose.Instruction, Policy, Now).Code);
    }

    [Fact]
    public void Decide_LearnerAndGuardianReadingTheRegister_OwnRecordOnly()
    {
        var self = Principal.Learner(Tenant, "p1", "L1");
        var guardian = Principal.Guardian(Tenant, "G1");
        var otherGuardian = Principal.Guardian(Tenant, "G2");

        Assert.Equal(DecisionCode.OwnData, AccessRules.Decide(self, AccessAction.LearnerRecordRead, Learner(), Purpose.Instruction, Policy, Now).Code);
        Assert.Equal(
            DecisionCode.GuardianOfLearner, AccessRules.Decide(guardian, AccessAction.LearnerRecordRead, Learner(), Purpose.Instruction, Policy, Now).Code);
        Assert.Equal(
            DecisionCode.NotGuardian, AccessRules.Decide(otherGuardian, AccessAction.LearnerRecordRead, Learner(), Purpose.Instruction, Policy, Now).Code);
        Assert.Equal(
            DecisionCode.ActionNotPermittedForRole, AccessRules.Decide(self, AccessAction.LearnerRecordWrite, Learner(), Purpose.Instruction, Policy, Now).Code);
    }

    [Fact]
    public void Decide_ClientWithNoLearner_NeedsOnlyADeclaredPurpose()
    {
        Assert.Equal(DecisionCode.NoLearner, AccessRules.Decide(Lms, AccessAction.StatementsWrite, null, Purpose.Instruction, Policy, Now).Code);
        Assert.Equal(
            DecisionCode.PurposeNotDeclared,
            AccessRules.Decide(Lms, AccessAction.StatementsWrite, null, Purpose.Assessment, Policy, Now).Code);
    }

    [Fact]
    public void Decide_PolicyOfAnotherTenant_IsDeniedAsCrossTenant()
    {
        var foreign = TenantPolicy.CreateDefault(Guid.NewGuid());

        var decision = AccessRules.Decide(Lms, AccessAction.StatementsWrite, null, Purpose.Instruction, foreign, Now);

        Assert.False(decision.Allowed);
        Assert.Equal("cross_tenant", decision.ReasonCode);
    }

    [Fact]
    public void Decide_AnyOutcome_CarriesTheAuditEntryFields()
    {
        var decision = AccessRules.Decide(Lms, AccessAction.DocumentsRead, Learner(), Purpose.Research, Policy, Now);

        Assert.False(decision.Allowed);
        Assert.Equal(Now, decision.At);
        Assert.Equal(Tenant, decision.TenantId);
        Assert.Equal(Role.ClientApp, decision.Role);
        Assert.Equal("lms", decision.PrincipalId);
        Assert.Equal("lms", decision.ClientId);
        Assert.Equal(AccessAction.DocumentsRead, decision.Action);
        Assert.Equal("documents.read", decision.Action.Name());
        Assert.Equal(Purpose.Research, decision.Purpose);
        Assert.Equal("L1", decision.LearnerId);
        Assert.Equal("p-L1", decision.LearnerPseudonym);
        Assert.Equal("consent_missing", decision.ReasonCode);
        Assert.Contains("research", decision.Reason, StringComparison.Ordinal);
    }

    private static LearnerFacts WithAge(LearnerFacts l, int? birthYear, AgeBand? band) => l with { BirthYear = birthYear, AgeBand = band };

    private static LearnerFacts With(LearnerFacts l, bool restricted = false, Purpose[]? objections = null) =>
        l with { Restricted = restricted, Objections = (objections ?? []).ToHashSet() };
}
