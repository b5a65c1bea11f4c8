using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Stratus.Testing;

namespace Stratus.Images.Tests;

/// <summary>
/// Issue 16 item 2: every VM disk is a copy-on-write overlay of its image's disk, so a custom image that a policy
/// or a Cloud PC uses is never deleted, and none of its files leave any region's store.
/// </summary>
[Collection(ImagesCollection.Name)]
public sealed class ImageInUseTests(ImagesHosts hosts) : IDisposable
{
    /// <summary>Identity's seeded plan of 2 vCPUs (the smallest), which the tenant gets seats of.</summary>
    private static readonly Guid SmallPlan = Guid.Parse("5c1a0000-0000-4000-8000-000000010108");

    private readonly TempFolder files = new();

    public void Dispose() => files.Dispose();

    [Theory]
    [MemberData(nameof(ImagesHosts.Providers), MemberType = typeof(ImagesHosts))]
    public async Task Delete_ImageOfAPolicyWithCloudPcs_Returns409NamingThem_AndRemovesNothing(string provider)
    {
        var host = hosts.Host(provider);
        using var tenant = await host.CreateTenantAsync();
        var id = await ReadyImageAsync(tenant);
        var policy = await CreatePolicyAsync(tenant, id, "Engineering");

        // A user of a group the policy is assigned to, with a license: provisioning makes them a Cloud PC on the image.
        using (var operatorClient = await host.Process.OperatorClientAsync())
        {
            await AssertOkAsync(await operatorClient.PutAsJsonAsync($"/api/v1/tenants/{tenant.Id}/subscribedSkus/{SmallPlan}", new { prepaidUnits = 5 }));
        }

        var user = await IdOfAsync(await tenant.Admin.PostAsJsonAsync("/api/v1/users", new
        {
            userPrincipalName = "engineer@" + tenant.Domain,
            displayName = "Engineer",
            passwordProfile = new { password = "user-password-123" },
        }));
        var group = await IdOfAsync(await tenant.Admin.PostAsJsonAsync("/api/v1/groups", new { displayName = "Engineers" }));
        await AssertOkAsync(await tenant.Admin.PostAsJsonAsync($"/api/v1/groups/{group}/members", new { id = user }));
        await AssertOkAsync(await tenant.Admin.PostAsJsonAsync($"/api/v1/users/{user}/assignLicense",
            new { addLicenses = new[] { new { skuId = SmallPlan } }, removeLicenses = Array.Empty<Guid>() }));
        await AssertOkAsync(await tenant.Admin.PostAsJsonAsync($"/api/v1/provisioningPolicies/{policy}/assign",
            new { assignments = new[] { new { target = new { groupId = group, servicePlanId = SmallPlan } } } }));
        await WaitForCloudPcsAsync(tenant, 1);

        var refusal = await Problem.AssertAsync(await tenant.Admin.DeleteAsync($"/api/v1/deviceImages/{id}"), HttpStatusCode.Conflict);

        Assert.EndsWith("image-in-use", refusal.GetProperty("type").GetString(), StringComparison.Ordinal);
        Assert.Contains("'Engineering'", refusal.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Contains("1 Cloud PC", refusal.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(1, refusal.GetProperty("cloudPcCount").GetInt32());
        Assert.Equal([policy], refusal.GetProperty("policies").EnumerateArray().Select(p => p.GetProperty("id").GetGuid()));
        await AssertKeptAsync(host, tenant, id);
    }

    [Theory]
    [MemberData(nameof(ImagesHosts.Providers), MemberType = typeof(ImagesHosts))]
    public async Task Delete_ImageOfAPolicy_Returns409_ThenOnceThePolicyIsGone_Returns204AndRemovesEveryFile(string provider)
    {
        var host = hosts.Host(provider);
        using var tenant = await host.CreateTenantAsync();
        var id = await ReadyImageAsync(tenant);
        var policy = await CreatePolicyAsync(tenant, id, "Designers");

        var refusal = await Problem.AssertAsync(await tenant.Admin.DeleteAsync($"/api/v1/deviceImages/{id}"), HttpStatusCode.Conflict);
        Assert.Contains("'Designers'", refusal.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(0, refusal.GetProperty("cloudPcCount").GetInt32());
        await AssertKeptAsync(host, tenant, id);

        Assert.Equal(HttpStatusCode.NoContent, (await tenant.Admin.DeleteAsync($"/api/v1/provisioningPolicies/{policy}")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await tenant.Admin.DeleteAsync($"/api/v1/deviceImages/{id}")).StatusCode);

        await Problem.AssertAsync(await tenant.Admin.GetAsync($"/api/v1/deviceImages/{id}"), HttpStatusCode.NotFound);
        await host.AssertNothingLeftAsync(id);
    }

    [Theory]
    [MemberData(nameof(ImagesHosts.Providers), MemberType = typeof(ImagesHosts))]
    public async Task PolicyUpdate_ToAnImageNotReady_Returns400_AndKeepsItsImage(string provider)
    {
        var host = hosts.Host(provider);
        using var tenant = await host.CreateTenantAsync();
        var ready = await ReadyImageAsync(tenant);
        var policy = await CreatePolicyAsync(tenant, ready, "Support");
        var pending = await DeviceImagesClient.CreateAsync(tenant.Admin);

        var refusal = await Problem.AssertAsync(
            await tenant.Admin.PatchAsJsonAsync($"/api/v1/provisioningPolicies/{policy}", new { imageId = pending, imageType = "custom" }),
            HttpStatusCode.BadRequest);

        Assert.Contains($"'{pending}' is pending, not ready", refusal.GetProperty("errors").GetProperty("imageId")[0].GetString(), StringComparison.Ordinal);
        var kept = await tenant.Admin.GetFromJsonAsync<JsonElement>($"/api/v1/provisioningPolicies/{policy}");
        Assert.Equal(ready, kept.GetProperty("imageId").GetString());
    }

    private async Task<string> ReadyImageAsync(TestTenant tenant)
    {
        var id = await DeviceImagesClient.CreateAsync(tenant.Admin);
        Assert.Equal(HttpStatusCode.Accepted, (await DeviceImagesClient.UploadAsync(tenant.Admin, id, await DiskFiles.Qcow2Async(files.Path))).StatusCode);
        Assert.Equal("ready", (await DeviceImagesClient.WaitForDecisionAsync(tenant.Admin, id)).GetProperty("status").GetString());
        return id;
    }

    private static async Task<Guid> CreatePolicyAsync(TestTenant tenant, string imageId, string name) =>
        await IdOfAsync(await tenant.Admin.PostAsJsonAsync("/api/v1/provisioningPolicies", new
        {
            displayName = name,
            imageId,
            imageType = "custom",
            regionNames = new[] { tenant.Host.Regions[0] },
        }));

    /// <summary>Still ready, and its disk still in every region's store and in custom/.</summary>
    private static async Task AssertKeptAsync(ImagesHost host, TestTenant tenant, string id)
    {
        Assert.Equal("ready", (await tenant.Admin.GetFromJsonAsync<JsonElement>($"/api/v1/deviceImages/{id}")).GetProperty("status").GetString());
        foreach (var folder in host.Regions.Select(host.RegionFolder).Append(Path.Combine(host.ImagesRoot, "custom")))
        {
            Assert.True(File.Exists(Path.Combine(folder, id, "disk.qcow2")), $"{folder}/{id}/disk.qcow2 is gone");
        }
    }

    private static async Task WaitForCloudPcsAsync(TestTenant tenant, int count)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            var page = await tenant.Admin.GetFromJsonAsync<JsonElement>("/api/v1/cloudPCs");
            if (page.GetProperty("value").GetArrayLength() == count)
            {
                return;
            }

            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), $"Not {count} Cloud PCs after 60 s: {page}");
            await Task.Delay(250);
        }
    }

    private static async Task<Guid> IdOfAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"{response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.GetProperty("id").GetGuid();
    }

    private static async Task AssertOkAsync(HttpResponseMessage response) =>
        Assert.True(response.IsSuccessStatusCode, $"{response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
}
