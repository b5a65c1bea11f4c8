using Microsoft.EntityFrameworkCore;
using Stratus.Platform.Audit;
using Stratus.Platform.Messaging;
using Stratus.Provisioning.Persistence;

namespace Stratus.Provisioning.CloudPcs;

/// <summary>
/// Moves Cloud PCs on what compute reports and on their step deadlines. Each handler finds the Cloud PC by its
/// current VM (a report of a replaced VM matches nothing) and is a no-op when the step already moved on, so
/// a redelivered or late message changes nothing.
/// </summary>
internal sealed class OrchestrationHandlers(ProvisioningDbContext db, Lifecycle lifecycle, TimeProvider clock) :
    IMessageHandler<VmPlaced>, IMessageHandler<VmPlacementFailed>, IMessageHandler<VmReported>, IMessageHandler<VmOperationCompleted>,
    IMessageHandler<StepDeadline>, IMessageHandler<GracePeriodEnded>
{
    public async Task HandleAsync(VmPlaced message, MessageContext context, CancellationToken cancellationToken)
    {
        if (await db.CloudPcs.FirstOrDefaultAsync(p => p.VmId == message.VmId, cancellationToken) is { } pc)
        {
            lifecycle.OnPlaced(pc, message.HostName);
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
        if (await db.CloudPcs.FirstOrDefaultAsync(p => p.VmId == message.VmId, cancellationToken) is { Step: CloudPcStep.Placing } pc)
        {
            lifecycle.OnStepFailed(pc, "noCapacity", message.Reason);
            await db.SaveChangesAsync(cancellationToken);
        }
    }

    public async Task HandleAsync(VmReported message, MessageContext context, CancellationToken cancellationToken)
    {
        var pc = await db.CloudPcs.FirstOrDefaultAsync(p => p.VmId == message.VmId, cancellationToken);
        if (pc is null)
        {
            return;
        }

        if (message.State == "deleted")
        {
            if (pc.Status == CloudPcStatus.Deprovisioning)
            {
                db.CloudPcs.Remove(pc);
                lifecycle.SetStatus(pc, CloudPcStatus.NotProvisioned);
                lifecycle.CompleteActiveOperation(pc, OperationStatus.Succeeded, "Deprovisioned: the VM and its disks are deleted.");
                db.Audit(clock, pc.TenantId, AuditActor.System("provisioning"), "cloudPc", "Deprovision",
                    $"Deprovisioned {pc.ManagedDeviceName} of {pc.UserPrincipalName}", true, new AuditResource(pc.Id.ToString(), "cloudPc", pc.ManagedDeviceName));
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
            lifecycle.Touch(pc);
        }

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
        var pc = await db.CloudPcs.FirstOrDefaultAsync(p => p.ActiveOperationId == message.OperationId, cancellationToken);
        if (pc is null)
        {
            return;
        }

        if (pc.Status == CloudPcStatus.Resizing)
        {
            if (message.Succeeded && pc.TargetServicePlanId is { } target && await db.Plans.FindAsync([target], cancellationToken) is { } plan)
            {
                pc.ServicePlanId = plan.Id;
                pc.ServicePlanName = plan.DisplayName;
                pc.VCpuCount = plan.VCpuCount;
                pc.MemoryMiB = plan.RamInGB * 1024;
                pc.DiskGiB = plan.StorageInGB;
            }

            pc.TargetServicePlanId = null;
            lifecycle.SetStatus(pc, CloudPcStatus.Provisioned);
        }

        lifecycle.CompleteActiveOperation(pc, message.Succeeded ? OperationStatus.Succeeded : OperationStatus.Failed, message.Result);
        lifecycle.Touch(pc);
        await db.SaveChangesAsync(cancellationToken);
    }

    public async Task HandleAsync(StepDeadline message, MessageContext context, CancellationToken cancellationToken)
    {
        var pc = await db.CloudPcs.FirstOrDefaultAsync(p => p.Id == message.CloudPcId && p.StepToken == message.StepToken, cancellationToken);
        switch (pc?.Step)
        {
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
