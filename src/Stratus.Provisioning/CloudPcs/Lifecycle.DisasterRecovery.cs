using Microsoft.Extensions.Logging;
using Stratus.Platform.Audit;
using Stratus.Provisioning.Settings;

namespace Stratus.Provisioning.CloudPcs;

/// <summary>
/// Cross-region disaster recovery. Failover makes a VM in the backup region from the latest copy of the primary's
/// disk in that region's copy store and, once it reports ready, makes it the Cloud PC's VM (the gateway connects to a
/// Cloud PC's VmId, so the console follows). Failback keeps the user's changes: the disaster-recovery VM stops, a copy
/// of its disk is taken to the primary region's store, a new primary VM is made from it, and once that is ready the
/// Cloud PC switches to it and both older VMs are deleted. Every step is matched by a VM or operation id recorded on
/// the Cloud PC in the transaction that asked for it, so a redelivered or late message matches nothing and changes
/// nothing; the operation's deadline undoes a step that never answered.
/// </summary>
public sealed partial class Lifecycle
{
    public const string FailoverAction = "disasterRecoveryFailover";

    public const string FailbackAction = "disasterRecoveryFailback";

    public static bool IsDisasterRecoveryAction(string action) => action is FailoverAction or FailbackAction;

    /// <summary>
    /// The copy policy of a Cloud PC's current VM. Never null: in SetVmDiskCopies null stops the copies. A user
    /// without a setting gets compute's default interval (a null IntervalMinutes), so that its configuration applies.
    /// </summary>
    public static DiskCopyPolicy CopyPolicy(CloudPc pc, UserSetting? setting)
    {
        ArgumentNullException.ThrowIfNull(pc);
        pc.BackupRegionName = BackupRegion(pc, setting);
        if (pc.DisasterRecoveryRegionName is not null && pc.DisasterRecoveryState is DisasterRecoveryState.Active or DisasterRecoveryState.FailbackStopping or DisasterRecoveryState.FailbackCopying)
        {
            // Failed over: the disaster-recovery VM's copies go to the primary region too, which failback restores from.
            return new DiskCopyPolicy(setting?.DiskCopyFrequencyInMinutes, pc.RegionName);
        }

        return new DiskCopyPolicy(setting?.DiskCopyFrequencyInMinutes, BackupRegion(pc, setting));
    }

    /// <summary>The backup region the setting gives this Cloud PC, or null when it has no cross-region disaster recovery.</summary>
    public static string? BackupRegion(CloudPc pc, UserSetting? setting)
    {
        ArgumentNullException.ThrowIfNull(pc);
        return setting is { DisasterRecoveryType: DisasterRecoveryType.CrossRegion, BackupRegionName: { } backup } && backup != pc.RegionName ? backup : null;
    }

    /// <summary>The setting that applies to the Cloud PC's user now.</summary>
    public UserSetting? EffectiveSetting(CloudPc pc)
    {
        ArgumentNullException.ThrowIfNull(pc);
        return UserSettingsApi.EffectiveQuery(db, pc.TenantId, pc.UserId).FirstOrDefault();
    }

    /// <summary>Starts a failover; returns why it cannot start, or null.</summary>
    public string? StartFailover(CloudPc pc, CloudPcOperation operation, UserSetting? setting)
    {
        ArgumentNullException.ThrowIfNull(pc);
        ArgumentNullException.ThrowIfNull(operation);
        if (pc.DisasterRecoveryState != DisasterRecoveryState.None)
        {
            return $"{pc.ManagedDeviceName} is already {DisasterRecoveryStatusName(pc.DisasterRecoveryState)}; fail it back first.";
        }

        if (pc.Status is not (CloudPcStatus.Provisioned or CloudPcStatus.Failed) || pc.VmId == Guid.Empty)
        {
            return $"Cannot fail {pc.ManagedDeviceName} over while it is {ToGraph(pc.Status)}; failover needs a Cloud PC that is provisioned (or failed with its disk copied).";
        }

        if (BackupRegion(pc, setting) is not { } backup)
        {
            return $"{pc.UserPrincipalName}'s user setting has no cross-region disaster recovery to a region other than {pc.RegionName}; set crossRegionDisasterRecoverySetting first.";
        }

        if (MissingCopyStore(backup, pc.RegionName) is { } missing)
        {
            return missing;
        }

        var interval = setting!.DiskCopyFrequencyInMinutes;
        pc.PendingVmId = Guid.CreateVersion7(clock.GetUtcNow());
        pc.PendingHostId = null;
        pc.PendingHostName = null;
        pc.DisasterRecoveryRegionName = backup;
        SetDisasterRecoveryState(pc, DisasterRecoveryState.FailingOver, operation.RequestedBy);

        // The primary stops, so that the user does not go on writing to a disk that is being left (if its region is
        // down, the stop waits there); the new VM is made from the latest copy in the backup region's store.
        db.Publish(new ChangeVm(pc.VmId, "stopped", Delete: false));
        db.Publish(new PlaceVm(pc.PendingVmId.Value, pc.TenantId, backup, pc.ImageId, pc.VCpuCount, pc.MemoryMiB, pc.DiskGiB,
            new VmRestoreSource(pc.VmId, backup), new DiskCopyPolicy(interval, pc.RegionName)));
        return null;
    }

    /// <summary>Starts a failback; returns why it cannot start, or null.</summary>
    public string? StartFailback(CloudPc pc, CloudPcOperation operation)
    {
        ArgumentNullException.ThrowIfNull(pc);
        ArgumentNullException.ThrowIfNull(operation);
        if (pc.DisasterRecoveryState != DisasterRecoveryState.Active || pc.Status != CloudPcStatus.Provisioned)
        {
            return $"Cannot fail {pc.ManagedDeviceName} back: it is {ToGraph(pc.Status)} and {DisasterRecoveryStatusName(pc.DisasterRecoveryState)}; failback needs a provisioned Cloud PC that is failed over.";
        }

        if (MissingCopyStore(pc.RegionName) is { } missing)
        {
            return missing;
        }

        SetDisasterRecoveryState(pc, DisasterRecoveryState.FailbackStopping, operation.RequestedBy);
        if (pc.PowerState == CloudPcPowerState.PoweredOff)
        {
            // Stopped already: a stop would be no new change of the VM, and no report would answer it.
            StartFailbackCopy(pc);
            return null;
        }

        db.Publish(new ChangeVm(pc.VmId, "stopped", Delete: false));
        pc.StepAfterGeneration = pc.LastVmGeneration;
        return null;
    }

    /// <summary>
    /// Why a failover or failback cannot start for want of a copy store, or null: a failover restores from the backup
    /// region's store and copies the disaster-recovery VM to the primary region's, which failback restores from. Said
    /// at once, rather than as a failed VM placement minutes later.
    /// </summary>
    private string? MissingCopyStore(params string[] regions) =>
        options.Value.CopyStoreRegions is { } withStore && regions.FirstOrDefault(r => !withStore.Contains(r)) is { } missing
            ? $"Region {missing} has no copy store (Stratus:Compute:Regions' CopyStore): its Cloud PCs' disks are not copied there, so there is nothing to restore from. Ask the platform operator to configure one."
            : null;

    /// <summary>A report of the Cloud PC's current VM: a failback that waits for it to stop goes on to the copy.</summary>
    public void OnDisasterRecoveryVmReport(CloudPc pc, VmReported report)
    {
        ArgumentNullException.ThrowIfNull(pc);
        ArgumentNullException.ThrowIfNull(report);
        if (pc.DisasterRecoveryState == DisasterRecoveryState.FailbackStopping && report.State == "stopped" && report.Generation > pc.StepAfterGeneration)
        {
            StartFailbackCopy(pc);
        }
    }

    private void StartFailbackCopy(CloudPc pc)
    {
        pc.DisasterRecoveryCopyOperationId = Guid.CreateVersion7(clock.GetUtcNow());
        pc.DisasterRecoveryState = DisasterRecoveryState.FailbackCopying;
        db.Publish(new RunVmOperation(pc.DisasterRecoveryCopyOperationId.Value, pc.VmId, "CopyDisk", pc.RegionName));
        Touch(pc);
    }

    /// <summary>The failback's copy of the disaster-recovery VM's disk completed: the new primary is made from it.</summary>
    public void OnFailbackCopied(CloudPc pc, VmOperationCompleted completed)
    {
        ArgumentNullException.ThrowIfNull(pc);
        ArgumentNullException.ThrowIfNull(completed);
        if (pc.DisasterRecoveryState != DisasterRecoveryState.FailbackCopying || pc.DisasterRecoveryCopyOperationId != completed.OperationId)
        {
            return;
        }

        if (!completed.Succeeded)
        {
            AbortDisasterRecovery(pc, "copyFailed", $"The copy of the disaster-recovery VM's disk to {pc.RegionName} failed: {completed.Result}");
            return;
        }

        pc.PendingVmId = Guid.CreateVersion7(clock.GetUtcNow());
        pc.PendingHostId = null;
        pc.PendingHostName = null;
        pc.DisasterRecoveryState = DisasterRecoveryState.FailbackPlacing;
        db.Publish(new PlaceVm(pc.PendingVmId.Value, pc.TenantId, pc.RegionName, pc.ImageId, pc.VCpuCount, pc.MemoryMiB, pc.DiskGiB,
            new VmRestoreSource(pc.VmId, pc.RegionName), CopyPolicy(pc, EffectiveSetting(pc))));
        Touch(pc);
    }

    public void OnPendingVmPlaced(CloudPc pc, VmPlaced placed)
    {
        ArgumentNullException.ThrowIfNull(pc);
        ArgumentNullException.ThrowIfNull(placed);
        pc.PendingHostId = placed.HostId;
        pc.PendingHostName = placed.HostName;
        Touch(pc);
    }

    /// <summary>A report of the VM a failover or failback is making: ready switches the Cloud PC to it; lost or failed gives up.</summary>
    public void OnPendingVmReport(CloudPc pc, VmReported report)
    {
        ArgumentNullException.ThrowIfNull(pc);
        ArgumentNullException.ThrowIfNull(report);
        var where = pc.PendingHostName is { } host ? $" on {host}" : "";
        if (report.State is "deleted" or "missing" or "failed" or "crashed")
        {
            AbortDisasterRecovery(pc, "disasterRecoveryVmFailed", $"The new VM{where} was reported {report.State}.{(report.Detail is { } detail ? " Its host said: " + detail : "")}");
            return;
        }

        if (report.State != "running" || !report.Ready)
        {
            return;
        }

        var failover = pc.DisasterRecoveryState == DisasterRecoveryState.FailingOver;
        if (failover)
        {
            pc.PrimaryVmId = pc.VmId;
        }
        else
        {
            // Failback: the disaster-recovery VM and the old primary are not needed any more.
            db.Publish(new ChangeVm(pc.VmId, null, Delete: true));
            if (pc.PrimaryVmId is { } oldPrimary)
            {
                db.Publish(new ChangeVm(oldPrimary, null, Delete: true));
            }

            pc.PrimaryVmId = null;
            pc.DisasterRecoveryRegionName = null;
            pc.DisasterRecoveryCopyOperationId = null;
        }

        pc.VmId = report.VmId;
        pc.HostId = pc.PendingHostId ?? report.HostId;
        pc.HostName = pc.PendingHostName;
        pc.LastVmReportAt = report.ReportedAt;
        pc.LastVmGeneration = report.Generation;
        pc.StepAfterGeneration = 0;
        pc.PendingVmId = null;
        pc.PendingHostId = null;
        pc.PendingHostName = null;
        pc.PowerState = CloudPcPowerState.Running;
        pc.DisasterRecoveryState = failover ? DisasterRecoveryState.Active : DisasterRecoveryState.None;
        pc.DisasterRecoveryChangedAt = clock.GetUtcNow();
        ClearDetail(pc);
        SetStatus(pc, CloudPcStatus.Provisioned);
        CompleteActiveOperation(pc, OperationStatus.Succeeded, failover
            ? $"Failed over: {pc.ManagedDeviceName} runs in {pc.DisasterRecoveryRegionName} from the copy of its disk."
            : $"Failed back: {pc.ManagedDeviceName} runs in {pc.RegionName} again, with the changes made while failed over.");
        db.Audit(clock, pc.TenantId, AuditActor.System("provisioning"), "cloudPc", failover ? "DisasterRecoveryActivated" : "DisasterRecoveryEnded",
            failover ? $"{pc.ManagedDeviceName} of {pc.UserPrincipalName} now runs in its backup region" : $"{pc.ManagedDeviceName} of {pc.UserPrincipalName} runs in its primary region {pc.RegionName} again",
            true, new AuditResource(pc.Id.ToString(), "cloudPc", pc.ManagedDeviceName));
        LogDisasterRecoverySwitched(log, pc.ManagedDeviceName, pc.Id, failover ? "failover" : "failback", pc.VmId);
    }

    /// <summary>
    /// A failover or failback that cannot go on (no capacity, no copy, its deadline passed): the VM it was making is
    /// deleted and the Cloud PC goes back to the VM it ran on, started again.
    /// </summary>
    public void AbortDisasterRecovery(CloudPc pc, string code, string message)
    {
        ArgumentNullException.ThrowIfNull(pc);
        if (pc.DisasterRecoveryState is DisasterRecoveryState.None or DisasterRecoveryState.Active)
        {
            return;
        }

        if (pc.PendingVmId is { } pending)
        {
            db.Publish(new ChangeVm(pending, null, Delete: true));
        }

        var failover = pc.DisasterRecoveryState == DisasterRecoveryState.FailingOver;
        if (pc.Status == CloudPcStatus.Provisioned)
        {
            db.Publish(new ChangeVm(pc.VmId, "running", Delete: false));
        }

        pc.PendingVmId = null;
        pc.PendingHostId = null;
        pc.PendingHostName = null;
        pc.DisasterRecoveryCopyOperationId = null;
        pc.DisasterRecoveryState = failover ? DisasterRecoveryState.None : DisasterRecoveryState.Active;
        if (failover)
        {
            pc.DisasterRecoveryRegionName = null;
        }

        pc.DisasterRecoveryChangedAt = clock.GetUtcNow();
        var detail = $"{(failover ? "Failover" : "Failback")} of {pc.ManagedDeviceName} failed: {message} It runs where it ran before{(failover ? "" : " (the backup region)")}; send it again once the cause is fixed.";
        SetDetail(pc, code, detail, retryable: true);
        CompleteActiveOperation(pc, OperationStatus.Failed, detail);
        Touch(pc);
        LogFailed(log, pc.ManagedDeviceName, pc.Id, code, detail);
    }

    public static string DisasterRecoveryStatusName(DisasterRecoveryState state) => state switch
    {
        DisasterRecoveryState.None => "notFailedOver",
        DisasterRecoveryState.FailingOver => "failingOver",
        DisasterRecoveryState.Active => "failedOver",
        _ => "failingBack",
    };

    private void SetDisasterRecoveryState(CloudPc pc, DisasterRecoveryState state, string by)
    {
        pc.DisasterRecoveryState = state;
        pc.DisasterRecoveryChangedAt = clock.GetUtcNow();
        pc.DisasterRecoveryChangedBy = by;
        Touch(pc);
    }

    [LoggerMessage(EventId = 7402, Level = LogLevel.Information, Message = "Cloud PC {Name} ({CloudPcId}) completed its disaster-recovery {Kind}: it runs on VM {VmId}")]
    private static partial void LogDisasterRecoverySwitched(ILogger logger, string name, Guid cloudPcId, string kind, Guid vmId);
}
