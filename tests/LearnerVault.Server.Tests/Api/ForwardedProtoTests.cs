using System.Net.Http.Json;

namespace LearnerVault.Server.Tests.Api;

/// <summary>
/// Behind a TLS-terminating proxy the server sees plain HTTP from the proxy; the proxy's X-Forwarded-Proto, believed
/// only from trusted proxies (loopback by default, LV_TRUSTED_PROXIES), makes the session cookie Secure and __Host-.
/// </summary>
public sealed class ForwardedProtoTests
{
    private static async Task<string> LoginCookieAsync(ApiHarness api, string? forwardedProto)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "api/auth/login")
        {
            Content = JsonContent.Create(new { login = ApiHarness.AdminLogin, password = ApiHarness.Password }),
        };
        if (forwardedProto is not null)
        {
            request.Headers.Add("X-Forwarded-Proto", forwardedProto);
        }

        using var response = await api.Anonymous().SendAsync(request, TestContext.Current.CancellationToken);
        await ApiAssert.OkAsync(response);
        return Assert.Single(response.Headers.GetValues("Set-Cookie"));
    }

    [Fact]
    public async Task Login_ThroughTrustedProxyOverHttps_SecureHostCookie()
    {
        await using var api = await ApiHarness.StartAsync();

        var cookie = await LoginCookieAsync(api, "https");

        Assert.StartsWith("__Host-lv_session=lv_", cookie, StringComparison.Ordinal);
        Assert.Contains("secure", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("path=/", cookie, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Login_PlainHttpWithoutProxy_PlainCookie()
    {
        await using var api = await ApiHarness.StartAsync();

        var cookie = await LoginCookieAsync(api, null);

        Assert.StartsWith("lv_session=lv_", cookie, StringComparison.Ordinal);
        Assert.DoesNotContain("secure", cookie, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Login_ForwardedProtoFromAnUntrustedAddress_Ignored()
    {
        // The test client connects from loopback; with only another network trusted, its header is not believed.
        await using var api = await ApiHarness.StartAsync(o => o.TrustedProxies = ["10.0.0.0/8"]);

        var cookie = await LoginCookieAsync(api, "https");

        Assert.StartsWith("lv_session=lv_", cookie, StringComparison.Ordinal);
        Assert.DoesNotContain("secure", cookie, StringComparison.OrdinalIgnoreCase);
    }
}

/// <summary>LV_TRUSTED_PROXIES as the environment gives it.</summary>
public sealed class TrustedProxiesOptionTests
{
    [Theory]
    [InlineData("none", new string[0])]
    [InlineData("10.0.0.5, 192.168.0.0/16 ,fd00::/8", new[] { "10.0.0.5", "192.168.0.0/16", "fd00::/8" })]
    public void ApplyEnvironment_List_IsTrusted(string value, string[] expected)
    {
        var options = new Options.ServerOptions().ApplyEnvironment(name => name == "LV_TRUSTED_PROXIES" ? value : null);

        Assert.Equal(expected, options.TrustedProxies);
        options.Validate();
    }

    [Fact]
    public void Validate_NotAnAddress_NamesIt()
    {
        var options = new Options.ServerOptions().ApplyEnvironment(name => name == "LV_TRUSTED_PROXIES" ? "10.0.0.0/8,proxy.example.org" : null);

        var error = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(options.Validate);
        Assert.Contains("'proxy.example.org' is not an IP address", error.Message, StringComparison.Ordinal);
    }
}
