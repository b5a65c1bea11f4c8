using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Stratus.Platform.Metrics;

/// <summary>
/// Gauges read from a store (queue depth, hosts by state): one refresh every <see cref="MetricsOptions.RefreshInterval"/>
/// fills a cache that scrapes read. A scrape never queries: scrapes that come faster, or a store that hangs, cannot pile
/// queries up.
/// </summary>
public interface IMetricsSnapshot
{
    /// <summary>The store it reads, the label of <c>stratus_store_up</c>.</summary>
    string Store { get; }

    /// <summary>Reads the store once and replaces the cached values; an exception leaves the last values in place.</summary>
    Task RefreshAsync(IServiceProvider services, CancellationToken cancellationToken);
}

public sealed class MetricsOptions
{
    public TimeSpan RefreshInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>The deadline of one snapshot's refresh.</summary>
    public TimeSpan RefreshTimeout { get; set; } = TimeSpan.FromSeconds(10);
}

/// <summary>
/// An observable gauge whose value set is replaced as a whole by each refresh, per source (a store, a queue set), so
/// that a series that disappears from the store disappears from the scrape.
/// </summary>
public sealed class SnapshotGauge
{
    private readonly ConcurrentDictionary<string, Measurement<double>[]> sources = new();

    public SnapshotGauge(Meter meter, string name, string unit, string description)
    {
        ArgumentNullException.ThrowIfNull(meter);
        meter.CreateObservableGauge(name, () => sources.Values.SelectMany(v => v), unit, description);
    }

    public void Replace(string source, IEnumerable<Measurement<double>> measurements) => sources[source] = measurements.ToArray();

    public static Measurement<double> Value(double value, params (string Key, object? Value)[] tags) =>
        new(value, tags.Select(t => new KeyValuePair<string, object?>(t.Key, t.Value)));
}

/// <summary>Refreshes every snapshot in turn, each under its own deadline, in every instance (each exports its own view).</summary>
internal sealed partial class MetricsSnapshotRefresher : BackgroundService
{
    private readonly IReadOnlyList<IMetricsSnapshot> snapshots;
    private readonly IServiceScopeFactory scopes;
    private readonly IOptions<MetricsOptions> options;
    private readonly TimeProvider clock;
    private readonly ILogger<MetricsSnapshotRefresher> logger;
    private readonly ConcurrentDictionary<string, int> storeUp = new();
    private readonly HashSet<string> failing = [];

    public MetricsSnapshotRefresher(IEnumerable<IMetricsSnapshot> snapshots, IServiceScopeFactory scopes, IMeterFactory meters,
        IOptions<MetricsOptions> options, TimeProvider clock, ILogger<MetricsSnapshotRefresher> logger)
    {
        this.snapshots = snapshots.ToList();
        this.scopes = scopes;
        this.options = options;
        this.clock = clock;
        this.logger = logger;
        meters.Create(PlatformMetrics.MeterName).CreateObservableGauge("stratus.store.up",
            () => storeUp.Select(s => new Measurement<int>(s.Value, new KeyValuePair<string, object?>("store", s.Key))),
            unit: null, description: "1 when the last metrics refresh read the store, 0 when it failed (the store unavailable or failing over).");
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield();
        while (!stoppingToken.IsCancellationRequested)
        {
            foreach (var snapshot in snapshots)
            {
                await RefreshAsync(snapshot, stoppingToken);
            }

            await Task.Delay(options.Value.RefreshInterval, clock, stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    private async Task RefreshAsync(IMetricsSnapshot snapshot, CancellationToken stoppingToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        deadline.CancelAfter(options.Value.RefreshTimeout);
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            await snapshot.RefreshAsync(scope.ServiceProvider, deadline.Token);
            storeUp[snapshot.Store] = 1;
            if (failing.Remove(snapshot.GetType().Name))
            {
                LogRefreshRecovered(logger, snapshot.GetType().Name);
            }
        }
        catch (Exception e) when (!stoppingToken.IsCancellationRequested)
        {
            storeUp[snapshot.Store] = 0;
            // Once per outage, not once per refresh: a failover lasts many refreshes.
            if (failing.Add(snapshot.GetType().Name))
            {
                LogRefreshFailed(logger, snapshot.GetType().Name, snapshot.Store, e.Message);
            }
        }
    }

    [LoggerMessage(EventId = 1601, Level = LogLevel.Warning, Message = "The metrics snapshot {Snapshot} could not read the store {Store}: {Error}; stratus_store_up is 0 until it can")]
    private static partial void LogRefreshFailed(ILogger logger, string snapshot, string store, string error);

    [LoggerMessage(EventId = 1602, Level = LogLevel.Information, Message = "The metrics snapshot {Snapshot} reads its store again")]
    private static partial void LogRefreshRecovered(ILogger logger, string snapshot);
}
