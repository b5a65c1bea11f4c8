using Microsoft.EntityFrameworkCore;
using Stratus.Compute.Hosts;
using Stratus.Compute.Persistence;

namespace Stratus.Compute.Vms;

public sealed record VmRequest(Guid Id, Guid? TenantId, string Region, string ImageId, int VCpuCount, int MemoryMiB, int DiskGiB);

public abstract record PlacementResult
{
    public sealed record Placed(Vm Vm, Host Host, bool AlreadyExisted) : PlacementResult;

    public sealed record NoCapacity(string Reason) : PlacementResult;

    /// <summary>The VM id was deleted (or its deletion asked) before this placement: nothing is placed.</summary>
    public sealed record AlreadyDeleted : PlacementResult;
}

/// <summary>
/// Puts a VM on a ready host of its region that has room, spreading over zones: the zone with the fewest
/// VMs first, then the host with the most free memory. Idempotent by VM id.
/// </summary>
public sealed class Placement(ComputeDbContext db, TimeProvider clock)
{
    private const int MaxAttempts = 5;

    public async Task<PlacementResult> PlaceAsync(VmRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        for (var attempt = 1; ; attempt++)
        {
            db.ChangeTracker.Clear();
            if (await db.Vms.AsNoTracking().FirstOrDefaultAsync(v => v.Id == request.Id, cancellationToken) is { } existing)
            {
                var existingHost = await db.Hosts.AsNoTracking().FirstAsync(h => h.Id == existing.HostId, cancellationToken);
                return new PlacementResult.Placed(existing, existingHost, AlreadyExisted: true);
            }

            if (await db.DeletedVms.AnyAsync(d => d.Id == request.Id, cancellationToken))
            {
                return new PlacementResult.AlreadyDeleted();
            }

            var hosts = await db.Hosts.Where(h => h.Region == request.Region && h.State == HostState.Ready).ToListAsync(cancellationToken);
            if (hosts.Count == 0)
            {
                return new PlacementResult.NoCapacity($"Region {request.Region} has no ready host.");
            }

            var vmsPerZone = await db.Vms.Where(v => v.Region == request.Region)
                .Join(db.Hosts, v => v.HostId, h => h.Id, (v, h) => h.Zone)
                .GroupBy(z => z).Select(g => new { Zone = g.Key, Count = g.Count() })
                .ToDictionaryAsync(g => g.Zone, g => g.Count, cancellationToken);
            var host = hosts.Where(h => h.Fits(request.VCpuCount, request.MemoryMiB, request.DiskGiB))
                .OrderBy(h => vmsPerZone.GetValueOrDefault(h.Zone))
                .ThenByDescending(h => h.MemoryMiBCapacity - h.MemoryMiBAllocated)
                .ThenBy(h => h.Name, StringComparer.Ordinal)
                .FirstOrDefault();
            if (host is null)
            {
                return new PlacementResult.NoCapacity(
                    $"No ready host in {request.Region} has {request.VCpuCount} vCPUs, {request.MemoryMiB} MiB and {request.DiskGiB} GiB free; it will be retried when capacity frees up.");
            }

            var now = clock.GetUtcNow();
            var vm = new Vm
            {
                Id = request.Id,
                HostId = host.Id,
                TenantId = request.TenantId,
                Region = request.Region,
                ImageId = request.ImageId,
                VCpuCount = request.VCpuCount,
                MemoryMiB = request.MemoryMiB,
                DiskGiB = request.DiskGiB,
                DesiredPower = PowerState.Running,
                Generation = 1,
                CreatedAt = now,
            };
            host.VCpuAllocated += vm.VCpuCount;
            host.MemoryMiBAllocated += vm.MemoryMiB;
            host.DiskGiBAllocated += vm.DiskGiB;
            host.DesiredVersion++;
            db.Vms.Add(vm);
            try
            {
                await db.SaveChangesAsync(cancellationToken);
                return new PlacementResult.Placed(vm, host, AlreadyExisted: false);
            }
            catch (DbUpdateException) when (attempt < MaxAttempts)
            {
                // Another placement took the host's free capacity (its version moved), or created this
                // VM id at the same moment: look again.
            }
        }
    }
}
