using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Stratus.Compute.Persistence;
using Stratus.Compute.Vms;
using Stratus.Platform.Audit;
using Stratus.Platform.Auth;
using Stratus.Platform.Http;

namespace Stratus.Compute.Hosts;

/// <summary>
/// An unmanaged VM as the operator sees it. ManagedOnHostId/Name: the host compute has this VM on (the host's
/// old record after a re-enrollment); TenantId: its owner there; Deleted: compute deleted this VM id before.
/// </summary>
public sealed record UnmanagedVmView(
    Guid Id, Guid HostId, string State, string ImageId, int VCpuCount, int MemoryMiB, int DiskGiB,
    Guid? ManagedOnHostId, string? ManagedOnHostName, Guid? TenantId, bool Deleted, DateTimeOffset FirstReportedDateTime);

/// <summary>
/// The VMs hosts keep but compute does not manage there, and the operator's two actions on them: adopt (the VM
/// is compute's again, on the host that has it) or delete (a tombstone for the host's agent). Platform operator
/// only: the disks are any tenant's.
/// </summary>
public static class UnmanagedVmsApi
{
    public static IEndpointRouteBuilder MapUnmanagedVmsApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/api/v1/hosts/{id:guid}/unmanagedVms").WithTags("Regions and hosts").RequireAuthorization(StratusPolicies.PlatformOperator);
        group.MapGet("/", ListAsync).WithName("ListUnmanagedVms").WithSummary("VMs the host keeps, stopped, that compute neither wants there nor deleted");
        group.MapPost("/{vmId:guid}/adopt", AdoptAsync).WithName("AdoptUnmanagedVm")
            .WithSummary("Make the VM compute's again, on this host: its Cloud PC runs on it (a VM compute no longer knows is recreated from the report)");
        group.MapDelete("/{vmId:guid}", DeleteAsync).WithName("DeleteUnmanagedVm").WithSummary("Have the host's agent delete the VM and its disk");
        return endpoints;
    }

    private static async Task<Results<Ok<List<UnmanagedVmView>>, ProblemHttpResult>> ListAsync(Guid id, ComputeDbContext db, CancellationToken cancellationToken)
    {
        if (!await db.Hosts.AnyAsync(h => h.Id == id, cancellationToken))
        {
            return Problems.NotFound("host", id);
        }

        var rows = await db.UnmanagedVms.AsNoTracking().Where(u => u.HostId == id).OrderBy(u => u.FirstReportedAt).ThenBy(u => u.VmId).ToListAsync(cancellationToken);
        var ids = rows.Select(u => u.VmId).ToList();
        var managed = await db.Vms.AsNoTracking().Where(v => ids.Contains(v.Id))
            .Join(db.Hosts, v => v.HostId, h => h.Id, (v, h) => new { v.Id, v.HostId, h.Name, v.TenantId }).ToDictionaryAsync(v => v.Id, cancellationToken);
        var deleted = (await db.DeletedVms.AsNoTracking().Where(d => ids.Contains(d.Id)).Select(d => d.Id).ToListAsync(cancellationToken)).ToHashSet();
        return TypedResults.Ok(rows.Select(u =>
        {
            var known = managed.GetValueOrDefault(u.VmId);
            return new UnmanagedVmView(u.VmId, u.HostId, u.State, u.ImageId, u.VCpuCount, u.MemoryMiB, u.DiskGiB,
                known?.HostId, known?.Name, known?.TenantId, deleted.Contains(u.VmId), u.FirstReportedAt);
        }).ToList());
    }

    private static Task<Results<Ok<VmView>, ProblemHttpResult>> AdoptAsync(Guid id, Guid vmId, HttpContext http, ComputeDbContext db, TimeProvider clock, CancellationToken cancellationToken) =>
        db.RetryOnConcurrentChangeAsync(() => TryAdoptAsync(id, vmId, http, db, clock, cancellationToken));

    private static async Task<Results<Ok<VmView>, ProblemHttpResult>> TryAdoptAsync(
        Guid id, Guid vmId, HttpContext http, ComputeDbContext db, TimeProvider clock, CancellationToken cancellationToken)
    {
        db.ChangeTracker.Clear();
        var (host, unmanaged, vm, refusal) = await FindAsync(id, vmId, db, cancellationToken);
        if (refusal is not null)
        {
            return refusal;
        }

        if (vm is { DeleteRequested: true })
        {
            return Problems.Conflict("vm-deleting", $"VM {vmId} is being deleted; delete this copy too (DELETE /api/v1/hosts/{id}/unmanagedVms/{vmId}).");
        }

        if (vm is null && await db.DeletedVms.AnyAsync(d => d.Id == vmId, cancellationToken))
        {
            return Problems.Conflict("vm-deleted", $"VM {vmId} was deleted, with its Cloud PC; a deleted VM cannot come back. Delete this copy of its disk instead.");
        }

        if (vm is not null && vm.Region != host!.Region)
        {
            return Problems.Conflict("region-mismatch", $"VM {vmId} belongs to region {vm.Region}; host {host.Name} is in {host.Region}.");
        }

        var now = clock.GetUtcNow();
        if (vm is null)
        {
            // Compute no longer knows it (a store restored from an older backup): the host's report is all there is.
            // It runs, as a Cloud PC does; its owner's service sets its power from then on.
            vm = db.Vms.Add(new Vm
            {
                Id = vmId, HostId = id, Region = host!.Region, ImageId = unmanaged!.ImageId, VCpuCount = unmanaged.VCpuCount, MemoryMiB = unmanaged.MemoryMiB,
                DiskGiB = unmanaged.DiskGiB, DesiredPower = PowerState.Running, Generation = 1, CreatedAt = now,
            }).Entity;
        }
        else
        {
            var previous = await db.Hosts.FirstAsync(h => h.Id == vm.HostId, cancellationToken);
            previous.VCpuAllocated -= vm.VCpuCount;
            previous.MemoryMiBAllocated -= vm.MemoryMiB;
            previous.DiskGiBAllocated -= vm.DiskGiB;
            previous.DesiredVersion++;
            vm.HostId = id;
            vm.Generation++;
        }

        // The disk is on this host already, so the VM counts against it even past its capacity.
        host!.VCpuAllocated += vm.VCpuCount;
        host.MemoryMiBAllocated += vm.MemoryMiB;
        host.DiskGiBAllocated += vm.DiskGiB;
        host.DesiredVersion++;

        // Nothing reported by this host yet: its next report differs and is published as compute.vmReported.v1,
        // which tells the VM's Cloud PC that it runs again.
        vm.ReportedState = null;
        vm.Ready = false;
        vm.ReportedDetail = null;
        vm.ReportedAt = null;
        db.UnmanagedVms.Remove(unmanaged!);
        db.Audit(clock, vm.TenantId, AuditActor.From(http), "host", "AdoptUnmanagedVm", $"Adopted VM {vmId} on host {host.Name}", true,
            new AuditResource(vmId.ToString(), "vm", vmId.ToString()), new AuditResource(host.Id.ToString(), "host", host.Name));
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Ok(VmView.From(vm));
    }

    private static Task<Results<Accepted, ProblemHttpResult>> DeleteAsync(Guid id, Guid vmId, HttpContext http, ComputeDbContext db, TimeProvider clock, CancellationToken cancellationToken) =>
        db.RetryOnConcurrentChangeAsync(() => TryDeleteAsync(id, vmId, http, db, clock, cancellationToken));

    private static async Task<Results<Accepted, ProblemHttpResult>> TryDeleteAsync(
        Guid id, Guid vmId, HttpContext http, ComputeDbContext db, TimeProvider clock, CancellationToken cancellationToken)
    {
        db.ChangeTracker.Clear();
        var (host, unmanaged, vm, refusal) = await FindAsync(id, vmId, db, cancellationToken);
        if (refusal is not null)
        {
            return refusal;
        }

        if (vm is { DeleteRequested: false })
        {
            return Problems.Conflict("vm-managed-elsewhere",
                $"VM {vmId} is still the VM of host {vm.HostId} and may be a Cloud PC's only disk: adopt this copy (POST .../{vmId}/adopt), or delete the VM (DELETE /api/v1/vms/{vmId}).");
        }

        await DeletedVm.MarkAsync(db, vmId, id, clock.GetUtcNow(), confirmed: false, cancellationToken);
        db.UnmanagedVms.Remove(unmanaged!);
        host!.DesiredVersion++;
        db.Audit(clock, vm?.TenantId, AuditActor.From(http), "host", "DeleteUnmanagedVm", $"Deleted unmanaged VM {vmId} and its disk on host {host.Name}", true,
            new AuditResource(vmId.ToString(), "vm", vmId.ToString()), new AuditResource(host.Id.ToString(), "host", host.Name));
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Accepted($"/api/v1/hosts/{id}/unmanagedVms");
    }

    /// <summary>The host, its unmanaged VM and compute's VM of that id; or why not: 404 unknown, 409 managed on this host.</summary>
    private static async Task<(Host? Host, UnmanagedVm? Unmanaged, Vm? Vm, ProblemHttpResult? Refusal)> FindAsync(
        Guid id, Guid vmId, ComputeDbContext db, CancellationToken cancellationToken)
    {
        var host = await db.Hosts.FirstOrDefaultAsync(h => h.Id == id, cancellationToken);
        if (host is null)
        {
            return (null, null, null, Problems.NotFound("host", id));
        }

        var vm = await db.Vms.FirstOrDefaultAsync(v => v.Id == vmId, cancellationToken);
        var unmanaged = await db.UnmanagedVms.FirstOrDefaultAsync(u => u.HostId == id && u.VmId == vmId, cancellationToken);
        if (unmanaged is not null && vm?.HostId != id)
        {
            return (host, unmanaged, vm, null);
        }

        return (host, null, vm, vm?.HostId == id
            ? Problems.Conflict("not-unmanaged", $"VM {vmId} is managed on host {host.Name}: see /api/v1/vms/{vmId}.")
            : Problems.NotFound("unmanaged VM", vmId));
    }
}
