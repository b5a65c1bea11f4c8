using Stratus.HostAgent.Drivers;
using Stratus.HostAgent.Tests.Support;

namespace Stratus.HostAgent.Tests.Drivers.Qemu;

/// <summary>A guest that never becomes ready is reported failed with what it printed, and turned off.</summary>
public sealed class QemuDriverBootFailureTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Start_KernelCannotRunInit_FailsAtThePanicWithTheSerialLogTail()
    {
        await using var host = new VmHost(output);
        await host.Driver.CreateAsync(await VmHost.SpecAsync("panics", kernelArguments: "rdinit=/nonexistent"));

        var failure = await Assert.ThrowsAsync<VmBootFailedException>(() => host.Driver.StartAsync("panics"));

        output.WriteLine(failure.Message);
        Assert.Equal("its kernel panicked", failure.Reason);
        Assert.Contains("Kernel panic - not syncing", failure.SerialLogTail, StringComparison.Ordinal);
        Assert.Equal(VmPowerState.Stopped, (await host.Driver.GetAsync("panics"))!.PowerState);
        Assert.Empty(VmHost.QemuProcesses(host.DataPath + "/"));
    }

    [Fact]
    public async Task Start_GuestNeverSaysReady_FailsAfterTheTimeoutWithTheSerialLogTail()
    {
        // A shell as init: the machine runs, but the image's init never gets to say STRATUS-READY.
        await using var host = new VmHost(output, options => options with { ReadyTimeout = TimeSpan.FromSeconds(20) });
        await host.Driver.CreateAsync(await VmHost.SpecAsync("silent", kernelArguments: "rdinit=/bin/sh"));

        var failure = await Assert.ThrowsAsync<VmBootFailedException>(() => host.Driver.StartAsync("silent"));

        output.WriteLine(failure.Message);
        Assert.Contains("did not report ready", failure.Reason, StringComparison.Ordinal);
        Assert.NotEmpty(failure.SerialLogTail);
        Assert.Equal(VmPowerState.Stopped, (await host.Driver.GetAsync("silent"))!.PowerState);
        Assert.Empty(VmHost.QemuProcesses(host.DataPath + "/"));
    }
}
