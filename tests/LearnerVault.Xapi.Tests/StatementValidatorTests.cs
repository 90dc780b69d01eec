using System.Text.Json;

namespace LearnerVault.Xapi.Tests;

public sealed class StatementValidatorTests
{
    private static ValidationResult Validate(string json, XapiVersion version = XapiVersion.V2_0_0) =>
        StatementValidator.Validate(TestJson.Element(json), version);

    private static string With(string property, string valueJson) =>
        TestJson.MinimalStatement.TrimEnd().TrimEnd('}') + ", \"" + property + "\": " + valueJson + " }";

    [Fact]
    public void Validate_MinimalStatement_IsValid()
    {
        var result = Validate(TestJson.MinimalStatement);

        Assert.True(result.IsValid);
        Assert.Same(ValidationResult.Ok, result);
    }

    [Fact]
    public void Validate_InvalidMbox_ErrorNamesPathButNotValue()
    {
        var result = Validate("""
            { "actor": { "mbox": "learner.secret@example.com" }, "verb": { "id": "http://example.com/v" }, "object": { "id": "http://example.com/a" } }
            """);

        Assert.False(result.IsValid);
        Assert.Equal("actor.mbox must be a mailto IRI", result.Error);
    }

    [Fact]
    public void Validate_NestedError_ReportsFullPath()
    {
        var result = Validate(With("context", """{ "contextActivities": { "parent": [ { "id": "http://example.com/a" }, { "id": "not an iri" } ] } }"""));

        Assert.Equal("context.contextActivities.parent[1].id must be an absolute IRI", result.Error);
    }

    [Fact]
    public void Validate_SubStatementError_ReportsPathThroughObject()
    {
        var result = Validate("""
            { "actor": { "mbox": "mailto:a@example.com" }, "verb": { "id": "http://example.com/v" },
              "object": { "objectType": "SubStatement", "actor": { "objectType": "Group", "member": [ { "mbox": "x" } ] },
                          "verb": { "id": "http://example.com/v" }, "object": { "id": "http://example.com/a" } } }
            """);

        Assert.Equal("object.actor.member[0].mbox must be a mailto IRI", result.Error);
    }

    [Fact]
    public void Validate_NotAnObject_ReportsStatement()
    {
        var result = Validate("[1, 2]");

        Assert.Equal("statement must be a JSON object", result.Error);
    }

    [Fact]
    public void Validate_UnknownIdentifierProperty_NamesIt()
    {
        var result = Validate(With("dummy", "\"x\""));

        Assert.Equal("dummy is not an allowed property", result.Error);
    }

    [Fact]
    public void Validate_UnknownPropertyThatLooksLikeData_DoesNotEchoIt()
    {
        var result = Validate(With("learner.one@example.com", "\"x\""));

        Assert.False(result.IsValid);
        Assert.DoesNotContain("example.com", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_InvalidLanguageTagKey_DoesNotEchoKey()
    {
        var result = Validate("""
            { "actor": { "mbox": "mailto:a@example.com" }, "verb": { "id": "http://example.com/v", "display": { "secret-value-123456789": "x" } }, "object": { "id": "http://example.com/a" } }
            """);

        Assert.Equal("verb.display has a key that is not an RFC 5646 language tag", result.Error);
    }

    [Theory]
    [InlineData("""{ "actor": { "mbox": "mailto:a@example.com" }, "actor": { "mbox": "mailto:b@example.com" }, "verb": { "id": "http://example.com/v" }, "object": { "id": "http://example.com/a" } }""")]
    [InlineData("""{ "actor": { "mbox": "mailto:a@example.com", "mbox": "mailto:b@example.com" }, "verb": { "id": "http://example.com/v" }, "object": { "id": "http://example.com/a" } }""")]
    [InlineData("""{ "actor": { "mbox": "mailto:a@example.com" }, "verb": { "id": "http://example.com/v", "display": { "en": "a", "en": "b" } }, "object": { "id": "http://example.com/a" } }""")]
    [InlineData("""{ "actor": { "mbox": "mailto:a@example.com" }, "verb": { "id": "http://example.com/v" }, "object": { "id": "http://example.com/a" }, "result": { "extensions": { "http://example.com/e": 1, "http://example.com/e": 2 } } }""")]
    [InlineData("""{ "actor": { "mbox": "mailto:a@example.com" }, "verb": { "id": "http://example.com/v" }, "object": { "id": "http://example.com/a" }, "result": { "extensions": { "http://example.com/e": { "k": [ { "x": 1, "x": 2 } ] } } } }""")]
    [InlineData("""{ "\u0061ctor": { "mbox": "mailto:a@example.com" }, "actor": { "mbox": "mailto:a@example.com" }, "verb": { "id": "http://example.com/v" }, "object": { "id": "http://example.com/a" } }""")]
    [InlineData("""{ "actor": { "mbox": "mailto:a@example.com" }, "verb": { "id": "http://example.com/v" }, "object": { "id": "http://example.com/a" }, "context": { "extensions": { "http://example.com/e": { "\u006b": 1, "k": 2 } } } }""")]
    public void Validate_RepeatedPropertyName_IsInvalid(string json) => Assert.False(Validate(json).IsValid);

    [Theory]
    [InlineData("""[ { "id": "a" }, { "id": "\u0061" } ]""", false)]
    [InlineData("""[ { "id": "a" }, { "id": "b" }, { "id": "a" } ]""", false)]
    [InlineData("""[ { "id": "a" }, { "id": "A" }, { "id": "\u0062" } ]""", true)]
    public void Validate_InteractionComponentIds_MustBeDistinct(string choices, bool valid)
    {
        var result = Validate($$"""
            { "actor": { "mbox": "mailto:a@example.com" }, "verb": { "id": "http://example.com/v" },
              "object": { "id": "http://example.com/a", "definition": { "interactionType": "choice", "choices": {{choices}} } } }
            """);

        Assert.Equal(valid, result.IsValid);
    }

    [Fact]
    public void Validate_ManyInteractionComponents_ChecksDistinctIds()
    {
        var choices = string.Join(", ", Enumerable.Range(0, 30).Select(i => $"{{ \"id\": \"c{i % 29}\" }}"));

        var result = Validate("{ \"actor\": { \"mbox\": \"mailto:a@example.com\" }, \"verb\": { \"id\": \"http://example.com/v\" }, \"object\": { \"id\": \"http://example.com/a\", \"definition\": { \"interactionType\": \"sequencing\", \"choices\": [" + choices + "] } } }");

        Assert.Equal("object.definition.choices ids must be distinct", result.Error);
    }

    [Fact]
    public void Validate_ManyDistinctExtensionKeys_IsValid()
    {
        var keys = string.Join(", ", Enumerable.Range(0, 40).Select(i => $"\"http://example.com/e/{i}\": {i}"));

        Assert.True(Validate(With("result", "{ \"extensions\": { " + keys + " } }")).IsValid);
    }

    [Fact]
    public void Validate_EscapedStringsAndNames_AreUnescapedFirst()
    {
        var result = Validate("""
            { "\u0061ctor": { "mbox": "\u006dailto:a@example.com" }, "verb": { "id": "http:\/\/example.com\/v" }, "object": { "id": "http://example.com/\u00e9" },
              "context": { "registration": "EC531277-B57B-4C15-8D91-D292C5B2B8F\u0037", "language": "\u0065n-GB" } }
            """);

        Assert.True(result.IsValid, result.Error);
    }

    [Fact]
    public void Validate_ExtensionValuesOfAnyShape_AreValid()
    {
        var result = Validate(With("result", """{ "extensions": { "http://example.com/a": null, "http://example.com/b": [null, {}, "", 1e300], "urn:x:c": { "nested": { "deep": [true] } } } }"""));

        Assert.True(result.IsValid, result.Error);
    }

    [Theory]
    [InlineData("choice", "scale")]
    [InlineData("likert", "choices")]
    [InlineData("true-false", "choices")]
    [InlineData("performance", "source")]
    [InlineData("matching", "steps")]
    public void Validate_ComponentListOfAnotherInteractionType_IsInvalid(string interactionType, string list)
    {
        var result = Validate($$"""
            { "actor": { "mbox": "mailto:a@example.com" }, "verb": { "id": "http://example.com/v" },
              "object": { "id": "http://example.com/a", "definition": { "interactionType": "{{interactionType}}", "{{list}}": [ { "id": "x" } ] } } }
            """);

        Assert.Equal($"object.definition.{list} is not an interaction component list of this interactionType", result.Error);
    }

    [Fact]
    public void Validate_AnonymousGroupWithEmptyMemberList_IsInvalid()
    {
        var result = Validate("""{ "actor": { "objectType": "Group", "member": [] }, "verb": { "id": "http://example.com/v" }, "object": { "id": "http://example.com/a" } }""");

        Assert.Equal("actor.member must list at least one Agent in an anonymous Group", result.Error);
    }

    [Fact]
    public void Validate_IdentifiedGroupWithEmptyMemberList_IsValid()
    {
        var result = Validate("""{ "actor": { "objectType": "Group", "mbox": "mailto:g@example.org", "member": [] }, "verb": { "id": "http://example.com/v" }, "object": { "id": "http://example.com/a" } }""");

        Assert.True(result.IsValid, result.Error);
    }

    [Fact]
    public void Validate_SubStatementWithAttachments_IsValid()
    {
        // The specification forbids only id, stored, version and authority in a SubStatement.
        var result = Validate("""
            { "actor": { "mbox": "mailto:a@example.com" }, "verb": { "id": "http://example.com/v" },
              "object": { "objectType": "SubStatement", "actor": { "mbox": "mailto:a@example.com" }, "verb": { "id": "http://example.com/v" }, "object": { "id": "http://example.com/a" },
                          "attachments": [ { "usageType": "http://example.com/u", "display": { "en": "x" }, "contentType": "text/plain", "length": 1, "sha2": "495395e777cd98da653df9615d09c0fd6bb2f8d4788394cd53c56a3bfdcd848a" } ] } }
            """);

        Assert.True(result.IsValid, result.Error);
    }

    [Fact]
    public void Validate_VoidedVerbInsideSubStatement_IsValid()
    {
        var result = Validate("""
            { "actor": { "mbox": "mailto:a@example.com" }, "verb": { "id": "http://example.com/v" },
              "object": { "objectType": "SubStatement", "actor": { "mbox": "mailto:a@example.com" }, "verb": { "id": "http://adlnet.gov/expapi/verbs/voided" }, "object": { "id": "http://example.com/a" } } }
            """);

        Assert.True(result.IsValid, result.Error);
    }

    [Theory]
    [InlineData("27.0", true)]
    [InlineData("2.7e1", true)]
    [InlineData("0", true)]
    [InlineData("2.5", false)]
    [InlineData("-1", false)]
    [InlineData("\"27\"", false)]
    public void Validate_AttachmentLength_MustBeNonNegativeInteger(string length, bool valid)
    {
        var result = Validate(With("attachments", $$"""[ { "usageType": "http://example.com/u", "display": { "en": "x" }, "contentType": "text/plain", "length": {{length}}, "sha2": "495395e777cd98da653df9615d09c0fd6bb2f8d4788394cd53c56a3bfdcd848a", "fileUrl": "https://files.example.com/x" } ]"""));

        Assert.Equal(valid, result.IsValid);
    }

    [Theory]
    [InlineData("not-a-hash")]
    [InlineData("495395e777cd98da653df9615d09c0fd6bb2f8d4788394cd53c56a3bfdcd848")]
    [InlineData("")]
    public void Validate_AttachmentSha2NotHexHash_IsInvalid(string sha2)
    {
        var result = Validate(With("attachments", $$"""[ { "usageType": "http://example.com/u", "display": { "en": "x" }, "contentType": "text/plain", "length": 1, "sha2": "{{sha2}}" } ]"""));

        Assert.Equal("attachments[0].sha2 must be a hexadecimal SHA-2 hash", result.Error);
    }

    [Fact]
    public void Validate_ContextAgentsIn103_ExplainsVersion()
    {
        var result = Validate(With("context", """{ "contextAgents": [] }"""), XapiVersion.V1_0_3);

        Assert.Equal("context.contextAgents is only allowed in xAPI 2.0", result.Error);
    }

    [Fact]
    public void Validate_ContextAgentThatIsAGroup_IsInvalid()
    {
        var result = Validate(With("context", """{ "contextAgents": [ { "objectType": "contextAgent", "agent": { "objectType": "Group", "mbox": "mailto:g@example.org" } } ] }"""));

        Assert.Equal("context.contextAgents[0].agent must be an Agent", result.Error);
    }

    [Fact]
    public void Validate_DeeplyNestedExtensionValue_IsValid()
    {
        var nested = string.Concat(Enumerable.Repeat("{\"a\":", 40)) + "1" + new string('}', 40);

        Assert.True(Validate(With("result", "{ \"extensions\": { \"http://example.com/e\": " + nested + " } }")).IsValid);
    }

    [Theory]
    [InlineData("""{ "mbox": "mailto:a@example.com" }""")]
    [InlineData("""{ "objectType": "Agent", "account": { "homePage": "https://lms.example.com", "name": "42" } }""")]
    [InlineData("""{ "objectType": "Group", "openid": "https://openid.example.org/g" }""")]
    public void ValidateAgentParameter_AgentOrIdentifiedGroup_IsValid(string json) =>
        Assert.True(StatementValidator.ValidateAgentParameter(TestJson.Element(json)).IsValid);

    [Theory]
    [InlineData("""{ "objectType": "Group", "member": [ { "mbox": "mailto:a@example.com" } ] }""", "agent must be an Agent or an identified Group")]
    [InlineData("""{ "name": "Nobody" }""", "agent must have exactly one inverse functional identifier (mbox, mbox_sha1sum, openid or account)")]
    [InlineData("\"mailto:a@example.com\"", "agent must be a JSON object")]
    [InlineData("""{ "mbox": "a@example.com" }""", "agent.mbox must be a mailto IRI")]
    public void ValidateAgentParameter_InvalidAgent_ReportsReason(string json, string error) =>
        Assert.Equal(error, StatementValidator.ValidateAgentParameter(TestJson.Element(json)).Error);

    [Fact]
    public void Validate_AllFixtureStatements_NeverThrow()
    {
        foreach (var c in Fixtures.StatementFixtures.All)
        {
            foreach (var version in new[] { XapiVersion.V1_0_3, XapiVersion.V2_0_0 })
            {
                var result = StatementValidator.Validate(c.Statement, version);
                Assert.Equal(result.IsValid, result.Error is null);
            }
        }
    }

    [Fact]
    public void Validate_NonObjectJsonKinds_AreInvalid()
    {
        foreach (var json in new[] { "null", "true", "1", "\"x\"", "[]" })
        {
            Assert.False(StatementValidator.Validate(JsonDocument.Parse(json).RootElement, XapiVersion.V2_0_0).IsValid);
        }
    }
}
