using Stratus.HostAgent.Drivers;
using Stratus.HostAgent.Tests.Support;
using Stratus.Testing;

namespace Stratus.HostAgent.Tests.Drivers.Qemu;

/// <summary>
/// A custom image (manifest without kernel and initrd) boots from its disk and is ready once its serial console shows a
/// login prompt; a disk that shows none fails at the deadline with a reason that says so.
/// </summary>
public sealed class QemuDriverDiskBootTests(ITestOutputHelper output) : IDisposable
{
    private readonly TempFolder image = new();

    public void Dispose() => image.Dispose();

    [Fact]
    public async Task Start_ImageWithoutKernel_BootsFromItsDisk_AndIsReadyOnceItsSerialConsoleShowsALoginPrompt()
    {
        File.Copy(await BootableDiskFolder.GetAsync(), Path.Combine(image.Path, "disk.qcow2"));
        await WriteDiskManifestAsync();
        await using var host = new VmHost(output);
        await host.Driver.CreateAsync(new VmSpec { Id = "custom", ImagePath = image.Path, Size = new VmSize(1, 256, 2) });

        var started = await host.Driver.StartAsync("custom");

        // Ready means the guest said so: its login prompt is in the serial log by the time StartAsync returns.
        Assert.Equal((VmPowerState.Running, true), (started.PowerState, started.Ready));
        var serial = await host.Driver.ReadSerialLogTailAsync("custom");
        output.WriteLine(serial);
        Assert.Contains(BootableDiskFolder.LoginPrompt, serial, StringComparison.Ordinal);
        Assert.Contains("SYSLINUX", serial, StringComparison.Ordinal);
        Assert.DoesNotContain(GalleryImage.DefaultReadyMarker, serial, StringComparison.Ordinal);
        var commandLine = await File.ReadAllTextAsync($"/proc/{started.ProcessId}/cmdline");
        Assert.DoesNotContain("-kernel", commandLine, StringComparison.Ordinal);
        Assert.Contains("bootindex=0", commandLine, StringComparison.Ordinal);
        Assert.True((await host.Driver.GetAsync("custom"))!.Ready);

        await host.Driver.DeleteAsync(VmTombstone.Issue("custom"));
        Assert.Empty(VmHost.QemuProcesses(host.DataPath + "/"));
    }

    [Fact]
    public async Task Start_ImageWithoutKernel_WhoseDiskShowsNoLoginPrompt_FailsAtTheDeadlineSayingWhatWasMissing()
    {
        // A blank disk: the firmware finds nothing to boot, QEMU runs on, and no prompt ever appears.
        await ProcessRunner.RunCheckedAsync("qemu-img", ["create", "-q", "-f", "qcow2", Path.Combine(image.Path, "disk.qcow2"), "1G"], TimeSpan.FromSeconds(30));
        await WriteDiskManifestAsync();
        var loaded = await GalleryImage.LoadAsync(image.Path, verify: true);
        Assert.Equal((null, null, null), (loaded.KernelPath, loaded.InitrdPath, loaded.ReadyMarker));
        await using var host = new VmHost(output, options => options with { ReadyTimeout = TimeSpan.FromSeconds(15) });
        await host.Driver.CreateAsync(new VmSpec { Id = "blank", ImagePath = image.Path, Size = new VmSize(1, 256, 2) });

        var failure = await Assert.ThrowsAsync<VmBootFailedException>(() => host.Driver.StartAsync("blank"));

        output.WriteLine(failure.Message);
        Assert.StartsWith("no login prompt ('HOSTNAME login:') appeared on its serial console (ttyS0) within 15 s", failure.Reason, StringComparison.Ordinal);
        Assert.Equal(VmPowerState.Stopped, (await host.Driver.GetAsync("blank"))!.PowerState);
        Assert.Empty(VmHost.QemuProcesses(host.DataPath + "/"));
    }

    private Task WriteDiskManifestAsync() =>
        File.WriteAllTextAsync(Path.Combine(image.Path, GalleryImage.ManifestFileName),
            """{ "formatVersion": 1, "name": "Custom", "version": "1.0.0", "disk": "disk.qcow2" }""");
}
