using System.Net;
using Stratus.Provisioning.Tests.Support;

namespace Stratus.Provisioning.Tests;

/// <summary>
/// A region without capacity: its one host drained, so placement finds no ready host. Provisioning retries twice
/// (after 1 s, then 2 s here), then fails with a retryable noCapacity; a retry works once the host takes VMs again.
/// A process of this class's own, so that the drained region troubles no other test.
/// </summary>
public sealed class FailureTests(ProvisioningHost host) : IClassFixture<ProvisioningHost>
{
    [Fact]
    public async Task NoCapacity_RetriedThenFailedRetryable_RetryProvisionsOnceCapacityExists()
    {
        using var tenant = await host.CreateTenantAsync();
        await using var drained = await DrainedRegionAsync("local-2");
        var user = await tenant.CreateUserAsync("ada");
        var group = await tenant.CreateGroupAsync("Developers");
        await tenant.AddMemberAsync(group, user);
        await tenant.AssignLicenseAsync(user, Plans.Small);
        var policy = await tenant.CreatePolicyAsync(region: "local-2");
        await tenant.AssignAsync(policy.Id, (group, Plans.Small));

        // Between attempts: still provisioning, with the cause and the attempt to come.
        var retrying = await tenant.WaitForCloudPcAsync(p => p.StatusDetail?.Code == "noCapacity", "the first failed placement");
        Assert.True(retrying.Status is "provisioning" or "failed", retrying.Status);
        Assert.True(retrying.StatusDetail!.Retryable);
        Assert.Contains("local-2", retrying.StatusDetail.Message, StringComparison.Ordinal);

        // Neither a resize nor a retry while it provisions (or has just failed, if that came first).
        var resize = await Problem.AssertConflictAsync(await tenant.PostActionAsync(retrying.Id, "resize", new { targetServicePlanId = Plans.Medium }), "action-not-allowed");
        Assert.Contains("resize needs a Cloud PC that is provisioned", resize, StringComparison.Ordinal);

        var failed = await tenant.WaitForCloudPcAsync(p => p.Status == "failed", "provisioning to give up");
        Assert.Equal(("noCapacity", true), (failed.StatusDetail!.Code, failed.StatusDetail.Retryable));
        Assert.Contains("Region local-2 has no ready host.", failed.StatusDetail.Message, StringComparison.Ordinal);
        Assert.Contains("Gave up after 3 attempts", failed.StatusDetail.Message, StringComparison.Ordinal);
        Assert.Equal("unknown", failed.PowerState);
        Assert.Empty(await host.AllVmsAsync(tenant.Id));
        var reboot = await Problem.AssertConflictAsync(await tenant.PostActionAsync(failed.Id, "reboot"), "action-not-allowed");
        Assert.Contains("while it is failed", reboot, StringComparison.Ordinal);

        await drained.DisposeAsync();
        var retry = await tenant.ActAsync(failed.Id, "retry");

        await tenant.WaitForSuccessAsync(retry);
        var pc = await tenant.GetCloudPcAsync(failed.Id);
        Assert.Equal(("provisioned", "running", "local-2"), (pc.Status, pc.PowerState, pc.RegionName));
        Assert.Null(pc.StatusDetail);
        var vm = Assert.Single(await host.AllVmsAsync(tenant.Id));
        Assert.Equal(("local-2", true), (vm.Region, vm.Ready));
        Assert.Single(await tenant.CloudPcsAsync());
    }

    [Fact]
    public async Task LicenseRemoved_BeforeProvisioned_DeprovisionsWithoutGracePeriod()
    {
        using var tenant = await host.CreateTenantAsync();
        await using var drained = await DrainedRegionAsync("local-2");
        var user = await tenant.CreateUserAsync("ada");
        var group = await tenant.CreateGroupAsync("Developers");
        await tenant.AddMemberAsync(group, user);
        await tenant.AssignLicenseAsync(user, Plans.Small);
        var policy = await tenant.CreatePolicyAsync(region: "local-2", gracePeriodInHours: 1000);
        await tenant.AssignAsync(policy.Id, (group, Plans.Small));
        var failed = await tenant.WaitForCloudPcAsync(p => p.Status == "failed", "provisioning to give up");

        await tenant.RemoveLicenseAsync(user, Plans.Small);

        // A grace period would last 1000 policy hours; the record goes within seconds instead.
        await tenant.WaitUntilGoneAsync(failed.Id);
        Assert.Empty(await tenant.CloudPcsAsync());
        Assert.Empty(await host.AllVmsAsync(tenant.Id));
    }

    /// <summary>Drains the region's host for the test; disposing resumes it (at once, or at the test's end).</summary>
    private async Task<DrainedRegion> DrainedRegionAsync(string region)
    {
        var regionHost = await host.HostOfRegionAsync(region);
        var response = await host.Operator.PostAsync($"/api/v1/hosts/{regionHost.Id}/drain", null);
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        return new DrainedRegion(host, regionHost.Id);
    }

    private sealed class DrainedRegion(ProvisioningHost host, Guid hostId) : IAsyncDisposable
    {
        private bool resumed;

        public async ValueTask DisposeAsync()
        {
            if (resumed)
            {
                return;
            }

            resumed = true;
            var response = await host.Operator.PostAsync($"/api/v1/hosts/{hostId}/resume", null);
            Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        }
    }
}
