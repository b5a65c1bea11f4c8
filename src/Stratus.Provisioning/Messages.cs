using Stratus.Platform.Messaging;

namespace Stratus.Provisioning;

// Provisioning's own copies of the messages it exchanges with identity and compute (services share names and
// shapes, never assemblies), and its own scheduled messages.

[MessageName("identity.userCreated.v1")]
public sealed record UserCreated(Guid TenantId, long Sequence, DateTimeOffset OccurredAt, Guid UserId, string UserPrincipalName, bool AccountEnabled);

[MessageName("identity.userUpdated.v1")]
public sealed record UserUpdated(Guid TenantId, long Sequence, DateTimeOffset OccurredAt, Guid UserId, string UserPrincipalName, string DisplayName, bool AccountEnabled);

[MessageName("identity.userDeleted.v1")]
public sealed record UserDeleted(Guid TenantId, long Sequence, DateTimeOffset OccurredAt, Guid UserId);

[MessageName("identity.groupMemberAdded.v1")]
public sealed record GroupMemberAdded(Guid TenantId, long Sequence, DateTimeOffset OccurredAt, Guid GroupId, Guid UserId);

[MessageName("identity.groupMemberRemoved.v1")]
public sealed record GroupMemberRemoved(Guid TenantId, long Sequence, DateTimeOffset OccurredAt, Guid GroupId, Guid UserId);

[MessageName("identity.groupDeleted.v1")]
public sealed record GroupDeleted(Guid TenantId, long Sequence, DateTimeOffset OccurredAt, Guid GroupId, IReadOnlyList<Guid> FormerMemberIds);

[MessageName("identity.licenseAssigned.v1")]
public sealed record LicenseAssigned(Guid TenantId, long Sequence, DateTimeOffset OccurredAt, Guid UserId, Guid SkuId);

[MessageName("identity.licenseRemoved.v1")]
public sealed record LicenseRemoved(Guid TenantId, long Sequence, DateTimeOffset OccurredAt, Guid UserId, Guid SkuId);

[MessageName("identity.tenantDeleted.v1")]
public sealed record TenantDeleted(Guid TenantId, long Sequence, DateTimeOffset OccurredAt);

[MessageName("compute.hostDown.v1")]
public sealed record HostDown(Guid HostId, string Name, string Region, string Zone, DateTimeOffset LastHeartbeatAt, DateTimeOffset DetectedAt);

[MessageName("compute.hostUp.v1")]
public sealed record HostUp(Guid HostId, string Name, string Region, string Zone, DateTimeOffset DetectedAt);

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

/// <summary>A VM's latest copy in Region's store is older than twice its interval (or none was ever taken); Reason is compute's.</summary>
[MessageName("compute.diskCopyStale.v1")]
public sealed record DiskCopyStale(Guid VmId, Guid? TenantId, string Region, DateTimeOffset? LatestCopyAt, string? Reason);

/// <summary>The VM's copies to Region's store are on time again.</summary>
[MessageName("compute.diskCopyHealthy.v1")]
public sealed record DiskCopyHealthy(Guid VmId, Guid? TenantId, string Region, DateTimeOffset? LatestCopyAt);

[MessageName("compute.changeVm.v1")]
public sealed record ChangeVm(Guid VmId, string? Power, bool Delete, int? VCpuCount = null, int? MemoryMiB = null, int? DiskGiB = null);

[MessageName("compute.runVmOperation.v1")]
public sealed record RunVmOperation(Guid OperationId, Guid VmId, string Kind, string? Argument);

[MessageName("compute.vmPlaced.v1")]
public sealed record VmPlaced(Guid VmId, Guid HostId, string HostName, string Region, string Zone, Guid? NetworkConnectionId = null, string? IpAddress = null);

/// <summary>Moves a VM's NIC to another network connection (null: the hosted network); answered by VmNetworkChanged.</summary>
[MessageName("compute.changeVmNetwork.v1")]
public sealed record ChangeVmNetwork(Guid VmId, Guid OperationId, Guid? NetworkConnectionId);

[MessageName("compute.vmNetworkChanged.v1")]
public sealed record VmNetworkChanged(Guid VmId, Guid OperationId, Guid? NetworkConnectionId, string? IpAddress, bool Succeeded, string? Error, DateTimeOffset OccurredAt);

[MessageName("compute.vmPlacementFailed.v1")]
public sealed record VmPlacementFailed(Guid VmId, string Region, string Reason);

[MessageName("compute.vmReported.v1")]
public sealed record VmReported(Guid VmId, Guid HostId, string State, bool Ready, long Generation, string? Detail, DateTimeOffset ReportedAt);

[MessageName("compute.vmOperationCompleted.v1")]
public sealed record VmOperationCompleted(Guid OperationId, Guid VmId, string Kind, bool Succeeded, string? Result, DateTimeOffset CompletedAt);

/// <summary>Scheduled when a step starts; a step still waiting when it arrives has timed out.</summary>
[MessageName("provisioning.stepDeadline.v1")]
public sealed record StepDeadline(Guid CloudPcId, Guid StepToken);

/// <summary>Scheduled when an operation starts; an operation still running when it arrives has timed out.</summary>
[MessageName("provisioning.operationDeadline.v1")]
public sealed record OperationDeadline(Guid OperationId, Guid CloudPcId);

/// <summary>Asks network which connection of its policy a provisioning Cloud PC goes on (its step holds StepToken).</summary>
[MessageName("provisioning.selectNetworkConnection.v1")]
public sealed record SelectNetworkConnection(Guid CloudPcId, Guid StepToken);

/// <summary>Moves the next Cloud PC of a move of Cloud PCs off a network connection (one at a time).</summary>
[MessageName("provisioning.moveNextCloudPc.v1")]
public sealed record MoveNextCloudPc(Guid MoveId);

/// <summary>Scheduled when one Cloud PC's move starts; still waiting for compute when it arrives, that move failed.</summary>
[MessageName("provisioning.cloudPcMoveDeadline.v1")]
public sealed record CloudPcMoveDeadline(Guid MoveId, Guid OperationId);

[MessageName("provisioning.gracePeriodEnded.v1")]
public sealed record GracePeriodEnded(Guid CloudPcId, DateTimeOffset GracePeriodEnd);

/// <summary>Evaluates every user of a tenant against its policies, after assignments change.</summary>
[MessageName("provisioning.evaluateTenant.v1")]
public sealed record EvaluateTenant(Guid TenantId);

[MessageName("provisioning.cloudPcStatusChanged.v1")]
public sealed record CloudPcStatusChanged(Guid TenantId, Guid CloudPcId, Guid UserId, string Status, string? StatusDetailCode, DateTimeOffset ChangedAt);
