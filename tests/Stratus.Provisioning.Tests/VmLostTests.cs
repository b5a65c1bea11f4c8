using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Stratus.Provisioning.Tests.Support;

namespace Stratus.Provisioning.Tests;

/// <summary>
/// A provisioned Cloud PC whose VM is deleted behind provisioning's back (an operator deletes it at compute)
/// has lost its disk: it says failed with statusDetail diskLost, its restore points (snapshots inside that disk)
/// are gone with it, and a reprovision gives the user a new one.
/// </summary>
public sealed class VmLostTests(ProvisioningHost host) : IClassFixture<ProvisioningHost>
{
    [Fact]
    public async Task A_cloud_pc_whose_vm_is_deleted_at_compute_fails_with_disk_lost_and_can_be_reprovisioned()
    {
        using var tenant = await host.CreateTenantAsync("lost");
        var pc = (await tenant.ProvisionAsync()).CloudPc;
        await tenant.WaitForSuccessAsync(await tenant.ActAsync(pc.Id, "createSnapshot"));
        Assert.Single(await PointsAsync(tenant.Admin, pc.Id));
        var vm = Assert.Single(await host.VmsAsync(tenant.Id));

        var deleted = await host.Operator.DeleteAsync($"/api/v1/vms/{vm.Id}");
        Assert.True(deleted.IsSuccessStatusCode, await deleted.Content.ReadAsStringAsync());

        var failed = await tenant.WaitForCloudPcAsync(p => p.Id == pc.Id && p.Status == "failed", "the Cloud PC to fail after its VM was deleted");
        Assert.NotNull(failed.StatusDetail);
        Assert.Equal("diskLost", failed.StatusDetail.Code);
        Assert.False(failed.StatusDetail.Retryable);
        Assert.Contains("restore points", failed.StatusDetail.Message, StringComparison.Ordinal);
        Assert.Contains("Reprovision", failed.StatusDetail.Message, StringComparison.Ordinal);
        Assert.Null(failed.ActiveOperationId);
        Assert.Empty(await PointsAsync(tenant.Admin, pc.Id));
        Assert.Empty(await host.VmsAsync(tenant.Id));

        await tenant.WaitForSuccessAsync(await tenant.ActAsync(pc.Id, "reprovision"));
        var again = await tenant.GetCloudPcAsync(pc.Id);
        Assert.Equal(("provisioned", (StatusDetailBody?)null), (again.Status, again.StatusDetail));
        Assert.NotEqual(vm.Id, Assert.Single(await host.VmsAsync(tenant.Id)).Id);
    }

    private static async Task<List<JsonElement>> PointsAsync(HttpClient admin, Guid cloudPc)
    {
        using var response = await admin.GetAsync($"/api/v1/cloudPCs/{cloudPc}/snapshots");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("value").EnumerateArray().ToList();
    }
}
