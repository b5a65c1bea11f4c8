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
    private static readonly string[] StoreFullMarkers =
        ["No space left on device", "Disk quota exceeded", "not enough space on the disk", "StorageFull", "QuotaExceeded", "copy store is full"];

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
            : copy.LastError is { } full && IsStoreFull(full) ? $"the copy store is full: {full}"
            : copy.LastError is { } last ? $"the last copy failed: {last}"
            : "its host has not copied it";
        return (DiskCopyStatus.Stale, $"Copies are due every {interval.TotalMinutes:0.##} min and {age}: {why}.");
    }

    /// <summary>
    /// An agent's error that says the store has no room: a file system's ENOSPC or quota, an S3 server's storage full
    /// or quota (MinIO's XMinioStorageFull, Ceph's QuotaExceeded), so that an operator frees or grows the store rather
    /// than looking at the host.
    /// </summary>
    internal static bool IsStoreFull(string error) =>
        StoreFullMarkers.Any(marker => error.Contains(marker, StringComparison.OrdinalIgnoreCase));

    [LoggerMessage(EventId = 3010, Level = LogLevel.Warning, Message = "VM {VmId}'s disk copies to region {Region} are stale: {Reason}")]
    private static partial void LogStale(ILogger logger, Guid vmId, string region, string reason);
}
