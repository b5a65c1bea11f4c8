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

    /// <summary>Optimistic concurrency: handlers of one Cloud PC's messages may run at once.</summary>
    public Guid Version { get; set; }
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
