namespace Stratus.Provisioning.CloudPcs;

/// <summary>Graph's cloudPcStatus values that Stratus uses.</summary>
public enum CloudPcStatus
{
    NotProvisioned,
    Provisioning,
    Provisioned,
    InGracePeriod,
    Deprovisioning,
    Failed,
    Resizing,
    Restoring,

    /// <summary>Its host was lost: its VM is being made again on another host from its latest disk copy (HostLossHandlers).</summary>
    Recovering,
}

public enum CloudPcPowerState
{
    Unknown,
    Running,
    PoweredOff,
}

/// <summary>Where a Cloud PC's orchestration stands: the step it waits on, if any.</summary>
public enum CloudPcStep
{
    None,

    /// <summary>Network chooses the first usable connection of the policy (only for a policy naming a custom one).</summary>
    SelectingNetwork,
    Placing,
    Booting,
    Deleting,

    /// <summary>A resize waits for the VM to report stopped with the new size (a report of the generation that holds it).</summary>
    ResizeStopping,

    /// <summary>A resize waits for the VM to report running and ready after its start with the new size.</summary>
    ResizeStarting,
}

/// <summary>
/// A user's dedicated Cloud PC of one plan. Its VM is compute's; this record holds what the user and the admin
/// see and the orchestration's progress, so that a restart resumes from here.
/// </summary>
public sealed class CloudPc
{
    public Guid Id { get; init; }

    public Guid TenantId { get; init; }

    public Guid UserId { get; init; }

    public required string UserPrincipalName { get; set; }

    public required string DisplayName { get; set; }

    public required string ManagedDeviceName { get; set; }

    public Guid ProvisioningPolicyId { get; set; }

    public required string ProvisioningPolicyName { get; set; }

    public Guid ServicePlanId { get; set; }

    public required string ServicePlanName { get; set; }

    public int VCpuCount { get; set; }

    public int MemoryMiB { get; set; }

    public int DiskGiB { get; set; }

    public required string ImageId { get; set; }

    public required string ImageDisplayName { get; set; }

    public required string RegionName { get; set; }

    /// <summary>The network connection its NIC is on (Graph's onPremisesConnectionId); null: the hosted network.</summary>
    public Guid? NetworkConnectionId { get; set; }

    /// <summary>That connection's display name when it was chosen; null for the hosted network.</summary>
    public string? NetworkConnectionName { get; set; }

    /// <summary>The address compute reported for its NIC (vmPlaced, vmNetworkChanged), if any.</summary>
    public string? IpAddress { get; set; }

    public CloudPcStatus Status { get; set; }

    public string? StatusDetailCode { get; set; }

    public string? StatusDetailMessage { get; set; }

    public bool? StatusDetailRetryable { get; set; }

    public CloudPcPowerState PowerState { get; set; }

    public DateTimeOffset? GracePeriodEnd { get; set; }

    public DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset LastModifiedAt { get; set; }

    /// <summary>The VM of the current provisioning; a new one for every reprovision or retry.</summary>
    public Guid VmId { get; set; }

    public string? HostName { get; set; }

    /// <summary>The host compute placed the current VM on: its Cloud PCs show when it goes down and comes back.</summary>
    public Guid? HostId { get; set; }

    /// <summary>
    /// When compute took the VM report last applied here. Reports can be delivered out of order (a restart's
    /// "stopped" after its "running"); an older one than this is stale and changes nothing.
    /// </summary>
    public DateTimeOffset? LastVmReportAt { get; set; }

    /// <summary>The highest desired-state generation of the VM that its host has reported converging on.</summary>
    public long LastVmGeneration { get; set; }

    /// <summary>
    /// A resize step waits for a report of a generation above this one: the VM's change it asked for (compute
    /// counts every change of a VM as a new generation), not an older report that happens to say the same.
    /// </summary>
    public long StepAfterGeneration { get; set; }

    /// <summary>What the VM's host last said about it (for a failed boot, the tail of its serial log).</summary>
    public string? VmDetail { get; set; }

    public CloudPcStep Step { get; set; }

    /// <summary>Matches the pending StepDeadline message; a deadline with another token is stale.</summary>
    public Guid StepToken { get; set; }

    /// <summary>Failed attempts of the current step: two retries, then failed.</summary>
    public int Attempt { get; set; }

    /// <summary>The action (operation) that drives the Cloud PC now, if any: one at a time.</summary>
    public Guid? ActiveOperationId { get; set; }

    /// <summary>The plan a resize goes to.</summary>
    public Guid? TargetServicePlanId { get; set; }

    /// <summary>The slot of its next automatic restore point; set once it is provisioned.</summary>
    public DateTimeOffset? NextRestorePointAt { get; set; }

    /// <summary>Where the Cloud PC stands in cross-region disaster recovery (see DisasterRecovery).</summary>
    public DisasterRecoveryState DisasterRecoveryState { get; set; }

    /// <summary>While failed over: the primary region's VM, kept (stopped) until failback replaces it.</summary>
    public Guid? PrimaryVmId { get; set; }

    /// <summary>The VM a failover or failback is making; it becomes VmId when it reports ready.</summary>
    public Guid? PendingVmId { get; set; }

    public string? PendingHostName { get; set; }

    public Guid? PendingHostId { get; set; }

    /// <summary>
    /// The backup region its user's setting gives it (crossRegion disaster recovery), kept here when the setting is
    /// applied to its VM so that lists and reports need no setting lookup per Cloud PC; null without one.
    /// </summary>
    public string? BackupRegionName { get; set; }

    /// <summary>The region the Cloud PC runs in while failed over (the backup region); null in its own region.</summary>
    public string? DisasterRecoveryRegionName { get; set; }

    /// <summary>The failback's CopyDisk operation on the disaster-recovery VM.</summary>
    public Guid? DisasterRecoveryCopyOperationId { get; set; }

    /// <summary>When disaster recovery last changed state, and who asked for it.</summary>
    public DateTimeOffset? DisasterRecoveryChangedAt { get; set; }

    public string? DisasterRecoveryChangedBy { get; set; }

    /// <summary>Compute's reason the latest copy of the disk in DiskCopyWarningRegion's store is late, while it is.</summary>
    public string? DiskCopyWarning { get; set; }

    public string? DiskCopyWarningRegion { get; set; }

    public DateTimeOffset? DiskCopyWarningSince { get; set; }

    /// <summary>Optimistic concurrency: handlers of one Cloud PC's messages may run at once.</summary>
    public Guid Version { get; set; }
}

/// <summary>A Cloud PC's cross-region disaster recovery: its own region, failing over, failed over, failing back.</summary>
public enum DisasterRecoveryState
{
    None,

    /// <summary>A VM is being made in the backup region from the latest copy of the primary's disk.</summary>
    FailingOver,

    /// <summary>The Cloud PC runs on its backup region's VM.</summary>
    Active,

    /// <summary>Failback waits for the disaster-recovery VM to stop.</summary>
    FailbackStopping,

    /// <summary>Failback waits for a copy of the stopped disaster-recovery VM's disk in the primary region's store.</summary>
    FailbackCopying,

    /// <summary>Failback makes the new primary VM from that copy.</summary>
    FailbackPlacing,
}

public enum OperationStatus
{
    Running,
    Succeeded,
    Failed,
}

/// <summary>An admin's or user's action on a Cloud PC, answered 202 and polled.</summary>
public sealed class CloudPcOperation
{
    public Guid Id { get; init; }

    public Guid TenantId { get; init; }

    public Guid CloudPcId { get; init; }

    public required string Action { get; init; }

    public OperationStatus Status { get; set; }

    public string? Detail { get; set; }

    public string? IdempotencyKey { get; init; }

    /// <summary>The restore point a createSnapshot, restore or export works on.</summary>
    public Guid? RestorePointId { get; init; }

    public required string RequestedBy { get; init; }

    public DateTimeOffset CreatedAt { get; init; }

    public DateTimeOffset? CompletedAt { get; set; }
}
