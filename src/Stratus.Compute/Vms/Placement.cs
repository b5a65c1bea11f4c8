using Microsoft.EntityFrameworkCore;
using Stratus.Compute.Hosts;
using Stratus.Compute.Networks;
using Stratus.Compute.Persistence;

namespace Stratus.Compute.Vms;

/// <param name="RestoreFrom">Make the disk from a copy instead of the image (disaster recovery, failback).</param>
/// <param name="Copies">The copy policy; null: the default (Stratus:Compute:DiskCopies).</param>
/// <param name="NetworkConnectionId">The connection (of Region) for the VM's NIC, which gets an address on it; null: the hosted network.</param>
public sealed record VmRequest(Guid Id, Guid? TenantId, string Region, string ImageId, int VCpuCount, int MemoryMiB, int DiskGiB,
    VmRestoreSource? RestoreFrom = null, DiskCopyPolicy? Copies = null, Guid? NetworkConnectionId = null);

public abstract record PlacementResult
{
    /// <param name="IpAddress">The VM's address on its network connection; null on the hosted network.</param>
    public sealed record Placed(Vm Vm, Host Host, bool AlreadyExisted, string? IpAddress = null) : PlacementResult;

    /// <summary>The VM's network connection cannot take it (Reason says why); MayArriveLater when compute does not know it yet.</summary>
    public sealed record NetworkUnavailable(string Reason, bool MayArriveLater) : PlacementResult;

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
    // Concurrent placements race for a host's capacity and for a connection's lowest free address; each round one wins.
    private const int MaxAttempts = 10;

    public async Task<PlacementResult> PlaceAsync(VmRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        for (var attempt = 1; ; attempt++)
        {
            db.ChangeTracker.Clear();
            if (await db.Vms.AsNoTracking().FirstOrDefaultAsync(v => v.Id == request.Id, cancellationToken) is { } existing)
            {
                var existingHost = await db.Hosts.AsNoTracking().FirstAsync(h => h.Id == existing.HostId, cancellationToken);
                return new PlacementResult.Placed(existing, existingHost, AlreadyExisted: true,
                    await NetworkAddresses.OfVmAsync(db, existing.Id, existing.NetworkConnectionId, cancellationToken));
            }

            if (await db.DeletedVms.AnyAsync(d => d.Id == request.Id, cancellationToken))
            {
                return new PlacementResult.AlreadyDeleted();
            }

            var connection = request.NetworkConnectionId is { } connectionId
                ? await db.NetworkConnections.AsNoTracking().FirstOrDefaultAsync(c => c.Id == connectionId, cancellationToken)
                : null;
            if (request.NetworkConnectionId is { } wanted && ConnectionProblem(wanted, connection, request.Region) is { } problem)
            {
                return problem;
            }

            var (host, noCapacity) = await ChooseHostAsync(request.Region, request.VCpuCount, request.MemoryMiB, request.DiskGiB, cancellationToken);
            if (host is null)
            {
                return new PlacementResult.NoCapacity(noCapacity!);
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
                MovedAt = now,
                RestoreFromVmId = request.RestoreFrom?.SourceVmId,
                RestoreFromRegion = request.RestoreFrom?.Region,
                NetworkConnectionId = connection?.Id,
            };
            var address = connection is null ? null : await NetworkAddresses.AllocateVmAsync(db, connection, vm.Id, now, cancellationToken);
            if (connection is not null && address is null)
            {
                return new PlacementResult.NetworkUnavailable(
                    $"Network connection {connection.Id} has no free address left in {connection.Subnet} (one per Cloud PC, one per host of {connection.Region}).", MayArriveLater: false);
            }

            VmCopyPlan.Apply(vm, request.Copies, nullMeansOff: false);
            host.VCpuAllocated += vm.VCpuCount;
            host.MemoryMiBAllocated += vm.MemoryMiB;
            host.DiskGiBAllocated += vm.DiskGiB;
            host.DesiredVersion++;
            db.Vms.Add(vm);
            try
            {
                await db.SaveChangesAsync(cancellationToken);
                return new PlacementResult.Placed(vm, host, AlreadyExisted: false, address);
            }
            catch (DbUpdateException) when (attempt < MaxAttempts)
            {
                // Another placement took the host's free capacity (its version moved), the address, or created this
                // VM id at the same moment: look again.
            }
        }
    }

    private static PlacementResult.NetworkUnavailable? ConnectionProblem(Guid id, NetworkConnection? connection, string region) => connection switch
    {
        null => new($"Network connection {id} is not known to compute in {region} (yet): network has not published it, or it does not exist.", MayArriveLater: true),
        { Deleted: true } => new($"Network connection {id} was deleted.", MayArriveLater: false),
        _ when connection.Region != region => new($"Network connection {id} is in region {connection.Region}, not {region}: a VM goes on a connection of its own region.",
            MayArriveLater: false),
        _ => null,
    };

    /// <summary>
    /// A ready host of the region with room (tracked, so that the caller's save is checked against its version): the
    /// zone with the fewest VMs first, then the most free memory. Null and the reason when none has room.
    /// </summary>
    internal async Task<(Host? Host, string? NoCapacity)> ChooseHostAsync(string region, int vcpus, int memoryMiB, int diskGiB, CancellationToken cancellationToken)
    {
        var hosts = await db.Hosts.Where(h => h.Region == region && h.State == HostState.Ready).ToListAsync(cancellationToken);
        if (hosts.Count == 0)
        {
            return (null, $"Region {region} has no ready host.");
        }

        var vmsPerZone = await db.Vms.Where(v => v.Region == region)
            .Join(db.Hosts, v => v.HostId, h => h.Id, (v, h) => h.Zone)
            .GroupBy(z => z).Select(g => new { Zone = g.Key, Count = g.Count() })
            .ToDictionaryAsync(g => g.Zone, g => g.Count, cancellationToken);
        var host = hosts.Where(h => h.Fits(vcpus, memoryMiB, diskGiB))
            .OrderBy(h => vmsPerZone.GetValueOrDefault(h.Zone))
            .ThenByDescending(h => h.MemoryMiBCapacity - h.MemoryMiBAllocated)
            .ThenBy(h => h.Name, StringComparer.Ordinal)
            .FirstOrDefault();
        return host is null
            ? (null, $"No ready host in {region} has {vcpus} vCPUs, {memoryMiB} MiB and {diskGiB} GiB free; it will be retried when capacity frees up.")
            : (host, null);
    }
}
