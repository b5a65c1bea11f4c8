using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Stratus.IntegrationTests.Support;
using Stratus.Testing;

namespace Stratus.IntegrationTests.Diagnostics;

/// <summary>
/// A tenant with one user licensed for the small plan through a policy of the tiny gallery image, so that provisioning
/// makes it a Cloud PC on the embedded host of local-1 (real QEMU or the simulated driver, as the process was started).
/// </summary>
internal sealed record TroubleshootTenant(StratusProcess Stratus, HttpClient Admin, string AdminUserName, Guid TenantId)
{
    public const string Password = "tenant-admin-pass-1";

    private const string SmallPlan = "5c1a0000-0000-4000-8000-000000010108";

    /// <summary>A tenant and its admin; with <paramref name="withCloudPc"/>, a user whose license makes a Cloud PC.</summary>
    public static async Task<TroubleshootTenant> CreateAsync(StratusProcess stratus, HttpClient operatorClient, bool withCloudPc)
    {
        var domain = $"t{Guid.NewGuid():N}"[..12] + ".test";
        var created = await operatorClient.PostAsJsonAsync("/api/v1/tenants", new { displayName = "Contoso", domain, admin = new { userName = $"admin@{domain}", password = Password } });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var tenantId = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("tenant").GetProperty("id").GetGuid();
        var admin = await stratus.SignedInClientAsync($"admin@{domain}", Password);
        var tenant = new TroubleshootTenant(stratus, admin, $"admin@{domain}", tenantId);
        if (!withCloudPc)
        {
            return tenant;
        }

        Assert.Equal(HttpStatusCode.OK, (await operatorClient.PutAsJsonAsync($"/api/v1/tenants/{tenantId}/subscribedSkus/{SmallPlan}", new { prepaidUnits = 1 })).StatusCode);
        var user = await CreatedAsync(await admin.PostAsJsonAsync("/api/v1/users", new
        {
            userPrincipalName = $"ada@{domain}", displayName = "Ada", accountEnabled = true, passwordProfile = new { password = "ada-password-123" },
        }));
        var group = await CreatedAsync(await admin.PostAsJsonAsync("/api/v1/groups", new { displayName = "Cloud PC users" }));
        Assert.Equal(HttpStatusCode.NoContent, (await admin.PostAsJsonAsync($"/api/v1/groups/{group}/members", new { id = user })).StatusCode);
        var policy = await CreatedAsync(await admin.PostAsJsonAsync("/api/v1/provisioningPolicies", new
        {
            displayName = "Tiny Linux", imageId = TinyImageFolder.ImageId, imageType = "gallery", regionNames = new[] { "local-1" }, gracePeriodInHours = 168,
        }));
        var assignments = new[] { new { target = new { groupId = group, servicePlanId = Guid.Parse(SmallPlan) } } };
        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsJsonAsync($"/api/v1/provisioningPolicies/{policy}/assign", new { assignments })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await admin.PostAsJsonAsync($"/api/v1/users/{user}/assignLicense",
            new { addLicenses = new[] { new { skuId = Guid.Parse(SmallPlan) } }, removeLicenses = Array.Empty<Guid>() })).StatusCode);
        return tenant;
    }

    /// <summary>The tenant's one Cloud PC once it is provisioned and running.</summary>
    public async Task<Guid> ProvisionedCloudPcAsync()
    {
        var list = await Eventually.MatchesAsync(() => Admin.GetFromJsonAsync<JsonElement>("/api/v1/cloudPCs"),
            l => l.GetProperty("value").EnumerateArray().Any(p => p.GetProperty("status").GetString() == "provisioned" && p.GetProperty("powerState").GetString() == "running"),
            "the Cloud PC to be provisioned and running", TimeSpan.FromMinutes(4));
        return list.GetProperty("value").EnumerateArray().Single().GetProperty("id").GetGuid();
    }

    public async Task<HttpResponseMessage> TroubleshootAsync(Guid cloudPcId) => await Admin.PostAsync($"/api/v1/cloudPCs/{cloudPcId}/troubleshoot", null);

    /// <summary>A troubleshoot that must succeed: its result.</summary>
    public async Task<JsonElement> TroubleshootedAsync(Guid cloudPcId)
    {
        using var response = await TroubleshootAsync(cloudPcId);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"troubleshoot: {(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    public static JsonElement Check(JsonElement result, string name) => result.GetProperty("checks").EnumerateArray().Single(c => c.GetProperty("name").GetString() == name);

    public static string Status(JsonElement result, string name) => Check(result, name).GetProperty("status").GetString()!;

    private static async Task<Guid> CreatedAsync(HttpResponseMessage response)
    {
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
    }
}
