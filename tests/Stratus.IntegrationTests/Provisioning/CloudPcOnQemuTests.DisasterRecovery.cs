using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Stratus.IntegrationTests.Support;
using Stratus.Testing;

namespace Stratus.IntegrationTests.Provisioning;

/// <summary>
/// Issue 18's cross-region proof: one `stratus host` agent (real QEMU) in local-1 and one in local-2 under a control
/// plane with no embedded host. The Cloud PC (local-1) gets a user setting with cross-region disaster recovery to
/// local-2 copied every minute; its guest writes a file, a copy taken after it reaches local-2's store, then local-1's
/// host is stopped (agent and QEMU killed). The failover makes a VM in local-2 from that copy, with the file; the guest
/// there writes a second file. local-1's host comes back, the failback copies the disk home and makes a new primary
/// there, which has both files; the older VMs go.
/// </summary>
public sealed partial class CloudPcOnQemuTests
{
    [Fact]
    public async Task A_cloud_pc_fails_over_to_its_backup_region_when_its_region_stops_and_fails_back_with_what_was_written_there()
    {
        var settings = new Dictionary<string, string?>(Settings)
        {
            ["Stratus__Compute__HeartbeatTimeout"] = "00:00:10",
            // Host-loss recovery would remake the VM in its own region; here the whole region is down and the
            // failover is the admin's call, so it must not act first.
            ["Stratus__Compute__HostLossGrace"] = "01:00:00",
            ["Stratus__Compute__DiskCopies__CheckInterval"] = "00:00:02",
        };
        using var data = new TempFolder();
        await TinyImageFolder.InstallIntoAsync(data.Path);
        var primaryHost = Path.Combine(data.Path, "hosts", "a");
        var backupHost = Path.Combine(data.Path, "hosts", "b");
        HostAgentProcess? primaryAgent = null;
        HostAgentProcess? backupAgent = null;
        try
        {
            await using var stratus = await StratusProcess.StartAsync(["up", "--hosts", "none"], data.Path, settings);
            using var operatorClient = await stratus.OperatorClientAsync();
            var primaryArguments = await AgentArgumentsAsync(stratus, operatorClient, "host-a", primaryHost);
            primaryAgent = HostAgentProcess.Start(primaryArguments);
            backupAgent = HostAgentProcess.Start(await AgentArgumentsAsync(stratus, operatorClient, "host-b", backupHost, region: "local-2"));
            await WaitForReadyHostsAsync(operatorClient, 2);

            var tenant = await Directory.CreateAsync(stratus, operatorClient, gracePeriodInHours: 168);
            var cloudPcId = (await tenant.WaitForCloudPcAsync(p => p.Status == "provisioned", "the Cloud PC to be provisioned", TimeSpan.FromMinutes(5))).Id;
            var primaryVmId = Assert.Single(await VmsAsync(operatorClient)).Id;
            await ProtectWithDisasterRecoveryToLocal2Async(tenant, cloudPcId);

            // A file on the persistent disk, then a copy in local-2's store taken after it.
            await using (var console = await SerialConsole.ConnectAsync(SerialSocketOf(primaryHost, primaryVmId)))
            {
                Assert.Equal("before-the-failover", await console.RunAsync("echo before-the-failover > /home/note.txt && sync && cat /home/note.txt"));
            }

            var written = TimeProvider.System.GetUtcNow();
            await Eventually.MatchesAsync(() => operatorClient.GetFromJsonAsync<JsonElement>($"/api/v1/vms/{primaryVmId}"),
                vm => vm.GetProperty("diskCopies").EnumerateArray().Any(c => c.GetProperty("region").GetString() == "local-2"
                    && c.GetProperty("latestCopyAt").ValueKind == JsonValueKind.String && c.GetProperty("latestCopyAt").GetDateTimeOffset() > written),
                "a disk copy in local-2's store taken after the file was written", TimeSpan.FromMinutes(4));

            // Region local-1 stops: its one host's agent and QEMU are killed, and compute sees the host down.
            await primaryAgent.DisposeAsync();
            primaryAgent = null;
            QemuProcesses.KillAll(primaryHost);
            var primaryHostId = await HostIdAsync(operatorClient, "host-a");
            await Eventually.MatchesAsync(() => operatorClient.GetFromJsonAsync<JsonElement>($"/api/v1/hosts/{primaryHostId}"),
                h => h.GetProperty("state").GetString() != "ready", "local-1's host to be seen down", TimeSpan.FromMinutes(1));

            // Failover: the Cloud PC's VM is now in local-2, made from the copy, with the file; the user writes another.
            await tenant.WaitForOperationAsync(cloudPcId, await tenant.ActAsync(cloudPcId, "disasterRecoveryFailover", null), TimeSpan.FromMinutes(5));
            var failedOver = await tenant.Admin.GetFromJsonAsync<JsonElement>($"/api/v1/cloudPCs/{cloudPcId}");
            Assert.Equal(("failedOver", "local-2"), (DisasterRecoveryStatus(failedOver), ActiveRegion(failedOver)));
            var disasterRecoveryVmId = failedOver.GetProperty("vmId").GetGuid();
            Assert.Equal(await HostIdAsync(operatorClient, "host-b"), (await operatorClient.GetFromJsonAsync<JsonElement>($"/api/v1/vms/{disasterRecoveryVmId}")).GetProperty("hostId").GetGuid());
            await using (var console = await SerialConsole.ConnectAsync(SerialSocketOf(backupHost, disasterRecoveryVmId)))
            {
                Assert.Equal("before-the-failover", await console.RunAsync("cat /home/note.txt", TimeSpan.FromSeconds(30)));
                Assert.Equal("while-failed-over", await console.RunAsync("echo while-failed-over > /home/second.txt && sync && cat /home/second.txt"));
            }

            // local-1 comes back; failback copies the disk home and makes a new primary there, which has both files.
            primaryAgent = HostAgentProcess.Start(WithoutEnrollmentToken(primaryArguments));
            await WaitForReadyHostsAsync(operatorClient, 2);
            await tenant.WaitForOperationAsync(cloudPcId, await tenant.ActAsync(cloudPcId, "disasterRecoveryFailback", null), TimeSpan.FromMinutes(8));
            var home = await tenant.Admin.GetFromJsonAsync<JsonElement>($"/api/v1/cloudPCs/{cloudPcId}");
            Assert.Equal(("notFailedOver", "local-1"), (DisasterRecoveryStatus(home), ActiveRegion(home)));
            var newPrimaryVmId = home.GetProperty("vmId").GetGuid();
            Assert.DoesNotContain(newPrimaryVmId, new[] { primaryVmId, disasterRecoveryVmId });
            Assert.Equal(primaryHostId, (await operatorClient.GetFromJsonAsync<JsonElement>($"/api/v1/vms/{newPrimaryVmId}")).GetProperty("hostId").GetGuid());
            await using (var console = await SerialConsole.ConnectAsync(SerialSocketOf(primaryHost, newPrimaryVmId)))
            {
                Assert.Equal("before-the-failover while-failed-over", await console.RunAsync("echo $(cat /home/note.txt) $(cat /home/second.txt)", TimeSpan.FromSeconds(30)));
            }

            await Eventually.MatchesAsync(() => VmsAsync(operatorClient), v => v.Count == 1 && v[0].Id == newPrimaryVmId, "the failed-over and the old primary VMs deleted", TimeSpan.FromMinutes(2));
        }
        finally
        {
            if (primaryAgent is not null)
            {
                await primaryAgent.DisposeAsync();
            }

            if (backupAgent is not null)
            {
                await backupAgent.DisposeAsync();
            }

            QemuProcesses.KillAll(data.Path);
        }
    }

    /// <summary>Gives the tenant's user group a setting with cross-region disaster recovery to local-2, a copy a minute.</summary>
    private static async Task ProtectWithDisasterRecoveryToLocal2Async(Tenant tenant, Guid cloudPcId)
    {
        var created = await tenant.Admin.PostAsJsonAsync("/api/v1/userSettings", new
        {
            displayName = "Protected", diskCopyFrequencyInMinutes = 1,
            crossRegionDisasterRecoverySetting = new { disasterRecoveryType = "crossRegion", disasterRecoveryNetworkSetting = new { regionName = "local-2" } },
        });
        Assert.True(created.StatusCode == HttpStatusCode.Created, await created.Content.ReadAsStringAsync());
        var setting = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
        var group = (await tenant.Admin.GetFromJsonAsync<JsonElement>("/api/v1/groups")).GetProperty("value").EnumerateArray()
            .Single(g => g.GetProperty("displayName").GetString() == "Cloud PC users").GetProperty("id").GetGuid();
        var assigned = await tenant.Admin.PostAsJsonAsync($"/api/v1/userSettings/{setting}/assign", new { assignments = new[] { new { target = new { groupId = group }, priority = 1 } } });
        Assert.True(assigned.StatusCode == HttpStatusCode.OK, await assigned.Content.ReadAsStringAsync());
        await Eventually.MatchesAsync(() => tenant.Admin.GetFromJsonAsync<JsonElement>($"/api/v1/cloudPCs/{cloudPcId}"),
            p => p.GetProperty("disasterRecoveryCapability").GetProperty("capabilityType").GetString() == "failover", "the Cloud PC able to fail over", TimeSpan.FromMinutes(1));
    }

    /// <summary>The serial console's socket of a VM on an agent's data folder (DATA/vms/ID).</summary>
    private static string SerialSocketOf(string hostFolder, Guid vmId) =>
        Path.Combine(System.IO.Directory.GetDirectories(Path.Combine(hostFolder, "vms"))
            .Single(f => Path.GetFileName(f) == vmId.ToString() || Path.GetFileName(f) == vmId.ToString("N")), "serial.sock");

    /// <summary>An agent's arguments for a restart: it is enrolled already, and a token is used once.</summary>
    private static string[] WithoutEnrollmentToken(string[] arguments) =>
        arguments.Where((a, i) => a != "--enrollment-token" && (i == 0 || arguments[i - 1] != "--enrollment-token")).ToArray();

    private static string? DisasterRecoveryStatus(JsonElement cloudPc) => cloudPc.GetProperty("disasterRecoveryStatus").GetProperty("status").GetString();

    private static string? ActiveRegion(JsonElement cloudPc) => cloudPc.GetProperty("disasterRecoveryStatus").GetProperty("activeRegion").GetString();
}
