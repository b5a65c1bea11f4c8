using System.Net;
using System.Net.Http.Json;
using Stratus.IntegrationTests.Support;
using Stratus.Testing;

namespace Stratus.IntegrationTests.Auth;

/// <summary>
/// Sign-in with a token and with the portal cookie, and the audit trail it leaves. These tests share one
/// process, so together they stay under the five failures per user name that would lock the operator out.
/// </summary>
public sealed class SignInTests(StratusUpFixture fixture) : IClassFixture<StratusUpFixture>
{
    private StratusProcess Stratus => fixture.Stratus;

    [Fact]
    public async Task Token_ForTheOperator_IdentifiesItOnMe()
    {
        using var response = await Stratus.Http.RequestTokenAsync(Api.Operator, TestAccounts.OperatorPassword);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var token = await response.Content.ReadFromJsonAsync<TokenBody>();
        Assert.Equal("Bearer", token!.TokenType);
        Assert.True(token.ExpiresIn > 0);
        var claims = Tokens.Payload(token.AccessToken);
        Assert.Equal("platformOperator", claims.GetProperty("role").GetString());
        Assert.False(claims.TryGetProperty("tid", out _), "The platform operator belongs to no tenant.");

        using var client = await Stratus.OperatorClientAsync();
        var me = await client.GetFromJsonAsync<MeBody>("/api/v1/me");
        Assert.Equal(Api.Operator, me!.UserName);
        Assert.Null(me.TenantId);
        Assert.Equal(["platformOperator"], me.Roles);
        Assert.Equal(Guid.Parse(claims.GetProperty("sub").GetString()!), me.Id);
    }

    [Fact]
    public async Task Token_WrongPassword_Returns401Problem()
    {
        using var response = await Stratus.Http.RequestTokenAsync(Api.Operator, "not-the-password-at-all");

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Token_UserNameIsCaseInsensitive()
    {
        using var response = await Stratus.Http.RequestTokenAsync("OPERATOR", TestAccounts.OperatorPassword);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task CookieSignIn_ThenMe_ThenSignOut_EndsTheSession()
    {
        using var handler = new HttpClientHandler { UseCookies = true, CookieContainer = new CookieContainer() };
        using var portal = new HttpClient(handler) { BaseAddress = Stratus.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };

        using (var wrong = await portal.PostAsJsonAsync("/api/v1/auth/signin", new { userName = Api.Operator, password = "not-the-password-at-all" }))
        {
            await ProblemAssert.IsProblemAsync(wrong, HttpStatusCode.Unauthorized);
            Assert.Empty(handler.CookieContainer.GetCookies(Stratus.BaseAddress));
        }

        using (var signIn = await portal.PostAsJsonAsync("/api/v1/auth/signin", new { userName = Api.Operator, password = TestAccounts.OperatorPassword }))
        {
            Assert.True(signIn.IsSuccessStatusCode, $"Sign-in answered {(int)signIn.StatusCode}");
            var cookie = Assert.Single(handler.CookieContainer.GetCookies(Stratus.BaseAddress));
            Assert.True(cookie.HttpOnly, "The session cookie must not be readable by scripts.");
        }

        var me = await portal.GetFromJsonAsync<MeBody>("/api/v1/me");
        Assert.Equal(Api.Operator, me!.UserName);
        Assert.Equal(["platformOperator"], me.Roles);

        using (var signOut = await portal.PostAsync("/api/v1/auth/signout", null))
        {
            Assert.True(signOut.IsSuccessStatusCode, $"Sign-out answered {(int)signOut.StatusCode}");
        }

        using var after = await portal.GetAsync("/api/v1/me");
        await ProblemAssert.IsProblemAsync(after, HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task SignIns_BecomeAuditEvents_WithFailureAndSuccess()
    {
        using var reader = await Stratus.OperatorClientAsync();
        var before = (await reader.AuditEventsAsync()).Value.Select(e => e.Id).ToHashSet();
        var stranger = $"nobody-{Guid.NewGuid():N}";

        using (var refused = await Stratus.Http.RequestTokenAsync(stranger, "some-password-123"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        }

        // From another loopback address: the reader's own sign-in above is audited through a queue and may land
        // after the snapshot, so the address tells this sign-in from it.
        using (var otherClient = LoopbackClient.From(IPAddress.Parse("127.0.0.2"), Stratus.BaseAddress))
        using (var accepted = await otherClient.RequestTokenAsync(Api.Operator, TestAccounts.OperatorPassword))
        {
            Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
        }

        // Only sign-ins: the platform's log also gets events of the embedded hosts' start, which can land after
        // the snapshot above.
        var events = await Eventually.MatchesAsync(
            async () => (await reader.AuditEventsAsync()).Value
                .Where(e => !before.Contains(e.Id) && e.ActivityType == "SignIn" && (e.Actor.UserPrincipalName == stranger || e.Actor.IpAddress == "127.0.0.2"))
                .ToList(),
            fresh => fresh.Count >= 2,
            "both sign-ins in the audit log");

        var failure = Assert.Single(events, e => e.Actor.UserPrincipalName == stranger);
        Assert.Equal("failure", failure.ActivityResult);
        Assert.Equal("SignIn", failure.ActivityType);
        Assert.Equal("127.0.0.1", failure.Actor.IpAddress);
        Assert.Null(failure.Actor.Id);
        var success = Assert.Single(events, e => e.Actor.UserPrincipalName == Api.Operator);
        Assert.Equal("success", success.ActivityResult);
        Assert.Equal("127.0.0.2", success.Actor.IpAddress);
        Assert.NotNull(success.Actor.Id);
        Assert.Equal(2, events.Count);
    }

    [Fact]
    public async Task AuditEvents_Anonymous_Returns401Problem()
    {
        using var response = await Stratus.Http.GetAsync("/api/v1/auditEvents");

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.Unauthorized);
    }
}
