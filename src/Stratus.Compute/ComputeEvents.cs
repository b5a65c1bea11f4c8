using Stratus.Platform.Messaging;

namespace Stratus.Compute;

[MessageName("compute.hostDown.v1")]
public sealed record HostDown(Guid HostId, string Name, string Region, string Zone, DateTimeOffset LastHeartbeatAt, DateTimeOffset DetectedAt);

/// <summary>A host that was down reports again: its VMs are reachable again.</summary>
[MessageName("compute.hostUp.v1")]
public sealed record HostUp(Guid HostId, string Name, string Region, string Zone, DateTimeOffset DetectedAt);

[MessageName("compute.vmReported.v1")]
public sealed record VmReported(Guid VmId, Guid HostId, string State, bool Ready, long Generation, string? Detail, DateTimeOffset ReportedAt);

[MessageName("compute.vmOperationCompleted.v1")]
public sealed record VmOperationCompleted(Guid OperationId, Guid VmId, string Kind, bool Succeeded, string? Result, DateTimeOffset CompletedAt);

/// <param name="NetworkConnectionId">The connection its NIC is on; null: the hosted network.</param>
/// <param name="IpAddress">Its address on that connection; null on the hosted network.</param>
[MessageName("compute.vmPlaced.v1")]
public sealed record VmPlaced(Guid VmId, Guid HostId, string HostName, string Region, string Zone, Guid? NetworkConnectionId = null, string? IpAddress = null);

/// <summary>No host could take the VM; the sender decides when to try again.</summary>
[MessageName("compute.vmPlacementFailed.v1")]
public sealed record VmPlacementFailed(Guid VmId, string Region, string Reason);

// Commands other services send to compute through their outbox: durable, and idempotent by VM or operation id.

/// <param name="NetworkConnectionId">The network connection (of Region) for the VM's NIC; null: the hosted network.</param>
[MessageName("compute.placeVm.v1")]
public sealed record PlaceVm(Guid VmId, Guid? TenantId, string Region, string ImageId, int VCpuCount, int MemoryMiB, int DiskGiB,
    VmRestoreSource? RestoreFrom = null, DiskCopyPolicy? Copies = null, Guid? NetworkConnectionId = null);

/// <summary>Make the new VM's disk from the latest copy of SourceVmId's disk in Region's copy store (disaster recovery, failback).</summary>
public sealed record VmRestoreSource(Guid SourceVmId, string Region);

/// <summary>
/// Copy the VM's disk every IntervalMinutes (null: compute's Stratus:Compute:DiskCopies:DefaultInterval) to its region's
/// copy store and, when BackupRegion is set, to that region's too.
/// </summary>
public sealed record DiskCopyPolicy(int? IntervalMinutes, string? BackupRegion);

/// <summary>Changes an existing VM's copy policy (a user setting changed); null Copies stops them.</summary>
[MessageName("compute.setVmDiskCopies.v1")]
public sealed record SetVmDiskCopies(Guid VmId, DiskCopyPolicy? Copies);

/// <summary>Changes a VM's desired state; null fields stay as they are. Sizes apply at the VM's next boot (disks grow at once).</summary>
[MessageName("compute.changeVm.v1")]
public sealed record ChangeVm(Guid VmId, string? Power, bool Delete, int? VCpuCount = null, int? MemoryMiB = null, int? DiskGiB = null);

[MessageName("compute.runVmOperation.v1")]
public sealed record RunVmOperation(Guid OperationId, Guid VmId, string Kind, string? Argument);

// Issue 18: disk copies and host loss.

/// <summary>The VM's host is lost: the VM is being made again on another host (ToHostId) from its copy taken at CopyTakenAt.</summary>
[MessageName("compute.vmRecovering.v1")]
public sealed record VmRecovering(Guid VmId, Guid TenantId, Guid FromHostId, Guid ToHostId, string Region, DateTimeOffset CopyTakenAt, DateTimeOffset DetectedAt);

/// <summary>The VM's host is lost and the VM could not be made again (no copy, no capacity); it is tried again later.</summary>
[MessageName("compute.vmRecoveryFailed.v1")]
public sealed record VmRecoveryFailed(Guid VmId, Guid TenantId, Guid HostId, string Reason);

/// <summary>The VM's latest copy in Region's store is older than twice its interval (or there is none); Reason says why.</summary>
[MessageName("compute.diskCopyStale.v1")]
public sealed record DiskCopyStale(Guid VmId, Guid TenantId, string Region, DateTimeOffset? LatestCopyAt, string Reason);

/// <summary>The VM's copies to Region's store are on time again.</summary>
[MessageName("compute.diskCopyHealthy.v1")]
public sealed record DiskCopyHealthy(Guid VmId, Guid TenantId, string Region, DateTimeOffset LatestCopyAt);

// Issue 20: network connections. Network publishes the connections; compute realizes them on every host of their
// region (desired state) and relays the hosts' checks back.

[MessageName("network.connectionUpserted.v1")]
public sealed record NetworkConnectionUpserted(Guid TenantId, Guid ConnectionId, string Region, long Version, string Subnet,
    string Gateway, int Mtu, string UplinkKind, string UplinkInterface, int? VlanId, int? VxlanId, string? VxlanRemote,
    int? VxlanPort, IReadOnlyList<string> DnsServers, string? DnsSearchDomain, IReadOnlyList<string> DnsNamesToResolve,
    IReadOnlyList<string> RequiredEndpoints, DateTimeOffset OccurredAt);

[MessageName("network.connectionDeleted.v1")]
public sealed record NetworkConnectionDeleted(Guid TenantId, Guid ConnectionId, string Region, long Version, DateTimeOffset OccurredAt);

[MessageName("network.healthCheckRequested.v1")]
public sealed record NetworkHealthCheckRequested(Guid TenantId, Guid ConnectionId, string Region, Guid RunId, DateTimeOffset OccurredAt);

/// <summary>A host's checks of a connection, published once per (host, connection, CheckedAt).</summary>
/// <param name="RegionHostCount">Hosts of the region that are up now (each gets every connection of the region).</param>
[MessageName("compute.networkChecksReported.v1")]
public sealed record NetworkChecksReported(Guid ConnectionId, Guid? RunId, Guid HostId, string HostName, string Region,
    int RegionHostCount, bool Realized, string? Error, IReadOnlyList<Agents.NetworkCheckResult> Checks, DateTimeOffset CheckedAt);

/// <summary>Moves a VM's NIC to another connection of its region (null: the hosted network); answered by VmNetworkChanged.</summary>
[MessageName("compute.changeVmNetwork.v1")]
public sealed record ChangeVmNetwork(Guid VmId, Guid OperationId, Guid? NetworkConnectionId);

/// <summary>The answer to ChangeVmNetwork: the VM's host reported its NIC on the connection, or the move failed (Error).</summary>
[MessageName("compute.vmNetworkChanged.v1")]
public sealed record VmNetworkChanged(Guid VmId, Guid OperationId, Guid? NetworkConnectionId, string? IpAddress,
    bool Succeeded, string? Error, DateTimeOffset OccurredAt);
