using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Npgsql;
using Stratus.IntegrationTests.Support;
using Stratus.Testing;

namespace Stratus.IntegrationTests.Auth;

/// <summary>
/// A split deployment on one PostgreSQL database: identity alone in one process (with its master key), every
/// other service in another that has only its services' client secrets and identity's address. Identity's
/// signing key rotates every <see cref="Rotation"/> so that a test sees rotations happen.
/// </summary>
public sealed class SplitDeploymentFixture : IAsyncLifetime
{
    public static readonly TimeSpan Rotation = TimeSpan.FromSeconds(20);

    public static readonly IReadOnlyDictionary<string, string> Secrets = new Dictionary<string, string>
    {
        ["gateway"] = "gateway-secret-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(8)),
        ["provisioning"] = "provisioning-secret-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(8)),
        ["images"] = "images-secret-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(8)),
        ["identity"] = "identity-secret-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(8)),
    };

    private readonly PostgresServer postgres = new();
    private readonly TempFolder identityData = new();
    private readonly TempFolder servicesData = new();

    public StratusProcess Identity { get; private set; } = null!;

    public StratusProcess Services { get; private set; } = null!;

    public string Database { get; private set; } = "";

    public async Task InitializeAsync()
    {
        await postgres.InitializeAsync();
        Database = await postgres.CreateDatabaseAsync();
        Identity = await StratusProcess.StartAsync(["run", "--targets", "identity", "--database", Database], identityData.Path,
            Secrets.ToDictionary(s => $"Stratus__Clients__{s.Key}__Secret", s => (string?)s.Value)
                .Append(new("Stratus__Identity__SigningKeyRotation", Rotation.ToString())).ToDictionary());
        Services = await StratusProcess.StartAsync(["run", "--targets", "compute,provisioning,gateway,images,diagnostics", "--database", Database], servicesData.Path,
            new Dictionary<string, string?>
            {
                ["Stratus__Services__identity__Url"] = Identity.BaseAddress.ToString(),
                ["Stratus__Clients__gateway__Secret"] = Secrets["gateway"],
                ["Stratus__Clients__provisioning__Secret"] = Secrets["provisioning"],
                ["Stratus__Clients__images__Secret"] = Secrets["images"],
            });
    }

    public async Task DisposeAsync()
    {
        if (Services is not null)
        {
            await Services.DisposeAsync();
        }

        if (Identity is not null)
        {
            await Identity.DisposeAsync();
        }

        await postgres.DisposeAsync();
        identityData.Dispose();
        servicesData.Dispose();
    }

    /// <summary>Asks identity's token endpoint for a client's token (client_secret_post).</summary>
    public async Task<HttpResponseMessage> RequestClientTokenAsync(string client, string secret, string scope, Guid? tenant = null)
    {
        var form = new Dictionary<string, string> { ["grant_type"] = "client_credentials", ["client_id"] = client, ["client_secret"] = secret, ["scope"] = scope };
        if (tenant is { } id)
        {
            form["tenant"] = id.ToString();
        }

        return await Identity.Http.PostAsync("/connect/token", new FormUrlEncodedContent(form));
    }

    /// <summary>
    /// A service's token for a tenant: the gateway's is exchanged from a tenant administrator's own token (it may name
    /// no tenant itself, ADR 0016); every other client names the tenant.
    /// </summary>
    public async Task<string> TenantTokenAsync(string client, string scope)
    {
        if (client != "gateway")
        {
            return await ClientTokenAsync(client, scope, Guid.NewGuid());
        }

        using var tenant = await Revocation.RevocationTenant.CreateAsync(Identity);
        var form = new Dictionary<string, string>
        {
            ["grant_type"] = "urn:ietf:params:oauth:grant-type:token-exchange", ["client_id"] = client, ["client_secret"] = Secrets[client], ["scope"] = scope,
            ["subject_token"] = tenant.Admin.DefaultRequestHeaders.Authorization!.Parameter!, ["subject_token_type"] = "urn:ietf:params:oauth:token-type:access_token",
        };
        using var response = await Identity.Http.PostAsync("/connect/token", new FormUrlEncodedContent(form));
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("access_token").GetString()!;
    }

    public async Task<string> ClientTokenAsync(string client, string scope, Guid? tenant = null)
    {
        using var response = await RequestClientTokenAsync(client, Secrets[client], scope, tenant);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("access_token").GetString()!;
    }
}

public sealed class ServiceIdentityTests(SplitDeploymentFixture split) : IClassFixture<SplitDeploymentFixture>
{
    private static readonly TimeSpan RotationDeadline = TimeSpan.FromMinutes(2);

    public static TheoryData<string, string, string, string> Refusals => new()
    {
        // client, its scopes, where (identity or services), a path outside them
        { "gateway", "cloudPcs.read consoles.relay", "identity", "/api/v1/users" },
        { "gateway", "cloudPcs.read consoles.relay", "identity", "/api/v1/tenants" },
        { "gateway", "cloudPcs.read consoles.relay", "services", "/api/v1/hosts" },
        { "gateway", "cloudPcs.read consoles.relay", "services", "/api/v1/provisioningPolicies" },
        { "provisioning", "directory.read licenses.write images.read", "services", "/api/v1/cloudPCs" },
        { "provisioning", "directory.read licenses.write images.read", "identity", "/api/v1/users" },
        { "provisioning", "directory.read licenses.write images.read", "services", "/api/v1/vms" },
        { "images", "cloudPcs.read", "identity", "/api/v1/groups" },
        { "images", "cloudPcs.read", "services", "/api/v1/deviceImages" },
        { "identity", "cloudPcs.read", "services", "/api/v1/vms" },
        { "identity", "cloudPcs.read", "services", "/api/v1/galleryImages" },
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public async Task ServiceCredential_OutsideItsScopes_Is403Problem(string client, string scopes, string where, string path)
    {
        var token = await split.TenantTokenAsync(client, scopes);

        using var response = await SendAsync(where, path, token);

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.Forbidden);
    }

    [Theory]
    [InlineData("gateway", "cloudPcs.read", "services", "/api/v1/cloudPCs?$top=1")]
    [InlineData("provisioning", "directory.read", "identity", "/api/v1/groups?$top=1")]
    [InlineData("provisioning", "images.read", "services", "/api/v1/deviceImages")]
    [InlineData("images", "cloudPcs.read", "services", "/api/v1/imageUsage/some-image")]
    [InlineData("identity", "cloudPcs.read", "services", "/api/v1/cloudPCs?$top=1")]
    public async Task ServiceCredential_WithinItsScope_IsServed(string client, string scope, string where, string path)
    {
        // The control for the refusals: the same kind of token passes where its scope is accepted.
        var token = await split.TenantTokenAsync(client, scope);

        using var response = await SendAsync(where, path, token);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Theory]
    [InlineData("gateway", "directory.read", HttpStatusCode.BadRequest, "invalid_scope")]
    [InlineData("gateway", "cloudPcs.read", HttpStatusCode.BadRequest, "invalid_scope")]
    [InlineData("gateway", "platformOperator", HttpStatusCode.BadRequest, "invalid_scope")]
    [InlineData("images", "licenses.write", HttpStatusCode.BadRequest, "invalid_scope")]
    [InlineData("portal", "cloudPcs.read", HttpStatusCode.Unauthorized, "invalid_client")]
    public async Task TokenEndpoint_RefusesWhatTheClientMayNotHave(string client, string scope, HttpStatusCode status, string error)
    {
        using var response = await split.RequestClientTokenAsync(client, SplitDeploymentFixture.Secrets.GetValueOrDefault(client, "guess"), scope);

        var problem = await ProblemAssert.IsProblemAsync(response, status);
        Assert.Equal(error, problem.GetProperty("error").GetString());
    }

    [Fact]
    public async Task TokenEndpoint_WrongSecret_Is401_AndAGrantedTokenCarriesNoRole()
    {
        using var wrong = await split.RequestClientTokenAsync("gateway", SplitDeploymentFixture.Secrets["provisioning"], "revocations.read");
        await ProblemAssert.IsProblemAsync(wrong, HttpStatusCode.Unauthorized);

        var claims = Tokens.Payload(await split.ClientTokenAsync("images", "cloudPcs.read revocations.read"));
        Assert.False(claims.TryGetProperty("role", out _));
        Assert.Equal("images", claims.GetProperty("client_id").GetString());
        Assert.Equal("cloudPcs.read revocations.read", claims.GetProperty("scope").GetString());
    }

    [Fact]
    public async Task ServicesProcess_HoldsNoPrivateKey_AndCannotIssueTokens()
    {
        // It serves no token endpoint and has no master key; the keys in the shared store are sealed with it.
        using var issue = await split.Services.Http.PostAsync("/connect/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials", ["client_id"] = "gateway", ["client_secret"] = SplitDeploymentFixture.Secrets["gateway"], ["scope"] = "revocations.read",
        }));
        Assert.Equal(HttpStatusCode.NotFound, issue.StatusCode);
        using var signIn = await split.Services.Http.RequestTokenAsync("operator", TestAccounts.OperatorPassword);
        Assert.Equal(HttpStatusCode.NotFound, signIn.StatusCode);
        Assert.True(File.Exists(Path.Combine(split.Identity.DataFolder, "identity", "master.key")), "identity generates its master key where no other is given");
        Assert.DoesNotContain(Directory.EnumerateFiles(split.Services.DataFolder, "*", SearchOption.AllDirectories),
            f => Path.GetFileName(f) == "master.key" || File.ReadAllText(f).Contains("PRIVATE KEY", StringComparison.Ordinal));

        await using var connection = new NpgsqlConnection(split.Database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT \"Value\" FROM platform.secrets WHERE \"Name\" LIKE 'identity-signing-key/%'", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var stored = 0;
        while (await reader.ReadAsync())
        {
            stored++;
            using var key = ECDsa.Create();
            Assert.ThrowsAny<CryptographicException>(() => key.ImportPkcs8PrivateKey(Convert.FromBase64String(reader.GetString(0)), out _));
        }

        Assert.True(stored >= 2, $"identity keeps the current and the next key; found {stored}");

        // The JWKS publishes public halves only.
        var jwks = await split.Identity.Http.GetFromJsonAsync<JsonElement>("/.well-known/jwks.json");
        Assert.All(jwks.GetProperty("keys").EnumerateArray(), k =>
        {
            Assert.Equal("EC", k.GetProperty("kty").GetString());
            Assert.False(k.TryGetProperty("d", out _));
        });
    }

    [Fact]
    public async Task Rotation_PublishesTheNextKeyBeforeItSigns_AndTokensOfTheOldKeyStillValidate()
    {
        var first = await OperatorTokenAsync();
        var firstKid = Kid(first);
        var publishedAtFirst = await PublishedKidsAsync();
        Assert.Contains(firstKid, publishedAtFirst);

        var deadline = TimeProvider.System.GetUtcNow() + RotationDeadline;
        string second;
        do
        {
            Assert.True(TimeProvider.System.GetUtcNow() < deadline, $"identity still signs with {firstKid} after {RotationDeadline} (rotation every {SplitDeploymentFixture.Rotation})");
            await Task.Delay(TimeSpan.FromSeconds(2));
            second = await OperatorTokenAsync();
        }
        while (Kid(second) == firstKid);

        // The new key was published before it signed, and the old one is still published and still accepted.
        Assert.Contains(Kid(second), publishedAtFirst);
        Assert.Contains(firstKid, await PublishedKidsAsync());
        foreach (var token in new[] { first, second })
        {
            using var atServices = await SendAsync("services", "/api/v1/hosts", token);
            Assert.Equal(HttpStatusCode.OK, atServices.StatusCode);
            using var atIdentity = await SendAsync("identity", "/api/v1/me", token);
            Assert.Equal(HttpStatusCode.OK, atIdentity.StatusCode);
        }
    }

    [Fact]
    public async Task Renew_GivesAPersonAFreshToken_AndAServiceNone()
    {
        var token = await OperatorTokenAsync();
        using var renewed = await SendAsync("identity", "/api/v1/auth/renew", token, HttpMethod.Post);
        Assert.Equal(HttpStatusCode.OK, renewed.StatusCode);
        var fresh = (await renewed.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("accessToken").GetString()!;
        Assert.Equal("platformOperator", Tokens.Payload(fresh).GetProperty("role").GetString());
        using (var atServices = await SendAsync("services", "/api/v1/hosts", fresh))
        {
            Assert.Equal(HttpStatusCode.OK, atServices.StatusCode);
        }

        using var asService = await SendAsync("identity", "/api/v1/auth/renew", await split.TenantTokenAsync("gateway", "cloudPcs.read consoles.relay"), HttpMethod.Post);
        await ProblemAssert.IsProblemAsync(asService, HttpStatusCode.Forbidden);
    }

    private async Task<string> OperatorTokenAsync()
    {
        using var response = await split.Identity.Http.RequestTokenAsync("operator", TestAccounts.OperatorPassword);
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("accessToken").GetString()!;
    }

    private async Task<List<string>> PublishedKidsAsync()
    {
        var jwks = await split.Identity.Http.GetFromJsonAsync<JsonElement>("/.well-known/jwks.json");
        return jwks.GetProperty("keys").EnumerateArray().Select(k => k.GetProperty("kid").GetString()!).ToList();
    }

    private static string Kid(string token) => Tokens.Header(token).GetProperty("kid").GetString()!;

    private async Task<HttpResponseMessage> SendAsync(string where, string path, string token, HttpMethod? method = null)
    {
        var process = where == "identity" ? split.Identity : split.Services;
        using var request = new HttpRequestMessage(method ?? HttpMethod.Get, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return await process.Http.SendAsync(request);
    }
}
