using LearnerVault.Privacy.Access;

namespace LearnerVault.Privacy.Tests;

public sealed class PurposeTests
{
    [Theory]
    [InlineData("advertising")]
    [InlineData("vendor:ads")]
    [InlineData("vendor:acme-profiling")]
    [InlineData("Marketing")]
    public void Parse_AdvertisingOrProfiling_IsRefused(string text)
    {
        var ex = Assert.Throws<InvalidPurposeException>(() => Purpose.Parse(text));

        Assert.Contains("refused", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Vendor_NamingAdvertising_CannotBeBuilt()
    {
        Assert.Throws<InvalidPurposeException>(() => Purpose.Vendor("adtech"));
    }

    [Fact]
    public void Purpose_HasNoPublicConstructor_SoOnlyValidatedPurposesExist()
    {
        Assert.Empty(typeof(Purpose).GetConstructors());
    }

    [Fact]
    public void Parse_SpellingsOfTheCli_GiveTheBuiltInsAndVendors()
    {
        Assert.Same(Purpose.SchoolAdministration, Purpose.Parse(" School-Administration "));
        Assert.Equal(Purpose.Vendor("kolibri"), Purpose.Parse("VENDOR:Kolibri"));
        Assert.Equal("vendor:kolibri", Purpose.Vendor("kolibri").Name);
        Assert.Equal(
            ["instruction", "assessment", "school-administration", "research", "policy-statistics"],
            Purpose.BuiltIn.Select(p => p.Name));
    }
}
