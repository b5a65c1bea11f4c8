using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace Stratus.Images.Replication;

/// <summary>
/// The replication's figures for /metrics. <c>stratus_file_replication_lag_seconds</c> is the age of the oldest write
/// of this region's store that the target region does not hold yet (0 when it holds all): what losing this region
/// now would lose of its files, the RPO for files at this moment. It is known at each pass, so between passes it
/// grows with the clock, and a write made since the last pass shows at the next one (Interval).
/// </summary>
public sealed class FileReplicationMetrics : IDisposable
{
    public const string MeterName = "Stratus.Images";

    private readonly Meter meter = new(MeterName);
    private readonly Histogram<double> copyLag;
    private readonly Counter<long> bytesCopied;
    private readonly ConcurrentDictionary<string, Backlog> backlogs = new(StringComparer.Ordinal);
    private readonly TimeProvider clock;

    public FileReplicationMetrics(TimeProvider clock)
    {
        this.clock = clock;
        copyLag = meter.CreateHistogram<double>("stratus.file_replication.copy_lag", "s",
            "From a file's last write in the source region to its replica checked in the target region");
        bytesCopied = meter.CreateCounter<long>("stratus.file_replication.copied", "By", "Bytes copied to other regions' stores");
        meter.CreateObservableGauge("stratus.file_replication.lag", ObserveLag, "s",
            "Age of the oldest write of this region's files that the target region does not hold yet");
        meter.CreateObservableGauge("stratus.file_replication.pending", () => Observe(b => b.Pending), "{file}",
            "Files waiting for their first or next copy");
        meter.CreateObservableGauge("stratus.file_replication.failed", () => Observe(b => b.Failed), "{file}",
            "Files whose last copy failed (retried with backoff)");
    }

    /// <summary>What a pass left to do for a target region, by the oldest unreplicated write.</summary>
    private sealed record Backlog(long Pending, long Failed, DateTimeOffset? OldestUnreplicated);

    public void Copied(string targetRegion, long bytes, TimeSpan lag)
    {
        var tag = new KeyValuePair<string, object?>("target_region", targetRegion);
        bytesCopied.Add(bytes, tag);
        copyLag.Record(Math.Max(0, lag.TotalSeconds), tag);
    }

    public void Update(string targetRegion, long pending, long failed, DateTimeOffset? oldestUnreplicated) =>
        backlogs[targetRegion] = new Backlog(pending, failed, oldestUnreplicated);

    /// <summary>The lag of a target region now; 0 when nothing is waiting.</summary>
    public TimeSpan Lag(string targetRegion) =>
        backlogs.TryGetValue(targetRegion, out var backlog) && backlog.OldestUnreplicated is { } oldest
            ? TimeSpan.FromTicks(Math.Max(0, (clock.GetUtcNow() - oldest).Ticks))
            : TimeSpan.Zero;

    private IEnumerable<Measurement<double>> ObserveLag() =>
        backlogs.Keys.Select(region => new Measurement<double>(Lag(region).TotalSeconds, new KeyValuePair<string, object?>("target_region", region)));

    private IEnumerable<Measurement<long>> Observe(Func<Backlog, long> value) =>
        backlogs.Select(b => new Measurement<long>(value(b.Value), new KeyValuePair<string, object?>("target_region", b.Key)));

    public void Dispose() => meter.Dispose();
}
