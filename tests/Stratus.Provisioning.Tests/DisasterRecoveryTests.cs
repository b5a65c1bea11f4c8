using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Stratus.Provisioning.Tests.Support;

namespace Stratus.Provisioning.Tests;

/// <summary>
/// Cross-region disaster recovery with simulated hosts in local-1 and local-2: the user setting, failover to the
/// backup region (the Cloud PC switches to the new VM once it is ready), failback, who may ask, the report.
/// </summary>
public sealed class DisasterRecoveryTests(ProvisioningHost host) : IClassFixture<ProvisioningHost>
{
    private const string SettingRegion = "crossRegionDisasterRecoverySetting.disasterRecoveryNetworkSetting.regionName";

    [Fact]
    public async Task Disaster_recovery_settings_are_validated_by_field_and_shown_with_their_defaults()
    {
        using var tenant = await host.CreateTenantAsync("drs");
        await tenant.CreatePolicyAsync("Local one", region: "local-1");

        await Problem.AssertValidationAsync(await tenant.Admin.PostAsJsonAsync("/api/v1/userSettings",
            new { displayName = "No region", crossRegionDisasterRecoverySetting = new { disasterRecoveryType = "crossRegion" } }), SettingRegion);
        await Problem.AssertValidationAsync(await tenant.Admin.PostAsJsonAsync("/api/v1/userSettings",
            new { displayName = "Unknown region", crossRegionDisasterRecoverySetting = new { disasterRecoveryType = "crossRegion", disasterRecoveryNetworkSetting = new { regionName = "mars-1" } } }), SettingRegion);
        await Problem.AssertValidationAsync(await tenant.Admin.PostAsJsonAsync("/api/v1/userSettings",
            new { displayName = "Same region", crossRegionDisasterRecoverySetting = new { disasterRecoveryType = "crossRegion", disasterRecoveryNetworkSetting = new { regionName = "local-1" } } }), SettingRegion);
        await Problem.AssertValidationAsync(await tenant.Admin.PostAsJsonAsync("/api/v1/userSettings",
            new { displayName = "Bad type", crossRegionDisasterRecoverySetting = new { disasterRecoveryType = "sameRegion" } }), "crossRegionDisasterRecoverySetting.disasterRecoveryType");
        await Problem.AssertValidationAsync(await tenant.Admin.PostAsJsonAsync("/api/v1/userSettings", new { displayName = "Too often", diskCopyFrequencyInMinutes = 0 }), "diskCopyFrequencyInMinutes");
        await Problem.AssertValidationAsync(await tenant.Admin.PostAsJsonAsync("/api/v1/userSettings", new { displayName = "Too rare", diskCopyFrequencyInMinutes = 1441 }), "diskCopyFrequencyInMinutes");
        Assert.Equal(0, (await tenant.Admin.GetFromJsonAsync<JsonElement>("/api/v1/userSettings")).GetProperty("totalCount").GetInt32());

        var plain = await CreateSettingAsync(tenant, new { displayName = "Plain" });
        Assert.Equal("notConfigured", plain.GetProperty("crossRegionDisasterRecoverySetting").GetProperty("disasterRecoveryType").GetString());
        Assert.Equal(5, plain.GetProperty("diskCopyFrequencyInMinutes").GetInt32());

        var dr = await CreateSettingAsync(tenant, new
        {
            displayName = "Protected", diskCopyFrequencyInMinutes = 15,
            crossRegionDisasterRecoverySetting = new { disasterRecoveryType = "crossRegion", disasterRecoveryNetworkSetting = new { regionName = "local-2" }, userInitiatedDisasterRecoveryAllowed = true },
        });
        var read = await tenant.Admin.GetFromJsonAsync<JsonElement>($"/api/v1/userSettings/{dr.GetProperty("id").GetGuid()}");
        var setting = read.GetProperty("crossRegionDisasterRecoverySetting");
        Assert.Equal("crossRegion", setting.GetProperty("disasterRecoveryType").GetString());
        Assert.Equal("local-2", setting.GetProperty("disasterRecoveryNetworkSetting").GetProperty("regionName").GetString());
        Assert.True(setting.GetProperty("userInitiatedDisasterRecoveryAllowed").GetBoolean());
        Assert.False(setting.GetProperty("maintainCrossRegionRestorePointEnabled").GetBoolean());
        Assert.Equal(15, read.GetProperty("diskCopyFrequencyInMinutes").GetInt32());

        // A change to the backup region is checked as the create was, and changes nothing when refused.
        await Problem.AssertValidationAsync(await tenant.Admin.PatchAsJsonAsync($"/api/v1/userSettings/{dr.GetProperty("id").GetGuid()}",
            new { crossRegionDisasterRecoverySetting = new { disasterRecoveryNetworkSetting = new { regionName = "local-1" } } }), SettingRegion);
        read = await tenant.Admin.GetFromJsonAsync<JsonElement>($"/api/v1/userSettings/{dr.GetProperty("id").GetGuid()}");
        Assert.Equal("local-2", read.GetProperty("crossRegionDisasterRecoverySetting").GetProperty("disasterRecoveryNetworkSetting").GetProperty("regionName").GetString());
    }

    [Fact]
    public async Task Failover_makes_the_cloud_pc_run_on_a_new_vm_in_the_backup_region()
    {
        using var tenant = await host.CreateTenantAsync("drf");
        await FailOverAsync(tenant);
    }

    /// <summary>
    /// Needs the host agents' CopyDisk (helpers diskcopy and hostloss, issue 18): before they are merged compute
    /// refuses the operation, and the failback ends failed with the Cloud PC still failed over (its abort path).
    /// </summary>
    [Fact]
    public async Task Failback_copies_the_disk_home_makes_a_new_primary_from_it_and_deletes_the_older_vms()
    {
        using var tenant = await host.CreateTenantAsync("drb");
        var (ada, primaryVm, drVmId) = await FailOverAsync(tenant);

        // Failback: the disaster-recovery VM stops, its disk is copied home, a new primary is made from it in local-1;
        // then both older VMs go.
        var failback = await tenant.WaitForSuccessAsync(await tenant.ActAsync(ada.CloudPc.Id, "disasterRecoveryFailback"));
        var home = await CloudPcAsync(tenant, ada.CloudPc.Id);
        Assert.Equal("notFailedOver", home.GetProperty("disasterRecoveryStatus").GetProperty("status").GetString());
        Assert.Equal("local-1", home.GetProperty("disasterRecoveryStatus").GetProperty("activeRegion").GetString());
        var newPrimary = home.GetProperty("vmId").GetGuid();
        Assert.DoesNotContain(newPrimary, new[] { primaryVm, drVmId });
        var remaining = await Eventually.UntilAsync(() => host.VmsAsync(tenant.Id), v => v.Count == 1, "the older VMs to be deleted");
        Assert.Equal((newPrimary, "local-1"), (remaining[0].Id, remaining[0].Region));
        Assert.Equal("disasterRecoveryFailback", failback.Action);
    }

    /// <summary>Provisions ada in local-1 with crossRegion disaster recovery to local-2 and fails her Cloud PC over, checking each step.</summary>
    private async Task<(Provisioned Ada, Guid PrimaryVm, Guid DrVm)> FailOverAsync(TestTenant tenant)
    {
        var ada = await tenant.ProvisionAsync("ada", region: "local-1");
        var primaryVm = Assert.Single(await host.VmsAsync(tenant.Id));
        Assert.Equal("local-1", primaryVm.Region);

        // Without cross-region disaster recovery there is nothing to fail over to.
        Assert.Equal("none", (await CloudPcAsync(tenant, ada.CloudPc.Id)).GetProperty("disasterRecoveryCapability").GetProperty("capabilityType").GetString());
        var refused = await Problem.AssertConflictAsync(await tenant.PostActionAsync(ada.CloudPc.Id, "disasterRecoveryFailover"), "action-not-allowed");
        Assert.Contains("crossRegionDisasterRecoverySetting", refused, StringComparison.Ordinal);

        var setting = await CreateSettingAsync(tenant, new
        {
            displayName = "Protected",
            crossRegionDisasterRecoverySetting = new { disasterRecoveryType = "crossRegion", disasterRecoveryNetworkSetting = new { regionName = "local-2" } },
        });
        await AssignSettingAsync(tenant, setting.GetProperty("id").GetGuid(), ada.GroupId);
        var capable = await Eventually.UntilAsync(() => CloudPcAsync(tenant, ada.CloudPc.Id),
            p => p.GetProperty("disasterRecoveryCapability").GetProperty("capabilityType").GetString() == "failover", "the Cloud PC to be able to fail over");
        Assert.Equal("local-2", capable.GetProperty("disasterRecoveryCapability").GetProperty("secondaryRegion").GetString());

        // The user's setting does not allow them to fail over themselves.
        using var adaClient = await tenant.SignInAsync("ada");
        await Problem.AssertAsync(await adaClient.PostAsync($"/api/v1/me/cloudPCs/{ada.CloudPc.Id}/disasterRecoveryFailover", null), HttpStatusCode.Forbidden);

        // The admin's bulk action fails it over.
        var bulk = await tenant.Admin.PostAsJsonAsync("/api/v1/cloudPCs/bulkAction", new { action = "disasterRecoveryFailover", cloudPcIds = new[] { ada.CloudPc.Id } });
        Assert.Equal(HttpStatusCode.OK, bulk.StatusCode);
        var item = (await bulk.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("value")[0];
        Assert.Equal(202, item.GetProperty("status").GetInt32());
        var failover = await tenant.WaitForSuccessAsync(await tenant.GetOperationAsync(ada.CloudPc.Id, item.GetProperty("operationId").GetGuid()));
        Assert.Equal("disasterRecoveryFailover", failover.Action);

        var failedOver = await CloudPcAsync(tenant, ada.CloudPc.Id);
        Assert.Equal("provisioned", failedOver.GetProperty("status").GetString());
        Assert.Equal("failedOver", failedOver.GetProperty("disasterRecoveryStatus").GetProperty("status").GetString());
        Assert.Equal("local-2", failedOver.GetProperty("disasterRecoveryStatus").GetProperty("activeRegion").GetString());
        Assert.Equal(primaryVm.Id, failedOver.GetProperty("disasterRecoveryStatus").GetProperty("primaryVmId").GetGuid());
        Assert.Equal("failback", failedOver.GetProperty("disasterRecoveryCapability").GetProperty("capabilityType").GetString());
        Assert.Equal("local-1", failedOver.GetProperty("regionName").GetString());

        // The Cloud PC's VM (the one the gateway connects to) is the new one, running in local-2; the primary is stopped, kept.
        var drVmId = failedOver.GetProperty("vmId").GetGuid();
        Assert.NotEqual(primaryVm.Id, drVmId);
        var vms = await host.VmsAsync(tenant.Id);
        var drVm = Assert.Single(vms, v => v.Id == drVmId);
        Assert.Equal(("local-2", true), (drVm.Region, drVm.Ready));
        Assert.Equal((await host.HostOfRegionAsync("local-2")).Name, failedOver.GetProperty("hostName").GetString());
        Assert.Equal("stopped", Assert.Single(vms, v => v.Id == primaryVm.Id).DesiredPower);

        // A second failover is refused; the history and the report say it is failed over.
        await Problem.AssertConflictAsync(await tenant.PostActionAsync(ada.CloudPc.Id, "disasterRecoveryFailover"), "action-not-allowed");
        var dr = await tenant.Admin.GetFromJsonAsync<JsonElement>($"/api/v1/cloudPCs/{ada.CloudPc.Id}/disasterRecovery");
        Assert.Equal(failover.Id, dr.GetProperty("history")[0].GetProperty("id").GetGuid());
        var report = await tenant.Admin.GetFromJsonAsync<JsonElement>("/api/v1/reports/crossRegionDisasterRecovery");
        var row = Assert.Single(report.GetProperty("value").EnumerateArray());
        Assert.Equal(("crossRegion", "failedOver", "local-2"),
            (row.GetProperty("disasterRecoveryType").GetString(), row.GetProperty("disasterRecoveryStatus").GetString(), row.GetProperty("backupRegion").GetString()));

        return (ada, primaryVm.Id, drVmId);
    }

    private static async Task<JsonElement> CloudPcAsync(TestTenant tenant, Guid id) =>
        await tenant.Admin.GetFromJsonAsync<JsonElement>($"/api/v1/cloudPCs/{id}");

    private static async Task<JsonElement> CreateSettingAsync(TestTenant tenant, object body)
    {
        var response = await tenant.Admin.PostAsJsonAsync("/api/v1/userSettings", body);
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    private static async Task AssignSettingAsync(TestTenant tenant, Guid setting, Guid group)
    {
        var response = await tenant.Admin.PostAsJsonAsync($"/api/v1/userSettings/{setting}/assign", new { assignments = new[] { new { target = new { groupId = group }, priority = 1 } } });
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
    }
}
