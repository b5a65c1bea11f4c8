using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Stratus.Identity.Scim.Tests.Support;
using Stratus.Testing;
using static Stratus.Identity.Scim.Tests.Support.Scim;

namespace Stratus.Identity.Scim.Tests;

/// <summary>
/// SCIM is opened by the tenant's SCIM token and nothing else; the token opens nothing but SCIM. It is shown
/// once, kept as a hash, replaced, revoked, and refused while the tenant is suspended.
/// </summary>
[Collection(ScimCollection.Name)]
public sealed class ScimAuthTests(ScimHosts hosts)
{
    private Task<ScimTenant> TenantAsync() => hosts.SharedAsync("auth", () => hosts.CreateTenantAsync(ScimHosts.Sqlite, "auth"));

    [Fact]
    public async Task NoToken_Returns401_InScimShape_WithABearerChallenge()
    {
        var tenant = await TenantAsync();
        using var anonymous = new HttpClient { BaseAddress = tenant.Host.BaseAddress };

        using var response = await anonymous.GetAsync("/scim/v2/Users");

        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
        AssertError(await Read(response), HttpStatusCode.Unauthorized, null);
        AssertError(await anonymous.ScimGetAsync("/scim/v2/ServiceProviderConfig"), HttpStatusCode.Unauthorized, null);
        AssertError(await anonymous.ScimSendAsync(HttpMethod.Post, "/scim/v2/Users", User(tenant.Upn("anon"))), HttpStatusCode.Unauthorized, null);
    }

    [Theory]
    [InlineData("stratus_scim_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")]
    [InlineData("not-a-scim-token")]
    [InlineData("")]
    public async Task WrongToken_Returns401(string token)
    {
        var tenant = await TenantAsync();
        using var client = tenant.ClientWith(tenant.Token);
        client.DefaultRequestHeaders.Remove("Authorization");
        client.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", "Bearer " + token);

        AssertError(await client.ScimGetAsync("/scim/v2/Users"), HttpStatusCode.Unauthorized, null);
        AssertError(await client.ScimPostAsync("/scim/v2/Users", User(tenant.Upn("wrong"))), HttpStatusCode.Unauthorized, null);
        AssertList(await tenant.Scim.ScimGetAsync($"/scim/v2/Users?{Filter($"userName eq \"{tenant.Upn("wrong")}\"")}"), 0);
    }

    [Fact]
    public async Task Jwt_IsNotAcceptedOnScim()
    {
        var tenant = await TenantAsync();
        var operatorClient = await hosts.OperatorAsync(ScimHosts.Sqlite);

        // The tenant administrator's token is a valid JWT of the tenant; SCIM still refuses it.
        AssertError(await tenant.Admin.ScimGetAsync("/scim/v2/Users"), HttpStatusCode.Unauthorized, null);
        AssertError(await tenant.Admin.ScimPostAsync("/scim/v2/Users", User(tenant.Upn("viajwt"))), HttpStatusCode.Unauthorized, null);
        AssertError(await operatorClient.ScimGetAsync("/scim/v2/Groups"), HttpStatusCode.Unauthorized, null);
        AssertList(await tenant.Scim.ScimGetAsync($"/scim/v2/Users?{Filter($"userName eq \"{tenant.Upn("viajwt")}\"")}"), 0);
    }

    [Theory]
    [InlineData("GET", "/api/v1/users")]
    [InlineData("GET", "/api/v1/me")]
    [InlineData("GET", "/api/v1/directoryState")]
    [InlineData("GET", "/api/v1/auditEvents")]
    [InlineData("POST", "/api/v1/users")]
    [InlineData("POST", "/api/v1/scim/token")]
    [InlineData("DELETE", "/api/v1/scim/token")]
    public async Task ScimToken_IsNotAcceptedOnTheApi(string method, string path)
    {
        var tenant = await TenantAsync();
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (method == "POST")
        {
            request.Content = JsonContent.Create(new { userPrincipalName = tenant.Upn("viascim"), displayName = "x", passwordProfile = new { password = "user-password-123" } });
        }

        using var response = await tenant.Scim.SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        AssertStatus(await tenant.Scim.ScimGetAsync("/scim/v2/Users?count=0"), HttpStatusCode.OK);
    }

    [Fact]
    public async Task CreateToken_ShowsItOnce_AndStoresOnlyItsSha256()
    {
        using var tenant = await hosts.CreateTenantAsync(ScimHosts.Sqlite, "hash");
        using var response = await tenant.Admin.PostAsync("/api/v1/scim/token", null);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();

        Assert.Equal(["token", "createdDateTime"], body.EnumerateObject().Select(p => p.Name));
        var token = body.GetProperty("token").GetString()!;
        Assert.True(token.Length >= 40, token);
        var (hash, createdAt) = await hosts.StoredScimTokenAsync(tenant.Id);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token))), hash);
        Assert.NotNull(createdAt);
        Assert.DoesNotContain(token, await File.ReadAllTextAsync(Path.Combine(tenant.Host.DataFolder, "db", "identity.db")), StringComparison.Ordinal);
        using var client = tenant.ClientWith(token);
        AssertStatus(await client.ScimGetAsync("/scim/v2/Users?count=0"), HttpStatusCode.OK);
        var operatorClient = await hosts.OperatorAsync(ScimHosts.Sqlite);
        Assert.True((await operatorClient.GetFromJsonAsync<JsonElement>($"/api/v1/tenants/{tenant.Id}")).GetProperty("scimEnabled").GetBoolean());
    }

    [Fact]
    public async Task RotatedToken_RefusesTheOldOne()
    {
        using var tenant = await hosts.CreateTenantAsync(ScimHosts.Sqlite, "rotate");
        using var old = tenant.ClientWith(tenant.Token);

        var newToken = await tenant.CreateScimTokenAsync();

        Assert.NotEqual(newToken, old.DefaultRequestHeaders.Authorization!.Parameter);
        AssertError(await old.ScimGetAsync("/scim/v2/Users"), HttpStatusCode.Unauthorized, null);
        AssertStatus(await tenant.Scim.ScimGetAsync("/scim/v2/Users"), HttpStatusCode.OK);
    }

    [Fact]
    public async Task RevokedToken_Returns401_AndRevokingTwiceIsHarmless()
    {
        using var tenant = await hosts.CreateTenantAsync(ScimHosts.Sqlite, "revoke");
        AssertStatus(await tenant.Scim.ScimGetAsync("/scim/v2/Users"), HttpStatusCode.OK);

        using (var revoked = await tenant.Admin.DeleteAsync("/api/v1/scim/token"))
        {
            Assert.Equal(HttpStatusCode.NoContent, revoked.StatusCode);
        }

        AssertError(await tenant.Scim.ScimGetAsync("/scim/v2/Users"), HttpStatusCode.Unauthorized, null);
        using (var again = await tenant.Admin.DeleteAsync("/api/v1/scim/token"))
        {
            Assert.Equal(HttpStatusCode.NoContent, again.StatusCode);
        }

        Assert.Null((await hosts.StoredScimTokenAsync(tenant.Id)).Hash);
        var operatorClient = await hosts.OperatorAsync(ScimHosts.Sqlite);
        Assert.False((await operatorClient.GetFromJsonAsync<JsonElement>($"/api/v1/tenants/{tenant.Id}")).GetProperty("scimEnabled").GetBoolean());
    }

    [Fact]
    public async Task SuspendedTenant_TokenIsRefused_UntilTheTenantIsActivated()
    {
        using var tenant = await hosts.CreateTenantAsync(ScimHosts.Sqlite, "suspend");
        var operatorClient = await hosts.OperatorAsync(ScimHosts.Sqlite);

        using (var suspended = await operatorClient.PostAsync($"/api/v1/tenants/{tenant.Id}/suspend", null))
        {
            Assert.Equal(HttpStatusCode.OK, suspended.StatusCode);
        }

        var refused = AssertError(await tenant.Scim.ScimGetAsync("/scim/v2/Users"), HttpStatusCode.Unauthorized, null);
        Assert.Contains("suspended", refused.GetProperty("detail").GetString(), StringComparison.Ordinal);
        AssertError(await tenant.Scim.ScimPostAsync("/scim/v2/Users", User(tenant.Upn("during"))), HttpStatusCode.Unauthorized, null);

        using (var activated = await operatorClient.PostAsync($"/api/v1/tenants/{tenant.Id}/activate", null))
        {
            Assert.Equal(HttpStatusCode.OK, activated.StatusCode);
        }

        AssertList(await tenant.Scim.ScimGetAsync($"/scim/v2/Users?{Filter($"userName eq \"{tenant.Upn("during")}\"")}"), 0);
    }

    [Fact]
    public async Task OnlyATenantAdministrator_ManagesTheToken()
    {
        var tenant = await TenantAsync();
        using var created = await tenant.Admin.PostAsJsonAsync("/api/v1/users", new
        {
            userPrincipalName = tenant.Upn("plain"),
            displayName = "Plain user",
            passwordProfile = new { password = "plain-password-123" },
        });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        using var plain = await tenant.Host.SignedInClientAsync(tenant.Upn("plain"), "plain-password-123");
        var operatorClient = await hosts.OperatorAsync(ScimHosts.Sqlite);
        using var anonymous = new HttpClient { BaseAddress = tenant.Host.BaseAddress };

        Assert.Equal(HttpStatusCode.Forbidden, (await plain.PostAsync("/api/v1/scim/token", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await plain.DeleteAsync("/api/v1/scim/token")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await operatorClient.PostAsync("/api/v1/scim/token", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.PostAsync("/api/v1/scim/token", null)).StatusCode);
        AssertStatus(await tenant.Scim.ScimGetAsync("/scim/v2/Users?count=0"), HttpStatusCode.OK);
    }

    private static async Task<ScimReply> Read(HttpResponseMessage response) =>
        new(response.StatusCode, response.Content.Headers.ContentType?.MediaType, null, await response.Content.ReadAsStringAsync());
}
