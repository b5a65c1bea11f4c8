using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Stratus.Compute.Hosts;
using Stratus.Compute.Persistence;
using Stratus.Platform.Regions;
using Stratus.Testing;
using PlatformRegionOptions = Stratus.Platform.Regions.RegionOptions;

namespace Stratus.Compute.Tests;

/// <summary>
/// The heartbeat monitor on a real SQLite store with a fake clock: a silent host is down after the timeout, but not
/// for a silence that began while this instance's region was a standby (its hosts' reports were refused then).
/// </summary>
public sealed class HeartbeatMonitorTests : IAsyncLifetime
{
    private readonly ComputeOptions options = new() { HeartbeatTimeout = TimeSpan.FromSeconds(30) };
    private ComputeStore store = null!;

    public async Task InitializeAsync() => store = await ComputeStore.CreateAsync();

    public async Task DisposeAsync() => await store.DisposeAsync();

    [Fact]
    public async Task In_a_single_region_a_host_silent_past_the_timeout_is_down_once()
    {
        var monitor = Monitor(new PlatformRegionOptions());
        var silent = await AddHostAsync();
        store.Clock.Advance(TimeSpan.FromSeconds(31));
        var beating = await AddHostAsync();

        await monitor.CheckAsync(CancellationToken.None);
        await monitor.CheckAsync(CancellationToken.None);

        Assert.Equal(HostState.Down, await StateAsync(silent));
        Assert.Equal(HostState.Ready, await StateAsync(beating));
        Assert.Single(await HostDownEventsAsync());
    }

    [Fact]
    public async Task After_a_failover_a_host_is_judged_only_by_a_whole_timeout_since_the_region_became_writable()
    {
        var region = new RegionWritability(Options.Create(new PlatformRegionOptions { Name = "B", FrontDoorUrls = { "http://127.0.0.1:9" } }), store.Clock, NullLogger<RegionWritability>.Instance);
        var monitor = Monitor(region);

        // While B was a standby its host's reports were refused: its last heartbeat in the store is ten minutes old.
        var host = await AddHostAsync();
        store.Clock.Advance(TimeSpan.FromMinutes(10));
        region.Grant(new RegionLease("B", true, "B", 2, store.Clock.GetUtcNow().AddMinutes(5)), store.Clock.GetUtcNow().AddMinutes(5));
        Assert.Equal(store.Clock.GetUtcNow(), region.WritableSince);

        store.Clock.Advance(TimeSpan.FromSeconds(29));
        await monitor.CheckAsync(CancellationToken.None);
        Assert.Equal(HostState.Ready, await StateAsync(host));
        Assert.Empty(await HostDownEventsAsync());

        // A whole timeout after the failover, still silent: now its own silence.
        store.Clock.Advance(TimeSpan.FromSeconds(2));
        await monitor.CheckAsync(CancellationToken.None);
        Assert.Equal(HostState.Down, await StateAsync(host));
        Assert.Single(await HostDownEventsAsync());
    }

    private HeartbeatMonitor Monitor(PlatformRegionOptions regionOptions) =>
        Monitor(new RegionWritability(Options.Create(regionOptions), store.Clock, NullLogger<RegionWritability>.Instance));

    private HeartbeatMonitor Monitor(RegionWritability region)
    {
        // The monitor judges only by a whole timeout it has watched: it starts a timeout before the hosts exist.
        var monitor = new HeartbeatMonitor(store.Scopes, Options.Create(options), region, store.Clock, NullLogger<HeartbeatMonitor>.Instance);
        store.Clock.Advance(options.HeartbeatTimeout);
        return monitor;
    }

    private async Task<Guid> AddHostAsync()
    {
        await using var db = store.NewContext();
        var id = Guid.NewGuid();
        db.Hosts.Add(new Host
        {
            Id = id, Name = "host-" + id.ToString("N")[..6], Region = "B", Zone = "Ba", State = HostState.Ready, LastHeartbeatAt = store.Clock.GetUtcNow(),
            VCpuCapacity = 8, MemoryMiBCapacity = 8192, DiskGiBCapacity = 200, AgentTokenHash = "hash-" + id, Driver = "simulated", Accelerator = "none",
        });
        await db.SaveChangesAsync();
        return id;
    }

    private async Task<HostState> StateAsync(Guid hostId)
    {
        await using var db = store.NewContext();
        return (await db.Hosts.AsNoTracking().SingleAsync(h => h.Id == hostId)).State;
    }

    private async Task<List<string>> HostDownEventsAsync()
    {
        await using var db = store.NewContext();
        return await db.OutboxMessages.Where(m => m.MessageType.Contains("compute.hostDown.")).Select(m => m.Body).ToListAsync();
    }
}
