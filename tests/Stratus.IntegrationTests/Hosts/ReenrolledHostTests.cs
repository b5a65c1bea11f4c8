using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Stratus.IntegrationTests.Gateway;
using Stratus.IntegrationTests.Support;

namespace Stratus.IntegrationTests.Hosts;

/// <summary>
/// The reproduction of issue 16's first item, with real QEMU: a `stratus host` running Ada's Cloud PC is stopped,
/// its agent.json removed, and the machine enrolled again under a new name over the same data folder (a
/// reinstalled machine that kept its data disk). The old agent deleted the user's VM and disk within a minute.
/// </summary>
public sealed class ReenrolledHostTests(RemoteHostConsoleFixture fixture) : IClassFixture<RemoteHostConsoleFixture>
{
    [Fact]
    public async Task A_host_enrolled_again_over_its_data_keeps_the_cloud_pcs_disk_reports_it_unmanaged_and_adopting_it_runs_the_cloud_pc_there()
    {
        using var operatorClient = await fixture.Stratus.OperatorClientAsync();
        var pc = await fixture.Ada.GetFromJsonAsync<JsonElement>($"/api/v1/me/cloudPCs/{fixture.PcId}");
        var vmId = pc.GetProperty("vmId").GetGuid();
        var oldHostId = (await operatorClient.GetFromJsonAsync<JsonElement>($"/api/v1/vms/{vmId}")).GetProperty("hostId").GetGuid();
        var disk = Path.Combine(fixture.AgentDataPath, "vms", vmId.ToString("N"), "disk.qcow2");
        Assert.True(File.Exists(disk), disk);

        await fixture.ReenrollAgentAsync("reinstalled-host");
        var hostId = await Eventually.MatchesAsync(async () => (await operatorClient.GetFromJsonAsync<JsonElement>("/api/v1/hosts")).EnumerateArray()
                .Where(h => h.GetProperty("name").GetString() == "reinstalled-host" && h.GetProperty("state").GetString() == "ready").Select(h => h.GetProperty("id").GetGuid()).FirstOrDefault(),
            id => id != Guid.Empty, "the reinstalled host to enroll");

        // Kept with its disk, stopped, and shown to the operator; the disk is checked all along, as it went within a minute before.
        var unmanaged = await Eventually.MatchesAsync(async () =>
            {
                Assert.True(File.Exists(disk), $"the Cloud PC's disk {disk} was deleted; the agent said:\n{fixture.AgentOutput}");
                return (await operatorClient.GetFromJsonAsync<JsonElement>($"/api/v1/hosts/{hostId}/unmanagedVms")).EnumerateArray().ToList();
            },
            vms => vms.Count == 1 && vms[0].GetProperty("state").GetString() == "stopped", "the VM reported unmanaged and stopped", TimeSpan.FromSeconds(120));
        Assert.Equal(vmId, unmanaged[0].GetProperty("id").GetGuid());
        Assert.Equal(oldHostId, unmanaged[0].GetProperty("managedOnHostId").GetGuid());
        Assert.Empty(QemuProcesses.Running(fixture.AgentDataPath));
        Assert.Contains($"VM {vmId:N} (running) is not in compute's desired state", fixture.AgentOutput, StringComparison.Ordinal);

        // Another tenant's disks are the platform operator's business only.
        Assert.Equal(HttpStatusCode.Forbidden, (await fixture.Admin.GetAsync($"/api/v1/hosts/{hostId}/unmanagedVms")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await fixture.Admin.PostAsync($"/api/v1/hosts/{hostId}/unmanagedVms/{vmId}/adopt", null)).StatusCode);

        // Adopted: the VM is the new host's, boots there, and provisioning hears it run through compute.vmReported.v1.
        var touched = pc.GetProperty("lastModifiedDateTime").GetDateTimeOffset();
        var adopted = await operatorClient.PostAsync($"/api/v1/hosts/{hostId}/unmanagedVms/{vmId}/adopt", null);
        Assert.True(adopted.StatusCode == HttpStatusCode.OK, await adopted.Content.ReadAsStringAsync());
        await Eventually.MatchesAsync(async () => await operatorClient.GetFromJsonAsync<JsonElement>($"/api/v1/vms/{vmId}"),
            vm => vm.GetProperty("hostId").GetGuid() == hostId && vm.GetProperty("state").GetString() == "running" && vm.GetProperty("ready").GetBoolean(),
            "the adopted VM running on the new host", TimeSpan.FromSeconds(120));
        await Eventually.MatchesAsync(async () => await fixture.Ada.GetFromJsonAsync<JsonElement>($"/api/v1/me/cloudPCs/{fixture.PcId}"),
            p => p.GetProperty("lastModifiedDateTime").GetDateTimeOffset() > touched && p.GetProperty("powerState").GetString() == "running"
                && p.GetProperty("status").GetString() == "provisioned", "Ada's Cloud PC to hear its VM run again");
        Assert.Empty((await operatorClient.GetFromJsonAsync<JsonElement>($"/api/v1/hosts/{hostId}/unmanagedVms")).EnumerateArray());
        Assert.True(File.Exists(disk), "the same disk runs");

        // The operator's action is in the tenant's audit log: it was the tenant's VM.
        await Eventually.MatchesAsync(async () => (await fixture.Admin.GetFromJsonAsync<JsonElement>("/api/v1/auditEvents?$top=1000")).GetProperty("value").EnumerateArray()
                .Any(e => e.GetProperty("activityType").GetString() == "AdoptUnmanagedVm"),
            found => found, "the adoption's audit event");
    }
}
