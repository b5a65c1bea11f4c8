using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Stratus.Compute.Persistence;
using Stratus.Compute.Vms;
using Stratus.Platform.Audit;
using Stratus.Platform.Jobs;

namespace Stratus.Compute.Hosts;

/// <summary>
/// Host loss (issue 18), in the instance that leads the job: a host down for longer than
/// <see cref="ComputeOptions.HostLossGrace"/> has its VMs made again, each on another ready host of its region, from
/// the latest copy in the region's store. Its epoch is raised (the lost host's agent, if it comes back, never starts
/// its stale disk), the move is recorded (an operation, an audit record, a per-host MovedVm tombstone) and announced
/// (VmRecovering, then VmPlaced). A VM with no copy or no host with room gets VmRecoveryFailed (once per reason) and is
/// tried again at the next pass: capacity may come back, and so may the host.
/// </summary>
internal sealed partial class HostLossRecovery(IServiceScopeFactory scopes, IOptions<ComputeOptions> options, TimeProvider clock, ILogger<HostLossRecovery> logger) : IPeriodicJob
{
    /// <summary>When this process began to watch: as HeartbeatMonitor, a host is judged only by a grace this process saw.</summary>
    private readonly DateTimeOffset watchingSince = clock.GetUtcNow();

    public string Name => "compute.hostLossRecovery";

    public TimeSpan Interval => TimeSpan.FromTicks(Math.Clamp(options.Value.HostLossGrace.Ticks / 4, TimeSpan.FromSeconds(1).Ticks, TimeSpan.FromSeconds(30).Ticks));

    public Task RunAsync(CancellationToken cancellationToken) => RecoverAsync(cancellationToken);

    internal async Task RecoverAsync(CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var lostBefore = now - options.Value.HeartbeatTimeout - options.Value.HostLossGrace;
        if (watchingSince > lostBefore)
        {
            return;
        }

        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ComputeDbContext>();
        var lost = await db.Hosts.AsNoTracking().Where(h => h.State == HostState.Down && h.LastHeartbeatAt < lostBefore).ToListAsync(cancellationToken);
        foreach (var host in lost)
        {
            var vmIds = await db.Vms.AsNoTracking().Where(v => v.HostId == host.Id && !v.DeleteRequested).OrderBy(v => v.CreatedAt).Select(v => v.Id).ToListAsync(cancellationToken);
            foreach (var vmId in vmIds)
            {
                try
                {
                    await RecoverVmAsync(scope.ServiceProvider, vmId, host, now, cancellationToken);
                }
                catch (DbUpdateException)
                {
                    // A report, a placement or another change touched a host or the VM meanwhile: the next pass looks again.
                    LogRetry(logger, vmId);
                }
            }
        }
    }

    private async Task RecoverVmAsync(IServiceProvider services, Guid vmId, Host from, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var db = services.GetRequiredService<ComputeDbContext>();
        db.ChangeTracker.Clear();
        var vm = await db.Vms.FirstOrDefaultAsync(v => v.Id == vmId && v.HostId == from.Id && !v.DeleteRequested, cancellationToken);
        if (vm is null)
        {
            return;
        }

        var store = options.Value.CopyStoreOf(vm.Region);
        var copy = store is null ? null : await db.VmDiskCopies.AsNoTracking().FirstOrDefaultAsync(c => c.VmId == vm.Id && c.StoreUri == store, cancellationToken);
        if (copy?.LatestCopyAt is not { } takenAt)
        {
            await FailAsync(db, vm, from, store is null
                ? $"Host {from.Name} is lost and region {vm.Region} has no copy store: the VM cannot be made again elsewhere."
                : $"Host {from.Name} is lost and the VM has no copy in region {vm.Region}'s store yet.", cancellationToken);
            return;
        }

        var placement = services.GetRequiredService<Placement>();
        var (to, noCapacity) = await placement.ChooseHostAsync(vm.Region, vm.VCpuCount, vm.MemoryMiB, vm.DiskGiB, cancellationToken);
        if (to is null)
        {
            await FailAsync(db, vm, from, $"Host {from.Name} is lost: {noCapacity}", cancellationToken);
            return;
        }

        var old = await db.Hosts.FirstAsync(h => h.Id == from.Id, cancellationToken);
        old.VCpuAllocated -= vm.VCpuCount;
        old.MemoryMiBAllocated -= vm.MemoryMiB;
        old.DiskGiBAllocated -= vm.DiskGiB;
        old.DesiredVersion++;
        to.VCpuAllocated += vm.VCpuCount;
        to.MemoryMiBAllocated += vm.MemoryMiB;
        to.DiskGiBAllocated += vm.DiskGiB;
        to.DesiredVersion++;

        vm.HostId = to.Id;
        vm.Epoch++;
        vm.Generation++;
        vm.MovedAt = now;
        vm.RestoreFromVmId = vm.Id;
        vm.RestoreFromRegion = vm.Region;
        vm.RecoveryFailure = null;
        vm.ReportedState = null;
        vm.Ready = false;
        vm.ReportedDetail = null;
        vm.ReportedGeneration = 0;

        var moved = await db.MovedVms.FindAsync([vm.Id, from.Id], cancellationToken) ?? db.MovedVms.Add(new MovedVm { VmId = vm.Id, FromHostId = from.Id }).Entity;
        moved.ToHostId = to.Id;
        moved.MovedAt = now;
        moved.ConfirmedAt = null;
        var summary = $"Host {from.Name} lost since {from.LastHeartbeatAt:u}: VM made again on {to.Name} ({to.Zone}) from its copy of {takenAt:u} (epoch {vm.Epoch})";
        db.VmOperations.Add(new VmOperation
        {
            Id = Guid.CreateVersion7(now), VmId = vm.Id, Kind = VmOperationKind.Recover, Argument = from.Id.ToString(),
            Status = VmOperationStatus.Succeeded, Result = summary, CreatedAt = now, CompletedAt = now,
        });
        db.Audit(clock, vm.TenantId, AuditActor.System("compute"), "vm", "RecoverVm", summary, true, new AuditResource(vm.Id.ToString(), "vm", vm.Id.ToString()));
        db.Publish(new VmRecovering(vm.Id, vm.TenantId ?? Guid.Empty, from.Id, to.Id, vm.Region, takenAt, now));
        db.Publish(new VmPlaced(vm.Id, to.Id, to.Name, to.Region, to.Zone));
        await db.SaveChangesAsync(cancellationToken);
        LogRecovering(logger, vm.Id, from.Name, to.Name, takenAt);
    }

    private async Task FailAsync(ComputeDbContext db, Vm vm, Host from, string reason, CancellationToken cancellationToken)
    {
        if (vm.RecoveryFailure == reason)
        {
            return;
        }

        vm.RecoveryFailure = reason;
        db.Publish(new VmRecoveryFailed(vm.Id, vm.TenantId ?? Guid.Empty, from.Id, reason));
        await db.SaveChangesAsync(cancellationToken);
        LogFailed(logger, vm.Id, reason);
    }

    [LoggerMessage(EventId = 3020, Level = LogLevel.Warning, Message = "VM {VmId}: host {From} is lost; made again on {To} from its copy of {TakenAt}")]
    private static partial void LogRecovering(ILogger logger, Guid vmId, string from, string to, DateTimeOffset takenAt);

    [LoggerMessage(EventId = 3021, Level = LogLevel.Error, Message = "VM {VmId} cannot be recovered from its lost host (tried again later): {Reason}")]
    private static partial void LogFailed(ILogger logger, Guid vmId, string reason);

    [LoggerMessage(EventId = 3022, Level = LogLevel.Information, Message = "Recovering VM {VmId} met a concurrent change; the next pass tries again")]
    private static partial void LogRetry(ILogger logger, Guid vmId);
}
