using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Stratus.Platform.Hosting;
using Stratus.Platform.Persistence;
using Stratus.Testing;

namespace Stratus.FrontDoor.Tests;

/// <summary>The decision alone, on a fake clock: the exact instants the fencing allows, which the process tests can only bound.</summary>
public sealed class RegionDeciderTests : IDisposable
{
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan Delay = TimeSpan.FromSeconds(30);
    private readonly TempFolder data = new();
    private readonly FakeTimeProvider clock = new(new DateTimeOffset(2026, 12, 7, 12, 0, 0, TimeSpan.Zero));
    private readonly IOptions<FrontDoorOptions> options = Options.Create(new FrontDoorOptions
    {
        Regions = [new() { Name = "A", Instances = [new("http://a1")] }, new() { Name = "B", Instances = [new("http://b1")] }],
        LeaseDuration = Lease,
        FailoverDelay = Delay,
    });

    [Fact]
    public void Failover_WaitsForTheDelay_ThenForALastLease_ThenBumpsTheEpoch()
    {
        var (health, decider) = Start();
        clock.Advance(Lease); // past the fence of this start
        Seen(health, "A", "B");
        var last = decider.Lease("A");
        Assert.True(last.Writable);

        health.Instances("A")[0].Failed("down");
        clock.Advance(Delay - TimeSpan.FromSeconds(1));
        Seen(health, "B");
        decider.Evaluate();
        Assert.Null(decider.Current.Pending);

        clock.Advance(TimeSpan.FromSeconds(1));
        Seen(health, "B");
        var grantedBeforePending = decider.Lease("A");
        decider.Evaluate();
        Assert.NotNull(decider.Current.Pending);
        Assert.False(decider.Lease("A").Writable);

        // The fence is the last grant, made just before the switch started: one tick before it, still A's epoch.
        clock.Advance(grantedBeforePending.ValidUntil - clock.GetUtcNow() - TimeSpan.FromTicks(1));
        decider.Evaluate();
        Assert.Equal(("A", 1L), (decider.Current.WritableRegion, decider.Current.Epoch));
        clock.Advance(TimeSpan.FromTicks(1));
        decider.Evaluate();
        Assert.Equal(("B", 2L), (decider.Current.WritableRegion, decider.Current.Epoch));
        Assert.True(decider.Lease("B").Writable);
    }

    [Fact]
    public void Restart_DuringASwitch_KeepsItPending_AndFencesAWholeLeaseAfterTheStart()
    {
        var (health, decider) = Start();
        Seen(health, "A", "B");
        Assert.Equal(SwitchOutcome.Started, decider.RequestSwitch("B", "switchover by test"));

        // The process stops; the new one knows no grant of the old one, so it waits a whole lease from its own start.
        clock.Advance(TimeSpan.FromSeconds(3));
        var (health2, decider2) = Start();
        Seen(health2, "A", "B");
        Assert.Equal("B", decider2.Current.Pending?.To);
        Assert.False(decider2.Lease("A").Writable);
        clock.Advance(Lease - TimeSpan.FromTicks(1));
        decider2.Evaluate();
        Assert.NotNull(decider2.Current.Pending);
        clock.Advance(TimeSpan.FromTicks(1));
        decider2.Evaluate();
        Assert.Equal(("B", 2L, "switchover by test"), (decider2.Current.WritableRegion, decider2.Current.Epoch, decider2.Current.LastChange?.Reason));
    }

    [Fact]
    public void Switch_ToAnUnhealthyRegion_OrDuringAnother_IsRefused()
    {
        var (health, decider) = Start();
        Seen(health, "A");
        Assert.Equal(SwitchOutcome.TargetUnhealthy, decider.RequestSwitch("B", "test"));
        Assert.Equal(SwitchOutcome.AlreadyWritable, decider.RequestSwitch("A", "test"));
        Assert.Null(decider.Current.Pending);
    }

    private (RegionHealth Health, RegionDecider Decider) Start()
    {
        var health = new RegionHealth(options, clock);
        var settings = new StratusHostSettings(DatabaseSettings.Parse(DatabaseSettings.SqlitePrefix + data.Path), data.Path, "frontdoor");
        return (health, new RegionDecider(options, health, clock, NullLogger<RegionDecider>.Instance, settings));
    }

    private void Seen(RegionHealth health, params string[] regions)
    {
        foreach (var region in regions)
        {
            health.Instances(region)[0].Succeeded(clock.GetUtcNow());
        }
    }

    public void Dispose() => data.Dispose();
}
