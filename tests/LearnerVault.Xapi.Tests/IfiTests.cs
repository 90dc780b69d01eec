using System.Text.Json.Nodes;

namespace LearnerVault.Xapi.Tests;

public sealed class IfiTests
{
    [Theory]
    [InlineData("""{ "mbox": "mailto:Learner.One@Example.COM" }""", "mbox:mailto:Learner.One@example.com")]
    [InlineData("""{ "mbox": "MAILTO:learner@example.com" }""", "mbox:mailto:learner@example.com")]
    [InlineData("""{ "mbox_sha1sum": "4BD6AD4DD9C3A7B4C1F0F39CA2A6BE1E1B6DD3C0" }""", "mbox_sha1sum:4bd6ad4dd9c3a7b4c1f0f39ca2a6be1e1b6dd3c0")]
    [InlineData("""{ "openid": "https://openid.example.org/learner-7" }""", "openid:https://openid.example.org/learner-7")]
    [InlineData("""{ "objectType": "Agent", "account": { "homePage": "https://lms.example.com", "name": "Learner-0042" } }""", "account:https://lms.example.com|Learner-0042")]
    [InlineData("""{ "account": { "homePage": "https://lms.example.com/a|b", "name": "c" } }""", "account:https://lms.example.com/a%7Cb|c")]
    [InlineData("""{ "objectType": "Group", "mbox": "mailto:class@example.org", "member": [ { "mbox": "mailto:a@example.com" } ] }""", "mbox:mailto:class@example.org")]
    public void Normalise_AgentOrIdentifiedGroup_ReturnsNormalisedIfi(string json, string expected)
    {
        Assert.Equal(expected, Ifi.Normalise(TestJson.Element(json)));
        Assert.Equal(expected, Ifi.Normalise(JsonNode.Parse(json)));
    }

    [Theory]
    [InlineData("""{ "objectType": "Group", "member": [ { "mbox": "mailto:a@example.com" } ] }""")]
    [InlineData("""{ "name": "Nobody" }""")]
    [InlineData("""{ "account": { "homePage": "https://lms.example.com" } }""")]
    [InlineData("""{ "mbox": 42 }""")]
    [InlineData("\"mailto:a@example.com\"")]
    [InlineData("null")]
    public void Normalise_NoIfi_ReturnsNull(string json)
    {
        Assert.Null(Ifi.Normalise(TestJson.Element(json)));
        Assert.Null(Ifi.Normalise(JsonNode.Parse(json)));
    }

    [Fact]
    public void Normalise_DifferentCasingOfSameMailbox_AreEqual()
    {
        var a = Ifi.Normalise(TestJson.Element("""{ "mbox": "mailto:learner@EXAMPLE.com" }"""));
        var b = Ifi.Normalise(TestJson.Element("""{ "mbox": "mailto:learner@example.COM" }"""));

        Assert.Equal(a, b);
    }

    [Fact]
    public void Normalise_DifferentLocalPartCase_AreDistinct()
    {
        var a = Ifi.Normalise(TestJson.Element("""{ "mbox": "mailto:Learner@example.com" }"""));
        var b = Ifi.Normalise(TestJson.Element("""{ "mbox": "mailto:learner@example.com" }"""));

        Assert.NotEqual(a, b);
    }
}
