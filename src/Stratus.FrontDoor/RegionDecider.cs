using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Stratus.Platform.Hosting;
using Stratus.Platform.Regions;

namespace Stratus.FrontDoor;

public enum SwitchOutcome
{
    /// <summary>The switch is under way (or already was, to the same region).</summary>
    Started,

    /// <summary>The region is writable already: nothing to do.</summary>
    AlreadyWritable,

    /// <summary>Another switch, to another region, is under way.</summary>
    OtherSwitchPending,

    /// <summary>The region has no healthy instance: it could not take the writes.</summary>
    TargetUnhealthy,
}

/// <summary>
/// The one place that decides which region is writable (ADR 0017). It grants leases to the writable region only,
/// and changes the writable region in two steps: first it stops granting the old region, then, once the last lease
/// it granted there has run out (so that the old region's instances have stopped writing), it makes the new one
/// writable at the next epoch. The decision is on disk before anyone is told.
/// </summary>
public sealed class RegionDecider
{
    private readonly Lock gate = new();
    private readonly FrontDoorOptions options;
    private readonly RegionHealth health;
    private readonly TimeProvider clock;
    private readonly ILogger<RegionDecider> logger;
    private readonly DecisionFile file;
    private readonly Dictionary<string, DateTimeOffset> writableLeaseUntil = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// The previous run of the front door may have granted a lease just before it stopped, and grants are not kept on
    /// disk: no region other than the writable one is made writable before a whole lease after this start.
    /// </summary>
    private readonly DateTimeOffset previousRunFence;

    private RegionDecision state;
    private bool reportedNowhere;

    public RegionDecider(IOptions<FrontDoorOptions> options, RegionHealth health, TimeProvider clock, ILogger<RegionDecider> logger, StratusHostSettings settings)
    {
        this.options = options.Value;
        this.health = health;
        this.clock = clock;
        this.logger = logger;
        file = new DecisionFile(settings.DataFolder);
        previousRunFence = clock.GetUtcNow() + this.options.LeaseDuration;
        state = file.Read() ?? new RegionDecision(DecisionFile.CurrentVersion,
            this.options.Find(this.options.InitialWritableRegion ?? "")?.Name ?? this.options.Regions[0].Name, 1, null, null);
        if (this.options.Find(state.WritableRegion) is null || (state.Pending is { } p && this.options.Find(p.To) is null))
        {
            throw new Platform.ConfigurationException($"{file.Path} names a region that is not configured ({state.WritableRegion}); configure it, or move the file away to start from the configured region.");
        }

        file.Write(state);
        FrontDoorLog.Loaded(logger, state.WritableRegion, state.Epoch, file.Path);
    }

    public RegionDecision Current
    {
        get
        {
            lock (gate)
            {
                return state;
            }
        }
    }

    public DateTimeOffset? WritableLeaseUntil(string region)
    {
        lock (gate)
        {
            return writableLeaseUntil.TryGetValue(region, out var until) ? until : null;
        }
    }

    /// <summary>The answer to an instance of <paramref name="region"/> (a configured region's name).</summary>
    public RegionLease Lease(string region)
    {
        lock (gate)
        {
            var now = clock.GetUtcNow();
            var until = now + options.LeaseDuration;
            var writable = state.Pending is null && state.WritableRegion.Equals(region, StringComparison.OrdinalIgnoreCase);
            if (writable)
            {
                // Recorded before it is answered: the fence of a later switch is never earlier than a lease out there.
                writableLeaseUntil[region] = until;
            }

            FrontDoorLog.LeaseGranted(logger, region, writable, until, state.Epoch);
            return new RegionLease(region, writable, state.WritableRegion, state.Epoch, until);
        }
    }

    /// <summary>A planned switchover, or an automatic failover when <see cref="Evaluate"/> finds the writable region lost.</summary>
    public SwitchOutcome RequestSwitch(string to, string reason)
    {
        lock (gate)
        {
            if (state.Pending is { } pending)
            {
                return pending.To.Equals(to, StringComparison.OrdinalIgnoreCase) ? SwitchOutcome.Started : SwitchOutcome.OtherSwitchPending;
            }

            if (state.WritableRegion.Equals(to, StringComparison.OrdinalIgnoreCase))
            {
                return SwitchOutcome.AlreadyWritable;
            }

            if (!health.IsHealthy(to))
            {
                return SwitchOutcome.TargetUnhealthy;
            }

            Begin(options.Find(to)!.Name, reason);
            return SwitchOutcome.Started;
        }
    }

    /// <summary>After each round of probes: starts a failover when the writable region is lost, and ends a switch whose fence has passed.</summary>
    public void Evaluate()
    {
        lock (gate)
        {
            var now = clock.GetUtcNow();
            if (state.Pending is null && !health.IsHealthy(state.WritableRegion))
            {
                var down = now - health.UnhealthySince(state.WritableRegion);
                if (down >= options.FailoverDelay)
                {
                    if (FailoverTarget() is { } target)
                    {
                        Begin(target, $"failover: no instance of {state.WritableRegion} answered /readyz for {down.TotalSeconds:0} s");
                    }
                    else if (!reportedNowhere)
                    {
                        reportedNowhere = true;
                        FrontDoorLog.NowhereToGo(logger, state.WritableRegion, down.TotalSeconds);
                    }
                }
            }

            if (state.Pending is { } pending && now >= Fence(pending.From))
            {
                var epoch = state.Epoch + 1;
                state = state with
                {
                    WritableRegion = pending.To,
                    Epoch = epoch,
                    Pending = null,
                    LastChange = new RegionChange(pending.From, pending.To, epoch, now, pending.Reason),
                };
                file.Write(state);
                reportedNowhere = false;
                FrontDoorLog.SwitchDone(logger, pending.From, pending.To, epoch, pending.Reason);
            }
        }
    }

    private void Begin(string to, string reason)
    {
        var pending = new RegionSwitch(state.WritableRegion, to, reason, clock.GetUtcNow());
        state = state with { Pending = pending };
        file.Write(state);
        FrontDoorLog.SwitchStarted(logger, pending.From, to, reason, Fence(pending.From));
    }

    /// <summary>When <paramref name="region"/>'s instances have all stopped writing: its last lease, or a lease after this start.</summary>
    private DateTimeOffset Fence(string region) =>
        writableLeaseUntil.TryGetValue(region, out var until) && until > previousRunFence ? until : previousRunFence;

    /// <summary>The preferred read region when it is healthy, else the first healthy one.</summary>
    private string? FailoverTarget()
    {
        var others = options.Regions.Select(r => r.Name).Where(r => !r.Equals(state.WritableRegion, StringComparison.OrdinalIgnoreCase) && health.IsHealthy(r)).ToList();
        return others.FirstOrDefault(r => r.Equals(options.PreferredReadRegion, StringComparison.OrdinalIgnoreCase)) ?? others.FirstOrDefault();
    }
}
