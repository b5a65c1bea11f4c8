using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Stratus.IntegrationTests.Support;
using Stratus.Testing;

namespace Stratus.IntegrationTests.Provisioning;

/// <summary>
/// Issue 18's first proof: a host lost with its disk. Two `stratus host` agents (real QEMU) in local-1 of a control
/// plane with no embedded host; the Cloud PC's guest writes a file, a copy of its disk reaches the region's store
/// (DATA/copies/local-1), then its host's agent and QEMU are killed and the host's VM folder deleted. After the
/// heartbeat timeout and the host-loss grace (short here) the Cloud PC is recovering, then provisioned on the other
/// host, with the file. The old host, restarted, does not start the stale VM and keeps none.
/// </summary>
public sealed partial class CloudPcOnQemuTests
{
    [Fact]
    public async Task A_cloud_pc_whose_host_is_lost_is_made_again_on_another_host_from_its_copy_and_the_old_host_does_not_start_it()
    {
        var settings = new Dictionary<string, string?>(Settings)
        {
            ["Stratus__Compute__HeartbeatTimeout"] = "00:00:10",
            ["Stratus__Compute__HostLossGrace"] = "00:00:05",
            ["Stratus__Compute__DiskCopies__DefaultInterval"] = "00:00:15",
            ["Stratus__Compute__DiskCopies__CheckInterval"] = "00:00:02",
        };
        using var data = new TempFolder();
        await TinyImageFolder.InstallIntoAsync(data.Path);
        var hostA = Path.Combine(data.Path, "hosts", "a");
        var hostB = Path.Combine(data.Path, "hosts", "b");
        HostAgentProcess? agentA = null;
        HostAgentProcess? agentB = null;
        try
        {
            await using var stratus = await StratusProcess.StartAsync(["up", "--hosts", "none"], data.Path, settings);
            using var operatorClient = await stratus.OperatorClientAsync();
            var argumentsA = await AgentArgumentsAsync(stratus, operatorClient, "host-a", hostA);
            agentA = HostAgentProcess.Start(argumentsA);
            await WaitForReadyHostsAsync(operatorClient, 1);

            var tenant = await Directory.CreateAsync(stratus, operatorClient, gracePeriodInHours: 168);
            var cloudPcId = (await tenant.WaitForCloudPcAsync(p => p.Status == "provisioned", "the Cloud PC to be provisioned", TimeSpan.FromMinutes(5))).Id;
            var vmId = Assert.Single(await VmsAsync(operatorClient)).Id;
            agentB = HostAgentProcess.Start(await AgentArgumentsAsync(stratus, operatorClient, "host-b", hostB));
            await WaitForReadyHostsAsync(operatorClient, 2);

            // A file on the persistent disk, then a copy taken after it.
            await using (var console = await SerialConsole.ConnectAsync(Path.Combine(Assert.Single(System.IO.Directory.GetDirectories(Path.Combine(hostA, "vms"))), "serial.sock")))
            {
                Assert.Equal("before-the-loss", await console.RunAsync("echo before-the-loss > /home/note.txt && sync && cat /home/note.txt"));
            }

            var written = TimeProvider.System.GetUtcNow();
            await Eventually.MatchesAsync(() => operatorClient.GetFromJsonAsync<JsonElement>($"/api/v1/vms/{vmId}"),
                vm => vm.GetProperty("diskCopies").EnumerateArray().Any(c => c.GetProperty("latestCopyAt").ValueKind == JsonValueKind.String
                    && c.GetProperty("latestCopyAt").GetDateTimeOffset() > written),
                "a disk copy taken after the file was written", TimeSpan.FromMinutes(3));

            // The host is lost: its agent and QEMU killed, its VM folder gone.
            await agentA.DisposeAsync();
            agentA = null;
            QemuProcesses.KillAll(hostA);
            System.IO.Directory.Delete(Path.Combine(hostA, "vms"), recursive: true);

            await tenant.WaitForCloudPcAsync(p => p.Status == "recovering", "the Cloud PC recovering", TimeSpan.FromMinutes(2));
            await tenant.WaitForCloudPcAsync(p => p.Status == "provisioned", "the Cloud PC provisioned again on the other host", TimeSpan.FromMinutes(5));
            var hostBId = await HostIdAsync(operatorClient, "host-b");
            Assert.Equal(hostBId, (await operatorClient.GetFromJsonAsync<JsonElement>($"/api/v1/vms/{vmId}")).GetProperty("hostId").GetGuid());
            Assert.Equal(cloudPcId, Assert.Single(await tenant.CloudPcsAsync()).Id);
            await using (var console = await SerialConsole.ConnectAsync(Path.Combine(Assert.Single(System.IO.Directory.GetDirectories(Path.Combine(hostB, "vms"))), "serial.sock")))
            {
                Assert.Equal("before-the-loss", await console.RunAsync("cat /home/note.txt", TimeSpan.FromSeconds(30)));
            }

            // The old host comes back: it reports again, and it neither runs nor keeps the VM.
            agentA = HostAgentProcess.Start(WithoutEnrollmentToken(argumentsA));
            var hostAId = await HostIdAsync(operatorClient, "host-a");
            await Eventually.MatchesAsync(() => operatorClient.GetFromJsonAsync<JsonElement>($"/api/v1/hosts/{hostAId}"),
                h => h.GetProperty("state").GetString() == "ready" && h.GetProperty("vmCount").GetInt32() == 0 && h.GetProperty("unmanagedVmCount").GetInt32() == 0,
                "the old host back, with no VM of its own and none unmanaged", TimeSpan.FromMinutes(2));
            Assert.Empty(QemuProcesses.Running(hostA));
            Assert.Single(QemuProcesses.Running(hostB));
        }
        finally
        {
            if (agentA is not null)
            {
                await agentA.DisposeAsync();
            }

            if (agentB is not null)
            {
                await agentB.DisposeAsync();
            }

            QemuProcesses.KillAll(data.Path);
        }
    }

    private static async Task<string[]> AgentArgumentsAsync(StratusProcess stratus, HttpClient operatorClient, string name, string dataFolder, string region = "local-1")
    {
        var tokenResponse = await operatorClient.PostAsJsonAsync("/api/v1/hosts/enrollmentTokens", new { region });
        Assert.True(tokenResponse.StatusCode == HttpStatusCode.Created, await tokenResponse.Content.ReadAsStringAsync());
        var token = (await tokenResponse.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString()!;
        return
        [
            "--control-plane", stratus.BaseAddress.ToString().TrimEnd('/'), "--enrollment-token", token, "--region", region, "--zone", $"{region}a",
            "--name", name, "--data", dataFolder, "--images", Path.Combine(stratus.DataFolder, "images", "gallery"), "--driver", "qemu",
            "--vcpus", "2", "--memory-mib", "2048", "--disk-gib", "16",
        ];
    }

    private static async Task WaitForReadyHostsAsync(HttpClient operatorClient, int count) =>
        await Eventually.MatchesAsync(async () => (await operatorClient.GetFromJsonAsync<JsonElement>("/api/v1/hosts")).EnumerateArray().Count(h => h.GetProperty("state").GetString() == "ready"),
            n => n == count, $"{count} ready hosts", TimeSpan.FromMinutes(1));

    private static async Task<Guid> HostIdAsync(HttpClient operatorClient, string name) =>
        (await operatorClient.GetFromJsonAsync<JsonElement>("/api/v1/hosts")).EnumerateArray().Single(h => h.GetProperty("name").GetString() == name).GetProperty("id").GetGuid();
}
