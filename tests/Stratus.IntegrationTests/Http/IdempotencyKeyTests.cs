using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Stratus.IntegrationTests.Support;
using Stratus.Testing;

namespace Stratus.IntegrationTests.Http;

/// <summary>
/// A write repeated with its Idempotency-Key, through the real binary: identity (its API and SCIM) and
/// provisioning take effect once and answer the repeat with the first response; another tenant's same key is
/// another request.
/// </summary>
public sealed class IdempotencyKeyTests
{
    private const string Password = "tenant-admin-pass-1";
    private const string ScimUserSchema = "urn:ietf:params:scim:schemas:core:2.0:User";

    [Fact]
    public async Task Writes_repeated_with_one_key_take_effect_once_per_tenant()
    {
        using var data = new TempFolder();
        await TinyImageFolder.InstallIntoAsync(data.Path);
        await using var stratus = await StratusProcess.StartAsync(["up", "--hosts", "none"], data.Path);
        using var operatorClient = await stratus.OperatorClientAsync();
        var contosoDomain = $"c{Guid.NewGuid():N}"[..12] + ".test";
        var fabrikamDomain = $"f{Guid.NewGuid():N}"[..12] + ".test";
        using var contoso = await TenantAdminAsync(stratus, operatorClient, contosoDomain);
        using var fabrikam = await TenantAdminAsync(stratus, operatorClient, fabrikamDomain);

        // Identity: one user, and the repeat answered as the first was.
        var ada = new { userPrincipalName = $"ada@{contosoDomain}", displayName = "Ada", accountEnabled = true, passwordProfile = new { password = "ada-password-123" } };
        using var user = await SendAsync(contoso, HttpMethod.Post, "/api/v1/users", "create-ada", JsonContent.Create(ada));
        using var userAgain = await SendAsync(contoso, HttpMethod.Post, "/api/v1/users", "create-ada", JsonContent.Create(ada));
        var userId = await CreatedIdAsync(user, replayed: false);
        Assert.Equal(userId, await CreatedIdAsync(userAgain, replayed: true));
        Assert.Equal(user.Headers.Location, userAgain.Headers.Location);
        Assert.Equal(1, await CountAsync(contoso, $"/api/v1/users?$filter=userPrincipalName eq 'ada@{contosoDomain}'"));

        // Provisioning: one policy.
        var desk = new { displayName = "Desk", imageId = TinyImageFolder.ImageId };
        using var policy = await SendAsync(contoso, HttpMethod.Post, "/api/v1/provisioningPolicies", "create-desk", JsonContent.Create(desk));
        using var policyAgain = await SendAsync(contoso, HttpMethod.Post, "/api/v1/provisioningPolicies", "create-desk", JsonContent.Create(desk));
        var policyId = await CreatedIdAsync(policy, replayed: false);
        Assert.Equal(policyId, await CreatedIdAsync(policyAgain, replayed: true));
        Assert.Equal(1, await CountAsync(contoso, "/api/v1/provisioningPolicies"));

        // The same keys from another tenant are that tenant's own requests.
        var lin = new { userPrincipalName = $"lin@{fabrikamDomain}", displayName = "Lin", accountEnabled = true, passwordProfile = new { password = "lin-password-123" } };
        using var otherUser = await SendAsync(fabrikam, HttpMethod.Post, "/api/v1/users", "create-ada", JsonContent.Create(lin));
        using var otherPolicy = await SendAsync(fabrikam, HttpMethod.Post, "/api/v1/provisioningPolicies", "create-desk", JsonContent.Create(desk));
        Assert.NotEqual(userId, await CreatedIdAsync(otherUser, replayed: false));
        Assert.NotEqual(policyId, await CreatedIdAsync(otherPolicy, replayed: false));
        Assert.Equal(1, await CountAsync(fabrikam, "/api/v1/provisioningPolicies"));
        Assert.Equal(1, await CountAsync(contoso, "/api/v1/provisioningPolicies"));

        // SCIM, whose client has a token of the tenant rather than an account.
        using (var token = await contoso.PostAsync("/api/v1/scim/token", null))
        {
            Assert.Equal(HttpStatusCode.OK, token.StatusCode);
            using var scim = new HttpClient { BaseAddress = stratus.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
            scim.DefaultRequestHeaders.Authorization = new("Bearer", (await token.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString());
            var bob = $$"""{"schemas":["{{ScimUserSchema}}"],"userName":"bob@{{contosoDomain}}","displayName":"Bob","active":true}""";
            using var scimUser = await SendAsync(scim, HttpMethod.Post, "/scim/v2/Users", "scim-bob", new StringContent(bob, Encoding.UTF8, "application/scim+json"));
            using var scimUserAgain = await SendAsync(scim, HttpMethod.Post, "/scim/v2/Users", "scim-bob", new StringContent(bob, Encoding.UTF8, "application/scim+json"));
            Assert.Equal(await CreatedIdAsync(scimUser, replayed: false), await CreatedIdAsync(scimUserAgain, replayed: true));
            Assert.Equal("application/scim+json", scimUserAgain.Content.Headers.ContentType?.MediaType);
            Assert.Equal(1, await CountAsync(contoso, $"/api/v1/users?$filter=userPrincipalName eq 'bob@{contosoDomain}'"));
        }

        // The key with another request is refused, and changes nothing.
        using var reused = await SendAsync(contoso, HttpMethod.Post, "/api/v1/provisioningPolicies", "create-desk", JsonContent.Create(new { displayName = "Other", imageId = TinyImageFolder.ImageId }));
        var problem = await ProblemAssert.IsProblemAsync(reused, HttpStatusCode.Conflict);
        Assert.Equal("https://stratus.dev/problems/idempotency-key-reused", problem.GetProperty("type").GetString());
        Assert.Equal(1, await CountAsync(contoso, "/api/v1/provisioningPolicies"));
    }

    private static async Task<HttpClient> TenantAdminAsync(StratusProcess stratus, HttpClient operatorClient, string domain)
    {
        using var created = await operatorClient.PostAsJsonAsync("/api/v1/tenants", new { displayName = domain, domain, admin = new { userName = $"admin@{domain}", password = Password } });
        Assert.True(created.StatusCode == HttpStatusCode.Created, await created.Content.ReadAsStringAsync());
        return await stratus.SignedInClientAsync($"admin@{domain}", Password);
    }

    private static Task<HttpResponseMessage> SendAsync(HttpClient client, HttpMethod method, string path, string key, HttpContent content)
    {
        var request = new HttpRequestMessage(method, path) { Content = content };
        request.Headers.Add("Idempotency-Key", key);
        return client.SendAsync(request);
    }

    private static async Task<string> CreatedIdAsync(HttpResponseMessage response, bool replayed)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"{(int)response.StatusCode}: {body}");
        Assert.Equal(replayed, response.Headers.TryGetValues("Idempotent-Replayed", out var values) && values.Single() == "true");
        return JsonDocument.Parse(body).RootElement.GetProperty("id").GetString()!;
    }

    private static async Task<int> CountAsync(HttpClient client, string path) =>
        (await client.GetFromJsonAsync<JsonElement>(path)).GetProperty("value").GetArrayLength();
}
