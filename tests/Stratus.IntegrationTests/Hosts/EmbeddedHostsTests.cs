using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Stratus.IntegrationTests.Support;
using Stratus.Testing;

namespace Stratus.IntegrationTests.Hosts;

/// <summary>`stratus up` runs a real QEMU host per local region: VMs boot, outlive the process and are re-adopted.</summary>
public sealed class EmbeddedHostsTests
{
    [Fact]
    public async Task Up_runs_a_qemu_host_per_region_whose_vms_outlive_a_restart_and_are_readopted()
    {
        using var data = new TempFolder();
        await TinyImageFolder.InstallIntoAsync(data.Path);
        try
        {
            int pid;
            Guid vmId;
            await using (var first = await StratusProcess.StartAsync(["up"], data.Path))
            {
                using var http = await first.OperatorClientAsync();
                var hosts = await Eventually.MatchesAsync(() => HostsAsync(http),
                    h => h.Count == 2 && h.All(x => x.State == "ready" && x.Accelerator is "tcg" or "kvm"), "two ready QEMU hosts", TimeSpan.FromSeconds(90));
                Assert.Equal(["local-1", "local-2"], hosts.Select(h => h.Region).Order());
                Assert.All(hosts, h => Assert.Equal("qemu", h.Driver));

                var created = await http.PostAsJsonAsync("/api/v1/vms", new { region = "local-2", imageId = TinyImageFolder.ImageId, vCpuCount = 1, memoryMiB = 256, diskGiB = 8 });
                Assert.Equal(HttpStatusCode.Created, created.StatusCode);
                vmId = (await created.Content.ReadFromJsonAsync<VmBody>())!.Id;
                await Eventually.MatchesAsync(() => VmAsync(http, vmId), v => v is { State: "running", Ready: true }, "the VM to boot", TimeSpan.FromSeconds(120));
                pid = QemuProcesses.Running(data.Path).Single();
            }

            // Stratus is gone; the Cloud PC is not.
            Assert.True(QemuProcesses.IsRunning(pid), "the VM's QEMU process should outlive stratus up");

            await using (var second = await StratusProcess.StartAsync(["up"], data.Path))
            {
                using var http = await second.OperatorClientAsync();
                await Eventually.MatchesAsync(() => Task.FromResult(second.Output), o => o.Contains("adopted 1 VMs", StringComparison.Ordinal), "the VM to be re-adopted", TimeSpan.FromSeconds(90));
                var vm = await Eventually.MatchesAsync(() => VmAsync(http, vmId), v => v is { State: "running", Ready: true }, "the re-adopted VM's report");
                Assert.Equal([pid], QemuProcesses.Running(data.Path));

                Assert.Equal(HttpStatusCode.OK, (await http.DeleteAsync($"/api/v1/vms/{vm!.Id}")).StatusCode);
                await Eventually.MatchesAsync(async () => (await http.GetAsync($"/api/v1/vms/{vmId}")).StatusCode, s => s == HttpStatusCode.NotFound, "the VM to be deleted");
                Assert.False(QemuProcesses.IsRunning(pid), "deleting the VM stops its QEMU process");
                Assert.Empty(Directory.GetDirectories(Path.Combine(data.Path, "hosts", "local-2", "vms")));
            }
        }
        finally
        {
            QemuProcesses.KillAll(data.Path);
        }
    }

    [Fact]
    public async Task An_embedded_host_whose_identity_is_gone_while_compute_has_its_name_says_why_it_does_not_start()
    {
        using var data = new TempFolder();
        await using (var first = await StratusProcess.StartAsync(["up", "--hosts", "simulated"], data.Path))
        {
            using var http = await first.OperatorClientAsync();
            await Eventually.MatchesAsync(() => HostsAsync(http), h => h.Count == 2 && h.All(x => x.State == "ready"), "two ready hosts", TimeSpan.FromSeconds(90));
        }

        File.Delete(Path.Combine(data.Path, "hosts", "local-1", "agent.json"));
        await using var second = await StratusProcess.StartAsync(["up", "--hosts", "simulated"], data.Path);
        var output = await Eventually.MatchesAsync(() => Task.FromResult(second.Output), o => o.Contains("Started 1 embedded hosts", StringComparison.Ordinal),
            "the one host that can start", TimeSpan.FromSeconds(90));
        var warning = Assert.Single(output.Split('\n'), line => line.Contains("The embedded host of region local-1 is not started", StringComparison.Ordinal));
        Assert.Contains($"{Path.Combine(data.Path, "hosts", "local-1", "agent.json")} is gone and compute already has a host named", warning, StringComparison.Ordinal);
        Assert.DoesNotContain("region local-2 is not started", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Up_with_hosts_none_runs_no_host()
    {
        using var data = new TempFolder();
        await using var stratus = await StratusProcess.StartAsync(["up", "--hosts", "none"], data.Path);
        using var http = await stratus.OperatorClientAsync();
        await Task.Delay(TimeSpan.FromSeconds(2));
        Assert.Empty(await HostsAsync(http));
        Assert.DoesNotContain("embedded hosts", stratus.Output, StringComparison.Ordinal);
    }

    private static async Task<List<HostBody>> HostsAsync(HttpClient http) => (await http.GetFromJsonAsync<List<HostBody>>("/api/v1/hosts"))!;

    private static async Task<VmBody?> VmAsync(HttpClient http, Guid id)
    {
        using var response = await http.GetAsync($"/api/v1/vms/{id}");
        return response.IsSuccessStatusCode ? await response.Content.ReadFromJsonAsync<VmBody>() : null;
    }

    private sealed record HostBody(Guid Id, string Region, string State, string Driver, string Accelerator);

    private sealed record VmBody(Guid Id, string? State, bool Ready);
}
