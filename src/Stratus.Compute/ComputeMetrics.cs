using System.Diagnostics.Metrics;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.ChangeTracking;
using Microsoft.Extensions.DependencyInjection;
using Stratus.Compute.Hosts;
using Stratus.Compute.Persistence;
using Stratus.Compute.Vms;
using Stratus.Platform.Metrics;

namespace Stratus.Compute;

/// <summary>
/// What an operator watches of compute: hosts by region and state, the free capacity of each region's ready hosts
/// (what placement can still use), and VM operations by kind and outcome. No label carries tenant data.
/// </summary>
internal sealed class ComputeMetrics : IMetricsSnapshot, ISavedChangesMetrics
{
    public const string MeterName = "Stratus.Compute";

    private readonly SnapshotGauge hosts;
    private readonly SnapshotGauge freeVCpus;
    private readonly SnapshotGauge freeMemory;
    private readonly SnapshotGauge vms;
    private readonly Counter<long> operations;

    public ComputeMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(MeterName);
        hosts = new SnapshotGauge(meter, "stratus.compute.hosts", "{host}", "Hosts per region, zone and state (Ready, Draining, Down).");
        freeVCpus = new SnapshotGauge(meter, "stratus.compute.free.vcpus", "{vcpu}", "vCPUs not allocated on the ready hosts of a region: what placement can still use.");
        freeMemory = new SnapshotGauge(meter, "stratus.compute.free.memory", "By", "Memory not allocated on the ready hosts of a region.");
        vms = new SnapshotGauge(meter, "stratus.compute.vms", "{vm}", "VMs per region by their host's state.");
        operations = meter.CreateCounter<long>("stratus.compute.vm_operations", "{operation}", "VM operations (restart, snapshot, export, copy, ...) that ended, by kind and outcome.");
    }

    public string Store => ComputeDbContext.SchemaName;

    public async Task RefreshAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        var db = services.GetRequiredService<ComputeDbContext>();
        // One row per region, zone and state: bounded by the deployment's shape, not by its number of hosts.
        var rows = await db.Hosts.AsNoTracking()
            .GroupBy(h => new { h.Region, h.Zone, h.State })
            .Select(g => new
            {
                g.Key.Region,
                g.Key.Zone,
                g.Key.State,
                Count = g.Count(),
                FreeVCpus = g.Sum(h => h.VCpuCapacity - h.VCpuAllocated),
                FreeMemoryMiB = g.Sum(h => (long)h.MemoryMiBCapacity - h.MemoryMiBAllocated),
            })
            .ToListAsync(cancellationToken);
        var vmRows = await db.Vms.AsNoTracking()
            .Join(db.Hosts, v => v.HostId, h => h.Id, (v, h) => new { h.Region, h.State })
            .GroupBy(x => new { x.Region, x.State })
            .Select(g => new { g.Key.Region, g.Key.State, Count = g.Count() })
            .ToListAsync(cancellationToken);

        // Every state of every zone has a series (0 when no host is in it), so that a rule sees a zone lose its last host.
        var zones = rows.Select(r => (r.Region, r.Zone)).Distinct().ToList();
        hosts.Replace(Store, zones.SelectMany(z => Enum.GetValues<HostState>().Select(state => SnapshotGauge.Value(
            rows.Where(r => r.Region == z.Region && r.Zone == z.Zone && r.State == state).Sum(r => r.Count),
            ("region", z.Region), ("zone", z.Zone), ("state", state.ToString())))));
        var regions = rows.Select(r => r.Region).Distinct().ToList();
        var ready = rows.Where(r => r.State == HostState.Ready).ToList();
        freeVCpus.Replace(Store, regions.Select(region => SnapshotGauge.Value(
            ready.Where(r => r.Region == region).Sum(r => Math.Max(0, r.FreeVCpus)), ("region", region))));
        freeMemory.Replace(Store, regions.Select(region => SnapshotGauge.Value(
            ready.Where(r => r.Region == region).Sum(r => Math.Max(0, r.FreeMemoryMiB)) * 1024.0 * 1024.0, ("region", region))));
        vms.Replace(Store, vmRows.Select(r => SnapshotGauge.Value(r.Count, ("region", r.Region), ("host_state", r.State.ToString()))));
    }

    public Action? Collect(ChangeTracker changes)
    {
        ArgumentNullException.ThrowIfNull(changes);
        var ended = changes.Entries<VmOperation>()
            .Where(e => e.State == EntityState.Modified
                && e.Property(o => o.Status).OriginalValue == VmOperationStatus.Pending
                && e.Entity.Status != VmOperationStatus.Pending)
            .Select(e => (Kind: e.Entity.Kind.ToString(), Outcome: e.Entity.Status.ToString()))
            .ToList();
        return ended.Count == 0 ? null : () =>
        {
            foreach (var (kind, outcome) in ended)
            {
                operations.Add(1, new KeyValuePair<string, object?>("kind", kind), new KeyValuePair<string, object?>("outcome", outcome));
            }
        };
    }
}

internal static class ComputeMetricsRegistration
{
    public static IServiceCollection AddComputeMetrics(this IServiceCollection services)
    {
        services.AddSingleton<ComputeMetrics>();
        services.AddSingleton<IMetricsSnapshot>(provider => provider.GetRequiredService<ComputeMetrics>());
        services.AddSingleton<ISavedChangesMetrics>(provider => provider.GetRequiredService<ComputeMetrics>());
        return services;
    }
}
