using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Stratus.Provisioning.Tests.Support;

namespace Stratus.Provisioning.Tests;

/// <summary>
/// Issue 18: a user setting's copy policy (diskCopyFrequencyInMinutes, the cross-region backup region) reaches the
/// user's existing VM in compute (SetVmDiskCopies): when the setting changes, and when a group membership puts the
/// user under another setting or takes them out of it.
/// </summary>
public sealed class DiskCopyPolicyTests(ProvisioningHost host) : IClassFixture<ProvisioningHost>
{
    [Fact]
    public async Task A_vms_copy_policy_follows_its_users_setting_when_the_setting_changes_and_when_a_membership_moves_the_user()
    {
        using var tenant = await host.CreateTenantAsync("cp");
        var ada = await tenant.ProvisionAsync("ada", region: "local-1");
        var vmId = Assert.Single(await host.VmsAsync(tenant.Id)).Id;

        // No setting: compute's default interval, no backup region.
        await PolicyAsync(vmId, (null, null), "the default policy");

        var protectedSetting = await CreateSettingAsync(tenant, new
        {
            displayName = "Protected", diskCopyFrequencyInMinutes = 15,
            crossRegionDisasterRecoverySetting = new { disasterRecoveryType = "crossRegion", disasterRecoveryNetworkSetting = new { regionName = "local-2" } },
        });
        await AssignSettingAsync(tenant, protectedSetting, ada.GroupId, priority: 10);
        await PolicyAsync(vmId, (15, "local-2"), "the Protected setting's policy once it is assigned");

        var changed = await tenant.Admin.PatchAsJsonAsync($"/api/v1/userSettings/{protectedSetting}", new { diskCopyFrequencyInMinutes = 30 });
        Assert.True(changed.StatusCode == HttpStatusCode.OK, await changed.Content.ReadAsStringAsync());
        await PolicyAsync(vmId, (30, "local-2"), "the changed interval");

        // A setting of a higher priority on another group: ada joining that group moves her under it, leaving it moves her back.
        var nightShift = await tenant.CreateGroupAsync("Night shift");
        var hourly = await CreateSettingAsync(tenant, new { displayName = "Hourly", diskCopyFrequencyInMinutes = 60 });
        await AssignSettingAsync(tenant, hourly, nightShift, priority: 1);
        await tenant.AddMemberAsync(nightShift, ada.UserId);
        await PolicyAsync(vmId, (60, null), "the Hourly setting's policy once ada joins Night shift");

        await tenant.RemoveMemberAsync(nightShift, ada.UserId);
        await PolicyAsync(vmId, (30, "local-2"), "the Protected setting's policy again once ada leaves Night shift");
    }

    private async Task PolicyAsync(Guid vmId, (int? IntervalMinutes, string? BackupRegion) expected, string what) =>
        await Eventually.UntilAsync(() => host.Operator.GetFromJsonAsync<JsonElement>($"/api/v1/vms/{vmId}"),
            vm => vm.GetProperty("copyPolicy") is var policy && !policy.GetProperty("off").GetBoolean()
                && (policy.GetProperty("intervalMinutes").ValueKind == JsonValueKind.Null ? null : policy.GetProperty("intervalMinutes").GetInt32()) == expected.IntervalMinutes
                && policy.GetProperty("backupRegion").GetString() == expected.BackupRegion,
            $"the VM's copy policy to be {expected}: {what}", TimeSpan.FromSeconds(90));

    private static async Task<Guid> CreateSettingAsync(TestTenant tenant, object body)
    {
        var response = await tenant.Admin.PostAsJsonAsync("/api/v1/userSettings", body);
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
    }

    private static async Task AssignSettingAsync(TestTenant tenant, Guid setting, Guid group, int priority)
    {
        var response = await tenant.Admin.PostAsJsonAsync($"/api/v1/userSettings/{setting}/assign", new { assignments = new[] { new { target = new { groupId = group }, priority } } });
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
    }
}
