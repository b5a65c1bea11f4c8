namespace Stratus.Compute.Agents;

// The wire protocol between the compute service and host agents. The agent keeps its own copy of these
// records (Stratus.HostAgent), as every consumer of a service's contract does.

public sealed record EnrollRequest(string? EnrollmentToken, string? Name, string? Region, string? Zone, string? Driver, string? Accelerator, int? VCpus, int? MemoryMiB, int? DiskGiB, string? AgentVersion);

public sealed record EnrollResponse(Guid HostId, string AgentToken, string Region, string Zone);

/// <param name="Created">The host has reported this VM before: if its disk is not there now, it was lost, and the agent
/// reports it missing instead of making a new, empty one in its place.</param>
public sealed record DesiredVm(Guid Id, string ImageId, int VCpuCount, int MemoryMiB, int DiskGiB, string Power, bool Delete, long Generation, bool Created = false,
    DesiredDiskCopies? Copies = null, DesiredRestore? RestoreFrom = null, long Epoch = 0, DesiredNic? Nic = null);

/// <summary>The VM's NIC on a network connection (issue 20); a VM without one is on the hosted network (QEMU user-mode NAT).</summary>
public sealed record DesiredNic(Guid NetworkConnectionId, string IpAddress);

/// <summary>
/// A network connection of the host's region to realize (bridge, namespace with ServiceAddress, DHCP), and to check
/// whenever CheckRunId changes. Every host of the region gets every connection of the region.
/// </summary>
public sealed record DesiredNetwork(Guid Id, long Version, string Subnet, string Gateway, int Mtu, string UplinkKind,
    string UplinkInterface, int? VlanId, int? VxlanId, string? VxlanRemote, int? VxlanPort, string ServiceAddress,
    IReadOnlyList<string> DnsServers, string? DnsSearchDomain, IReadOnlyList<string> DnsNamesToResolve,
    IReadOnlyList<string> RequiredEndpoints, Guid? CheckRunId);

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
    IReadOnlyList<Guid> DeletedVmIds, IReadOnlyList<DesiredNetwork>? Networks = null);

/// <param name="NetworkConnectionId">The connection the VM's NIC is on now; null: the hosted network (or an agent without NICs).</param>
public sealed record ReportedVm(Guid Id, string State, bool Ready, long Generation, string? Detail, IReadOnlyList<ReportedDiskCopy>? Copies = null,
    Guid? NetworkConnectionId = null);

/// <summary>One health check of a network connection run by the agent (Status passed, failed or warning).</summary>
public sealed record NetworkCheckResult(string Name, string Status, string? ErrorType, string? RecommendedAction,
    string? AdditionalDetails, DateTimeOffset StartDateTime, DateTimeOffset EndDateTime);

/// <summary>A connection as the host realized it, with its latest checks (for CheckRunId, done at CheckedAt).</summary>
public sealed record ReportedNetwork(Guid Id, long Version, bool Realized, string? Error, Guid? CheckRunId,
    DateTimeOffset? CheckedAt, IReadOnlyList<NetworkCheckResult>? Checks);

/// <summary>The VM's copies to one store: the latest that succeeded, and the last attempt's error when it failed.</summary>
public sealed record ReportedDiskCopy(string StoreUri, DateTimeOffset? LatestCopyAt, long? LatestBytes, long? DiskBytes, int ChainLength, DateTimeOffset? LastAttemptAt, string? LastError);

public sealed record ReportedOperation(Guid Id, bool Succeeded, string? Result);

/// <summary>A VM the agent has that its desired state neither wants nor marked deleted; kept stopped.</summary>
public sealed record ReportedUnmanagedVm(Guid Id, string? State, string? ImageId, int VCpuCount, int MemoryMiB, int DiskGiB);

/// <summary>
/// A heartbeat with the host's actual state: every VM it runs, and finished operations. UnmanagedVms is null
/// from an agent older than them, or before its first desired state: then the host's list stays as it was. So does
/// the host's list of interfaces (those that may be uplinks) when Interfaces is null.
/// </summary>
public sealed record AgentReport(string? Accelerator, string? AgentVersion, IReadOnlyList<ReportedVm>? Vms, IReadOnlyList<ReportedOperation>? Operations,
    IReadOnlyList<ReportedUnmanagedVm>? UnmanagedVms = null, IReadOnlyList<ReportedNetwork>? Networks = null, IReadOnlyList<string>? Interfaces = null);
