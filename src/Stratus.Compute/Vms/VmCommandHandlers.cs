using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Stratus.Compute.Persistence;
using Stratus.Platform.Messaging;

namespace Stratus.Compute.Vms;

/// <summary>
/// Places a VM for another service and answers with VmPlaced or VmPlacementFailed. Idempotent by VM id. A network
/// connection compute does not know yet (network's event may come after the placement that names it) is waited for,
/// within Stratus:Compute:Networks:UnknownConnectionWait and the handler's own deadline, before the placement fails.
/// </summary>
internal sealed class PlaceVmHandler(Placement placement, ComputeDbContext db, IOptions<ComputeOptions> options, TimeProvider clock) : IMessageHandler<PlaceVm>
{
    private static readonly TimeSpan LookAgainEvery = TimeSpan.FromSeconds(1);

    public async Task HandleAsync(PlaceVm message, MessageContext context, CancellationToken cancellationToken)
    {
        var waitUntil = clock.GetUtcNow() + options.Value.Networks.UnknownConnectionWait;
        var request = new VmRequest(message.VmId, message.TenantId, message.Region, message.ImageId, message.VCpuCount, message.MemoryMiB, message.DiskGiB,
            message.RestoreFrom, message.Copies, message.NetworkConnectionId);
        var result = await placement.PlaceAsync(request, cancellationToken);
        while (result is PlacementResult.NetworkUnavailable { MayArriveLater: true } && clock.GetUtcNow() < waitUntil)
        {
            await Task.Delay(LookAgainEvery, clock, cancellationToken);
            result = await placement.PlaceAsync(request, cancellationToken);
        }

        db.ChangeTracker.Clear();
        var failure = result switch
        {
            PlacementResult.Placed => null,
            PlacementResult.NoCapacity none => none.Reason,
            PlacementResult.NetworkUnavailable network => network.Reason,
            PlacementResult.AlreadyDeleted => "The VM was deleted before it was placed.",
            _ => throw new InvalidOperationException("unknown placement result"),
        };
        if (result is PlacementResult.Placed placed)
        {
            db.Publish(new VmPlaced(placed.Vm.Id, placed.Host.Id, placed.Host.Name, placed.Host.Region, placed.Host.Zone, placed.Vm.NetworkConnectionId, placed.IpAddress));
        }
        else
        {
            db.Publish(new VmPlacementFailed(message.VmId, message.Region, failure!));
        }

        await db.SaveChangesAsync(cancellationToken);
    }
}

internal sealed class ChangeVmHandler(ComputeDbContext db, TimeProvider clock) : IMessageHandler<ChangeVm>
{
    public async Task HandleAsync(ChangeVm message, MessageContext context, CancellationToken cancellationToken)
    {
        var vm = await db.Vms.FirstOrDefaultAsync(v => v.Id == message.VmId, cancellationToken);
        if (vm is null)
        {
            if (message.Delete)
            {
                // Never placed, or already gone: the sender waits for this answer either way. The tombstone
                // keeps a placement that arrives after this (out of order, or redelivered) from creating it.
                // No host has it, so there is nothing to confirm; an existing tombstone (maybe an order to a host) stays.
                if (!await db.DeletedVms.AnyAsync(d => d.Id == message.VmId, cancellationToken))
                {
                    db.DeletedVms.Add(new DeletedVm { Id = message.VmId, DeletedAt = clock.GetUtcNow(), ConfirmedAt = clock.GetUtcNow() });
                }

                db.Publish(new VmReported(message.VmId, Guid.Empty, "deleted", false, 0, null, clock.GetUtcNow()));
                await db.SaveChangesAsync(cancellationToken);
            }

            return;
        }

        var host = await db.Hosts.FirstAsync(h => h.Id == vm.HostId, cancellationToken);
        var changed = false;
        if (message.Delete && !vm.DeleteRequested)
        {
            vm.DeleteRequested = true;
            changed = true;
        }

        if (message.Power is { } power && Enum.TryParse<PowerState>(power, ignoreCase: true, out var wanted) && vm.DesiredPower != wanted)
        {
            vm.DesiredPower = wanted;
            changed = true;
        }

        if (message.VCpuCount is { } vcpus && vcpus != vm.VCpuCount)
        {
            host.VCpuAllocated += vcpus - vm.VCpuCount;
            vm.VCpuCount = vcpus;
            changed = true;
        }

        if (message.MemoryMiB is { } memory && memory != vm.MemoryMiB)
        {
            host.MemoryMiBAllocated += memory - vm.MemoryMiB;
            vm.MemoryMiB = memory;
            changed = true;
        }

        if (message.DiskGiB is { } disk && disk > vm.DiskGiB)
        {
            // Disks only grow: shrinking would cut off the guest's file system.
            host.DiskGiBAllocated += disk - vm.DiskGiB;
            vm.DiskGiB = disk;
            changed = true;
        }

        if (changed)
        {
            vm.Generation++;
            host.DesiredVersion++;
            await db.SaveChangesAsync(cancellationToken);
        }
    }
}

internal sealed class RunVmOperationHandler(ComputeDbContext db, TimeProvider clock) : IMessageHandler<RunVmOperation>
{
    public async Task HandleAsync(RunVmOperation message, MessageContext context, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        if (await db.VmOperations.AnyAsync(o => o.Id == message.OperationId, cancellationToken))
        {
            return;
        }

        var vm = await db.Vms.FirstOrDefaultAsync(v => v.Id == message.VmId && !v.DeleteRequested, cancellationToken);
        var kindProblem = VmOperation.KindProblem(message.Kind, out var kind);
        var refused = vm is null ? "The VM does not exist (any more)." : kindProblem ?? VmOperation.ArgumentProblem(kind, message.Argument);
        if (vm is null || refused is not null)
        {
            db.Publish(new VmOperationCompleted(message.OperationId, message.VmId, message.Kind, false, refused, now));
            await db.SaveChangesAsync(cancellationToken);
            return;
        }

        db.VmOperations.Add(new VmOperation { Id = message.OperationId, VmId = vm.Id, Kind = kind, Argument = message.Argument, Status = VmOperationStatus.Pending, CreatedAt = now });
        var host = await db.Hosts.FirstAsync(h => h.Id == vm.HostId, cancellationToken);
        host.DesiredVersion++;
        await db.SaveChangesAsync(cancellationToken);
    }
}

/// <summary>Changes a VM's copy policy; the host's agent gets it with its next desired state. Unknown VM: nothing to do.</summary>
internal sealed class SetVmDiskCopiesHandler(ComputeDbContext db) : IMessageHandler<SetVmDiskCopies>
{
    public async Task HandleAsync(SetVmDiskCopies message, MessageContext context, CancellationToken cancellationToken)
    {
        var vm = await db.Vms.FirstOrDefaultAsync(v => v.Id == message.VmId && !v.DeleteRequested, cancellationToken);
        if (vm is null)
        {
            return;
        }

        var before = (vm.CopiesOff, vm.CopyIntervalMinutes, vm.CopyBackupRegion);
        VmCopyPlan.Apply(vm, message.Copies, nullMeansOff: true);
        if ((vm.CopiesOff, vm.CopyIntervalMinutes, vm.CopyBackupRegion) == before)
        {
            // Provisioning tells every VM of a tenant its policy when a setting or a membership changes: a VM whose
            // policy stays is no new desired state for its agent.
            return;
        }

        var host = await db.Hosts.FirstAsync(h => h.Id == vm.HostId, cancellationToken);
        vm.Generation++;
        host.DesiredVersion++;
        await db.SaveChangesAsync(cancellationToken);
    }
}
