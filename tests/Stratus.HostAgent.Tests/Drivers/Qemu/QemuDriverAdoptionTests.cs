using System.Diagnostics;
using Stratus.Testing;
using Stratus.HostAgent.Drivers;
using Stratus.HostAgent.Tests.Support;

namespace Stratus.HostAgent.Tests.Drivers.Qemu;

/// <summary>VMs outlive the agent: a new driver finds them, controls them, and never runs one twice or leaks one.</summary>
public sealed class QemuDriverAdoptionTests(ITestOutputHelper output)
{
    private const string Id = "adopt";

    [Fact]
    public async Task NewDriver_AdoptsRunningVm_RestartsCrashedVm_KillsOrphanedProcess()
    {
        await using var host = new VmHost(output);
        await host.Driver.CreateAsync(await VmHost.SpecAsync(Id));
        var first = await host.Driver.StartAsync(Id);
        await using (var console = await SerialConsole.ConnectAsync(first.Console.SerialSocketPath))
        {
            await console.RunAsync("echo kept > /home/kept.txt && sync");
        }

        // What an agent killed in the middle of a create leaves.
        var partial = Path.Combine(host.DataPath, "vms", "ghost.partial");
        Directory.CreateDirectory(partial);
        await File.WriteAllTextAsync(Path.Combine(partial, "disk.qcow2"), "");

        // One driver per data folder: a second one is refused while the first holds it.
        Assert.Throws<VmDriverException>(() => host.Create());

        // The agent restarts: the VM still runs, and the new driver adopts it as it is.
        var driver = host.NewDriver();
        var adopted = Assert.Single(await driver.AdoptAsync());
        Assert.Equal(VmPowerState.Running, adopted.PowerState);
        Assert.Equal(first.ProcessId, adopted.ProcessId);
        Assert.True(adopted.Ready);
        Assert.False(Directory.Exists(partial));
        Assert.Equal(first.ProcessId, (await driver.StartAsync(Id)).ProcessId);
        Assert.Single(VmHost.QemuProcesses(host.DataPath + "/"));
        await driver.CreateSnapshotAsync(Id, "adopted");
        Assert.Equal(new[] { "adopted" }, (await driver.ListSnapshotsAsync(Id)).Select(s => s.Name));

        // QEMU dies (kill -9): reported crashed, by this driver and by the next one.
        using (var process = Process.GetProcessById(first.ProcessId!.Value))
        {
            process.Kill();
        }

        await WaitUntilAsync(() => VmHost.QemuProcesses(host.DataPath + "/").Count == 0, "the killed QEMU to go");
        Assert.Equal(VmPowerState.Crashed, (await driver.GetAsync(Id))!.PowerState);
        driver = host.NewDriver();
        Assert.Equal(VmPowerState.Crashed, Assert.Single(await driver.AdoptAsync()).PowerState);

        // The agent's desired state says running: it starts the VM again, with its disk as it was.
        var again = await driver.StartAsync(Id);
        Assert.Equal(VmPowerState.Running, again.PowerState);
        Assert.NotEqual(first.ProcessId, again.ProcessId);
        Assert.Single(VmHost.QemuProcesses(host.DataPath + "/"));
        await using (var console = await SerialConsole.ConnectAsync(again.Console.SerialSocketPath))
        {
            Assert.Equal("kept", await console.RunAsync("cat /home/kept.txt"));
        }

        // A VM folder removed behind the agent's back: its process is found and killed at adoption, not leaked.
        Directory.Delete(Path.Combine(host.DataPath, "vms", Id), recursive: true);
        driver = host.NewDriver();
        Assert.Empty(await driver.AdoptAsync());
        await WaitUntilAsync(() => VmHost.QemuProcesses(host.DataPath + "/").Count == 0, "the orphaned QEMU to be killed");
    }

    private static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"Waited 20 s for {what}.");
            await Task.Delay(100);
        }
    }
}
