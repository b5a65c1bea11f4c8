using Microsoft.EntityFrameworkCore;
using Stratus.Platform.Audit;
using Microsoft.Extensions.Options;
using Stratus.Platform.Messaging;
using Stratus.Provisioning.Persistence;
using Stratus.Provisioning.RestorePoints;

namespace Stratus.Provisioning.CloudPcs;

/// <summary>
/// Moves Cloud PCs on what compute reports and on their step deadlines. Each handler finds the Cloud PC by its
/// current VM (a report of a replaced VM matches nothing) and is a no-op when the step already moved on, so
/// a redelivered or late message changes nothing.
/// </summary>
internal sealed class OrchestrationHandlers(ProvisioningDbContext db, Lifecycle lifecycle, IOptions<ProvisioningOptions> options, TimeProvider clock) :
    IMessageHandler<VmPlaced>, IMessageHandler<VmPlacementFailed>, IMessageHandler<VmReported>, IMessageHandler<VmOperationCompleted>,
    IMessageHandler<StepDeadline>, IMessageHandler<GracePeriodEnded>
{
    public async Task HandleAsync(VmPlaced message, MessageContext context, CancellationToken cancellationToken)
    {
        if (await PendingOwnerAsync(message.VmId, cancellationToken) is { } making)
        {
            lifecycle.OnPendingVmPlaced(making, message);
        }
        else if (await db.CloudPcs.FirstOrDefaultAsync(p => p.VmId == message.VmId, cancellationToken) is { } pc)
        {
            lifecycle.OnPlaced(pc, message);
        }
        else
        {
            // No Cloud PC owns this VM any more: its placement arrived after the Cloud PC moved to another VM
            // or went. A Cloud PC takes its VM id in the transaction that asks for the placement, so an
            // unowned placed VM is an orphan: delete it.
            db.Publish(new ChangeVm(message.VmId, null, Delete: true));
        }

        await db.SaveChangesAsync(cancellationToken);
    }

    public async Task HandleAsync(VmPlacementFailed message, MessageContext context, CancellationToken cancellationToken)
    {
        if (await PendingOwnerAsync(message.VmId, cancellationToken) is { } making)
        {
            lifecycle.AbortDisasterRecovery(making, "noCapacity", $"Compute could not make the VM in {message.Region}: {message.Reason}");
            await db.SaveChangesAsync(cancellationToken);
        }
        else if (await db.CloudPcs.FirstOrDefaultAsync(p => p.VmId == message.VmId, cancellationToken) is { Step: CloudPcStep.Placing } pc)
        {
            lifecycle.OnStepFailed(pc, "noCapacity", message.Reason);
            await db.SaveChangesAsync(cancellationToken);
        }
    }

    public async Task HandleAsync(VmReported message, MessageContext context, CancellationToken cancellationToken)
    {
        if (await PendingOwnerAsync(message.VmId, cancellationToken) is { } making)
        {
            lifecycle.OnPendingVmReport(making, message);
            await db.SaveChangesAsync(cancellationToken);
            return;
        }

        var pc = await db.CloudPcs.FirstOrDefaultAsync(p => p.VmId == message.VmId, cancellationToken);
        if (pc is null)
        {
            return;
        }

        if (message.State is "deleted" or "missing")
        {
            if (pc.Status == CloudPcStatus.Deprovisioning && message.State == "deleted")
            {
                db.CloudPcs.Remove(pc);
                lifecycle.ForgetRestorePoints(pc);
                lifecycle.SetStatus(pc, CloudPcStatus.NotProvisioned);
                lifecycle.CompleteActiveOperation(pc, OperationStatus.Succeeded, "Deprovisioned: the VM and its disks are deleted.");
                db.Audit(clock, pc.TenantId, AuditActor.System("provisioning"), "cloudPc", "Deprovision",
                    $"Deprovisioned {pc.ManagedDeviceName} of {pc.UserPrincipalName}", true, new AuditResource(pc.Id.ToString(), "cloudPc", pc.ManagedDeviceName));
            }
            else if (pc.Status is not (CloudPcStatus.Deprovisioning or CloudPcStatus.NotProvisioned or CloudPcStatus.Failed))
            {
                lifecycle.OnVmLost(pc, message.State);
                db.Audit(clock, pc.TenantId, AuditActor.System("provisioning"), "cloudPc", "VmLost",
                    $"The VM of {pc.ManagedDeviceName} of {pc.UserPrincipalName} was reported {message.State}", false, new AuditResource(pc.Id.ToString(), "cloudPc", pc.ManagedDeviceName));
            }

            await db.SaveChangesAsync(cancellationToken);
            return;
        }

        if (pc.LastVmReportAt is { } applied && message.ReportedAt < applied)
        {
            // Stale: a newer report of this VM was already applied.
            return;
        }

        pc.LastVmReportAt = message.ReportedAt;
        pc.LastVmGeneration = Math.Max(pc.LastVmGeneration, message.Generation);
        if (message.HostId != Guid.Empty)
        {
            pc.HostId = message.HostId;
        }

        if (message.Detail is { } detail)
        {
            pc.VmDetail = detail.Length > 4000 ? detail[^4000..] : detail;
        }

        if (message.Ready && message.State == "running")
        {
            lifecycle.OnReady(pc);
        }
        else if (message.State is "failed" or "crashed" && pc.Step == CloudPcStep.Booting)
        {
            lifecycle.OnStepFailed(pc, "bootFailed", $"The VM failed to boot: {message.Detail}");
        }
        else
        {
            pc.PowerState = message.State switch
            {
                "running" => CloudPcPowerState.Running,
                "stopped" => CloudPcPowerState.PoweredOff,
                _ => pc.PowerState,
            };
        }

        if (pc.Step is CloudPcStep.ResizeStopping or CloudPcStep.ResizeStarting)
        {
            await lifecycle.OnResizeReportAsync(pc, message, cancellationToken);
        }

        lifecycle.OnDisasterRecoveryVmReport(pc, message);

        // Every applied report changes the version: of two reports handled at once (a restart's "stopped" and
        // "running" on two workers), the one saved second must fail its save and be handled again, when the
        // check above finds it stale. A ready report changed no version, and a late "stopped" overwrote it.
        lifecycle.Touch(pc);

        if (pc.ActiveOperationId is { } operationId && await db.Operations.FindAsync([operationId], cancellationToken) is { Status: OperationStatus.Running } operation)
        {
            // Power actions are done when the VM reports the state they asked for.
            if ((operation.Action == "powerOn" && message.State == "running") || (operation.Action == "powerOff" && message.State == "stopped"))
            {
                lifecycle.CompleteActiveOperation(pc, OperationStatus.Succeeded, null);
            }
        }

        await db.SaveChangesAsync(cancellationToken);
    }

    public async Task HandleAsync(VmOperationCompleted message, MessageContext context, CancellationToken cancellationToken)
    {
        if (await RestorePointOperationAsync(message, cancellationToken))
        {
            await db.SaveChangesAsync(cancellationToken);
            return;
        }

        if (message.Kind == "CopyDisk" && await db.CloudPcs.FirstOrDefaultAsync(p => p.DisasterRecoveryCopyOperationId == message.OperationId, cancellationToken) is { } failingBack)
        {
            lifecycle.OnFailbackCopied(failingBack, message);
            await db.SaveChangesAsync(cancellationToken);
            return;
        }

        var pc = await db.CloudPcs.FirstOrDefaultAsync(p => p.ActiveOperationId == message.OperationId, cancellationToken);
        if (pc is null)
        {
            return;
        }

        if (pc.Status == CloudPcStatus.Restoring)
        {
            var operation = await db.Operations.FindAsync([message.OperationId], cancellationToken);
            if (message.Succeeded && operation?.RestorePointId is { } pointId && await db.RestorePoints.FindAsync([pointId], cancellationToken) is { } point)
            {
                point.LastRestoredAt = message.CompletedAt;
            }

            if (!message.Succeeded)
            {
                pc.StatusDetailCode = "restoreFailed";
                pc.StatusDetailMessage = $"The restore failed on {pc.HostName}: {message.Result}";
                pc.StatusDetailRetryable = true;
            }

            lifecycle.SetStatus(pc, CloudPcStatus.Provisioned);
        }

        if (pc.Status == CloudPcStatus.Resizing)
        {
            // A restart that resized (what a resize sent before it was chained on the VM's reports) completed.
            await lifecycle.CompleteResizeAsync(pc, message.Succeeded, cancellationToken);
        }

        lifecycle.CompleteActiveOperation(pc, message.Succeeded ? OperationStatus.Succeeded : OperationStatus.Failed, message.Result);
        lifecycle.Touch(pc);
        await db.SaveChangesAsync(cancellationToken);
    }

    /// <summary>
    /// Restore points are taken, deleted and exported beside whatever the Cloud PC does (they hold no lock on it).
    /// Returns whether the message was one of theirs.
    /// </summary>
    private async Task<bool> RestorePointOperationAsync(VmOperationCompleted message, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        if (message.Kind == "CreateSnapshot" && await db.RestorePoints.FindAsync([message.OperationId], cancellationToken) is { } taken)
        {
            if (taken.Status == RestorePointStatus.Creating)
            {
                if (message.Succeeded)
                {
                    taken.Status = RestorePointStatus.Ready;
                    taken.CreatedAt = message.CompletedAt;
                    var points = await db.RestorePoints.Where(r => r.CloudPcId == taken.CloudPcId).ToListAsync(cancellationToken);
                    RestorePointSchedule.Classify(taken, points, await PeriodAsync(taken, cancellationToken));
                    await RestorePointRetentionRunner.DeleteAsync(db, taken.CloudPcId, RestorePointSchedule.Expired(points, now), now, cancellationToken);
                }
                else
                {
                    taken.Status = RestorePointStatus.Failed;
                    taken.FailureReason = message.Result is { Length: > 4000 } reason ? reason[..4000] : message.Result;
                }
            }

            CompleteOperation(await db.Operations.FindAsync([message.OperationId], cancellationToken), message, message.Succeeded ? null : message.Result);
            return true;
        }

        if (message.Kind == "DeleteSnapshot")
        {
            if (await db.RestorePoints.FirstOrDefaultAsync(r => r.DeleteOperationId == message.OperationId, cancellationToken) is { } deleted)
            {
                // A failed delete (the host could not reach the disk) is asked again by the next retention pass.
                if (message.Succeeded)
                {
                    db.RestorePoints.Remove(deleted);
                }
                else
                {
                    deleted.Status = RestorePointStatus.Ready;
                    deleted.DeleteOperationId = null;
                }
            }

            return true;
        }

        if (message.Kind == "ExportSnapshot" && await db.Operations.FindAsync([message.OperationId], cancellationToken) is { Action: "exportSnapshot" } export)
        {
            if (message.Succeeded && export.RestorePointId is { } pointId && await db.RestorePoints.FindAsync([pointId], cancellationToken) is { } exported)
            {
                exported.ExportedTo = message.Result;
            }

            CompleteOperation(export, message, message.Result);
            return true;
        }

        return false;
    }

    private void CompleteOperation(CloudPcOperation? operation, VmOperationCompleted message, string? detail)
    {
        if (operation is { Status: OperationStatus.Running })
        {
            operation.Status = message.Succeeded ? OperationStatus.Succeeded : OperationStatus.Failed;
            operation.Detail = detail;
            operation.CompletedAt = clock.GetUtcNow();
        }
    }

    private async Task<TimeSpan> PeriodAsync(RestorePoint point, CancellationToken cancellationToken)
    {
        var pc = await db.CloudPcs.AsNoTracking().FirstOrDefaultAsync(p => p.Id == point.CloudPcId, cancellationToken);
        var setting = pc is null ? null : await Settings.UserSettingsApi.EffectiveAsync(db, pc.TenantId, pc.UserId, cancellationToken);
        return RestorePointSchedule.Period(setting?.RestorePointFrequency ?? Settings.RestorePointFrequency.TwelveHours, options.Value.RestorePointHour);
    }

    /// <summary>The Cloud PC whose failover or failback is making this VM, if any.</summary>
    private Task<CloudPc?> PendingOwnerAsync(Guid vmId, CancellationToken cancellationToken) =>
        db.CloudPcs.FirstOrDefaultAsync(p => p.PendingVmId == vmId, cancellationToken);

    public async Task HandleAsync(StepDeadline message, MessageContext context, CancellationToken cancellationToken)
    {
        var pc = await db.CloudPcs.FirstOrDefaultAsync(p => p.Id == message.CloudPcId && p.StepToken == message.StepToken, cancellationToken);
        switch (pc?.Step)
        {
            case CloudPcStep.SelectingNetwork:
                // Asked again every RetryBackoff so far, each time unreachable: the last error is in the detail.
                lifecycle.FailProvisioning(pc, Network.SelectNetworkHandler.NetworkUnavailable,
                    $"The network service could not be asked which network connection to use within {options.Value.NetworkSelectionTimeout:c}. {pc.StatusDetailMessage} Retry the Cloud PC once it is back.");
                break;
            case CloudPcStep.Placing:
                lifecycle.OnStepFailed(pc, "placementTimedOut", $"Compute did not place the VM within its time in {pc.RegionName}.");
                break;
            case CloudPcStep.Booting:
                lifecycle.OnStepFailed(pc, "bootTimedOut", $"The VM on {pc.HostName} did not become ready in time.{(pc.VmDetail is { } detail ? " Its host said: " + detail : "")}");
                break;
            case CloudPcStep.Deleting:
                lifecycle.OnDeleteTimedOut(pc);
                break;
            default:
                return;
        }

        await db.SaveChangesAsync(cancellationToken);
    }

    public async Task HandleAsync(GracePeriodEnded message, MessageContext context, CancellationToken cancellationToken)
    {
        var pc = await db.CloudPcs.FirstOrDefaultAsync(p => p.Id == message.CloudPcId, cancellationToken);
        if (pc is { Status: CloudPcStatus.InGracePeriod } && pc.GracePeriodEnd is { } end
            && (end - message.GracePeriodEnd).Duration() < TimeSpan.FromMilliseconds(1))
        {
            lifecycle.Deprovision(pc);
            await db.SaveChangesAsync(cancellationToken);
        }
    }
}
