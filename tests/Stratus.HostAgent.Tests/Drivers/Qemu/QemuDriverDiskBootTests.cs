using Stratus.HostAgent.Drivers;
using Stratus.HostAgent.Tests.Support;
using Stratus.Testing;

namespace Stratus.HostAgent.Tests.Drivers.Qemu;

/// <summary>A custom image (manifest without kernel and initrd) boots from its disk and is ready once QEMU runs.</summary>
public sealed class QemuDriverDiskBootTests(ITestOutputHelper output) : IDisposable
{
    private readonly TempFolder image = new();

    public void Dispose() => image.Dispose();

    [Fact]
    public async Task Start_ImageWithoutKernel_BootsFromItsDisk_AndIsReadyOnceQemuRuns()
    {
        await ProcessRunner.RunCheckedAsync("qemu-img", ["create", "-q", "-f", "qcow2", Path.Combine(image.Path, "disk.qcow2"), "1G"], TimeSpan.FromSeconds(30));
        await File.WriteAllTextAsync(Path.Combine(image.Path, GalleryImage.ManifestFileName),
            """{ "formatVersion": 1, "name": "Custom", "version": "1.0.0", "disk": "disk.qcow2" }""");
        var loaded = await GalleryImage.LoadAsync(image.Path, verify: true);
        Assert.Equal((null, null, null), (loaded.KernelPath, loaded.InitrdPath, loaded.ReadyMarker));
        await using var host = new VmHost(output);
        await host.Driver.CreateAsync(new VmSpec { Id = "custom", ImagePath = image.Path, Size = new VmSize(1, 256, 2) });

        var started = await host.Driver.StartAsync("custom");

        Assert.Equal((VmPowerState.Running, true), (started.PowerState, started.Ready));
        var commandLine = await File.ReadAllTextAsync($"/proc/{started.ProcessId}/cmdline");
        Assert.DoesNotContain("-kernel", commandLine, StringComparison.Ordinal);
        Assert.Contains("bootindex=0", commandLine, StringComparison.Ordinal);
        Assert.True((await host.Driver.GetAsync("custom"))!.Ready);

        // A blank disk has nothing to boot, so the guest cannot power itself off: deletion does not wait for it.
        await host.Driver.DeleteAsync(VmTombstone.Issue("custom"));
        Assert.Empty(VmHost.QemuProcesses(host.DataPath + "/"));
    }
}
