using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Stratus.Compute.Hosts;
using Stratus.Compute.Persistence;
using Stratus.Platform.Jobs;

namespace Stratus.Compute.Vms;

/// <summary>
/// Judges every VM's copies, per store, in the instance that leads the job: stale when the latest copy is older than
/// twice the interval (or there is none twice the interval after the VM came to its host), with the reason (its host
/// unreachable, the agent's last error). DiskCopyStale and DiskCopyHealthy are published on each change only.
/// </summary>
internal sealed partial class DiskCopyStaleness(IServiceScopeFactory scopes, IOptions<ComputeOptions> options, TimeProvider clock, ILogger<DiskCopyStaleness> logger) : IPeriodicJob
{
    public string Name => "compute.diskCopyStaleness";

    public TimeSpan Interval => options.Value.DiskCopies.CheckInterval;

    public Task RunAsync(CancellationToken cancellationToken) => CheckAsync(cancellationToken);

    internal async Task CheckAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ComputeDbContext>();
        var now = clock.GetUtcNow();
        var vms = await db.Vms.Where(v => !v.DeleteRequested && !v.CopiesOff).ToListAsync(cancellationToken);
        var vmIds = vms.Select(v => v.Id).ToList();
        var rows = (await db.VmDiskCopies.Where(c => vmIds.Contains(c.VmId)).ToListAsync(cancellationToken)).ToLookup(c => c.VmId);
        var downHosts = (await db.Hosts.Where(h => h.State == HostState.Down).Select(h => h.Id).ToListAsync(cancellationToken)).ToHashSet();
        foreach (var vm in vms)
        {
            if (VmCopyPlan.Of(vm, options.Value) is not { } plan)
            {
                continue;
            }

            foreach (var (region, storeUri) in plan.Stores)
            {
                var row = rows[vm.Id].FirstOrDefault(r => r.StoreUri == storeUri)
                    ?? db.VmDiskCopies.Add(new VmDiskCopy { VmId = vm.Id, StoreUri = storeUri, Region = region, Status = DiskCopyStatus.None }).Entity;
                var (status, reason) = Judge(row, plan.Interval, vm.MovedAt ?? vm.CreatedAt, downHosts.Contains(vm.HostId), now);
                if (status == row.Status && reason == row.StatusReason)
                {
                    continue;
                }

                if (status == DiskCopyStatus.Stale && row.Status != DiskCopyStatus.Stale)
                {
                    db.Publish(new DiskCopyStale(vm.Id, vm.TenantId ?? Guid.Empty, region, row.LatestCopyAt, reason!));
                    LogStale(logger, vm.Id, region, reason!);
                }
                else if (row.Status == DiskCopyStatus.Stale && status == DiskCopyStatus.Healthy)
                {
                    db.Publish(new DiskCopyHealthy(vm.Id, vm.TenantId ?? Guid.Empty, region, row.LatestCopyAt!.Value));
                }

                row.Status = status;
                row.StatusReason = reason;
            }
        }

        await db.SaveChangesAsync(cancellationToken);
    }

    /// <summary>A store's copies' state, and why when they are not healthy.</summary>
    internal static (DiskCopyStatus Status, string? Reason) Judge(VmDiskCopy copy, TimeSpan interval, DateTimeOffset onHostSince, bool hostDown, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(copy);
        var limit = interval * 2;
        var onTime = copy.LatestCopyAt is { } latest ? now - latest <= limit : now - onHostSince <= limit;
        if (onTime)
        {
            return copy.LatestCopyAt is null ? (DiskCopyStatus.None, null)
                : copy.LastError is { } error && copy.LastAttemptAt > copy.LatestCopyAt ? (DiskCopyStatus.Failed, $"The last copy failed: {error}")
                : (DiskCopyStatus.Healthy, null);
        }

        var age = copy.LatestCopyAt is { } at ? $"the latest copy is from {at:u}" : "there is no copy yet";
        var why = hostDown ? "its host is unreachable"
            : copy.LastError is { } last ? $"the host's last attempt failed: {last}"
            : "its host has not copied it";
        return (DiskCopyStatus.Stale, $"Copies are due every {interval.TotalMinutes:0.##} min and {age}: {why}.");
    }

    [LoggerMessage(EventId = 3010, Level = LogLevel.Warning, Message = "VM {VmId}'s disk copies to region {Region} are stale: {Reason}")]
    private static partial void LogStale(ILogger logger, Guid vmId, string region, string reason);
}
