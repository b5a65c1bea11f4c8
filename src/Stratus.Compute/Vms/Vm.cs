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
}

/// <summary>
/// A VM id that was deleted, or whose deletion was asked before it was placed. Commands can arrive out of
/// order or be redelivered; a placement for one of these ids must not bring the VM back.
/// </summary>
public sealed class DeletedVm
{
    public Guid Id { get; init; }

    public DateTimeOffset DeletedAt { get; init; }
}

public enum VmOperationKind
{
    Restart,
    CreateSnapshot,
    RevertSnapshot,
    DeleteSnapshot,
    ExportSnapshot,
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

    /// <summary>Snapshot name or export path, as the kind needs.</summary>
    public string? Argument { get; init; }

    public VmOperationStatus Status { get; set; }

    public string? Result { get; set; }

    public DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset? CompletedAt { get; set; }
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
