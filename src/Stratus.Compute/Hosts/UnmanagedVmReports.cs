using Microsoft.EntityFrameworkCore;
using Stratus.Compute.Agents;
using Stratus.Compute.Persistence;
using Stratus.Compute.Vms;

namespace Stratus.Compute.Hosts;

/// <summary>What a host's report says about VMs compute does not manage there: its unmanaged list and its deletions.</summary>
internal static class UnmanagedVmReports
{
    /// <summary>
    /// Confirms the host's pending tombstones whose VM it no longer reports (the agent deleted it), and replaces
    /// the host's unmanaged list with the reported one, leaving out VMs compute manages on this host (a placement
    /// newer than the desired state the agent judged by) and those it is deleting.
    /// </summary>
    public static async Task ApplyAsync(ComputeDbContext db, Host host, AgentReport? report, IReadOnlySet<Guid> managedIds, IReadOnlySet<Guid> reportedIds,
        DateTimeOffset now, CancellationToken cancellationToken)
    {
        // The tombstones the host's desired state lists: pending ones, and those confirmed lately (a VM whose create was
        // under way when it was deleted shows up again, and reopens its tombstone until the agent deletes it).
        var listedSince = now - DeletedVm.ListedAfterConfirmation;
        var pending = await db.DeletedVms.Where(d => d.HostId == host.Id && (d.ConfirmedAt == null || d.ConfirmedAt > listedSince)).ToListAsync(cancellationToken);
        foreach (var deleted in pending)
        {
            var gone = !reportedIds.Contains(deleted.Id);
            if (gone != deleted.ConfirmedAt.HasValue)
            {
                deleted.ConfirmedAt = gone ? now : null;
                host.DesiredVersion++;
            }
        }

        if (report?.UnmanagedVms is not { } reported)
        {
            return;
        }

        var deleting = pending.Where(t => t.ConfirmedAt is null).Select(t => t.Id).ToHashSet();
        var listed = await db.UnmanagedVms.Where(u => u.HostId == host.Id).ToDictionaryAsync(u => u.VmId, cancellationToken);
        var current = reported.Where(v => !managedIds.Contains(v.Id) && !deleting.Contains(v.Id)).DistinctBy(v => v.Id).ToDictionary(v => v.Id);
        db.UnmanagedVms.RemoveRange(listed.Values.Where(u => !current.ContainsKey(u.VmId)));
        foreach (var vm in current.Values)
        {
            var row = listed.GetValueOrDefault(vm.Id)
                ?? db.UnmanagedVms.Add(new UnmanagedVm { HostId = host.Id, VmId = vm.Id, State = "", ImageId = "", FirstReportedAt = now }).Entity;

            // Assigning equal values writes nothing: a heartbeat that changes nothing costs no update.
            row.State = Clip(vm.State ?? "unknown", 32);
            row.ImageId = Clip(vm.ImageId ?? "", 128);
            row.VCpuCount = vm.VCpuCount;
            row.MemoryMiB = vm.MemoryMiB;
            row.DiskGiB = vm.DiskGiB;
        }
    }

    private static string Clip(string text, int length) => text.Length > length ? text[..length] : text;
}
