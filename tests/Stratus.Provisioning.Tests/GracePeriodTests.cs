using System.Net;
using System.Net.Http.Json;
using Stratus.Provisioning.Tests.Support;

namespace Stratus.Provisioning.Tests;

/// <summary>
/// A provisioned Cloud PC whose user loses the license or the group keeps running for the policy's grace period
/// (one policy hour is <see cref="ProvisioningHost.GracePeriodHour"/> here), then goes with its VM.
/// </summary>
public sealed class GracePeriodTests(ProvisioningHost host) : IClassFixture<ProvisioningHost>
{
    // Between this machine's clock and the server's there is none, but the answer takes a moment to come.
    private static readonly TimeSpan Slack = TimeSpan.FromSeconds(10);

    // The server keeps the end in whole milliseconds.
    private static readonly TimeSpan Truncated = TimeSpan.FromMilliseconds(1);

    [Fact]
    public async Task LicenseRemoved_GracePeriod_LicenseBack_Provisioned_RemovedAgain_DeprovisionedWithItsVm()
    {
        using var tenant = await host.CreateTenantAsync();
        var ada = await tenant.ProvisionAsync(gracePeriodInHours: 100);
        var vm = Assert.Single(await host.AllVmsAsync(tenant.Id));

        var removedAt = TimeProvider.System.GetUtcNow();
        await tenant.RemoveLicenseAsync(ada.UserId, Plans.Small);

        var inGrace = await tenant.WaitForCloudPcAsync(p => p.Status == "inGracePeriod", "the grace period");
        var expectedEnd = removedAt + (ProvisioningHost.GracePeriodHour * 100);
        Assert.NotNull(inGrace.GracePeriodEndDateTime);
        Assert.InRange(inGrace.GracePeriodEndDateTime.Value, expectedEnd - Truncated, expectedEnd + Slack);
        Assert.Equal((ada.CloudPc.Id, "running"), (inGrace.Id, inGrace.PowerState));
        Assert.Equal(vm.Id, Assert.Single(await host.AllVmsAsync(tenant.Id)).Id);

        // The license comes back within the grace period: the same Cloud PC, on the same VM, provisioned again.
        await tenant.AssignLicenseAsync(ada.UserId, Plans.Small);
        var back = await tenant.WaitForCloudPcAsync(p => p.Status == "provisioned", "the Cloud PC to leave its grace period");
        Assert.Equal(ada.CloudPc.Id, back.Id);
        Assert.Null(back.GracePeriodEndDateTime);
        Assert.Single(await tenant.CloudPcsAsync());
        Assert.Equal(vm.Id, Assert.Single(await host.AllVmsAsync(tenant.Id)).Id);

        // A policy edit applies to the next grace period: one policy hour, then the Cloud PC and its VM go.
        var patched = await tenant.Admin.PatchAsJsonAsync($"/api/v1/provisioningPolicies/{ada.Policy.Id}", new { gracePeriodInHours = 1 });
        Assert.Equal(HttpStatusCode.OK, patched.StatusCode);
        removedAt = TimeProvider.System.GetUtcNow();
        await tenant.RemoveLicenseAsync(ada.UserId, Plans.Small);
        inGrace = await tenant.WaitForCloudPcAsync(p => p.Status == "inGracePeriod", "the second grace period");
        Assert.InRange(inGrace.GracePeriodEndDateTime!.Value, removedAt + ProvisioningHost.GracePeriodHour - Truncated, removedAt + ProvisioningHost.GracePeriodHour + Slack);

        await tenant.WaitUntilGoneAsync(ada.CloudPc.Id);
        Assert.Empty(await tenant.CloudPcsAsync());
        await Eventually.UntilAsync(() => host.AllVmsAsync(tenant.Id), vms => vms.Count == 0, "compute to delete the VM");
    }

    [Fact]
    public async Task EndGracePeriod_DeprovisionsAtOnce()
    {
        using var tenant = await host.CreateTenantAsync();
        var ada = await tenant.ProvisionAsync(gracePeriodInHours: 1000);
        await tenant.RemoveLicenseAsync(ada.UserId, Plans.Small);
        await tenant.WaitForCloudPcAsync(p => p.Status == "inGracePeriod", "the grace period");

        var operation = await tenant.ActAsync(ada.CloudPc.Id, "endGracePeriod");

        Assert.Equal("running", operation.Status);
        // Deprovisioning at once (unless compute was even quicker and the record is gone already).
        using (var now = await tenant.Admin.GetAsync($"/api/v1/cloudPCs/{ada.CloudPc.Id}"))
        {
            Assert.True(now.StatusCode == HttpStatusCode.NotFound || (await now.Content.ReadFromJsonAsync<CloudPcBody>())!.Status == "deprovisioning");
        }

        var done = await tenant.WaitForSuccessAsync(operation);
        Assert.Contains("Deprovisioned", done.Detail, StringComparison.Ordinal);
        await tenant.WaitUntilGoneAsync(ada.CloudPc.Id);
        await Eventually.UntilAsync(() => host.AllVmsAsync(tenant.Id), vms => vms.Count == 0, "compute to delete the VM");
    }

    [Fact]
    public async Task RemovedFromGroup_GracePeriod_ThenDeprovisioned()
    {
        using var tenant = await host.CreateTenantAsync();
        var ada = await tenant.ProvisionAsync(gracePeriodInHours: 1);

        var removedAt = TimeProvider.System.GetUtcNow();
        await tenant.RemoveMemberAsync(ada.GroupId, ada.UserId);

        var inGrace = await tenant.WaitForCloudPcAsync(p => p.Status == "inGracePeriod", "the grace period");
        Assert.InRange(inGrace.GracePeriodEndDateTime!.Value, removedAt + ProvisioningHost.GracePeriodHour - Truncated, removedAt + ProvisioningHost.GracePeriodHour + Slack);
        await tenant.WaitUntilGoneAsync(ada.CloudPc.Id);
        await Eventually.UntilAsync(() => host.AllVmsAsync(tenant.Id), vms => vms.Count == 0, "compute to delete the VM");

        // The license stays with the user; only the assignment went.
        Assert.Equal([Plans.Small], await tenant.LicensesAsync(ada.UserId));
    }

    [Fact]
    public async Task UserDeleted_GracePeriod()
    {
        using var tenant = await host.CreateTenantAsync();
        var ada = await tenant.ProvisionAsync(gracePeriodInHours: 1000);

        Assert.Equal(HttpStatusCode.NoContent, (await tenant.Admin.DeleteAsync($"/api/v1/users/{ada.UserId}")).StatusCode);

        var inGrace = await tenant.WaitForCloudPcAsync(p => p.Status == "inGracePeriod", "the grace period");
        Assert.Equal(ada.CloudPc.Id, inGrace.Id);
        Assert.NotNull(inGrace.GracePeriodEndDateTime);
    }
}
