using Stratus.Compute.Persistence;

namespace Stratus.Compute.Vms;

public enum PowerState
{
    Running,
    Stopped,
}

/// <summary>
/// A VM as the control plane wants it (spec, power, generation) and as its host last reported it. Agents
/// converge on the desired part; the reported part is only ever written by the host's agent.
/// </summary>
public sealed class Vm
{
    public Guid Id { get; init; }

    public Guid HostId { get; set; }

    public Guid? TenantId { get; init; }

    public required string Region { get; init; }

    public required string ImageId { get; set; }

    public int VCpuCount { get; set; }

    public int MemoryMiB { get; set; }

    public int DiskGiB { get; set; }

    public PowerState DesiredPower { get; set; }

    /// <summary>True once deletion is wanted; the row goes when the agent reports the VM gone.</summary>
    public bool DeleteRequested { get; set; }

    /// <summary>Bumped by every change of the desired part.</summary>
    public long Generation { get; set; }

    public string? ReportedState { get; set; }

    public long ReportedGeneration { get; set; }

    public bool Ready { get; set; }

    public string? ReportedDetail { get; set; }

    public DateTimeOffset? ReportedAt { get; set; }

    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>Fencing: raised each time the VM is made again on another host; an agent never starts a disk of an older one.</summary>
    public long Epoch { get; set; }

    /// <summary>When the VM came to its current host (placed, or recovered there): copies are judged from then.</summary>
    public DateTimeOffset? MovedAt { get; set; }

    /// <summary>True when copies were turned off (SetVmDiskCopies with none); else CopyIntervalMinutes or the default apply.</summary>
    public bool CopiesOff { get; set; }

    /// <summary>Minutes between copies; null: Stratus:Compute:DiskCopies:DefaultInterval.</summary>
    public int? CopyIntervalMinutes { get; set; }

    /// <summary>A second region whose store gets copies too (disaster recovery).</summary>
    public string? CopyBackupRegion { get; set; }

    /// <summary>Make the disk from the latest copy of this VM's disk in RestoreFromRegion's store, not from the image (until its host has it).</summary>
    public Guid? RestoreFromVmId { get; set; }

    public string? RestoreFromRegion { get; set; }

    /// <summary>Why the last recovery of the VM from a lost host failed; null when none failed. Keeps the failure event to one per reason.</summary>
    public string? RecoveryFailure { get; set; }

    /// <summary>The network connection the VM's NIC is to be on (its address in network_addresses); null: the hosted network.</summary>
    public Guid? NetworkConnectionId { get; set; }

    /// <summary>The connection its host last reported the NIC on; null: the hosted network.</summary>
    public Guid? ReportedNetworkConnectionId { get; set; }

    /// <summary>The last ChangeVmNetwork taken: a redelivery of it changes nothing.</summary>
    public Guid? NetworkChangeOperationId { get; set; }

    /// <summary>While that change runs: when it fails unless the host reports the NIC on the new connection first.</summary>
    public DateTimeOffset? NetworkChangeDeadline { get; set; }

    /// <summary>While that change runs: the connection it goes back to when it fails (null: the hosted network).</summary>
    public Guid? NetworkChangeFrom { get; set; }
}

/// <summary>
/// A tombstone: a VM id that was deleted, or whose deletion was asked before it was placed. Commands can arrive
/// out of order or be redelivered; a placement for one of these ids must not bring the VM back. One with a host
/// and no confirmation is an order to that host's agent (its desired state lists it), the only way besides a
/// desired VM marked deleted that an agent deletes a disk; the agent confirms by no longer reporting the VM.
/// Confirmed tombstones are pruned after <see cref="ComputeOptions.TombstoneRetention"/>.
/// </summary>
public sealed class DeletedVm
{
    /// <summary>
    /// How long a confirmed tombstone stays in its host's desired state: an agent pass that was creating the VM when
    /// it was deleted (a report does not show a create under way) may finish it after the confirmation, and that VM
    /// must be deleted, not kept as unmanaged. A report that shows the VM again reopens the tombstone.
    /// </summary>
    public static readonly TimeSpan ListedAfterConfirmation = TimeSpan.FromHours(1);

    public Guid Id { get; init; }

    public DateTimeOffset DeletedAt { get; set; }

    /// <summary>The host whose agent is to delete the VM; null when no host had it (deleted before placement).</summary>
    public Guid? HostId { get; set; }

    /// <summary>When the host reported the VM gone (or, with no host, when it was deleted); null while pending.</summary>
    public DateTimeOffset? ConfirmedAt { get; set; }

    /// <summary>Records that the VM is deleted: a new tombstone, or the existing one made an order to this host again.</summary>
    public static async Task<DeletedVm> MarkAsync(ComputeDbContext db, Guid id, Guid? hostId, DateTimeOffset now, bool confirmed, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        var tombstone = await db.DeletedVms.FindAsync([id], cancellationToken) ?? db.DeletedVms.Add(new DeletedVm { Id = id }).Entity;
        tombstone.DeletedAt = now;
        tombstone.HostId = hostId;
        tombstone.ConfirmedAt = confirmed ? now : null;
        return tombstone;
    }
}

/// <summary>
/// A VM that a host's agent found on its disk and that compute neither wants there nor marked deleted (a host
/// enrolled again over its old data, a store restored from an older backup). The agent keeps it stopped; the
/// operator adopts it (back to its Cloud PC) or deletes it. The host's reports replace its list.
/// </summary>
public sealed class UnmanagedVm
{
    public Guid HostId { get; init; }

    public Guid VmId { get; init; }

    public required string State { get; set; }

    public required string ImageId { get; set; }

    public int VCpuCount { get; set; }

    public int MemoryMiB { get; set; }

    public int DiskGiB { get; set; }

    public DateTimeOffset FirstReportedAt { get; init; }
}

public enum VmOperationKind
{
    Restart,
    CreateSnapshot,
    RevertSnapshot,
    DeleteSnapshot,
    ExportSnapshot,

    /// <summary>A disk copy now; Argument: a region (its store), or none for all of the VM's stores.</summary>
    CopyDisk,

    /// <summary>The record of a recovery from a lost host (HostLossRecovery); done by compute itself, never asked for.</summary>
    Recover,
}

public enum VmOperationStatus
{
    Pending,
    Succeeded,
    Failed,
}

/// <summary>A one-shot action on a VM, done once by its agent however often it is sent (keyed by its id).</summary>
public sealed class VmOperation
{
    public Guid Id { get; init; }

    public Guid VmId { get; init; }

    public VmOperationKind Kind { get; init; }

    /// <summary>Snapshot name, or for an export name:FILE (FILE relative to the host's export folder), as the kind needs.</summary>
    public string? Argument { get; init; }

    public VmOperationStatus Status { get; set; }

    public string? Result { get; set; }

    public DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset? CompletedAt { get; set; }

    /// <summary>
    /// Why an argument does not fit its kind, or null. An export names no path on the host: only a .qcow2 file
    /// relative to the host's export folder, which the agent resolves there and nowhere else.
    /// </summary>
    /// <summary>The kinds that may be asked for (API, RunVmOperation): every kind but compute's own Recover record.</summary>
    public static readonly IReadOnlyList<VmOperationKind> RequestableKinds = Enum.GetValues<VmOperationKind>().Where(k => k != VmOperationKind.Recover).ToList();

    /// <summary>The problem with a kind asked for, naming only the kinds one may ask for; null when it is one of them.</summary>
    public static string? KindProblem(string? requested, out VmOperationKind kind)
    {
        var parsed = Enum.TryParse(requested, ignoreCase: true, out kind) && Enum.IsDefined(kind);
        return parsed && RequestableKinds.Contains(kind) ? null
            : $"'kind' must be one of {string.Join(", ", RequestableKinds)}{(requested is null ? "" : $", not '{requested}'")}.";
    }

    public static string? ArgumentProblem(VmOperationKind kind, string? argument)
    {
        if (kind is VmOperationKind.Restart or VmOperationKind.CopyDisk)
        {
            return null;
        }

        if (string.IsNullOrWhiteSpace(argument))
        {
            return $"{kind} needs 'argument': the snapshot name{(kind == VmOperationKind.ExportSnapshot ? " and the export file as name:FILE" : "")}.";
        }

        var separator = argument.IndexOf(':', StringComparison.Ordinal);
        var file = kind == VmOperationKind.ExportSnapshot && separator > 0 ? argument[(separator + 1)..] : null;
        return kind != VmOperationKind.ExportSnapshot || (file is { Length: > 0 } && !Path.IsPathRooted(file) && file.EndsWith(".qcow2", StringComparison.Ordinal)
                && file.Split('/', '\\').All(segment => segment is not ("" or "." or "..")))
            ? null
            : "ExportSnapshot's 'argument' is name:FILE, FILE a relative path ending in .qcow2 with no '..': the host writes it under its export folder, never elsewhere.";
    }
}

/// <summary>
/// A gateway instance's request that the VM's host connect the VM's display out to it (hosts take no inbound
/// connections). It rides in the host's desired state until it expires; the agent dials it once.
/// </summary>
public sealed class ConsoleRelay
{
    /// <summary>How long a request stays in the desired state: the gateway waits for the host far less.</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(30);

    public Guid Id { get; init; }

    public Guid VmId { get; init; }

    public Guid HostId { get; init; }

    /// <summary>The gateway instance's relay endpoint (ws or wss), which it chose so that it is the one holding the browser.</summary>
    public required string Url { get; init; }

    /// <summary>What the agent shows the gateway, which knows only its hash; short-lived, so kept as is.</summary>
    public required string Secret { get; init; }

    public DateTimeOffset ExpiresAt { get; init; }
}
