using System.Net;
using System.Net.Http.Json;
using Microsoft.EntityFrameworkCore;
using Stratus.Provisioning.CloudPcs;
using Stratus.Provisioning.Tests.Support;

namespace Stratus.Provisioning.Tests;

/// <summary>Reconciliation every 2 s, and a resize that rests 5 s with no operation counts as stalled.</summary>
public sealed class StalledResizeHost : ProvisioningHost
{
    protected override IReadOnlyDictionary<string, string?> ExtraSettings { get; } = new Dictionary<string, string?>
    {
        ["Stratus__Provisioning__ReconcileInterval"] = "00:00:02",
        ["Stratus__Provisioning__StalledResizeAfter"] = "00:00:05",
    };
}

/// <summary>
/// A resize whose process died half-way (resizing, no operation) is settled by the reconciliation with nobody
/// sending it again: finished when identity had moved the license, undone when it had not.
/// </summary>
public sealed class StalledResizeTests(StalledResizeHost host) : IClassFixture<StalledResizeHost>
{
    [Fact]
    public async Task A_resize_that_stopped_after_the_license_moved_is_finished_and_one_that_stopped_before_is_undone()
    {
        using var moved = await host.CreateTenantAsync("moved");
        using var notMoved = await host.CreateTenantAsync("notmoved");
        var ada = await moved.ProvisionAsync();
        var bob = await notMoved.ProvisionAsync("bob");
        var adaVm = Assert.Single(await host.AllVmsAsync(moved.Id));
        await moved.SetSeatsAsync(Plans.Medium, 1);
        await notMoved.SetSeatsAsync(Plans.Medium, 1);

        // Ada's resize stopped after identity moved her license. While the test makes that state, the row reads
        // as changed in the future, so the reconciliation leaves it alone until the license has moved.
        await StallAsync(ada.CloudPc.Id, TimeSpan.FromHours(1));
        var swap = await moved.Admin.PostAsJsonAsync($"/api/v1/users/{ada.UserId}/assignLicense",
            new { addLicenses = new[] { new { skuId = Plans.Medium } }, removeLicenses = new[] { Plans.Small } });
        Assert.Equal(HttpStatusCode.OK, swap.StatusCode);
        await StallAsync(ada.CloudPc.Id, TimeSpan.FromHours(-1));
        // Bob's stopped before the move: he still holds the small plan's license.
        await StallAsync(bob.CloudPc.Id, TimeSpan.FromHours(-1));

        var finished = await moved.WaitForCloudPcAsync(p => p.Id == ada.CloudPc.Id && p.Status == "provisioned" && p.ServicePlanId == Plans.Medium,
            "Ada's stalled resize to be finished", TimeSpan.FromSeconds(90));
        Assert.Equal((2, 2, 16), (finished.VCpuCount, finished.RamInGB, finished.StorageInGB));
        Assert.Null(finished.ActiveOperationId);
        var resizedVm = Assert.Single(await host.AllVmsAsync(moved.Id));
        Assert.Equal((adaVm.Id, 2, 2048, 16), (resizedVm.Id, resizedVm.VCpuCount, resizedVm.MemoryMiB, resizedVm.DiskGiB));
        Assert.Equal([Plans.Medium], await moved.LicensesAsync(ada.UserId));
        Assert.Single(await moved.CloudPcsAsync());

        var undone = await notMoved.WaitForCloudPcAsync(p => p.Id == bob.CloudPc.Id && p.Status == "provisioned",
            "Bob's stalled resize to be undone", TimeSpan.FromSeconds(90));
        Assert.Equal((Plans.Small, 1, 1, 8, (Guid?)null), (undone.ServicePlanId, undone.VCpuCount, undone.RamInGB, undone.StorageInGB, undone.ActiveOperationId));
        var bobVm = Assert.Single(await host.AllVmsAsync(notMoved.Id));
        Assert.Equal((1, 1024, 8), (bobVm.VCpuCount, bobVm.MemoryMiB, bobVm.DiskGiB));
        Assert.Equal([Plans.Small], await notMoved.LicensesAsync(bob.UserId));
        // And it can be resized again, now through the API.
        await notMoved.WaitForSuccessAsync(await notMoved.ActAsync(bob.CloudPc.Id, "resize", new { targetServicePlanId = Plans.Medium }));
        Assert.Equal(Plans.Medium, (await notMoved.GetCloudPcAsync(bob.CloudPc.Id)).ServicePlanId);
    }

    /// <summary>Writes what a resize's first step commits, as last changed <paramref name="changedFromNow"/> from now.</summary>
    private async Task StallAsync(Guid cloudPcId, TimeSpan changedFromNow)
    {
        await using var db = host.OpenStore();
        var changedAt = TimeProvider.System.GetUtcNow() + changedFromNow;
        Assert.Equal(1, await db.CloudPcs.Where(p => p.Id == cloudPcId).ExecuteUpdateAsync(p => p
            .SetProperty(x => x.Status, CloudPcStatus.Resizing).SetProperty(x => x.TargetServicePlanId, Plans.Medium)
            .SetProperty(x => x.LastModifiedAt, changedAt).SetProperty(x => x.Version, Guid.NewGuid())));
    }
}
