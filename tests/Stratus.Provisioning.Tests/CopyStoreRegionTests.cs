using System.Net.Http.Json;
using System.Text.Json;
using Stratus.Provisioning.Tests.Support;

namespace Stratus.Provisioning.Tests;

/// <summary>local-1 copies its VMs' disks to a store in the data folder; local-2 has no copy store.</summary>
public sealed class OneCopyStoreHost : ProvisioningHost
{
    protected override IReadOnlyDictionary<string, string?> ExtraSettings => new Dictionary<string, string?>
    {
        ["Stratus__Compute__Regions__0__Name"] = "local-1",
        ["Stratus__Compute__Regions__0__DisplayName"] = "Local region 1",
        ["Stratus__Compute__Regions__0__Zones__0"] = "local-1a",
        ["Stratus__Compute__Regions__0__CopyStore"] = "file://" + Path.Combine(DataPath, "copies", "local-1"),
        ["Stratus__Compute__Regions__1__Name"] = "local-2",
        ["Stratus__Compute__Regions__1__DisplayName"] = "Local region 2",
        ["Stratus__Compute__Regions__1__Zones__0"] = "local-2a",
    };
}

/// <summary>
/// Issue 18: disaster recovery that needs a region's copy store where none is configured is refused at once, with
/// why, instead of failing minutes later as a VM made from a copy that does not exist.
/// </summary>
public sealed class CopyStoreRegionTests(OneCopyStoreHost host) : IClassFixture<OneCopyStoreHost>
{
    private const string SettingRegion = "crossRegionDisasterRecoverySetting.disasterRecoveryNetworkSetting.regionName";

    [Fact]
    public async Task A_setting_whose_backup_region_has_no_copy_store_is_refused_by_field_and_not_made()
    {
        using var tenant = await host.CreateTenantAsync("csr");
        var message = await Problem.AssertValidationAsync(await tenant.Admin.PostAsJsonAsync("/api/v1/userSettings", new
        {
            displayName = "To local-2",
            crossRegionDisasterRecoverySetting = new { disasterRecoveryType = "crossRegion", disasterRecoveryNetworkSetting = new { regionName = "local-2" } },
        }), SettingRegion);
        Assert.Equal("Region local-2 has no copy store, so no disk copies could be restored there; choose one that has: local-1.", message);
        Assert.Equal(0, (await tenant.Admin.GetFromJsonAsync<JsonElement>("/api/v1/userSettings")).GetProperty("totalCount").GetInt32());
    }

    [Fact]
    public async Task A_failover_of_a_cloud_pc_whose_primary_region_has_no_copy_store_is_refused_at_once_with_why()
    {
        using var tenant = await host.CreateTenantAsync("csf");
        var ada = await tenant.ProvisionAsync("ada", region: "local-2");

        // Its backup region local-1 has a store, so the setting is valid; failback would restore into local-2, which has none.
        var created = await tenant.Admin.PostAsJsonAsync("/api/v1/userSettings", new
        {
            displayName = "To local-1",
            crossRegionDisasterRecoverySetting = new { disasterRecoveryType = "crossRegion", disasterRecoveryNetworkSetting = new { regionName = "local-1" } },
        });
        Assert.Equal(System.Net.HttpStatusCode.Created, created.StatusCode);
        var setting = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
        var assigned = await tenant.Admin.PostAsJsonAsync($"/api/v1/userSettings/{setting}/assign", new { assignments = new[] { new { target = new { groupId = ada.GroupId }, priority = 1 } } });
        Assert.Equal(System.Net.HttpStatusCode.OK, assigned.StatusCode);

        var refused = await Problem.AssertConflictAsync(await tenant.PostActionAsync(ada.CloudPc.Id, "disasterRecoveryFailover"), "action-not-allowed");
        Assert.Contains("Region local-2 has no copy store", refused, StringComparison.Ordinal);

        // Nothing started: the Cloud PC is provisioned where it was, with its one VM, and no operation is under way.
        var pc = await tenant.GetCloudPcAsync(ada.CloudPc.Id);
        Assert.Equal(("provisioned", "local-2", (Guid?)null), (pc.Status, pc.RegionName, pc.ActiveOperationId));
        Assert.Single(await host.VmsAsync(tenant.Id));
    }
}
