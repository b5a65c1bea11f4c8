using Microsoft.EntityFrameworkCore;
using Stratus.Platform.Messaging;
using Stratus.Provisioning.Tests.Support;

namespace Stratus.Provisioning.Tests;

/// <summary>
/// A resize's size change that compute handles late (its first attempt failed and is retried) must not let the
/// rest of the resize run first: the resize completes only once the VM runs again after the change, so compute
/// holds the new size when the operation says succeeded.
/// </summary>
[Collection(RestartedHost.Collection)]
public sealed class ResizeOrderTests(RestartedHost host)
{
    [Fact]
    public async Task A_resize_whose_size_change_compute_retries_completes_only_once_the_vm_has_the_new_size()
    {
        var tenant = await host.CreateTenantAsync("order");
        var ada = await tenant.ProvisionAsync();
        await tenant.SetSeatsAsync(Plans.Medium, 1);

        // Compute is away: what the resize sends it waits in its queue.
        await host.RestartAsync(RestartedHost.WithoutCompute);
        tenant = await tenant.ReconnectAsync();
        var resize = await tenant.ActAsync(ada.CloudPc.Id, "resize", new { targetServicePlanId = Plans.Medium });
        var change = Assert.Single(await Eventually.UntilAsync(() => host.WaitingAsync("compute", "compute.changeVm.v1"), l => l.Count > 0,
            "the size change to wait in compute's queue"));

        // Its first attempt failed (a lost race at compute, a busy database) and it is retried in a minute: anything
        // else the resize sent is handled before it.
        await using (var platform = host.OpenPlatformStore())
        {
            Assert.Equal(1, await platform.QueueMessages.Where(m => m.Id == change.Id).ExecuteUpdateAsync(m => m
                .SetProperty(x => x.Attempts, 1).SetProperty(x => x.LastError, "simulated: the first attempt failed")
                .SetProperty(x => x.VisibleAt, TimeProvider.System.GetUtcNow().AddSeconds(60))));
        }

        await host.RestartAsync();
        tenant = await tenant.ReconnectAsync();
        var done = await Eventually.UntilAsync(() => tenant.GetOperationAsync(ada.CloudPc.Id, resize.Id), o => o.Status != "running",
            "the resize to complete", TimeSpan.FromSeconds(150));
        // Read at once: the operation says succeeded only when the VM runs again after its size changed.
        var vm = Assert.Single(await host.VmsAsync(tenant.Id));
        Assert.Equal((2, 2048, 16), (vm.VCpuCount, vm.MemoryMiB, vm.DiskGiB));
        Assert.Equal(("running", true), (vm.State, vm.Ready));
        Assert.True(done.Status == "succeeded", $"resize {done.Status}: {done.Detail}");
        var pc = await tenant.GetCloudPcAsync(ada.CloudPc.Id);
        Assert.Equal(("provisioned", Plans.Medium, 2, "running"), (pc.Status, pc.ServicePlanId, pc.VCpuCount, pc.PowerState));
        Assert.Empty(await host.WaitingAsync("compute", "compute.changeVm.v1"));
        tenant.Dispose();
    }
}
