using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Stratus.Provisioning.CloudPcs;
using Stratus.Provisioning.Tests.Support;

namespace Stratus.Provisioning.Tests;

/// <summary>Cloud PC actions: 202 with an operation that completes, 409 with the reason when the status forbids them.</summary>
public sealed class ActionsTests(ProvisioningHost host) : IClassFixture<ProvisioningHost>
{
    [Fact]
    public async Task PowerOff_PowerOn_Reboot_Rename_CompleteWithTheirEffect_AndAreAudited()
    {
        using var tenant = await host.CreateTenantAsync();
        var pc = (await tenant.ProvisionAsync()).CloudPc;

        await tenant.WaitForSuccessAsync(await tenant.ActAsync(pc.Id, "powerOff"));
        Assert.Equal(("poweredOff", "provisioned"), await PowerAndStatusAsync(tenant, pc.Id));
        var vm = Assert.Single(await host.AllVmsAsync(tenant.Id));
        Assert.Equal(("stopped", "stopped"), (vm.DesiredPower, vm.State));

        // Already off: done at once.
        Assert.Equal("succeeded", (await tenant.ActAsync(pc.Id, "powerOff")).Status);

        await tenant.WaitForSuccessAsync(await tenant.ActAsync(pc.Id, "powerOn"));
        Assert.Equal(("running", "provisioned"), await PowerAndStatusAsync(tenant, pc.Id));
        vm = Assert.Single(await host.AllVmsAsync(tenant.Id));
        Assert.Equal(("running", "running"), (vm.DesiredPower, vm.State));

        var reboot = await tenant.WaitForSuccessAsync(await tenant.ActAsync(pc.Id, "reboot"));
        Assert.Equal("Running", reboot.Detail);
        Assert.Equal("provisioned", (await tenant.GetCloudPcAsync(pc.Id)).Status);
        vm = Assert.Single(await host.AllVmsAsync(tenant.Id));
        Assert.Equal(("running", "running", true), (vm.DesiredPower, vm.State, vm.Ready));

        var rename = await tenant.ActAsync(pc.Id, "rename", new { displayName = "Ada's workstation" });
        Assert.Equal("succeeded", rename.Status);
        Assert.Equal("Ada's workstation", (await tenant.GetCloudPcAsync(pc.Id)).DisplayName);
        var blank = await Problem.AssertValidationAsync(await tenant.PostActionAsync(pc.Id, "rename", new { displayName = " " }), "displayName");
        Assert.Contains("required", blank, StringComparison.Ordinal);
        Assert.Equal("Ada's workstation", (await tenant.GetCloudPcAsync(pc.Id)).DisplayName);

        // Each action is in the tenant's audit log, by whom and on what.
        var audit = await Eventually.UntilAsync(() => AuditAsync(tenant, pc.Id),
            events => new[] { "powerOn", "reboot", "rename" }.All(a => events.Any(e => e.GetProperty("activity").GetString() == a))
                && events.Count(e => e.GetProperty("activity").GetString() == "powerOff") == 2,
            "every action in the audit log");
        var renamed = audit.First(e => e.GetProperty("activity").GetString() == "rename");
        Assert.Equal("cloudPc", renamed.GetProperty("category").GetString());
        Assert.Equal("success", renamed.GetProperty("activityResult").GetString());
        Assert.Equal("admin@" + tenant.Domain, renamed.GetProperty("actor").GetProperty("userPrincipalName").GetString());
        Assert.Contains(pc.ManagedDeviceName, renamed.GetProperty("displayName").GetString(), StringComparison.Ordinal);
        Assert.Single(audit, e => e.GetProperty("activity").GetString() == "reboot");
    }

    [Fact]
    public async Task Resize_NeedsAFreeLicenseOfTheTargetPlan_ThenChangesThePlanAndTheVm()
    {
        using var tenant = await host.CreateTenantAsync();
        var ada = await tenant.ProvisionAsync();
        var pc = ada.CloudPc;
        var vm = Assert.Single(await host.AllVmsAsync(tenant.Id));

        // The tenant has no seat of the medium plan: refused, with the reason, and nothing changes.
        var refused = await Problem.AssertConflictAsync(await tenant.PostActionAsync(pc.Id, "resize", new { targetServicePlanId = Plans.Medium }), "no-free-license");
        Assert.Contains(Plans.MediumName, refused, StringComparison.Ordinal);
        Assert.Contains(Plans.Medium.ToString(), refused, StringComparison.Ordinal);
        var unchanged = await tenant.GetCloudPcAsync(pc.Id);
        Assert.Equal((Plans.Small, "provisioned", (Guid?)null), (unchanged.ServicePlanId, unchanged.Status, unchanged.ActiveOperationId));
        Assert.Equal([Plans.Small], await tenant.LicensesAsync(ada.UserId));

        await Problem.AssertValidationAsync(await tenant.PostActionAsync(pc.Id, "resize", new { targetServicePlanId = Guid.NewGuid() }), "targetServicePlanId");
        await Problem.AssertValidationAsync(await tenant.PostActionAsync(pc.Id, "resize", new { targetServicePlanId = Plans.Small }), "targetServicePlanId");

        await tenant.SetSeatsAsync(Plans.Medium, 1);
        var resize = await tenant.ActAsync(pc.Id, "resize", new { targetServicePlanId = Plans.Medium });

        // Resizing until the VM has restarted with its new size; one action at a time meanwhile.
        var resizing = await tenant.GetCloudPcAsync(pc.Id);
        Assert.Equal(("resizing", (Guid?)resize.Id), (resizing.Status, resizing.ActiveOperationId));
        var busy = await Problem.AssertConflictAsync(await tenant.PostActionAsync(pc.Id, "reboot"), "action-in-progress");
        Assert.Contains(resize.Id.ToString(), busy, StringComparison.Ordinal);

        await tenant.WaitForSuccessAsync(resize);
        var resized = await tenant.GetCloudPcAsync(pc.Id);
        Assert.Equal((Plans.Medium, Plans.MediumName, "provisioned"), (resized.ServicePlanId, resized.ServicePlanName, resized.Status));
        Assert.Equal((2, 2, 16), (resized.VCpuCount, resized.RamInGB, resized.StorageInGB));
        var resizedVm = Assert.Single(await host.AllVmsAsync(tenant.Id));
        Assert.Equal((vm.Id, 2, 2048, 16), (resizedVm.Id, resizedVm.VCpuCount, resizedVm.MemoryMiB, resizedVm.DiskGiB));

        // The user moved from the small plan's license to the medium one's.
        Assert.Equal([Plans.Medium], await tenant.LicensesAsync(ada.UserId));
        Assert.Equal(pc.Id, Assert.Single(await tenant.CloudPcsAsync()).Id);
    }

    [Fact]
    public async Task Resize_ThatStoppedAfterMovingTheLicense_IsTakenUpBySendingTheSameResizeAgain()
    {
        using var tenant = await host.CreateTenantAsync();
        var ada = await tenant.ProvisionAsync();
        var pc = ada.CloudPc;
        var vm = Assert.Single(await host.AllVmsAsync(tenant.Id));
        await tenant.SetSeatsAsync(Plans.Medium, 1);

        // Where a resize's process died (or its last save lost a race with a host's report): its first step committed
        // (the Cloud PC resizing to the medium plan), identity moved the license, and nothing after that was saved.
        await using (var db = host.OpenStore())
        {
            Assert.Equal(1, await db.CloudPcs.Where(p => p.Id == pc.Id).ExecuteUpdateAsync(p => p
                .SetProperty(x => x.Status, CloudPcStatus.Resizing).SetProperty(x => x.TargetServicePlanId, Plans.Medium).SetProperty(x => x.Version, Guid.NewGuid())));
        }

        var moved = await tenant.Admin.PostAsJsonAsync($"/api/v1/users/{ada.UserId}/assignLicense",
            new { addLicenses = new[] { new { skuId = Plans.Medium } }, removeLicenses = new[] { Plans.Small } });
        Assert.Equal(HttpStatusCode.OK, moved.StatusCode);

        // Stuck until someone acts: another plan is refused, and the license events leave it alone (no grace period, no second Cloud PC).
        var other = await Problem.AssertConflictAsync(await tenant.PostActionAsync(pc.Id, "resize", new { targetServicePlanId = Plans.Small }), "action-not-allowed");
        Assert.Contains($"Its resize to plan {Plans.Medium} stopped before the VM was changed: send that resize again to finish it.", other, StringComparison.Ordinal);
        await Task.Delay(TimeSpan.FromSeconds(2));
        Assert.Equal(("resizing", 1), ((await tenant.GetCloudPcAsync(pc.Id)).Status, (await tenant.CloudPcsAsync()).Count));

        // The same resize again: identity refuses to move a license the user no longer holds, provisioning sees that
        // it moved already, and goes on to resize the VM.
        var resize = await tenant.ActAsync(pc.Id, "resize", new { targetServicePlanId = Plans.Medium });
        await tenant.WaitForSuccessAsync(resize);
        var resized = await tenant.GetCloudPcAsync(pc.Id);
        Assert.Equal((Plans.Medium, "provisioned", (Guid?)null), (resized.ServicePlanId, resized.Status, resized.ActiveOperationId));
        var resizedVm = Assert.Single(await host.AllVmsAsync(tenant.Id));
        Assert.Equal((vm.Id, 2, 2048, 16), (resizedVm.Id, resizedVm.VCpuCount, resizedVm.MemoryMiB, resizedVm.DiskGiB));
        Assert.Equal([Plans.Medium], await tenant.LicensesAsync(ada.UserId));
        Assert.Equal(pc.Id, Assert.Single(await tenant.CloudPcsAsync()).Id);
    }

    [Fact]
    public async Task Reprovision_GetsANewVm_FromThePolicyAsItIsNow()
    {
        using var tenant = await host.CreateTenantAsync();
        var ada = await tenant.ProvisionAsync();
        var oldVm = Assert.Single(await host.AllVmsAsync(tenant.Id));
        var patched = await tenant.Admin.PatchAsJsonAsync($"/api/v1/provisioningPolicies/{ada.Policy.Id}", new { displayName = "Developers v2" });
        Assert.Equal(HttpStatusCode.OK, patched.StatusCode);
        Assert.Equal("Developers", (await tenant.GetCloudPcAsync(ada.CloudPc.Id)).ProvisioningPolicyName);

        var reprovision = await tenant.ActAsync(ada.CloudPc.Id, "reprovision");

        Assert.Equal("provisioning", (await tenant.GetCloudPcAsync(ada.CloudPc.Id)).Status);
        await tenant.WaitForSuccessAsync(reprovision);
        var pc = await tenant.GetCloudPcAsync(ada.CloudPc.Id);
        Assert.Equal(("provisioned", "running", "Developers v2"), (pc.Status, pc.PowerState, pc.ProvisioningPolicyName));
        Assert.Null(pc.ActiveOperationId);
        var vms = await Eventually.UntilAsync(() => host.AllVmsAsync(tenant.Id), v => v.Count == 1 && v[0].Id != oldVm.Id,
            "one VM for the Cloud PC, a new one");
        Assert.True(vms[0].Ready);
        Assert.Equal(pc.Id, Assert.Single(await tenant.CloudPcsAsync()).Id);
    }

    [Fact]
    public async Task Actions_InTheWrongStatus_Answer409WithTheReason()
    {
        using var tenant = await host.CreateTenantAsync();
        var ada = await tenant.ProvisionAsync();
        var id = ada.CloudPc.Id;
        var name = ada.CloudPc.ManagedDeviceName;

        var endGrace = await Problem.AssertConflictAsync(await tenant.PostActionAsync(id, "endGracePeriod"), "action-not-allowed");
        Assert.Equal($"Cannot endGracePeriod {name} while it is provisioned; endGracePeriod needs a Cloud PC that is in its grace period.", endGrace);
        var retry = await Problem.AssertConflictAsync(await tenant.PostActionAsync(id, "retry"), "action-not-allowed");
        Assert.Equal($"Cannot retry {name} while it is provisioned; retry needs a Cloud PC that is failed.", retry);

        await tenant.RemoveLicenseAsync(ada.UserId, Plans.Small);
        await tenant.WaitForCloudPcAsync(p => p.Status == "inGracePeriod", "the grace period");
        foreach (var (action, allowed) in new[] { ("reboot", "provisioned"), ("resize", "provisioned"), ("reprovision", "provisioned or failed"), ("retry", "failed") })
        {
            var detail = await Problem.AssertConflictAsync(await tenant.PostActionAsync(id, action, new { targetServicePlanId = Plans.Medium }), "action-not-allowed");
            Assert.Equal($"Cannot {action} {name} while it is inGracePeriod; {action} needs a Cloud PC that is {allowed}.", detail);
        }

        // Refusals leave no operation behind: the Cloud PC is free for an allowed action.
        Assert.Null((await tenant.GetCloudPcAsync(id)).ActiveOperationId);
        await tenant.WaitForSuccessAsync(await tenant.ActAsync(id, "powerOff"));

        await Problem.AssertAsync(await tenant.PostActionAsync(Guid.NewGuid(), "reboot"), HttpStatusCode.NotFound);
        await Problem.AssertAsync(await tenant.Admin.GetAsync($"/api/v1/cloudPCs/{id}/operations/{Guid.NewGuid()}"), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task IdempotencyKey_Repeat_ReturnsTheFirstOperation_AndChangesNothing_OtherActionWithIt_Is409()
    {
        using var tenant = await host.CreateTenantAsync();
        var pc = (await tenant.ProvisionAsync()).CloudPc;
        var renameKey = "rename-" + Guid.NewGuid();
        var rebootKey = "reboot-" + Guid.NewGuid();

        var first = await tenant.ActAsync(pc.Id, "rename", new { displayName = "First name" }, renameKey);
        var repeat = await tenant.PostActionAsync(pc.Id, "rename", new { displayName = "Second name" }, renameKey);
        Assert.Equal(HttpStatusCode.OK, repeat.StatusCode);
        Assert.Equal(first.Id, (await repeat.Content.ReadFromJsonAsync<OperationBody>())!.Id);
        Assert.Equal("First name", (await tenant.GetCloudPcAsync(pc.Id)).DisplayName);

        var reboot = await tenant.ActAsync(pc.Id, "reboot", idempotencyKey: rebootKey);
        var rebootAgain = await tenant.PostActionAsync(pc.Id, "reboot", idempotencyKey: rebootKey);
        Assert.Equal(HttpStatusCode.OK, rebootAgain.StatusCode);
        Assert.Equal(reboot.Id, (await rebootAgain.Content.ReadFromJsonAsync<OperationBody>())!.Id);
        await tenant.WaitForSuccessAsync(reboot);

        var reused = await Problem.AssertConflictAsync(await tenant.PostActionAsync(pc.Id, "powerOff", idempotencyKey: rebootKey), "idempotency-key-reused");
        Assert.Contains(rebootKey, reused, StringComparison.Ordinal);
        var after = await tenant.GetCloudPcAsync(pc.Id);
        Assert.Equal(("provisioned", (Guid?)null), (after.Status, after.ActiveOperationId));

        // One reboot ran, one was audited. The powerOn after it (done at once: the VM runs) marks the end of the log to wait for.
        await tenant.ActAsync(pc.Id, "powerOn");
        var audit = await Eventually.UntilAsync(() => AuditAsync(tenant, pc.Id),
            events => new[] { "powerOn", "reboot", "rename" }.All(a => events.Any(e => e.GetProperty("activity").GetString() == a)), "the actions in the audit log");
        Assert.Single(audit, e => e.GetProperty("activity").GetString() == "reboot");
        Assert.Single(audit, e => e.GetProperty("activity").GetString() == "rename");
        Assert.DoesNotContain(audit, e => e.GetProperty("activity").GetString() == "powerOff");

        var tooLong = await tenant.PostActionAsync(pc.Id, "reboot", idempotencyKey: new string('k', 129));
        await Problem.AssertValidationAsync(tooLong, "Idempotency-Key");
    }

    [Fact]
    public async Task BulkAction_AnswersOneResultPerCloudPc_UnknownOnesAre404()
    {
        using var tenant = await host.CreateTenantAsync();
        var group = await tenant.CreateGroupAsync("Everyone");
        var policy = await tenant.CreatePolicyAsync();
        await tenant.AssignAsync(policy.Id, (group, Plans.Small));
        foreach (var name in new[] { "ada", "bob", "cy" })
        {
            var user = await tenant.CreateUserAsync(name);
            await tenant.AddMemberAsync(group, user);
            await tenant.AssignLicenseAsync(user, Plans.Small);
        }

        var pcs = await Eventually.UntilAsync(tenant.CloudPcsAsync, l => l.Count == 3 && l.All(p => p.Status == "provisioned"), "three provisioned Cloud PCs");
        var unknown = Guid.NewGuid();
        var ids = pcs.Select(p => p.Id).Append(unknown).Append(pcs[0].Id).ToList();

        var response = await tenant.Admin.PostAsJsonAsync("/api/v1/cloudPCs/bulkAction", new { action = "reboot", cloudPcIds = ids });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var result = (await response.Content.ReadFromJsonAsync<BulkResultBody>())!;
        Assert.Equal(("reboot", 3, 1), (result.Action, result.Succeeded, result.Failed));
        Assert.Equal(pcs.Select(p => p.Id).Append(unknown), result.Value.Select(r => r.CloudPcId));
        foreach (var item in result.Value.Take(3))
        {
            Assert.Equal((202, (string?)null), (item.Status, item.Error));
            var operation = await tenant.GetOperationAsync(item.CloudPcId, item.OperationId!.Value);
            Assert.Equal("reboot", operation.Action);
            await tenant.WaitForSuccessAsync(operation);
        }

        var missing = result.Value[3];
        Assert.Equal((404, (Guid?)null), (missing.Status, missing.OperationId));
        Assert.Contains(unknown.ToString(), missing.Error, StringComparison.Ordinal);

        // Refusals are per item too.
        var refused = (await (await tenant.Admin.PostAsJsonAsync("/api/v1/cloudPCs/bulkAction", new { action = "endGracePeriod", cloudPcIds = ids.Take(2) }))
            .Content.ReadFromJsonAsync<BulkResultBody>())!;
        Assert.Equal((0, 2), (refused.Succeeded, refused.Failed));
        Assert.All(refused.Value, r => Assert.Equal(409, r.Status));
        Assert.All(refused.Value, r => Assert.Contains("needs a Cloud PC that is in its grace period", r.Error, StringComparison.Ordinal));

        await Problem.AssertValidationAsync(await tenant.Admin.PostAsJsonAsync("/api/v1/cloudPCs/bulkAction", new { action = "explode", cloudPcIds = ids }), "action");
        await Problem.AssertValidationAsync(await tenant.Admin.PostAsJsonAsync("/api/v1/cloudPCs/bulkAction", new { action = "reboot", cloudPcIds = Array.Empty<Guid>() }), "cloudPcIds");
    }

    private static async Task<(string PowerState, string Status)> PowerAndStatusAsync(TestTenant tenant, Guid id)
    {
        var pc = await tenant.GetCloudPcAsync(id);
        return (pc.PowerState, pc.Status);
    }

    /// <summary>The tenant's audit events about one Cloud PC.</summary>
    private static async Task<List<JsonElement>> AuditAsync(TestTenant tenant, Guid cloudPc)
    {
        var page = await tenant.Admin.GetFromJsonAsync<JsonElement>("/api/v1/auditEvents?$top=1000");
        return page.GetProperty("value").EnumerateArray()
            .Where(e => e.GetProperty("resources").EnumerateArray().Any(r => r.GetProperty("resourceId").GetString() == cloudPc.ToString()))
            .ToList();
    }
}
