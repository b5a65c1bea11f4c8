using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Stratus.IntegrationTests.Revocation;
using Stratus.IntegrationTests.Support;
using Stratus.Testing;

namespace Stratus.IntegrationTests.Auth;

/// <summary>The identity service alone (SQLite in its data folder), with the gateway's client secret known to the test.</summary>
public sealed class IdentityAloneFixture : IAsyncLifetime
{
    public const string GatewaySecret = "gateway-secret-for-token-exchange";
    public const string ProvisioningSecret = "provisioning-secret-for-token-exchange";

    private readonly TempFolder data = new();

    public StratusProcess Identity { get; private set; } = null!;

    public async Task InitializeAsync() => Identity = await StratusProcess.StartAsync(["run", "--targets", "identity"], data.Path, new Dictionary<string, string?>
    {
        ["Stratus__Clients__gateway__Secret"] = GatewaySecret,
        ["Stratus__Clients__provisioning__Secret"] = ProvisioningSecret,
    });

    public async Task DisposeAsync()
    {
        if (Identity is not null)
        {
            await Identity.DisposeAsync();
        }

        data.Dispose();
    }
}

/// <summary>
/// Issue 17, item 2 (ADR 0016): the gateway gets a tenant only from the token of the user it serves, by token
/// exchange (RFC 8693), and never by naming one.
/// </summary>
public sealed class TokenExchangeTests(IdentityAloneFixture fixture) : IClassFixture<IdentityAloneFixture>
{
    private const string ExchangeGrant = "urn:ietf:params:oauth:grant-type:token-exchange";
    private const string AccessTokenType = "urn:ietf:params:oauth:token-type:access_token";

    private StratusProcess Identity => fixture.Identity;

    [Fact]
    public async Task An_exchanged_token_is_the_subjects_tenant_and_user_with_the_gateway_as_actor_whatever_the_request_names()
    {
        using var tenant = await RevocationTenant.CreateAsync(Identity);
        var userId = await tenant.CreateUserAsync("erin");
        var subjectToken = await UserTokenAsync(tenant, "erin");

        // A tenant and subject of the caller's choosing in the request are not what the token gets.
        using var response = await ExchangeAsync(subjectToken, "cloudPcs.read consoles.relay", ("tenant", Guid.NewGuid().ToString()), ("subject", Guid.NewGuid().ToString()));
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(AccessTokenType, body.GetProperty("issued_token_type").GetString());
        Assert.Equal("cloudPcs.read consoles.relay", body.GetProperty("scope").GetString());
        Assert.InRange(body.GetProperty("expires_in").GetInt32(), 1, 300);

        var claims = Tokens.Payload(body.GetProperty("access_token").GetString()!);
        Assert.Equal(userId.ToString(), claims.GetProperty("sub").GetString());
        Assert.Equal(tenant.Id.ToString(), claims.GetProperty("tid").GetString());
        Assert.Equal("gateway", claims.GetProperty("act").GetProperty("client_id").GetString());
        Assert.Equal("service:gateway", claims.GetProperty("act").GetProperty("sub").GetString());
        Assert.Equal("gateway", claims.GetProperty("client_id").GetString());
        Assert.Equal("cloudPcs.read consoles.relay", claims.GetProperty("scope").GetString());
        Assert.False(claims.TryGetProperty("role", out _), "a delegated token carries the scopes asked, never the user's roles");
        Assert.True(claims.GetProperty("exp").GetInt64() <= Tokens.Payload(subjectToken).GetProperty("exp").GetInt64());
        Assert.True(claims.GetProperty("exp").GetInt64() - claims.GetProperty("iat").GetInt64() <= 300, "a delegated token lives at most 5 minutes");
    }

    [Fact]
    public async Task An_exchanged_token_does_not_outlive_its_subject_token()
    {
        // Signed with identity's real key, as identity would, but with 90 s left.
        using var tenant = await RevocationTenant.CreateAsync(Identity);
        var key = await Tokens.ReadSigningKeyAsync(Identity.DataFolder);
        var subjectToken = Tokens.Sign(key, Tokens.Claims("near-expiry", "tenantAdministrator", TimeProvider.System.GetUtcNow().AddMinutes(-59), TimeSpan.FromSeconds((59 * 60) + 90), tenant.Id));

        using var response = await ExchangeAsync(subjectToken, "cloudPcs.read");

        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.InRange(body.GetProperty("expires_in").GetInt32(), 1, 90);
        Assert.True(Tokens.Payload(body.GetProperty("access_token").GetString()!).GetProperty("exp").GetInt64() <= Tokens.Payload(subjectToken).GetProperty("exp").GetInt64());
    }

    [Fact]
    public async Task Expired_forged_revoked_and_service_subject_tokens_are_invalid_grant()
    {
        using var tenant = await RevocationTenant.CreateAsync(Identity);
        var key = await Tokens.ReadSigningKeyAsync(Identity.DataFolder);
        var expired = Tokens.Sign(key, Tokens.Claims("expired", "tenantAdministrator", TimeProvider.System.GetUtcNow().AddHours(-2), TimeSpan.FromHours(1), tenant.Id));
        var forged = Tokens.Sign(SigningKey.Forged(key.Kid), Tokens.Claims("forged", "tenantAdministrator", TimeProvider.System.GetUtcNow(), TimeSpan.FromHours(1), tenant.Id));
        string operatorToken;
        using (var operatorClient = await Identity.OperatorClientAsync())
        {
            operatorToken = operatorClient.DefaultRequestHeaders.Authorization!.Parameter!;
        }

        var serviceToken = await ClientTokenAsync("gateway", IdentityAloneFixture.GatewaySecret, "revocations.read");

        foreach (var (what, token) in new[] { ("expired", expired), ("forged", forged), ("a service's", serviceToken), ("of no tenant (the platform operator's)", operatorToken) })
        {
            using var refused = await ExchangeAsync(token, "cloudPcs.read");
            var problem = await ProblemAssert.IsProblemAsync(refused, HttpStatusCode.BadRequest);
            Assert.True(problem.GetProperty("error").GetString() == "invalid_grant", $"{what}: {problem}");
        }

        // Revoked: the user is disabled after the token was issued. The control: the same token exchanged before.
        var userId = await tenant.CreateUserAsync("fred");
        var fredToken = await UserTokenAsync(tenant, "fred");
        using (var before = await ExchangeAsync(fredToken, "cloudPcs.read"))
        {
            Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        }

        using (var disabled = await tenant.Admin.PatchAsJsonAsync($"/api/v1/users/{userId}", new { accountEnabled = false }))
        {
            Assert.Equal(HttpStatusCode.OK, disabled.StatusCode);
        }

        using var revoked = await ExchangeAsync(fredToken, "cloudPcs.read");
        Assert.Equal("invalid_grant", (await ProblemAssert.IsProblemAsync(revoked, HttpStatusCode.BadRequest)).GetProperty("error").GetString());
    }

    [Theory]
    [InlineData("gateway", "directory.read", null, "invalid_scope")]
    [InlineData("gateway", "revocations.read", null, "invalid_scope")]
    [InlineData("provisioning", "cloudPcs.read", null, "invalid_scope")]
    [InlineData("gateway", "cloudPcs.read", "resource", "invalid_target")]
    [InlineData("gateway", "cloudPcs.read", "no_token_type", "invalid_request")]
    public async Task An_exchange_outside_what_the_client_may_delegate_is_refused(string client, string scope, string? twist, string error)
    {
        using var tenant = await RevocationTenant.CreateAsync(Identity);
        var form = new Dictionary<string, string>
        {
            ["grant_type"] = ExchangeGrant, ["client_id"] = client, ["client_secret"] = Secret(client), ["scope"] = scope,
            ["subject_token"] = tenant.Admin.DefaultRequestHeaders.Authorization!.Parameter!, ["subject_token_type"] = AccessTokenType,
        };
        if (twist == "resource")
        {
            form["resource"] = "https://elsewhere.example/";
        }
        else if (twist == "no_token_type")
        {
            form.Remove("subject_token_type");
        }

        using var response = await Identity.Http.PostAsync("/connect/token", new FormUrlEncodedContent(form));

        Assert.Equal(error, (await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest)).GetProperty("error").GetString());
    }

    [Fact]
    public async Task The_gateway_cannot_name_a_tenant_or_a_user_for_its_own_token()
    {
        var naming = new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials", ["client_id"] = "gateway", ["client_secret"] = IdentityAloneFixture.GatewaySecret, ["scope"] = "revocations.read",
            ["tenant"] = Guid.NewGuid().ToString(),
        };
        using (var tenantNamed = await Identity.Http.PostAsync("/connect/token", new FormUrlEncodedContent(naming)))
        {
            Assert.Equal("unauthorized_client", (await ProblemAssert.IsProblemAsync(tenantNamed, HttpStatusCode.BadRequest)).GetProperty("error").GetString());
        }

        naming.Remove("tenant");
        naming["subject"] = Guid.NewGuid().ToString();
        using (var userNamed = await Identity.Http.PostAsync("/connect/token", new FormUrlEncodedContent(naming)))
        {
            Assert.Equal("invalid_request", (await ProblemAssert.IsProblemAsync(userNamed, HttpStatusCode.BadRequest)).GetProperty("error").GetString());
        }

        // As itself it gets no Cloud PC scope at all, tenant or not; revocations it may read (the control).
        naming.Remove("subject");
        naming["scope"] = "cloudPcs.read";
        using (var cloudPcs = await Identity.Http.PostAsync("/connect/token", new FormUrlEncodedContent(naming)))
        {
            Assert.Equal("invalid_scope", (await ProblemAssert.IsProblemAsync(cloudPcs, HttpStatusCode.BadRequest)).GetProperty("error").GetString());
        }

        var own = Tokens.Payload(await ClientTokenAsync("gateway", IdentityAloneFixture.GatewaySecret, "revocations.read"));
        Assert.False(own.TryGetProperty("tid", out _));
        Assert.Equal(Guid.Empty.ToString(), own.GetProperty("sub").GetString());

        // A client whose work spans tenants still may name one.
        var provisioning = Tokens.Payload(await ClientTokenAsync("provisioning", IdentityAloneFixture.ProvisioningSecret, "directory.read", Guid.NewGuid()));
        Assert.True(provisioning.TryGetProperty("tid", out _));
    }

    private static string Secret(string client) => client == "gateway" ? IdentityAloneFixture.GatewaySecret : IdentityAloneFixture.ProvisioningSecret;

    private static async Task<string> UserTokenAsync(RevocationTenant tenant, string name)
    {
        using var client = await tenant.TokenClientAsync(name);
        return client.DefaultRequestHeaders.Authorization!.Parameter!;
    }

    private Task<HttpResponseMessage> ExchangeAsync(string subjectToken, string scope, params (string Name, string Value)[] extra)
    {
        var form = new Dictionary<string, string>
        {
            ["grant_type"] = ExchangeGrant, ["client_id"] = "gateway", ["client_secret"] = IdentityAloneFixture.GatewaySecret, ["scope"] = scope,
            ["subject_token"] = subjectToken, ["subject_token_type"] = AccessTokenType,
        };
        foreach (var (name, value) in extra)
        {
            form[name] = value;
        }

        return Identity.Http.PostAsync("/connect/token", new FormUrlEncodedContent(form));
    }

    private async Task<string> ClientTokenAsync(string client, string secret, string scope, Guid? tenant = null)
    {
        var form = new Dictionary<string, string> { ["grant_type"] = "client_credentials", ["client_id"] = client, ["client_secret"] = secret, ["scope"] = scope };
        if (tenant is { } id)
        {
            form["tenant"] = id.ToString();
        }

        using var response = await Identity.Http.PostAsync("/connect/token", new FormUrlEncodedContent(form));
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("access_token").GetString()!;
    }
}
