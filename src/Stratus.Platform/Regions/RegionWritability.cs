using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Stratus.Platform.Regions;

/// <summary>What this instance reports of its region (on /readyz): null fields where it is not in a region of several.</summary>
public sealed record RegionState(string? Region, bool Writable, string? WritableRegion, long? Epoch, DateTimeOffset? WritableUntil, StoreRole? StoreRole);

/// <summary>
/// Whether this instance may write now: always, in a single region; in a region of several, only while it holds an
/// unexpired lease from the front door for its own region (kept by <see cref="RegionLeaseKeeper"/>). The lease's end
/// is checked against the clock at every question, so writes stop when it runs out even if the keeper is stuck.
/// Every loop that writes in the background waits here (<see cref="WaitUntilWritableAsync"/>); the API's writes are
/// refused by <see cref="RegionWriteGuard"/>.
/// </summary>
public sealed partial class RegionWritability
{
    private readonly Lock sync = new();
    private readonly TimeProvider clock;
    private readonly ILogger<RegionWritability> logger;
    private readonly ConcurrentDictionary<string, int> waiting = new(StringComparer.Ordinal);
    private RegionLease? lease;
    private DateTimeOffset writableUntil = DateTimeOffset.MinValue;
    private DateTimeOffset? writableSince;
    private StoreRole? storeRole;
    private IReadOnlyList<string> startupTasksWaiting = [];
    private TaskCompletionSource granted = NewSignal();

    public RegionWritability(IOptions<RegionOptions> options, TimeProvider clock, ILogger<RegionWritability> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        this.clock = clock;
        this.logger = logger;
        Region = options.Value.IsConfigured ? options.Value.Name : null;
    }

    /// <summary>This instance's region; null in a single region, which is always writable.</summary>
    public string? Region { get; }

    public bool IsWritable
    {
        get
        {
            if (Region is null)
            {
                return true;
            }

            lock (sync)
            {
                return WritableAt(clock.GetUtcNow());
            }
        }
    }

    /// <summary>
    /// The start-up tasks that found the store read-only and run as soon as a lease lets this instance write
    /// (<see cref="DeferredStartupTasks"/>); until they have, it is not writable, whatever its lease says.
    /// </summary>
    public IReadOnlyList<string> StartupTasksWaiting
    {
        get
        {
            lock (sync)
            {
                return startupTasksWaiting;
            }
        }
    }

    public RegionState Current
    {
        get
        {
            if (Region is null)
            {
                return new RegionState(null, true, null, null, null, null);
            }

            lock (sync)
            {
                var writable = WritableAt(clock.GetUtcNow());
                return new RegionState(Region, writable, lease?.WritableRegion, lease?.Epoch, writable ? writableUntil : null, storeRole);
            }
        }
    }

    /// <summary>
    /// Since when this instance writes without a break; null while it does not. What the region's store holds from
    /// before then was written elsewhere or not at all (a host's heartbeats while the region was a standby), so
    /// a silence that began before this moment is this region's, not the sender's.
    /// </summary>
    public DateTimeOffset? WritableSince
    {
        get
        {
            if (Region is null)
            {
                return null;
            }

            lock (sync)
            {
                return WritableAt(clock.GetUtcNow()) ? writableSince : null;
            }
        }
    }

    /// <summary>The highest epoch accepted so far; -1 before the first lease.</summary>
    public long Epoch
    {
        get
        {
            lock (sync)
            {
                return lease?.Epoch ?? -1;
            }
        }
    }

    /// <summary>The background loops waiting now for this instance to become writable (for /readyz readers and tests).</summary>
    public IReadOnlyCollection<string> WaitingLoops => [.. waiting.Where(w => w.Value > 0).Select(w => w.Key)];

    /// <summary>Returns at once when writable; else when the next lease makes this instance writable.</summary>
    /// <param name="loop">The waiting loop's name ("queue:provisioning"), for logs and <see cref="WaitingLoops"/>.</param>
    /// <returns>True when it had to wait.</returns>
    public async Task<bool> WaitUntilWritableAsync(string loop, CancellationToken cancellationToken)
    {
        if (IsWritable)
        {
            return false;
        }

        waiting.AddOrUpdate(loop, 1, (_, count) => count + 1);
        LogWaiting(logger, loop, Region!);
        try
        {
            await WaitForAsync(WritableAt, cancellationToken);
        }
        finally
        {
            waiting.AddOrUpdate(loop, 0, (_, count) => count - 1);
        }

        LogResumed(logger, loop);
        return true;
    }

    /// <summary>Returns when this instance holds a lease to write, start-up tasks waiting or not: theirs is the first turn.</summary>
    internal Task WaitForLeaseAsync(CancellationToken cancellationToken) => WaitForAsync(now => now < writableUntil, cancellationToken);

    /// <summary>Keeps this instance read-only, lease or not, until <see cref="ReleaseStartupHold"/>.</summary>
    internal void HoldForStartup(IReadOnlyList<string> tasks)
    {
        lock (sync)
        {
            startupTasksWaiting = [.. tasks];
        }
    }

    /// <summary>The deferred start-up tasks have run: writable from now on for as long as the lease says.</summary>
    internal void ReleaseStartupHold()
    {
        TaskCompletionSource signal;
        lock (sync)
        {
            startupTasksWaiting = [];
            var now = clock.GetUtcNow();
            if (now < writableUntil)
            {
                // Nothing was written here before this moment (see WritableSince).
                writableSince = now;
            }

            signal = granted;
            granted = NewSignal();
        }

        signal.TrySetResult();
    }

    private bool WritableAt(DateTimeOffset now) => now < writableUntil && startupTasksWaiting.Count == 0;

    private async Task WaitForAsync(Func<DateTimeOffset, bool> open, CancellationToken cancellationToken)
    {
        while (true)
        {
            Task next;
            lock (sync)
            {
                if (open(clock.GetUtcNow()))
                {
                    return;
                }

                next = granted.Task;
            }

            // Only a new lease (or the release of the start-up hold) makes this instance writable (time only ends
            // a lease), and each completes the signal taken above: no polling is needed.
            await next.WaitAsync(cancellationToken);
        }
    }

    /// <summary>Applies a lease that lets this instance write until <paramref name="until"/> (its store is promoted).</summary>
    internal void Grant(RegionLease granting, DateTimeOffset until) => Apply(granting, until);

    /// <summary>Applies a lease that does not let this instance write (another region is writable, or none is now).</summary>
    internal void Withhold(RegionLease withholding) => Apply(withholding, DateTimeOffset.MinValue);

    internal void ReportStoreRole(StoreRole role)
    {
        lock (sync)
        {
            storeRole = role;
        }
    }

    private void Apply(RegionLease applied, DateTimeOffset until)
    {
        TaskCompletionSource signal;
        lock (sync)
        {
            if (lease is { } held && applied.Epoch < held.Epoch)
            {
                // The keeper checks this too; here it is what makes it impossible.
                return;
            }

            var now = clock.GetUtcNow();
            if (until > now && now >= writableUntil)
            {
                writableSince = now;
            }

            lease = applied;
            writableUntil = until;
            signal = granted;
            granted = NewSignal();
        }

        signal.TrySetResult();
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    [LoggerMessage(EventId = 1961, Level = LogLevel.Information, Message = "{Loop} waits: region {Region} is read-only on this instance (it holds no lease to write)")]
    private static partial void LogWaiting(ILogger logger, string loop, string region);

    [LoggerMessage(EventId = 1962, Level = LogLevel.Information, Message = "{Loop} goes on: this instance's region is writable")]
    private static partial void LogResumed(ILogger logger, string loop);
}
