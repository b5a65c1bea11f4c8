using System.Diagnostics;
using System.Text.Json;
using Stratus.HostAgent.Drivers;
using Stratus.HostAgent.Tests.Support;
using Stratus.Testing;

namespace Stratus.HostAgent.Tests.Drivers.Qemu;

/// <summary>
/// One real VM (TCG here) through its whole life. One VM for every step keeps the run short, and each step
/// builds on the state the one before left, as the agent's own use does.
/// </summary>
public sealed class QemuDriverLifecycleTests(ITestOutputHelper output)
{
    private const string Id = "life";

    [Fact]
    public async Task Vm_ThroughItsLife_KeepsItsDiskAndLeavesNothingBehind()
    {
        await using var host = new VmHost(output);
        var driver = host.Driver;
        var spec = await VmHost.SpecAsync(Id);
        var folder = Path.Combine(host.DataPath, "vms", Id);

        // Create: a copy-on-write clone of the image's base disk, stopped; a retry returns the same VM.
        var created = await driver.CreateAsync(spec);
        Assert.Equal(VmPowerState.Stopped, created.PowerState);
        Assert.Equal(created.Spec, (await driver.CreateAsync(spec)).Spec);
        using (var disk = await DiskInfoAsync(Path.Combine(folder, "disk.qcow2")))
        {
            Assert.Equal((await TinyImage.GetAsync()).BaseDiskPath, disk.RootElement.GetProperty("backing-filename").GetString());
        }

        // Start: returns once the guest said STRATUS-READY; a second start is a no-op. (The accelerator is
        // chosen first, so that the figure is the boot alone, not the one-time KVM probe.)
        await VmHost.SharedAccelerator.ResolveAsync(await TinyImage.GetAsync());
        var clock = Stopwatch.StartNew();
        var running = await driver.StartAsync(Id);
        output.WriteLine($"Boot to STRATUS-READY: {clock.Elapsed.TotalSeconds:0.0} s (first boot, formats /home; {running.Accelerator}, 1 vCPU, 256 MiB)");
        Assert.Equal(VmPowerState.Running, running.PowerState);
        Assert.True(running.Ready);
        Assert.Contains(running.Accelerator, new[] { "tcg", "kvm" });
        Assert.Equal(running.ProcessId, (await driver.StartAsync(Id)).ProcessId);
        Assert.Equal(new[] { running.ProcessId!.Value }, VmHost.QemuProcesses(folder + "/"));
        Assert.True(File.Exists(running.Console.VncSocketPath));

        // The persistent disk is /home: a file written there survives a restart.
        await using (var console = await SerialConsole.ConnectAsync(running.Console.SerialSocketPath))
        {
            Assert.Contains("/dev/vda on /home", await console.RunAsync("mount"), StringComparison.Ordinal);
            await console.RunAsync("echo first > /home/note.txt && sync");
        }

        clock.Restart();
        var restarted = await driver.RestartAsync(Id);
        output.WriteLine($"Restart (ACPI power-off, boot to STRATUS-READY): {clock.Elapsed.TotalSeconds:0.0} s");
        Assert.NotEqual(running.ProcessId, restarted.ProcessId);
        Assert.True(restarted.Ready);
        // The guest powered itself off when asked: the previous boot's log ends with the kernel's power-down.
        Assert.Contains("reboot: Power down", await File.ReadAllTextAsync(Path.Combine(folder, "serial.log.1")), StringComparison.Ordinal);
        await using (var console = await SerialConsole.ConnectAsync(restarted.Console.SerialSocketPath))
        {
            Assert.Equal("first", await console.RunAsync("cat /home/note.txt"));
        }

        // Snapshot while running, change the file, grow the disk online, then revert: the file is as at the snapshot.
        var snapshot = await driver.CreateSnapshotAsync(Id, "before");
        Assert.Equal("before", snapshot.Name);
        Assert.Equal(snapshot, await driver.CreateSnapshotAsync(Id, "before"));
        await using (var console = await SerialConsole.ConnectAsync(restarted.Console.SerialSocketPath))
        {
            await console.RunAsync("echo second > /home/note.txt && sync");
            Assert.Equal("second", await console.RunAsync("cat /home/note.txt"));

            var resized = await driver.ResizeAsync(Id, new VmSize(1, 320, 9));
            Assert.True(resized.RestartPending);
            // The guest learns of an online resize from a config interrupt: give it a moment.
            Assert.Equal(((9L << 30) / 512).ToString(System.Globalization.CultureInfo.InvariantCulture),
                await console.RunAsync("for i in 1 2 3 4 5 6 7 8 9 10; do [ $(cat /sys/block/vda/size) = 18874368 ] && break; sleep 0.5; done; cat /sys/block/vda/size"));
        }

        clock.Restart();
        var reverted = await driver.RevertSnapshotAsync(Id, "before");
        output.WriteLine($"Revert (stop, revert, boot to STRATUS-READY): {clock.Elapsed.TotalSeconds:0.0} s");
        using (var disk = await DiskInfoAsync(Path.Combine(folder, "disk.qcow2")))
        {
            Assert.Equal(9L << 30, disk.RootElement.GetProperty("virtual-size").GetInt64());
        }
        Assert.Equal(VmPowerState.Running, reverted.PowerState);
        Assert.Equal(new VmSize(1, 320, 9), reverted.BootedSize);
        Assert.False(reverted.RestartPending);
        await using (var console = await SerialConsole.ConnectAsync(reverted.Console.SerialSocketPath))
        {
            Assert.Equal("first", await console.RunAsync("cat /home/note.txt"));
            // The snapshot was taken at 8 GiB; the plan's 9 GiB still holds after the revert.
            Assert.Equal((9L << 30) / 512, long.Parse(await console.RunAsync("cat /sys/block/vda/size"), System.Globalization.CultureInfo.InvariantCulture));
        }

        // Export: a standalone qcow2, no backing file, of the disk as at the snapshot (at the disk's size now).
        var export = Path.Combine(host.DataPath, "before.qcow2");
        await driver.ExportSnapshotAsync(Id, "before", export);
        using (var exported = await DiskInfoAsync(export))
        {
            Assert.False(exported.RootElement.TryGetProperty("backing-filename", out _));
            Assert.Equal(9L << 30, exported.RootElement.GetProperty("virtual-size").GetInt64());
        }

        File.Delete(export);

        // A deleted snapshot gives its space back: data the snapshot held alone (overwritten since) leaves the file.
        await using (var console = await SerialConsole.ConnectAsync(reverted.Console.SerialSocketPath))
        {
            await console.RunAsync("dd if=/dev/urandom of=/home/big bs=1M count=32 conv=fsync 2>/dev/null");
            await driver.CreateSnapshotAsync(Id, "big");
            await console.RunAsync("dd if=/dev/urandom of=/home/big bs=1M count=32 conv=notrunc,fsync 2>/dev/null");
        }

        var withSnapshot = await ActualSizeAsync(Path.Combine(folder, "disk.qcow2"));
        await driver.DeleteSnapshotAsync(Id, "big");
        var reclaimed = withSnapshot - await ActualSizeAsync(Path.Combine(folder, "disk.qcow2"));
        output.WriteLine($"Deleting a snapshot that alone held 32 MiB gave back {reclaimed / (1 << 20)} MiB");
        Assert.True(reclaimed >= 24L << 20, $"only {reclaimed} bytes were given back");

        Assert.Equal(new[] { "before" }, (await driver.ListSnapshotsAsync(Id)).Select(s => s.Name));
        await driver.DeleteSnapshotAsync(Id, "before");
        await driver.DeleteSnapshotAsync(Id, "before");
        Assert.Empty(await driver.ListSnapshotsAsync(Id));

        // Stop, forced: this guest ignores the power button now, so it is turned off after the grace period.
        await using (var console = await SerialConsole.ConnectAsync(reverted.Console.SerialSocketPath))
        {
            await console.RunAsync("rm /etc/acpi/PWRF/00000080");
        }

        clock.Restart();
        var stopped = await driver.StopAsync(Id, TimeSpan.FromSeconds(3));
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(30));
        Assert.Equal(VmPowerState.Stopped, stopped.PowerState);
        Assert.Empty(VmHost.QemuProcesses(folder + "/"));
        Assert.DoesNotContain("reboot: Power down", await driver.ReadSerialLogTailAsync(Id), StringComparison.Ordinal);

        // Delete: nothing left, and deleting again is a no-op.
        await driver.DeleteAsync(VmTombstone.Issue(Id));
        await driver.DeleteAsync(VmTombstone.Issue(Id));
        Assert.Null(await driver.GetAsync(Id));
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(host.DataPath, "vms")));
        Assert.Empty(VmHost.QemuProcesses(host.DataPath + "/"));
    }

    /// <summary>The bytes the image file takes on the host's disk (not its virtual size).</summary>
    private static async Task<long> ActualSizeAsync(string path)
    {
        using var info = await DiskInfoAsync(path);
        return info.RootElement.GetProperty("actual-size").GetInt64();
    }

    private static async Task<JsonDocument> DiskInfoAsync(string path)
    {
        var result = await ProcessRunner.RunCheckedAsync("qemu-img", ["info", "-U", "--output=json", path], TimeSpan.FromSeconds(30));
        return JsonDocument.Parse(result.StandardOutput);
    }
}
