using System.Net;

namespace LearnerVault.Server.Tests;

/// <summary>The probes a load balancer uses: no credentials, no data, just live and ready.</summary>
public sealed class HealthEndpointsTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("health/live", "live")]
    [InlineData("health/ready", "ready")]
    public async Task Probe_WithoutCredentials_AnswersOkAndNothingElse(string path, string body)
    {
        using var http = new HttpClient { BaseAddress = fixture.Factory.BaseAddress };

        var response = await http.GetAsync(path, Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(body + "\n", await response.Content.ReadAsStringAsync(Ct));
        Assert.False(response.Headers.Contains("X-Experience-API-Version"));
    }
}
