using System.Text.Json;
using Stratus.HostAgent.Drivers;
using Stratus.HostAgent.Tests.Support;
using Stratus.Testing;

namespace Stratus.HostAgent.Tests.Drivers.Qemu;

/// <summary>The driver's promises that need no boot: idempotence, refusals, offline disks and snapshots, crash bookkeeping.</summary>
public sealed class QemuDriverContractTests(ITestOutputHelper output) : IAsyncLifetime
{
    private VmHost host = null!;

    public Task InitializeAsync()
    {
        host = new VmHost(output);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await host.DisposeAsync();

    [Fact]
    public async Task Create_SameSpecTwice_ReturnsTheVm_OtherSpecConflicts()
    {
        var spec = await VmHost.SpecAsync("twice");

        var first = await host.Driver.CreateAsync(spec);
        var second = await host.Driver.CreateAsync(spec);

        Assert.Equal(first, second);
        await Assert.ThrowsAsync<VmConflictException>(() => host.Driver.CreateAsync(spec with { Size = new VmSize(2, 256, 8) }));
        Assert.Single(await host.Driver.ListAsync());
    }

    [Theory]
    [InlineData("Upper")]
    [InlineData("../escape")]
    [InlineData("")]
    [InlineData("a-name-that-is-far-too-long-for-a-unix-socket-path")]
    public async Task Create_BadId_IsRefused(string id)
    {
        var spec = await VmHost.SpecAsync("fine");

        await Assert.ThrowsAsync<ArgumentException>(() => host.Driver.CreateAsync(spec with { Id = id }));
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(host.DataPath, "vms")));
    }

    [Fact]
    public async Task Create_DiskSmallerThanTheImage_Conflicts()
    {
        await Assert.ThrowsAsync<VmConflictException>(async () => await host.Driver.CreateAsync(await VmHost.SpecAsync("small", diskGiB: 4)));
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(host.DataPath, "vms")));
    }

    [Fact]
    public async Task Resize_Stopped_GrowsTheDisk_NeverShrinksIt()
    {
        await host.Driver.CreateAsync(await VmHost.SpecAsync("grow"));

        var resized = await host.Driver.ResizeAsync("grow", new VmSize(2, 512, 10));

        Assert.Equal(new VmSize(2, 512, 10), resized.Spec.Size);
        Assert.False(resized.RestartPending);
        Assert.Equal(10L << 30, await VirtualSizeAsync("grow"));
        await Assert.ThrowsAsync<VmConflictException>(() => host.Driver.ResizeAsync("grow", new VmSize(2, 512, 9)));
        Assert.Equal(10L << 30, await VirtualSizeAsync("grow"));
    }

    [Fact]
    public async Task Snapshots_Stopped_CreateListExportDelete()
    {
        await host.Driver.CreateAsync(await VmHost.SpecAsync("snaps"));

        var snapshot = await host.Driver.CreateSnapshotAsync("snaps", "monday");
        Assert.Equal(snapshot, await host.Driver.CreateSnapshotAsync("snaps", "monday"));
        await host.Driver.CreateSnapshotAsync("snaps", "tuesday");
        Assert.Equal(new[] { "monday", "tuesday" }, (await host.Driver.ListSnapshotsAsync("snaps")).Select(s => s.Name));

        var export = Path.Combine(host.DataPath, "monday.qcow2");
        await host.Driver.ExportSnapshotAsync("snaps", "monday", export);
        var info = await ProcessRunner.RunCheckedAsync("qemu-img", ["info", "--output=json", export], TimeSpan.FromSeconds(30));
        Assert.DoesNotContain("backing-filename", info.StandardOutput, StringComparison.Ordinal);

        await host.Driver.RevertSnapshotAsync("snaps", "monday");
        await host.Driver.DeleteSnapshotAsync("snaps", "monday");
        await host.Driver.DeleteSnapshotAsync("snaps", "monday");
        Assert.Equal(new[] { "tuesday" }, (await host.Driver.ListSnapshotsAsync("snaps")).Select(s => s.Name));
        await Assert.ThrowsAsync<SnapshotNotFoundException>(() => host.Driver.RevertSnapshotAsync("snaps", "monday"));
        await Assert.ThrowsAsync<SnapshotNotFoundException>(() => host.Driver.ExportSnapshotAsync("snaps", "monday", export + "2"));
        await Assert.ThrowsAsync<ArgumentException>(() => host.Driver.CreateSnapshotAsync("snaps", "no spaces"));
    }

    [Fact]
    public async Task Vm_MeantToRunWithoutProcess_IsCrashed_UntilStoppedOrStarted()
    {
        await host.Driver.CreateAsync(await VmHost.SpecAsync("ghost"));
        // What a start leaves when the host reboots under it: the runtime record, a stale pid file.
        var folder = Path.Combine(host.DataPath, "vms", "ghost");
        await File.WriteAllTextAsync(Path.Combine(folder, "runtime.json"),
            """{ "processId": 999999, "accelerator": "tcg", "bootedSize": { "vCpus": 1, "memoryMiB": 256, "diskGiB": 8 }, "startedAt": "2026-01-01T00:00:00Z" }""");
        await File.WriteAllTextAsync(Path.Combine(folder, "qemu.pid"), "999999\n");

        Assert.Equal(VmPowerState.Crashed, (await host.Driver.GetAsync("ghost"))!.PowerState);
        Assert.Equal(VmPowerState.Crashed, Assert.Single(await host.NewDriver().AdoptAsync()).PowerState);

        var stopped = await host.Driver.StopAsync("ghost");

        Assert.Equal(VmPowerState.Stopped, stopped.PowerState);
        Assert.False(File.Exists(Path.Combine(folder, "runtime.json")));
        Assert.False(File.Exists(Path.Combine(folder, "qemu.pid")));
    }

    [Fact]
    public async Task Delete_RemovesTheFolder_AndIsIdempotent()
    {
        await host.Driver.CreateAsync(await VmHost.SpecAsync("gone"));
        await host.Driver.CreateSnapshotAsync("gone", "one");

        await host.Driver.DeleteAsync(VmTombstone.Issue("gone"));
        await host.Driver.DeleteAsync(VmTombstone.Issue("gone"));

        Assert.Null(await host.Driver.GetAsync("gone"));
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(host.DataPath, "vms")));
        await Assert.ThrowsAsync<VmNotFoundException>(() => host.Driver.StartAsync("gone"));
    }

    private async Task<long> VirtualSizeAsync(string id)
    {
        var result = await ProcessRunner.RunCheckedAsync("qemu-img",
            ["info", "--output=json", Path.Combine(host.DataPath, "vms", id, "disk.qcow2")], TimeSpan.FromSeconds(30));
        using var info = JsonDocument.Parse(result.StandardOutput);
        return info.RootElement.GetProperty("virtual-size").GetInt64();
    }
}
