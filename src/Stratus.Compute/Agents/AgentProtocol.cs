namespace Stratus.Compute.Agents;

// The wire protocol between the compute service and host agents. The agent keeps its own copy of these
// records (Stratus.HostAgent), as every consumer of a service's contract does.

public sealed record EnrollRequest(string? EnrollmentToken, string? Name, string? Region, string? Zone, string? Driver, string? Accelerator, int? VCpus, int? MemoryMiB, int? DiskGiB, string? AgentVersion);

public sealed record EnrollResponse(Guid HostId, string AgentToken, string Region, string Zone);

/// <param name="Created">The host has reported this VM before: if its disk is not there now, it was lost, and the agent
/// reports it missing instead of making a new, empty one in its place.</param>
public sealed record DesiredVm(Guid Id, string ImageId, int VCpuCount, int MemoryMiB, int DiskGiB, string Power, bool Delete, long Generation, bool Created = false,
    DesiredDiskCopies? Copies = null, DesiredRestore? RestoreFrom = null, long Epoch = 0);

/// <summary>Copy the VM's disk to each store (file:// or s3:// URI) every IntervalSeconds; null: no copies.</summary>
public sealed record DesiredDiskCopies(int IntervalSeconds, IReadOnlyList<string> StoreUris);

/// <summary>Create the VM's disk from the latest copy of SourceVmId's disk in StoreUri instead of from its image.</summary>
public sealed record DesiredRestore(Guid SourceVmId, string StoreUri);

public sealed record DesiredOperation(Guid Id, Guid VmId, string Kind, string? Argument);

/// <summary>Connect the VM's display (VNC) out to Url, a gateway's WebSocket, showing Secret in X-Stratus-Relay-Secret.</summary>
public sealed record DesiredConsoleRelay(Guid Id, Guid VmId, string Url, string Secret);

/// <summary>
/// Everything the host should be running, at a version; the agent converges on it as a whole. It deletes only
/// the VMs marked Delete and those in DeletedVmIds (tombstones it has not confirmed yet); any other VM it has is
/// unmanaged, never deleted.
/// </summary>
public sealed record DesiredState(
    Guid HostId, long Version, IReadOnlyList<DesiredVm> Vms, IReadOnlyList<DesiredOperation> Operations, IReadOnlyList<DesiredConsoleRelay> ConsoleRelays,
    IReadOnlyList<Guid> DeletedVmIds);

public sealed record ReportedVm(Guid Id, string State, bool Ready, long Generation, string? Detail, IReadOnlyList<ReportedDiskCopy>? Copies = null);

/// <summary>The VM's copies to one store: the latest that succeeded, and the last attempt's error when it failed.</summary>
public sealed record ReportedDiskCopy(string StoreUri, DateTimeOffset? LatestCopyAt, long? LatestBytes, long? DiskBytes, int ChainLength, DateTimeOffset? LastAttemptAt, string? LastError);

public sealed record ReportedOperation(Guid Id, bool Succeeded, string? Result);

/// <summary>A VM the agent has that its desired state neither wants nor marked deleted; kept stopped.</summary>
public sealed record ReportedUnmanagedVm(Guid Id, string? State, string? ImageId, int VCpuCount, int MemoryMiB, int DiskGiB);

/// <summary>
/// A heartbeat with the host's actual state: every VM it runs, and finished operations. UnmanagedVms is null
/// from an agent older than them, or before its first desired state: then the host's list stays as it was.
/// </summary>
public sealed record AgentReport(string? Accelerator, string? AgentVersion, IReadOnlyList<ReportedVm>? Vms, IReadOnlyList<ReportedOperation>? Operations,
    IReadOnlyList<ReportedUnmanagedVm>? UnmanagedVms = null);
