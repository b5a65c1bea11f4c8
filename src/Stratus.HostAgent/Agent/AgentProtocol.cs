using Stratus.HostAgent.Drivers;

namespace Stratus.HostAgent.Agent;

// The agent's own copy of the compute service's agent protocol (see Stratus.Compute/Agents).

internal sealed record EnrollRequest(string EnrollmentToken, string Name, string? Region, string Zone, string Driver, string Accelerator, int VCpus, int MemoryMiB, int DiskGiB, string AgentVersion);

internal sealed record EnrollResponse(Guid HostId, string AgentToken, string Region, string Zone);

/// <param name="Created">The host reported this VM before; a disk that is gone now was lost and is reported missing, never
/// replaced by an empty one. False from a control plane older than it, which made the agent create it again.</param>
internal sealed record DesiredVm(Guid Id, string ImageId, int VCpuCount, int MemoryMiB, int DiskGiB, string Power, bool Delete, long Generation, bool Created = false,
    DesiredDiskCopies? Copies = null, DesiredRestore? RestoreFrom = null, long Epoch = 0, DesiredNic? Nic = null);

/// <summary>The VM's NIC on a network connection (one of DesiredState.Networks) with its fixed address; null: the hosted network.</summary>
internal sealed record DesiredNic(Guid NetworkConnectionId, string IpAddress);

/// <summary>
/// A tenant's network connection of this host's region, realized on this host (Networks/NetworkRealizer): a bridge with
/// the uplink, a namespace holding ServiceAddress with the DHCP server, and the probe for the checks, run again whenever
/// CheckRunId changes. UplinkKind: "hostInterface" | "vlan" | "vxlan".
/// </summary>
internal sealed record DesiredNetwork(Guid Id, long Version, string Subnet, string Gateway, int Mtu, string UplinkKind,
    string UplinkInterface, int? VlanId, int? VxlanId, string? VxlanRemote, int? VxlanPort, string ServiceAddress,
    IReadOnlyList<string> DnsServers, string? DnsSearchDomain, IReadOnlyList<string> DnsNamesToResolve,
    IReadOnlyList<string> RequiredEndpoints, Guid? CheckRunId);

/// <summary>One check's result; Status "passed" | "failed" | "warning".</summary>
internal sealed record NetworkCheckResult(string Name, string Status, string? ErrorType, string? RecommendedAction,
    string? AdditionalDetails, DateTimeOffset StartDateTime, DateTimeOffset EndDateTime);

/// <summary>A connection as this host has it: realized or why not, and the latest checks (run CheckRunId).</summary>
internal sealed record ReportedNetwork(Guid Id, long Version, bool Realized, string? Error, Guid? CheckRunId,
    DateTimeOffset? CheckedAt, IReadOnlyList<NetworkCheckResult>? Checks);

/// <summary>Copy the VM's disk to each store (file:// or s3:// URI) every IntervalSeconds; null: no copies.</summary>
internal sealed record DesiredDiskCopies(int IntervalSeconds, IReadOnlyList<string> StoreUris);

/// <summary>Create the VM's disk from the latest copy of SourceVmId's disk in StoreUri instead of from its image.</summary>
internal sealed record DesiredRestore(Guid SourceVmId, string StoreUri);

internal sealed record DesiredOperation(Guid Id, Guid VmId, string Kind, string? Argument);

/// <summary>Connect the VM's display out to Url (a gateway instance's WebSocket), showing Secret; see ConsoleRelayDialer.</summary>
internal sealed record DesiredConsoleRelay(Guid Id, Guid VmId, string Url, string Secret);

/// <summary>
/// ConsoleRelays is null from a control plane older than console relays; DeletedVmIds (compute's tombstones of
/// VMs on this host whose deletion the agent has not confirmed yet) is null from one older than tombstones; Networks
/// (every network connection of the host's region) from one older than network connections.
/// </summary>
internal sealed record DesiredState(
    Guid HostId, long Version, IReadOnlyList<DesiredVm> Vms, IReadOnlyList<DesiredOperation> Operations, IReadOnlyList<DesiredConsoleRelay>? ConsoleRelays = null,
    IReadOnlyList<Guid>? DeletedVmIds = null, IReadOnlyList<DesiredNetwork>? Networks = null)
{
    /// <summary>
    /// The VMs compute explicitly marked deleted: a desired VM with Delete set, or a tombstone. The only VMs the
    /// agent ever deletes; one the desired state merely leaves out is kept (see HostAgentService.ConvergeAsync).
    /// </summary>
    public IReadOnlyList<VmTombstone> Deletions() =>
        Vms.Where(v => v.Delete).Select(v => v.Id).Concat(DeletedVmIds ?? []).Distinct().Select(id => VmTombstone.Issue(HostAgentService.DriverId(id))).ToList();
}

/// <param name="NetworkConnectionId">The connection the VM's NIC is on now; null: the hosted network.</param>
internal sealed record ReportedVm(Guid Id, string State, bool Ready, long Generation, string? Detail, IReadOnlyList<ReportedDiskCopy>? Copies = null,
    Guid? NetworkConnectionId = null);

/// <summary>The VM's copies to one store: the latest that succeeded, and the last attempt's error when it failed.</summary>
internal sealed record ReportedDiskCopy(string StoreUri, DateTimeOffset? LatestCopyAt, long? LatestBytes, long? DiskBytes, int ChainLength, DateTimeOffset? LastAttemptAt, string? LastError);

/// <summary>
/// A VM on this host that compute neither wants nor marked deleted (a host enrolled again over its old data, a
/// store restored from an older backup): kept, stopped, and shown to the operator, who adopts or deletes it.
/// </summary>
internal sealed record UnmanagedVm(Guid Id, string State, string ImageId, int VCpuCount, int MemoryMiB, int DiskGiB);

internal sealed record ReportedOperation(Guid Id, bool Succeeded, string? Result);

/// <summary>
/// UnmanagedVms is null until the agent has had a desired state to tell its VMs apart by. Networks: the connections of
/// the desired state as realized and checked here; Interfaces: the host's interfaces that may be uplinks (not lo, not
/// the agent's own bridges, veths, taps, VLAN and VXLAN devices).
/// </summary>
internal sealed record AgentReport(string Accelerator, string AgentVersion, IReadOnlyList<ReportedVm> Vms, IReadOnlyList<ReportedOperation> Operations,
    IReadOnlyList<UnmanagedVm>? UnmanagedVms, IReadOnlyList<ReportedNetwork>? Networks = null, IReadOnlyList<string>? Interfaces = null);

/// <summary>What enrollment gave this host, kept in its data folder so that a restart is the same host.</summary>
/// <param name="ControlPlaneCertificatePin">The pin the host enrolled with (ControlPlanePin), used for every later connection; null for one
/// that enrolled over plain HTTP or trusting the machine's store.</param>
internal sealed record AgentIdentity(Guid HostId, string AgentToken, string Region, string Zone, string? ControlPlaneCertificatePin = null);
