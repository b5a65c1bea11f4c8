using System.Diagnostics;
using Stratus.HostAgent.Copies;
using Stratus.HostAgent.Drivers;
using Stratus.HostAgent.Drivers.Qemu;
using Stratus.HostAgent.Tests.Support;
using Stratus.Testing;

namespace Stratus.HostAgent.Tests.Drivers.Qemu;

/// <summary>
/// Disk copies of real VMs (TCG here) into a file store: full, then increments from QEMU's persistent dirty bitmap,
/// running (the VM's QEMU) or stopped (qemu-storage-daemon), and a VM made from the chain on another host.
/// </summary>
public sealed class DiskCopyTests(ITestOutputHelper output)
{
    private const long MiB = 1L << 20;

    [Fact]
    public async Task Copies_FullThenIncremental_RunningAndStopped_RestoreOnAnotherHostHasEveryFile()
    {
        using var storeFolder = new TempFolder();
        var store = CopyStores.Open("file://" + storeFolder.Path);
        await using var host = new VmHost(output);
        var spec = await VmHost.SpecAsync("copied", diskGiB: 8);
        await host.Driver.CreateAsync(spec);
        var running = await host.Driver.StartAsync(spec.Id);
        await using (var console = await SerialConsole.ConnectAsync(running.Console.SerialSocketPath))
        {
            await console.RunAsync("echo first > /home/first.txt && sync");
        }

        var full = await host.Driver.CopyDiskAsync(spec.Id, store);
        output.WriteLine($"Full copy: {full.BytesShipped / MiB} MiB of an 8 GiB disk");
        Assert.True(full.Full);
        Assert.Equal(8L << 30, full.DiskBytes);
        Assert.Equal(1, full.ChainLength);

        // 64 MiB written after the full copy: the increment ships about that, far below the 8 GiB disk.
        await using (var console = await SerialConsole.ConnectAsync(running.Console.SerialSocketPath))
        {
            await console.RunAsync("dd if=/dev/urandom of=/home/big bs=1M count=64 conv=fsync 2>/dev/null; echo second > /home/second.txt && sync",
                TimeSpan.FromMinutes(3));
        }

        var increment = await host.Driver.CopyDiskAsync(spec.Id, store);
        output.WriteLine($"Incremental copy after 64 MiB written: {increment.BytesShipped / MiB} MiB ({increment.BytesShipped} bytes)");
        Assert.False(increment.Full);
        Assert.InRange(increment.BytesShipped, 64 * MiB, 80 * MiB);
        Assert.Equal(2, increment.ChainLength);

        // Stopped: the bitmap was saved into the qcow2 when QEMU closed it; a storage daemon copies only what changed.
        await using (var console = await SerialConsole.ConnectAsync(running.Console.SerialSocketPath))
        {
            await console.RunAsync("echo third > /home/third.txt && sync");
        }

        await host.Driver.StopAsync(spec.Id);
        var stopped = await host.Driver.CopyDiskAsync(spec.Id, store);
        output.WriteLine($"Incremental copy of the stopped VM: {stopped.BytesShipped / MiB} MiB");
        Assert.False(stopped.Full);
        Assert.True(stopped.BytesShipped < 16 * MiB, $"{stopped.BytesShipped} bytes shipped");
        Assert.Equal(3, stopped.ChainLength);
        Assert.Empty(VmHost.QemuProcesses(host.DataPath + "/"));

        // Another host makes the VM from the chain: every file is there, and the disk has the spec's (larger) size.
        await using var other = new VmHost(output);
        var restoredSpec = spec with { Size = spec.Size with { DiskGiB = 9 } };
        var restored = await other.Driver.CreateFromCopyAsync(restoredSpec, store, spec.Id);
        Assert.Equal(VmPowerState.Stopped, restored.PowerState);
        Assert.Equal(restored.Spec, (await other.Driver.CreateFromCopyAsync(restoredSpec, store, spec.Id)).Spec);
        var booted = await other.Driver.StartAsync(spec.Id);
        await using (var console = await SerialConsole.ConnectAsync(booted.Console.SerialSocketPath))
        {
            Assert.Equal("first second third", await console.RunAsync("echo $(cat /home/first.txt /home/second.txt /home/third.txt)"));
            Assert.Equal((64 * MiB).ToString(System.Globalization.CultureInfo.InvariantCulture), await console.RunAsync("stat -c %s /home/big"));
            Assert.Equal((9L << 30) / 512, long.Parse(await console.RunAsync("cat /sys/block/vda/size"), System.Globalization.CultureInfo.InvariantCulture));
        }

        // A source with no chain in the store: nothing is created.
        await Assert.ThrowsAsync<CopyObjectNotFoundException>(() =>
            other.Driver.CreateFromCopyAsync(spec with { Id = "nothing" }, store, "nothing"));
        Assert.Null(await other.Driver.GetAsync("nothing"));
    }

    [Fact]
    public async Task Copy_AfterQemuWasKilled_IsFull()
    {
        using var storeFolder = new TempFolder();
        var store = CopyStores.Open("file://" + storeFolder.Path);
        await using var host = new VmHost(output);
        var spec = await VmHost.SpecAsync("killed");
        await host.Driver.CreateAsync(spec);
        var running = await host.Driver.StartAsync(spec.Id);
        Assert.True((await host.Driver.CopyDiskAsync(spec.Id, store)).Full);

        // kill -9: QEMU cannot write the bitmap back, so it loads inconsistent; the next copy cannot trust it.
        using (var process = Process.GetProcessById(running.ProcessId!.Value))
        {
            process.Kill();
            await process.WaitForExitAsync();
        }

        Assert.Equal(VmPowerState.Crashed, (await host.Driver.GetAsync(spec.Id))!.PowerState);
        var afterKill = await host.Driver.CopyDiskAsync(spec.Id, store);
        Assert.True(afterKill.Full);
        Assert.Equal(1, afterKill.ChainLength);

        // The full copy made the bitmap anew: the one after is an increment again.
        var next = await host.Driver.CopyDiskAsync(spec.Id, store);
        Assert.False(next.Full);
        Assert.Equal(2, next.ChainLength);
    }
}
