using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Stratus.IntegrationTests.Support;
using Stratus.Testing;

namespace Stratus.IntegrationTests.Provisioning;

/// <summary>Events provisioning never received are healed by its periodic reconciliation with identity's full state.</summary>
public sealed class ReconciliationTests
{
    private const string SmallPlan = "5c1a0000-0000-4000-8000-000000010108";

    [Fact]
    public async Task Directory_changes_made_while_provisioning_did_not_run_still_give_the_user_a_cloud_pc()
    {
        using var data = new TempFolder();
        await TinyImageFolder.InstallIntoAsync(data.Path);
        const string password = "tenant-admin-pass-1";
        var domain = $"r{Guid.NewGuid():N}"[..12] + ".test";
        Guid user;
        Guid group;
        Guid tenantId;

        // Identity alone: its events find no provisioning queue, so provisioning never gets them.
        await using (var identityOnly = await StratusProcess.StartAsync(["run", "--targets", "identity,diagnostics,compute,images"], data.Path))
        {
            using var operatorClient = await identityOnly.OperatorClientAsync();
            var created = await operatorClient.PostAsJsonAsync("/api/v1/tenants", new { displayName = "Fabrikam", domain, admin = new { userName = $"admin@{domain}", password } });
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            tenantId = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("tenant").GetProperty("id").GetGuid();
            Assert.Equal(HttpStatusCode.OK, (await operatorClient.PutAsJsonAsync($"/api/v1/tenants/{tenantId}/subscribedSkus/{SmallPlan}", new { prepaidUnits = 1 })).StatusCode);
            using var admin = await identityOnly.SignedInClientAsync($"admin@{domain}", password);
            user = await IdAsync(await admin.PostAsJsonAsync("/api/v1/users", new
            {
                userPrincipalName = $"lin@{domain}", displayName = "Lin", accountEnabled = true, passwordProfile = new { password = "lin-password-1234" },
            }));
            group = await IdAsync(await admin.PostAsJsonAsync("/api/v1/groups", new { displayName = "Engineers" }));
            Assert.Equal(HttpStatusCode.NoContent, (await admin.PostAsJsonAsync($"/api/v1/groups/{group}/members", new { id = user })).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await admin.PostAsJsonAsync($"/api/v1/users/{user}/assignLicense",
                new { addLicenses = new[] { new { skuId = Guid.Parse(SmallPlan) } }, removeLicenses = Array.Empty<Guid>() })).StatusCode);
        }

        // --verbose: the reconciliation line is information, which a quiet terminal leaves out.
        await using var all = await StratusProcess.StartAsync(["up", "--hosts", "simulated", "--verbose"], data.Path, new Dictionary<string, string?>
        {
            ["Stratus__Provisioning__ReconcileInterval"] = "00:00:03",
        });
        using var tenantAdmin = await all.SignedInClientAsync($"admin@{domain}", password);
        var policy = await IdAsync(await tenantAdmin.PostAsJsonAsync("/api/v1/provisioningPolicies", new { displayName = "Engineering", imageId = TinyImageFolder.ImageId }));
        Assert.Equal(HttpStatusCode.OK, (await tenantAdmin.PostAsJsonAsync($"/api/v1/provisioningPolicies/{policy}/assign",
            new { assignments = new[] { new { target = new { groupId = group, servicePlanId = Guid.Parse(SmallPlan) } } } })).StatusCode);

        var pcs = await Eventually.MatchesAsync(async () => (await tenantAdmin.GetFromJsonAsync<JsonElement>("/api/v1/cloudPCs")).GetProperty("value"),
            v => v.GetArrayLength() == 1 && v[0].GetProperty("status").GetString() == "provisioned", "reconciliation to give Lin a Cloud PC");
        Assert.Equal(user, pcs[0].GetProperty("userId").GetGuid());
        Assert.Contains("Reconciled tenant", all.Output, StringComparison.Ordinal);

        // A tenant that still has Cloud PCs cannot be deleted, even suspended.
        using var operatorAgain = await all.OperatorClientAsync();
        Assert.Equal(HttpStatusCode.OK, (await operatorAgain.PostAsync($"/api/v1/tenants/{tenantId}/suspend", null)).StatusCode);
        var refused = await operatorAgain.DeleteAsync($"/api/v1/tenants/{tenantId}");
        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        Assert.Contains("still has 1 Cloud PCs", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await operatorAgain.GetAsync($"/api/v1/tenants/{tenantId}")).StatusCode);
    }

    private static async Task<Guid> IdAsync(HttpResponseMessage response)
    {
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
    }
}
