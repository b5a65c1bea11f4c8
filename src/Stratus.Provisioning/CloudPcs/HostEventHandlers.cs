using Microsoft.EntityFrameworkCore;
using Stratus.Platform.Messaging;
using Stratus.Provisioning.Persistence;

namespace Stratus.Provisioning.CloudPcs;

/// <summary>
/// A host declared down: its Cloud PCs say so (statusDetail hostUnreachable) and what they were doing fails, so
/// that none waits for a host that may never answer; one still booting is provisioned again on a new VM.
/// </summary>
internal sealed class HostDownHandler(ProvisioningDbContext db, Lifecycle lifecycle) : IMessageHandler<HostDown>
{
    public const string HostUnreachable = "hostUnreachable";

    public async Task HandleAsync(HostDown message, MessageContext context, CancellationToken cancellationToken)
    {
        var detail = $"Host {message.Name} in {message.Region}/{message.Zone} stopped answering (last heartbeat {message.LastHeartbeatAt:u}): the Cloud PC cannot be reached until it is back.";
        var pcs = await db.CloudPcs.Where(p => p.HostId == message.HostId).ToListAsync(cancellationToken);
        var ids = pcs.Select(p => p.Id).ToList();
        var running = await db.Operations.Where(o => ids.Contains(o.CloudPcId) && o.Status == OperationStatus.Running).ToListAsync(cancellationToken);
        foreach (var pc in pcs)
        {
            if (pc is { Status: CloudPcStatus.Provisioning, Step: CloudPcStep.Booting })
            {
                lifecycle.OnStepFailed(pc, HostUnreachable, detail);
                continue;
            }

            if (pc.Status is CloudPcStatus.Deprovisioning or CloudPcStatus.NotProvisioned or CloudPcStatus.Failed or CloudPcStatus.Provisioning)
            {
                // Deletions wait for the host (their step asks again); a failed Cloud PC keeps saying why it failed.
                continue;
            }

            lifecycle.FailActiveOperation(pc, HostUnreachable, $"{detail} The operation failed; send it again once the host is back.");
            Lifecycle.SetDetail(pc, HostUnreachable, detail, retryable: true);
            lifecycle.Touch(pc);
            foreach (var operation in running.Where(o => o.CloudPcId == pc.Id))
            {
                lifecycle.FailOperation(operation, $"{detail} The operation failed; send it again once the host is back.");
            }
        }

        await db.SaveChangesAsync(cancellationToken);
    }
}

/// <summary>A host that was down reports again: its Cloud PCs no longer say it is unreachable.</summary>
internal sealed class HostUpHandler(ProvisioningDbContext db, Lifecycle lifecycle) : IMessageHandler<HostUp>
{
    public async Task HandleAsync(HostUp message, MessageContext context, CancellationToken cancellationToken)
    {
        foreach (var pc in await db.CloudPcs.Where(p => p.HostId == message.HostId && p.StatusDetailCode == HostDownHandler.HostUnreachable).ToListAsync(cancellationToken))
        {
            Lifecycle.ClearDetail(pc);
            lifecycle.Touch(pc);
        }

        await db.SaveChangesAsync(cancellationToken);
    }
}
