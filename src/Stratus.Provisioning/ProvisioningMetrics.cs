using System.Diagnostics.Metrics;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.ChangeTracking;
using Microsoft.Extensions.DependencyInjection;
using Stratus.Platform.Metrics;
using Stratus.Provisioning.CloudPcs;
using Stratus.Provisioning.Persistence;

namespace Stratus.Provisioning;

/// <summary>
/// What an operator watches of provisioning: how long provisioning takes and how it ends, Cloud PC operations by
/// action and outcome, and Cloud PCs per region and status. Labels carry no tenant data.
/// </summary>
internal sealed class ProvisioningMetrics : IMetricsSnapshot, ISavedChangesMetrics
{
    public const string MeterName = "Stratus.Provisioning";

    // Provisioning takes from seconds (a simulated host) to many minutes (a large image on a slow disk).
    private static readonly double[] DurationBuckets = [5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600];

    private readonly Histogram<double> duration;
    private readonly Counter<long> operations;
    private readonly SnapshotGauge cloudPcs;
    private readonly TimeProvider clock;

    public ProvisioningMetrics(IMeterFactory meters, TimeProvider clock)
    {
        var meter = meters.Create(MeterName);
        duration = meter.CreateHistogram("stratus.provisioning.duration", "s",
            "From the start of a Cloud PC's provisioning (its VM's id is made then) to provisioned or failed, by outcome.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = DurationBuckets });
        operations = meter.CreateCounter<long>("stratus.provisioning.operations", "{operation}",
            "Cloud PC operations (reboot, resize, restore, ...) that ended, by action and outcome.");
        cloudPcs = new SnapshotGauge(meter, "stratus.provisioning.cloud_pcs", "{cloud_pc}", "Cloud PCs per region and status.");
        this.clock = clock;
    }

    public string Store => ProvisioningDbContext.SchemaName;

    public async Task RefreshAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        var db = services.GetRequiredService<ProvisioningDbContext>();
        var rows = await db.CloudPcs.AsNoTracking().IgnoreQueryFilters()
            .GroupBy(p => new { p.RegionName, p.Status })
            .Select(g => new { g.Key.RegionName, g.Key.Status, Count = g.Count() })
            .ToListAsync(cancellationToken);
        cloudPcs.Replace(Store, rows.Select(r => SnapshotGauge.Value(r.Count, ("region", r.RegionName), ("status", r.Status.ToString()))));
    }

    public Action? Collect(ChangeTracker changes)
    {
        ArgumentNullException.ThrowIfNull(changes);
        var now = clock.GetUtcNow();
        var ended = changes.Entries<CloudPcOperation>()
            .Where(e => e.State == EntityState.Modified
                && e.Property(o => o.Status).OriginalValue == OperationStatus.Running
                && e.Entity.Status != OperationStatus.Running)
            .Select(e => (e.Entity.Action, Outcome: e.Entity.Status.ToString()))
            .ToList();
        var provisioned = changes.Entries<CloudPc>()
            .Where(e => e.State == EntityState.Modified
                && e.Property(p => p.Status).OriginalValue == CloudPcStatus.Provisioning
                && e.Entity.Status is CloudPcStatus.Provisioned or CloudPcStatus.Failed)
            .Select(e => (Outcome: e.Entity.Status.ToString(), Seconds: Math.Max(0, (now - StartedAt(e.Entity.VmId)).TotalSeconds)))
            .ToList();
        if (ended.Count == 0 && provisioned.Count == 0)
        {
            return null;
        }

        return () =>
        {
            foreach (var (action, outcome) in ended)
            {
                operations.Add(1, new KeyValuePair<string, object?>("action", action), new KeyValuePair<string, object?>("outcome", outcome));
            }

            foreach (var (outcome, seconds) in provisioned)
            {
                duration.Record(seconds, new KeyValuePair<string, object?>("outcome", outcome));
            }
        };
    }

    /// <summary>Provisioning makes the VM's id as it starts (a version 7 GUID): its first 48 bits are that time in ms.</summary>
    internal static DateTimeOffset StartedAt(Guid vmId)
    {
        Span<byte> bytes = stackalloc byte[16];
        vmId.TryWriteBytes(bytes, bigEndian: true, out _);
        var milliseconds = 0L;
        for (var i = 0; i < 6; i++)
        {
            milliseconds = (milliseconds << 8) | bytes[i];
        }

        return DateTimeOffset.FromUnixTimeMilliseconds(milliseconds);
    }
}

internal static class ProvisioningMetricsRegistration
{
    public static IServiceCollection AddProvisioningMetrics(this IServiceCollection services)
    {
        services.AddSingleton<ProvisioningMetrics>();
        services.AddSingleton<IMetricsSnapshot>(provider => provider.GetRequiredService<ProvisioningMetrics>());
        services.AddSingleton<ISavedChangesMetrics>(provider => provider.GetRequiredService<ProvisioningMetrics>());
        return services;
    }
}
