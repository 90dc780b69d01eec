namespace LearnerVault.Xapi.Tests;

public sealed class StatementFactsExtractorTests
{
    private const string Rich = """
        {
          "actor": { "objectType": "Group", "mbox": "mailto:class@Example.org", "member": [ { "mbox": "mailto:m1@example.com" }, { "account": { "homePage": "https://lms.example.com", "name": "m2" } } ] },
          "verb": { "id": "http://example.com/xapi/verbs/attended" },
          "object": { "id": "http://example.com/xapi/activities/lesson-1" },
          "context": {
            "registration": "EC531277-B57B-4C15-8D91-D292C5B2B8F7",
            "instructor": { "mbox": "mailto:teacher@example.org" },
            "team": { "objectType": "Group", "member": [ { "openid": "https://openid.example.org/t1" } ] },
            "contextActivities": { "parent": { "id": "http://example.com/xapi/activities/course-1" }, "category": [ { "id": "http://example.com/xapi/activities/profile" }, { "id": "http://example.com/xapi/activities/lesson-1" } ] },
            "contextAgents": [ { "objectType": "contextAgent", "agent": { "mbox_sha1sum": "4BD6AD4DD9C3A7B4C1F0F39CA2A6BE1E1B6DD3C0" } } ],
            "contextGroups": [ { "objectType": "contextGroup", "group": { "objectType": "Group", "openid": "https://openid.example.org/g", "member": [ { "mbox": "mailto:g1@example.com" } ] } } ]
          },
          "timestamp": "2024-01-01T00:00:00Z"
        }
        """;

    [Fact]
    public void Extract_IdentifiedGroupActor_LearnerIfiIsTheGroup()
    {
        var facts = StatementFactsExtractor.Extract(TestJson.Prepare(Rich));

        Assert.Equal("mbox:mailto:class@example.org", facts.LearnerIfi);
    }

    [Fact]
    public void Extract_GroupActor_AgentsContainGroupAndMembers()
    {
        var facts = StatementFactsExtractor.Extract(TestJson.Prepare(Rich));

        Assert.Equal(["mbox:mailto:class@example.org", "mbox:mailto:m1@example.com", "account:https://lms.example.com|m2"], facts.Agents);
    }

    [Fact]
    public void Extract_RelatedAgents_IncludeAuthorityInstructorTeamAndContextAgents()
    {
        var facts = StatementFactsExtractor.Extract(TestJson.Prepare(Rich));

        Assert.Equal(
            [
                "mbox:mailto:class@example.org", "mbox:mailto:m1@example.com", "account:https://lms.example.com|m2",
                "account:https://lrs.example.org|client-7",
                "mbox:mailto:teacher@example.org", "openid:https://openid.example.org/t1",
                "mbox_sha1sum:4bd6ad4dd9c3a7b4c1f0f39ca2a6be1e1b6dd3c0",
                "openid:https://openid.example.org/g", "mbox:mailto:g1@example.com",
            ],
            facts.RelatedAgents);
    }

    [Fact]
    public void Extract_Activities_ObjectAndDistinctContextActivities()
    {
        var facts = StatementFactsExtractor.Extract(TestJson.Prepare(Rich));

        Assert.Equal("http://example.com/xapi/activities/lesson-1", facts.ActivityId);
        Assert.Equal(
            ["http://example.com/xapi/activities/lesson-1", "http://example.com/xapi/activities/course-1", "http://example.com/xapi/activities/profile"],
            facts.RelatedActivities);
    }

    [Fact]
    public void Extract_RegistrationVerbAndTimestamp_AreReported()
    {
        var facts = StatementFactsExtractor.Extract(TestJson.Prepare(Rich));

        Assert.Equal(Guid.Parse("ec531277-b57b-4c15-8d91-d292c5b2b8f7"), facts.Registration);
        Assert.Equal("http://example.com/xapi/verbs/attended", facts.VerbId);
        Assert.True(facts.HasTimestamp);
        Assert.Null(facts.RefTarget);
        Assert.False(facts.IsVoiding);
    }

    [Fact]
    public void Extract_AnonymousGroupActor_LearnerIfiIsNullAndMembersAreAgents()
    {
        var facts = StatementFactsExtractor.Extract(TestJson.Prepare("""
            { "actor": { "objectType": "Group", "member": [ { "mbox": "mailto:a@example.com" }, { "mbox": "mailto:b@example.com" } ] },
              "verb": { "id": "http://example.com/v" }, "object": { "id": "http://example.com/a" } }
            """));

        Assert.Null(facts.LearnerIfi);
        Assert.Equal(["mbox:mailto:a@example.com", "mbox:mailto:b@example.com"], facts.Agents);
        Assert.False(facts.HasTimestamp);
    }

    [Fact]
    public void Extract_AgentObject_IsInAgentsAndThereIsNoActivity()
    {
        var facts = StatementFactsExtractor.Extract(TestJson.Prepare("""
            { "actor": { "mbox": "mailto:teacher@example.org" }, "verb": { "id": "http://example.com/v/mentored" },
              "object": { "objectType": "Agent", "mbox": "mailto:learner@example.com" } }
            """));

        Assert.Equal(["mbox:mailto:teacher@example.org", "mbox:mailto:learner@example.com"], facts.Agents);
        Assert.Null(facts.ActivityId);
        Assert.Empty(facts.RelatedActivities);
    }

    [Fact]
    public void Extract_SubStatement_ContributesRelatedAgentsAndActivitiesButNotAgents()
    {
        var facts = StatementFactsExtractor.Extract(TestJson.Prepare("""
            { "actor": { "mbox": "mailto:teacher@example.org" }, "verb": { "id": "http://example.com/v/planned" },
              "object": { "objectType": "SubStatement", "actor": { "mbox": "mailto:learner@example.com" }, "verb": { "id": "http://example.com/v/do" },
                          "object": { "id": "http://example.com/a/inner" },
                          "context": { "instructor": { "mbox": "mailto:coach@example.org" }, "contextActivities": { "parent": [ { "id": "http://example.com/a/inner-parent" } ] } } } }
            """));

        Assert.Equal(["mbox:mailto:teacher@example.org"], facts.Agents);
        Assert.Contains("mbox:mailto:learner@example.com", facts.RelatedAgents);
        Assert.Contains("mbox:mailto:coach@example.org", facts.RelatedAgents);
        Assert.Null(facts.ActivityId);
        Assert.Equal(["http://example.com/a/inner", "http://example.com/a/inner-parent"], facts.RelatedActivities);
    }

    [Fact]
    public void Extract_VoidingStatement_ReportsTargetAndVoiding()
    {
        var facts = StatementFactsExtractor.Extract(TestJson.Prepare("""
            { "actor": { "mbox": "mailto:admin@example.org" }, "verb": { "id": "http://adlnet.gov/expapi/verbs/voided" },
              "object": { "objectType": "StatementRef", "id": "E05AA883-ACAF-40AD-BF54-02C8CE485FB0" } }
            """));

        Assert.Equal(Guid.Parse("e05aa883-acaf-40ad-bf54-02c8ce485fb0"), facts.RefTarget);
        Assert.True(facts.IsVoiding);
        Assert.Null(facts.ActivityId);
    }

    [Fact]
    public void Extract_StatementRefWithOtherVerb_IsNotVoiding()
    {
        var facts = StatementFactsExtractor.Extract(TestJson.Prepare("""
            { "actor": { "mbox": "mailto:teacher@example.org" }, "verb": { "id": "http://example.com/v/commented" },
              "object": { "objectType": "StatementRef", "id": "e05aa883-acaf-40ad-bf54-02c8ce485fb0" } }
            """));

        Assert.NotNull(facts.RefTarget);
        Assert.False(facts.IsVoiding);
    }
}
