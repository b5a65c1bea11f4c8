using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Stratus.Compute.Tests;

/// <summary>
/// VMs a host keeps that compute does not manage there: compute lists them for the operator, who adopts one (its
/// VM record moves to that host, or is made again from the host's report) or deletes it (a tombstone the host's
/// agent acts on and confirms). Reports come from enrolled test agents; region test-1 is these tests' own.
/// </summary>
public sealed class UnmanagedVmTests(ComputeHost compute) : IClassFixture<ComputeHost>
{
    private const string Region = "test-1";

    [Fact]
    public async Task A_vm_kept_by_a_host_enrolled_again_is_listed_and_adopting_it_moves_its_vm_to_that_host()
    {
        await compute.DrainAllAsync();
        using var old = await compute.EnrollAsync(Region, "test-1a");
        var vmId = Guid.NewGuid();
        Assert.Equal(HttpStatusCode.Created, (await compute.PlaceAsync(Region, vcpus: 2, memoryMiB: 2048, diskGiB: 16, id: vmId)).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await old.ReportAsync(vms: new[] { Running(vmId) })).StatusCode);

        // The same machine enrolled again under a new name, with its data folder: the VM is unmanaged there.
        using var reinstalled = await compute.EnrollAsync(Region, "test-1a");
        Assert.Equal(HttpStatusCode.NoContent, (await reinstalled.ReportAsync(unmanagedVms: new[] { Unmanaged(vmId, 2, 2048, 16) })).StatusCode);
        var listed = Assert.Single(await UnmanagedAsync(reinstalled.HostId));
        Assert.Equal(vmId, listed.GetProperty("id").GetGuid());
        Assert.Equal("stopped", listed.GetProperty("state").GetString());
        Assert.Equal(old.HostId, listed.GetProperty("managedOnHostId").GetGuid());
        Assert.False(listed.GetProperty("deleted").GetBoolean());
        Assert.Equal(1, (await HostAsync(reinstalled.HostId)).GetProperty("unmanagedVmCount").GetInt32());

        // Deleting it would delete the Cloud PC's only disk while compute still has the VM: refused.
        await AssertProblemAsync(await compute.Operator.DeleteAsync($"/api/v1/hosts/{reinstalled.HostId}/unmanagedVms/{vmId}"), HttpStatusCode.Conflict, "vm-managed-elsewhere");

        var adopted = await compute.Operator.PostAsync($"/api/v1/hosts/{reinstalled.HostId}/unmanagedVms/{vmId}/adopt", null);
        Assert.True(adopted.StatusCode == HttpStatusCode.OK, await adopted.Content.ReadAsStringAsync());
        var vm = await compute.Operator.GetFromJsonAsync<JsonElement>($"/api/v1/vms/{vmId}");
        Assert.Equal(reinstalled.HostId, vm.GetProperty("hostId").GetGuid());
        Assert.Equal("running", vm.GetProperty("desiredPower").GetString());
        Assert.Equal(JsonValueKind.Null, vm.GetProperty("state").ValueKind);

        // The new host wants it running, the old one no longer has it, and its capacity moved along.
        var desired = await reinstalled.DesiredStateAsync();
        Assert.Equal(vmId, Assert.Single(desired.GetProperty("vms").EnumerateArray()).GetProperty("id").GetGuid());
        Assert.Empty((await old.DesiredStateAsync()).GetProperty("vms").EnumerateArray());
        Assert.Equal(2, (await HostAsync(reinstalled.HostId)).GetProperty("allocated").GetProperty("vCpus").GetInt32());
        Assert.Equal(0, (await HostAsync(old.HostId)).GetProperty("allocated").GetProperty("vCpus").GetInt32());
        Assert.Empty(await UnmanagedAsync(reinstalled.HostId));

        // Its next report is the VM's again; adopting twice is refused.
        Assert.Equal(HttpStatusCode.NoContent, (await reinstalled.ReportAsync(vms: new[] { Running(vmId) }, unmanagedVms: Array.Empty<object>())).StatusCode);
        Assert.Equal("running", (await compute.Operator.GetFromJsonAsync<JsonElement>($"/api/v1/vms/{vmId}")).GetProperty("state").GetString());
        await AssertProblemAsync(await compute.Operator.PostAsync($"/api/v1/hosts/{reinstalled.HostId}/unmanagedVms/{vmId}/adopt", null), HttpStatusCode.Conflict, "not-unmanaged");
        await AssertAuditedAsync("AdoptUnmanagedVm", vmId);
    }

    [Fact]
    public async Task A_vm_compute_no_longer_knows_is_made_again_from_the_hosts_report_when_adopted()
    {
        using var host = await compute.EnrollAsync(Region, "test-1b");
        var vmId = Guid.NewGuid();
        Assert.Equal(HttpStatusCode.NoContent, (await host.ReportAsync(unmanagedVms: new[] { Unmanaged(vmId, 1, 1024, 12) })).StatusCode);
        Assert.Equal(JsonValueKind.Null, Assert.Single(await UnmanagedAsync(host.HostId)).GetProperty("managedOnHostId").ValueKind);

        var adopted = await compute.Operator.PostAsync($"/api/v1/hosts/{host.HostId}/unmanagedVms/{vmId}/adopt", null);
        Assert.True(adopted.StatusCode == HttpStatusCode.OK, await adopted.Content.ReadAsStringAsync());
        var vm = await adopted.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(host.HostId, vm.GetProperty("hostId").GetGuid());
        Assert.Equal("tiny", vm.GetProperty("imageId").GetString());
        Assert.Equal(12, vm.GetProperty("diskGiB").GetInt32());
        Assert.Equal("running", vm.GetProperty("desiredPower").GetString());
        Assert.Equal(12, (await HostAsync(host.HostId)).GetProperty("allocated").GetProperty("diskGiB").GetInt32());
    }

    [Fact]
    public async Task Deleting_an_unmanaged_vm_orders_its_host_to_delete_it_until_the_host_reports_it_gone()
    {
        using var host = await compute.EnrollAsync(Region, "test-1b");
        var vmId = Guid.NewGuid();
        var kept = Guid.NewGuid();
        Assert.Equal(HttpStatusCode.NoContent, (await host.ReportAsync(unmanagedVms: new[] { Unmanaged(vmId, 1, 1024, 8), Unmanaged(kept, 1, 1024, 8) })).StatusCode);

        Assert.Equal(HttpStatusCode.Accepted, (await compute.Operator.DeleteAsync($"/api/v1/hosts/{host.HostId}/unmanagedVms/{vmId}")).StatusCode);
        Assert.Equal([vmId], (await host.DesiredStateAsync()).GetProperty("deletedVmIds").EnumerateArray().Select(e => e.GetGuid()));
        await AssertAuditedAsync("DeleteUnmanagedVm", vmId);

        // Reported again while the agent deletes it: it is being deleted, not unmanaged, and the order stands.
        Assert.Equal(HttpStatusCode.NoContent, (await host.ReportAsync(unmanagedVms: new[] { Unmanaged(vmId, 1, 1024, 8), Unmanaged(kept, 1, 1024, 8) })).StatusCode);
        Assert.Equal([kept], (await UnmanagedAsync(host.HostId)).Select(v => v.GetProperty("id").GetGuid()));
        Assert.Equal([vmId], (await host.DesiredStateAsync()).GetProperty("deletedVmIds").EnumerateArray().Select(e => e.GetGuid()));

        // Gone from the next report: confirmed. It stays listed a while (a create under way may still bring it back).
        Assert.Equal(HttpStatusCode.NoContent, (await host.ReportAsync(unmanagedVms: new[] { Unmanaged(kept, 1, 1024, 8) })).StatusCode);
        Assert.Equal([vmId], (await host.DesiredStateAsync()).GetProperty("deletedVmIds").EnumerateArray().Select(e => e.GetGuid()));
        await AssertProblemAsync(await compute.Operator.DeleteAsync($"/api/v1/hosts/{host.HostId}/unmanagedVms/{vmId}"), HttpStatusCode.NotFound, "not-found");

        // Back on this host: still being deleted, never unmanaged. A copy on another host is shown deleted, and adopting it is refused.
        Assert.Equal(HttpStatusCode.NoContent, (await host.ReportAsync(unmanagedVms: new[] { Unmanaged(vmId, 1, 1024, 8), Unmanaged(kept, 1, 1024, 8) })).StatusCode);
        Assert.Equal([kept], (await UnmanagedAsync(host.HostId)).Select(v => v.GetProperty("id").GetGuid()));
        using var other = await compute.EnrollAsync(Region, "test-1a");
        Assert.Equal(HttpStatusCode.NoContent, (await other.ReportAsync(unmanagedVms: new[] { Unmanaged(vmId, 1, 1024, 8) })).StatusCode);
        Assert.True(Assert.Single(await UnmanagedAsync(other.HostId)).GetProperty("deleted").GetBoolean());
        await AssertProblemAsync(await compute.Operator.PostAsync($"/api/v1/hosts/{other.HostId}/unmanagedVms/{vmId}/adopt", null), HttpStatusCode.Conflict, "vm-deleted");

        // A report that does not tell VMs apart (an older agent) leaves the list as it was.
        Assert.Equal(HttpStatusCode.NoContent, (await host.ReportAsync()).StatusCode);
        Assert.Equal([kept], (await UnmanagedAsync(host.HostId)).Select(v => v.GetProperty("id").GetGuid()));
    }

    [Fact]
    public async Task Unknown_hosts_and_vms_are_404_and_only_the_platform_operator_may_see_or_act()
    {
        using var host = await compute.EnrollAsync(Region, "test-1a");
        await AssertProblemAsync(await compute.Operator.GetAsync($"/api/v1/hosts/{Guid.NewGuid()}/unmanagedVms"), HttpStatusCode.NotFound, "not-found");
        await AssertProblemAsync(await compute.Operator.PostAsync($"/api/v1/hosts/{host.HostId}/unmanagedVms/{Guid.NewGuid()}/adopt", null), HttpStatusCode.NotFound, "not-found");
        await AssertProblemAsync(await compute.Operator.DeleteAsync($"/api/v1/hosts/{Guid.NewGuid()}/unmanagedVms/{Guid.NewGuid()}"), HttpStatusCode.NotFound, "not-found");
        using var anonymous = new HttpClient { BaseAddress = compute.Stratus.BaseAddress };
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync($"/api/v1/hosts/{host.HostId}/unmanagedVms")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await host.Client.PostAsync($"/api/v1/hosts/{host.HostId}/unmanagedVms/{Guid.NewGuid()}/adopt", null)).StatusCode);
    }

    private static object Running(Guid id) => new { id, state = "running", ready = true, generation = 1, detail = (string?)null };

    private static object Unmanaged(Guid id, int vcpus, int memoryMiB, int diskGiB) => new { id, state = "stopped", imageId = "tiny", vCpuCount = vcpus, memoryMiB, diskGiB };

    private async Task<List<JsonElement>> UnmanagedAsync(Guid hostId) =>
        (await compute.Operator.GetFromJsonAsync<JsonElement>($"/api/v1/hosts/{hostId}/unmanagedVms")).EnumerateArray().ToList();

    private Task<JsonElement> HostAsync(Guid hostId) => compute.Operator.GetFromJsonAsync<JsonElement>($"/api/v1/hosts/{hostId}");

    private async Task AssertAuditedAsync(string activityType, Guid vmId)
    {
        // Audit records travel to diagnostics as events: a moment later.
        for (var waited = System.Diagnostics.Stopwatch.StartNew(); ; await Task.Delay(200))
        {
            var events = (await compute.Operator.GetFromJsonAsync<JsonElement>("/api/v1/auditEvents?$top=1000")).GetProperty("value").EnumerateArray();
            if (events.Any(e => e.GetProperty("activityType").GetString() == activityType && e.GetProperty("resources").GetRawText().Contains(vmId.ToString(), StringComparison.Ordinal)))
            {
                return;
            }

            Assert.True(waited.Elapsed < TimeSpan.FromSeconds(30), $"no {activityType} audit event for {vmId}");
        }
    }

    private static async Task AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string code)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"{response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("https://stratus.dev/problems/" + code, JsonDocument.Parse(body).RootElement.GetProperty("type").GetString());
    }
}
