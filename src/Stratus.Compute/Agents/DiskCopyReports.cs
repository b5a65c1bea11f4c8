using Stratus.Compute.Persistence;
using Stratus.Compute.Vms;

namespace Stratus.Compute.Agents;

/// <summary>Issue 18: the copies part of a host's desired state and of its reports.</summary>
internal static class DiskCopyReports
{
    /// <summary>What the agent is to copy the VM's disk to, and how often; null: no copies.</summary>
    public static DesiredDiskCopies? DesiredCopies(Vm vm, ComputeOptions options) =>
        VmCopyPlan.Of(vm, options) is { } plan
            ? new DesiredDiskCopies((int)Math.Max(1, plan.Interval.TotalSeconds), plan.Stores.Select(s => s.StoreUri).ToList())
            : null;

    /// <summary>
    /// Make the disk from a copy: only until the VM's current host has reported it (Created), so that a disk lost later
    /// is reported missing, as any other, instead of being made again silently from an older copy.
    /// </summary>
    public static DesiredRestore? DesiredRestore(Vm vm, ComputeOptions options) =>
        vm is { RestoreFromVmId: { } source, RestoreFromRegion: { } region, ReportedState: null } && options.CopyStoreOf(region) is { } store
            ? new DesiredRestore(source, store)
            : null;

    /// <summary>A CopyDisk operation names a region; its agent gets that region's store (null: all of the VM's stores).</summary>
    public static string? OperationArgument(VmOperation operation, ComputeOptions options) =>
        operation.Kind == VmOperationKind.CopyDisk
            ? operation.Argument is { } region ? options.CopyStoreOf(region) ?? $"no-store-for-region:{region}" : null
            : operation.Argument;

    /// <summary>Keeps the latest of the VM's copies per store as its agent reported them.</summary>
    public static async Task ApplyAsync(ComputeDbContext db, Vm vm, IReadOnlyList<ReportedDiskCopy>? copies, ComputeOptions options, CancellationToken cancellationToken)
    {
        foreach (var copy in copies ?? [])
        {
            if (copy.StoreUri is not { Length: > 0 and <= 1024 })
            {
                continue;
            }

            var row = await db.VmDiskCopies.FindAsync([vm.Id, copy.StoreUri], cancellationToken);
            if (row is null)
            {
                var region = options.EffectiveRegions.FirstOrDefault(r => r.CopyStore == copy.StoreUri)?.Name;
                if (region is null)
                {
                    // A store no region has (any more): nothing to judge it by, and nothing to recover from.
                    continue;
                }

                row = db.VmDiskCopies.Add(new VmDiskCopy { VmId = vm.Id, StoreUri = copy.StoreUri, Region = region, Status = DiskCopyStatus.None }).Entity;
            }

            // Never backwards: a report from before a copy (two reports crossing) keeps the newer one.
            if (copy.LatestCopyAt is { } latest && (row.LatestCopyAt is null || latest >= row.LatestCopyAt))
            {
                row.LatestCopyAt = latest;
                row.LatestBytes = copy.LatestBytes;
                row.DiskBytes = copy.DiskBytes;
                row.ChainLength = copy.ChainLength;
            }

            if (copy.LastAttemptAt is { } attempt && (row.LastAttemptAt is null || attempt >= row.LastAttemptAt))
            {
                row.LastAttemptAt = attempt;
                row.LastError = copy.LastError is { Length: > 2048 } long_ ? long_[..2048] : copy.LastError;
            }
        }
    }
}
