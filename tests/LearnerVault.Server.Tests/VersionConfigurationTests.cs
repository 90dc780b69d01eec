using System.Net;
using LearnerVault.Xapi;
using static LearnerVault.Server.Tests.XapiJson;

namespace LearnerVault.Server.Tests;

/// <summary>An installation may serve only some xAPI versions (LV_XAPI_VERSIONS), e.g. one that presents itself as a 1.0.3 LRS.</summary>
public sealed class VersionConfigurationTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task OnlyVersion103_Served_RefusesTwoAndAnswersAs103()
    {
        await using var app = await LearnerVaultAppFactory.StartAsync(o => o.XapiVersions = [XapiVersion.V1_0_3]);

        using var two = app.CreateClient("2.0.0");
        var refused = await two.PostAsync("statements", Content(Statement()), Ct);
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Equal("1.0.3", refused.Headers.GetValues("X-Experience-API-Version").Single());

        using var none = app.CreateClient(version: null);
        var missing = await none.GetAsync("statements", Ct);
        Assert.Equal(HttpStatusCode.BadRequest, missing.StatusCode);
        Assert.Equal("1.0.3", missing.Headers.GetValues("X-Experience-API-Version").Single());

        using var old = app.CreateClient("1.0.1");
        Assert.Equal(HttpStatusCode.OK, (await old.PostAsync("statements", Content(Statement()), Ct)).StatusCode);

        var about = await (await none.GetAsync("about", Ct)).ReadJsonAsync();
        Assert.Equal(["1.0.3"], about["version"]!.AsArray().Select(v => v!.GetValue<string>()));
    }

    [Fact]
    public async Task DefaultVersions_MissingHeader_AnswersWithNewest()
    {
        await using var app = await LearnerVaultAppFactory.StartAsync();
        using var none = app.CreateClient(version: null);
        var missing = await none.GetAsync("statements", Ct);
        Assert.Equal(HttpStatusCode.BadRequest, missing.StatusCode);
        Assert.Equal("2.0.0", missing.Headers.GetValues("X-Experience-API-Version").Single());
    }

    [Theory]
    [InlineData("1.0.3,2.0.0", new[] { XapiVersion.V2_0_0, XapiVersion.V1_0_3 })]
    [InlineData(" 1.0.3 ", new[] { XapiVersion.V1_0_3 })]
    [InlineData("2.0.0", new[] { XapiVersion.V2_0_0 })]
    public void ParseVersions_ValidList_NewestFirst(string text, XapiVersion[] expected)
    {
        Assert.Equal(expected, Options.ServerOptions.ParseVersions(text));
    }

    [Fact]
    public void ParseVersions_UnknownVersion_Throws()
    {
        Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() => Options.ServerOptions.ParseVersions("1.0.2"));
    }
}
