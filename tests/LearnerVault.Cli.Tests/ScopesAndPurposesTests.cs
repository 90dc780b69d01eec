using LearnerVault.Server.Administration;

namespace LearnerVault.Cli.Tests;

public sealed class ScopesAndPurposesTests
{
    [Fact]
    public void Valid_Scopes_AreTheXapiList()
    {
        Assert.Equal(
            ["statements/write", "statements/read", "statements/read/mine", "state", "profile", "define", "all/read", "all"],
            XapiScopes.Valid);
    }

    [Fact]
    public void NormalizeScopes_CommaSeparatedWithSpacesAndDuplicates_KeepsFirstSeenOrder()
    {
        var scopes = XapiScopes.Normalize(["state, define", "state", " all/read "]);

        Assert.Equal(["state", "define", "all/read"], scopes);
    }

    [Theory]
    [InlineData("statements/delete")]
    [InlineData("All")]
    [InlineData("*")]
    public void NormalizeScopes_UnknownScope_Throws(string scope)
    {
        var ex = Assert.Throws<AdministrationException>(() => XapiScopes.Normalize(["all", scope]));

        Assert.Contains(scope, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void NormalizeScopes_None_Throws()
    {
        Assert.Throws<AdministrationException>(() => XapiScopes.Normalize([" , "]));
    }

    [Fact]
    public void NormalizePurposes_None_DefaultsToInstruction()
    {
        Assert.Equal(["instruction"], ProcessingPurposes.Normalize([]));
    }

    [Theory]
    [InlineData("instruction")]
    [InlineData("assessment")]
    [InlineData("school-administration")]
    [InlineData("research")]
    [InlineData("policy-statistics")]
    [InlineData("vendor:kolibri")]
    [InlineData("vendor:h5p.example-org")]
    public void NormalizePurposes_ValidPurpose_IsAccepted(string purpose)
    {
        Assert.Equal([purpose], ProcessingPurposes.Normalize([purpose]));
    }

    [Fact]
    public void NormalizePurposes_MixedCase_IsLowerCased()
    {
        Assert.Equal(["assessment", "vendor:kolibri"], ProcessingPurposes.Normalize(["Assessment,VENDOR:Kolibri"]));
    }

    [Theory]
    [InlineData("advertising")]
    [InlineData("marketing")]
    [InlineData("profiling")]
    [InlineData("vendor:ads")]
    [InlineData("vendor:acme-advertising")]
    [InlineData("vendor:targeting.example")]
    [InlineData("vendor:data-monetisation")]
    public void NormalizePurposes_AdvertisingMarketingOrProfiling_IsRefused(string purpose)
    {
        var ex = Assert.Throws<AdministrationException>(() => ProcessingPurposes.Normalize([purpose]));

        Assert.Contains("refused", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("vendor:loads")]
    [InlineData("vendor:headstart")]
    [InlineData("vendor:roadmap")]
    public void NormalizePurposes_VendorNameContainingAdLetters_IsAccepted(string purpose)
    {
        Assert.Equal([purpose], ProcessingPurposes.Normalize([purpose]));
    }

    [Theory]
    [InlineData("teaching")]
    [InlineData("vendor:")]
    [InlineData("vendor:two words")]
    [InlineData("vendor:-leading-dash")]
    public void NormalizePurposes_UnknownOrMalformed_Throws(string purpose)
    {
        Assert.Throws<AdministrationException>(() => ProcessingPurposes.Normalize([purpose]));
    }
}
