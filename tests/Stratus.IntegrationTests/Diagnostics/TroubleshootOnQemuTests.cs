using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Stratus.IntegrationTests.Support;
using Stratus.Testing;
using static Stratus.IntegrationTests.Diagnostics.TroubleshootTenant;

namespace Stratus.IntegrationTests.Diagnostics;

/// <summary>
/// Troubleshoot on a real QEMU Cloud PC under `stratus up` (issue 21): a VM whose QEMU process is killed is named as
/// the failed check, with advice and the restart offered; the offered restart brings it back and the check passes.
/// </summary>
public sealed class TroubleshootOnQemuTests
{
    private static readonly Dictionary<string, string?> Settings = new()
    {
        // The agent converges when its long poll ends (or the desired state changes): a long poll keeps the killed VM
        // down long enough for its host's next heartbeat (every 5 s) to report it, below the agent's 60 s HTTP timeout.
        ["Stratus__Compute__LongPollTimeout"] = "00:00:50",
    };

    [Fact]
    public async Task A_killed_vm_fails_the_vm_check_with_the_restart_offered_and_passes_after_the_restart()
    {
        using var data = new TempFolder();
        await TinyImageFolder.InstallIntoAsync(data.Path);
        try
        {
            await using var stratus = await StratusProcess.StartAsync(["up"], data.Path, Settings);
            using var operatorClient = await stratus.OperatorClientAsync();
            var tenant = await CreateAsync(stratus, operatorClient, withCloudPc: true);
            var pc = await tenant.ProvisionedCloudPcAsync();

            // Healthy: the record, the host and the VM pass; what cannot be read yet is skipped with its reason.
            var healthy = await Eventually.MatchesAsync(() => tenant.TroubleshootedAsync(pc), r => Status(r, "vmRunning") == "passed", "the VM check to pass", TimeSpan.FromMinutes(2));
            Assert.Equal(pc, healthy.GetProperty("cloudPcId").GetGuid());
            Assert.Equal("passed", Status(healthy, "cloudPcRecord"));
            Assert.Equal("passed", Status(healthy, "hostReporting"));
            Assert.Equal("skipped", Status(healthy, "networkConnection"));
            Assert.Equal("skipped", Status(healthy, "lastConsoleSession"));
            Assert.Equal("skipped", Status(healthy, "hostDiskSpace"));
            Assert.False(Check(healthy, "vmRunning").TryGetProperty("suggestedAction", out var none) && none.ValueKind != JsonValueKind.Null);

            // Kill -9 the VM's QEMU process. Its agent starts it again at its next pass; should that come before its
            // heartbeat reported the crash, the VM is killed again (at most a few times) until troubleshoot has seen it.
            var failed = await KillUntilTroubleshootSeesItAsync(tenant, data.Path, pc);
            var vmCheck = Check(failed, "vmRunning");
            Assert.Equal("failed", failed.GetProperty("overallStatus").GetString());
            Assert.Equal("vm-crashed", vmCheck.GetProperty("errorCode").GetString());
            Assert.Contains("QEMU process ended", vmCheck.GetProperty("message").GetString(), StringComparison.Ordinal);
            Assert.Contains("Restart the Cloud PC", vmCheck.GetProperty("advice").GetString(), StringComparison.Ordinal);
            var action = vmCheck.GetProperty("suggestedAction");
            Assert.Equal("restart", action.GetProperty("name").GetString());
            Assert.Equal("POST", action.GetProperty("method").GetString());
            var path = action.GetProperty("path").GetString()!;
            Assert.Equal($"/api/v1/cloudPCs/{pc}/reboot", path);
            Assert.Equal("passed", Status(failed, "hostReporting"));

            // The offer is the administrator's to take: the request it names restarts the VM, and the check passes again.
            using var restart = await tenant.Admin.PostAsJsonAsync(path, new { });
            Assert.True(restart.StatusCode == HttpStatusCode.Accepted, $"{(int)restart.StatusCode} {await restart.Content.ReadAsStringAsync()}");
            var recovered = await Eventually.MatchesAsync(() => tenant.TroubleshootedAsync(pc), r => Status(r, "vmRunning") == "passed",
                "the VM check to pass after the restart", TimeSpan.FromMinutes(3));
            Assert.Equal("passed", Status(recovered, "cloudPcRecord"));
            Assert.Single(QemuProcesses.Running(data.Path));

            // Every run is kept, latest first.
            var results = (await tenant.Admin.GetFromJsonAsync<JsonElement>($"/api/v1/cloudPCs/{pc}/troubleshootResults")).GetProperty("value").EnumerateArray().ToList();
            Assert.Equal(recovered.GetProperty("id").GetGuid(), results[0].GetProperty("id").GetGuid());
            Assert.Contains(results, r => r.GetProperty("id").GetGuid() == failed.GetProperty("id").GetGuid() && Status(r, "vmRunning") == "failed");
            Assert.Equal(results.OrderByDescending(r => r.GetProperty("startDateTime").GetDateTimeOffset()).Select(r => r.GetProperty("id").GetGuid()),
                results.Select(r => r.GetProperty("id").GetGuid()));
        }
        finally
        {
            QemuProcesses.KillAll(data.Path);
        }
    }

    private static async Task<JsonElement> KillUntilTroubleshootSeesItAsync(TroubleshootTenant tenant, string dataFolder, Guid pc)
    {
        var seen = new List<string>();
        for (var attempt = 1; attempt <= 5; attempt++)
        {
            var pid = Assert.Single(await Eventually.MatchesAsync(() => Task.FromResult(QemuProcesses.Running(dataFolder)), p => p.Count == 1, "the VM's QEMU process",
                TimeSpan.FromMinutes(2)));
            using (var qemu = Process.GetProcessById(pid))
            {
                qemu.Kill();
                await qemu.WaitForExitAsync();
            }

            // Three heartbeats' time for the crash to reach compute, unless the agent has started the VM again meanwhile.
            var deadline = Stopwatch.StartNew();
            while (deadline.Elapsed < TimeSpan.FromSeconds(30))
            {
                var result = await tenant.TroubleshootedAsync(pc);
                var status = Status(result, "vmRunning");
                if (status == "failed")
                {
                    return result;
                }

                seen.Add(status);
                if (QemuProcesses.Running(dataFolder).Count > 0 && status == "passed")
                {
                    break;
                }

                await Task.Delay(500);
            }
        }

        throw new TimeoutException($"Troubleshoot never saw the killed VM fail in 5 attempts; it saw: {string.Join(", ", seen.Distinct())}");
    }
}
