using Stratus.HostAgent.Copies;
using Stratus.HostAgent.Drivers;
using Stratus.HostAgent.Drivers.Simulated;
using Stratus.Testing;

namespace Stratus.HostAgent.Tests.Drivers.Simulated;

/// <summary>The simulated driver's copies: small objects in the real chain layout, countable, and a restore only from a chain.</summary>
public sealed class SimulatedDiskCopyTests
{
    [Fact]
    public async Task Copies_FormAChain_AndARestoreNeedsOne()
    {
        using var storeFolder = new TempFolder();
        var store = CopyStores.Open("file://" + storeFolder.Path);
        var options = new SimulatedDriverOptions { CreateLatency = TimeSpan.Zero, BootLatency = TimeSpan.Zero, StopLatency = TimeSpan.Zero };
        var driver = new SimulatedDriver(options, TimeProvider.System);
        var spec = new VmSpec { Id = "sim", ImagePath = "/nowhere", Size = new VmSize(1, 256, 8) };
        await driver.CreateAsync(spec);

        var results = new List<DiskCopyResult>();
        for (var i = 0; i < 14; i++)
        {
            results.Add(await driver.CopyDiskAsync(spec.Id, store));
        }

        // A full, twelve increments, then a new full in place of compaction.
        Assert.Equal([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 1], results.Select(r => r.ChainLength));
        Assert.Equal([true, false, false, false, false, false, false, false, false, false, false, false, false, true], results.Select(r => r.Full));
        Assert.All(results, r => Assert.Equal(8L << 30, r.DiskBytes));
        Assert.Equal(2, (await store.ListAsync("vms/sim/")).Count);

        var other = new SimulatedDriver(options, TimeProvider.System);
        await Assert.ThrowsAsync<CopyObjectNotFoundException>(() => other.CreateFromCopyAsync(spec with { Id = "none" }, store, "none"));
        Assert.Null(await other.GetAsync("none"));
        Assert.Equal(VmPowerState.Stopped, (await other.CreateFromCopyAsync(spec, store, spec.Id)).PowerState);
    }
}
