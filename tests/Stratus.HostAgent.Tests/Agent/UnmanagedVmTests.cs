using System.Text.Json;
using Microsoft.Extensions.Logging;
using Stratus.HostAgent.Agent;
using Stratus.HostAgent.Drivers;
using Stratus.HostAgent.Tests.Support;
using Stratus.Testing;

namespace Stratus.HostAgent.Tests.Agent;

/// <summary>
/// An agent answered a desired state that lists none of the VMs on its disk (a confused control-plane instance,
/// a store restored from an older backup) keeps every one: stopped, disk intact, reported unmanaged. It deletes
/// a VM only when the desired state marks it deleted (a tombstone). Real QEMU VMs, one of them booted, and a
/// scripted control plane over real HTTP.
/// </summary>
public sealed class UnmanagedVmTests(ITestOutputHelper output)
{
    [Fact]
    public async Task An_empty_desired_state_deletes_no_disk_stops_the_running_vm_and_reports_both_unmanaged_and_only_a_tombstone_deletes()
    {
        await using var host = new VmHost(output, o => o with { GracefulStopTimeout = TimeSpan.FromSeconds(5) });
        var running = Guid.NewGuid();
        var stopped = Guid.NewGuid();
        await host.Driver.CreateAsync(await VmHost.SpecAsync(HostAgentService.DriverId(running)));
        await host.Driver.StartAsync(HostAgentService.DriverId(running));
        await host.Driver.CreateAsync(await VmHost.SpecAsync(HostAgentService.DriverId(stopped)));
        var disks = new[] { running, stopped }.ToDictionary(id => id, id => Path.Combine(host.DataPath, "vms", HostAgentService.DriverId(id), "disk.qcow2"));
        Assert.All(disks.Values, disk => Assert.True(File.Exists(disk), disk));

        var tombstones = "";
        await using var controlPlane = new ScriptedControlPlane((hostId, request) =>
            $$"""{"hostId":"{{hostId}}","version":{{request}},"vms":[],"operations":[],"deletedVmIds":[{{Volatile.Read(ref tombstones)}}]}""");
        using var loggers = new TestOutputLoggerFactory(output);
        using var agent = new HostAgentService(host.Driver, controlPlane.AgentOptions(host.DataPath, "confused-control-plane-host", TimeSpan.FromMilliseconds(300)), "tcg", new HttpClient { BaseAddress = controlPlane.Url }, TimeProvider.System,
            loggers.CreateLogger<HostAgentService>());
        await agent.StartAsync(CancellationToken.None);
        try
        {
            // Both reported unmanaged and stopped, none as the host's own.
            // Every disk must be there all along: the old rule deleted them on the first pass.
            var report = await ReportAsync(controlPlane, () => Assert.All(disks.Values, disk => Assert.True(File.Exists(disk), $"{disk} was deleted")),
                r => Unmanaged(r).Count == 2 && Unmanaged(r).All(v => v.GetProperty("state").GetString() == "stopped"),
                "both VMs reported unmanaged and stopped");
            Assert.Empty(report.GetProperty("vms").EnumerateArray());
            var reported = Unmanaged(report).ToDictionary(v => v.GetProperty("id").GetGuid());
            var image = await TinyImage.GetAsync();
            Assert.Equal(disks.Keys.Order(), reported.Keys.Order());
            Assert.All(reported.Values, v =>
            {
                Assert.Equal(Path.GetFileName(image.FolderPath.TrimEnd('/')), v.GetProperty("imageId").GetString());
                Assert.Equal(8, v.GetProperty("diskGiB").GetInt32());
                Assert.Equal(256, v.GetProperty("memoryMiB").GetInt32());
            });

            // Every disk is there; the VM nobody wants no longer runs.
            Assert.All(disks.Values, disk => Assert.True(File.Exists(disk), $"{disk} was deleted"));
            Assert.Empty(VmHost.QemuProcesses(HostAgentService.DriverId(running)));
            Assert.Equal(2, (await host.Driver.ListAsync()).Count);

            // Compute marks one deleted: that one goes, with its disk; the other stays.
            Volatile.Write(ref tombstones, $"\"{stopped}\"");
            await ReportAsync(controlPlane, () => Assert.True(File.Exists(disks[running]), "the other disk is kept"), r => Unmanaged(r).Count == 1, "the tombstoned VM gone from the report");
            Assert.False(Directory.Exists(Path.GetDirectoryName(disks[stopped])), "the tombstoned VM's folder is gone");
            Assert.True(File.Exists(disks[running]), "the other disk is kept");
            Assert.Equal([HostAgentService.DriverId(running)], (await host.Driver.ListAsync()).Select(v => v.Id));
        }
        finally
        {
            await agent.StopAsync(CancellationToken.None);
        }
    }

    private static List<JsonElement> Unmanaged(JsonElement report) =>
        report.TryGetProperty("unmanagedVms", out var vms) && vms.ValueKind == JsonValueKind.Array ? vms.EnumerateArray().ToList() : [];

    /// <summary>The first report that matches, checking <paramref name="invariant"/> while it waits.</summary>
    private static async Task<JsonElement> ReportAsync(ScriptedControlPlane controlPlane, Action invariant, Func<JsonElement, bool> matches, string what)
    {
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (waited.Elapsed < TimeSpan.FromSeconds(60))
        {
            invariant();
            if (controlPlane.LastReport is { } report && matches(report))
            {
                return report;
            }

            await Task.Delay(100);
        }

        Assert.Fail($"No report within 60 s showed {what}; the last: {controlPlane.LastReport}");
        return default;
    }
}
