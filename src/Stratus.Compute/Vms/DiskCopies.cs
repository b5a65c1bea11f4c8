namespace Stratus.Compute.Vms;

public enum DiskCopyStatus
{
    /// <summary>No copy yet, and the VM is younger on its host than twice its interval.</summary>
    None,

    Healthy,

    /// <summary>The latest copy is on time but the last attempt failed.</summary>
    Failed,

    /// <summary>The latest copy is older than twice the interval, or there is none after that long.</summary>
    Stale,
}

/// <summary>A VM's copies to one store, as its agent last reported them and as the staleness check judged them.</summary>
public sealed class VmDiskCopy
{
    public Guid VmId { get; init; }

    public required string StoreUri { get; init; }

    public required string Region { get; set; }

    public DateTimeOffset? LatestCopyAt { get; set; }

    public long? LatestBytes { get; set; }

    public long? DiskBytes { get; set; }

    public int ChainLength { get; set; }

    public DateTimeOffset? LastAttemptAt { get; set; }

    public string? LastError { get; set; }

    public DiskCopyStatus Status { get; set; }

    /// <summary>Why it is stale (the host unreachable, the agent's last error), for people and the events.</summary>
    public string? StatusReason { get; set; }
}

/// <summary>
/// A per-host tombstone: the VM was made again on another host (host loss) and its disk on FromHostId is stale. That
/// host's agent keeps the disk stopped (the VM is not in its desired state, and its epoch is older) and deletes it
/// only when compute lists it deleted, which it does once the VM reported ready on its new host. Not a DeletedVm:
/// the VM itself lives on, and a DeletedVm would keep it from being placed anywhere.
/// </summary>
public sealed class MovedVm
{
    public Guid VmId { get; init; }

    public Guid FromHostId { get; init; }

    public Guid ToHostId { get; set; }

    public DateTimeOffset MovedAt { get; set; }

    /// <summary>When the old host reported the stale disk gone.</summary>
    public DateTimeOffset? ConfirmedAt { get; set; }
}

/// <summary>Where and how often a VM's disk is copied, from its policy and the regions' stores.</summary>
public sealed record VmCopyPlan(TimeSpan Interval, IReadOnlyList<(string Region, string StoreUri)> Stores)
{
    public static VmCopyPlan? Of(Vm vm, ComputeOptions options)
    {
        ArgumentNullException.ThrowIfNull(vm);
        ArgumentNullException.ThrowIfNull(options);
        if (vm.CopiesOff)
        {
            return null;
        }

        var stores = new[] { vm.Region, vm.CopyBackupRegion }.OfType<string>().Distinct()
            .Select(region => (Region: region, StoreUri: options.CopyStoreOf(region)))
            .Where(s => s.StoreUri is not null).Select(s => (s.Region, s.StoreUri!)).ToList();
        var interval = vm.CopyIntervalMinutes is { } minutes ? TimeSpan.FromMinutes(minutes) : options.DiskCopies.DefaultInterval;
        return stores.Count == 0 ? null : new VmCopyPlan(interval, stores);
    }

    /// <summary>Applies a PlaceVm or SetVmDiskCopies policy; null from PlaceVm: the default; from SetVmDiskCopies: off.</summary>
    public static void Apply(Vm vm, DiskCopyPolicy? policy, bool nullMeansOff)
    {
        ArgumentNullException.ThrowIfNull(vm);
        vm.CopiesOff = policy is null && nullMeansOff;
        vm.CopyIntervalMinutes = policy?.IntervalMinutes;
        vm.CopyBackupRegion = policy?.BackupRegion;
    }
}
