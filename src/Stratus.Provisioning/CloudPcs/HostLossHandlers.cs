using Microsoft.EntityFrameworkCore;
using Stratus.Platform.Audit;
using Stratus.Platform.Messaging;
using Stratus.Provisioning.Persistence;

namespace Stratus.Provisioning.CloudPcs;

// Provisioning's copies of compute's host-loss events (compute's ComputeEvents.cs, issue 18).

/// <summary>The VM's host is lost: the VM is being made again on another host from its copy taken at CopyTakenAt.</summary>
[MessageName("compute.vmRecovering.v1")]
public sealed record VmRecovering(Guid VmId, Guid TenantId, Guid FromHostId, Guid ToHostId, string Region, DateTimeOffset CopyTakenAt, DateTimeOffset DetectedAt);

/// <summary>The VM's host is lost and the VM could not be made again (no copy, no capacity); compute tries again later.</summary>
[MessageName("compute.vmRecoveryFailed.v1")]
public sealed record VmRecoveryFailed(Guid VmId, Guid TenantId, Guid HostId, string Reason);

/// <summary>
/// Host loss (issue 18): a Cloud PC whose VM compute is making again on another host from its latest disk copy shows
/// status recovering (until the VM reports ready there: Lifecycle.OnReady), with what the user may lose (the work
/// since the copy), and an audit record in its tenant's log. A recovery that cannot happen yet says why.
/// </summary>
internal sealed class HostLossHandlers(ProvisioningDbContext db, Lifecycle lifecycle, TimeProvider clock) :
    IMessageHandler<VmRecovering>, IMessageHandler<VmRecoveryFailed>
{
    public const string Recovering = "recoveringFromHostLoss";

    public async Task HandleAsync(VmRecovering message, MessageContext context, CancellationToken cancellationToken)
    {
        var pc = await db.CloudPcs.FirstOrDefaultAsync(p => p.VmId == message.VmId, cancellationToken);
        if (pc is null || pc.Status is CloudPcStatus.Deprovisioning or CloudPcStatus.NotProvisioned or CloudPcStatus.Failed or CloudPcStatus.Provisioning)
        {
            return;
        }

        var detail = $"Its host was lost; the Cloud PC is being made again on another host from its disk copy of {message.CopyTakenAt:u}. Work saved after that copy is lost.";
        lifecycle.FailActiveOperation(pc, Recovering, $"{detail} The operation failed; send it again once the Cloud PC is back.");
        pc.HostId = message.ToHostId;
        pc.HostName = null;
        pc.PowerState = CloudPcPowerState.Unknown;
        Lifecycle.SetDetail(pc, Recovering, detail, retryable: false);
        lifecycle.SetStatus(pc, CloudPcStatus.Recovering);
        db.Audit(clock, pc.TenantId, AuditActor.System("provisioning"), "cloudPc", "RecoverFromHostLoss",
            $"{pc.ManagedDeviceName} of {pc.UserPrincipalName}: host lost, recovering from the disk copy of {message.CopyTakenAt:u}", true,
            new AuditResource(pc.Id.ToString(), "cloudPc", pc.ManagedDeviceName));
        await db.SaveChangesAsync(cancellationToken);
    }

    public async Task HandleAsync(VmRecoveryFailed message, MessageContext context, CancellationToken cancellationToken)
    {
        var pc = await db.CloudPcs.FirstOrDefaultAsync(p => p.VmId == message.VmId, cancellationToken);
        if (pc is null || pc.Status is CloudPcStatus.Deprovisioning or CloudPcStatus.NotProvisioned or CloudPcStatus.Failed or CloudPcStatus.Provisioning)
        {
            return;
        }

        Lifecycle.SetDetail(pc, HostDownHandler.HostUnreachable, $"{message.Reason} Compute tries again.", retryable: true);
        lifecycle.Touch(pc);
        await db.SaveChangesAsync(cancellationToken);
    }
}
