using Microsoft.EntityFrameworkCore;
using Stratus.Platform.Audit;
using Stratus.Platform.Messaging;
using Stratus.Provisioning.CloudPcs;
using Stratus.Provisioning.Persistence;

namespace Stratus.Provisioning.Directory;

/// <summary>
/// A deleted tenant leaves nothing here: its policies, user settings, directory copy, operations and restore point
/// records go at once, and any Cloud PC it still has (identity deletes only a tenant without any, but one may
/// have been made since it looked) is deprovisioned, its VM and disks deleted through compute; each record goes
/// when compute confirms.
/// </summary>
internal sealed class TenantDeletedHandler(ProvisioningDbContext db, Lifecycle lifecycle, TimeProvider clock) : IMessageHandler<TenantDeleted>
{
    public async Task HandleAsync(TenantDeleted message, MessageContext context, CancellationToken cancellationToken)
    {
        var tenant = message.TenantId;
        foreach (var pc in await db.CloudPcs.Where(p => p.TenantId == tenant).ToListAsync(cancellationToken))
        {
            lifecycle.CompleteActiveOperation(pc, OperationStatus.Failed, "The tenant was deleted.");
            if (pc.Status != CloudPcStatus.Deprovisioning)
            {
                lifecycle.Deprovision(pc);
                db.Audit(clock, tenant, AuditActor.System("provisioning"), "cloudPc", "Deprovision",
                    $"Deprovisioning {pc.ManagedDeviceName} of {pc.UserPrincipalName}: its tenant was deleted", true, new AuditResource(pc.Id.ToString(), "cloudPc", pc.ManagedDeviceName));
            }
        }

        db.Assignments.RemoveRange(await db.Assignments.Where(a => a.TenantId == tenant).ToListAsync(cancellationToken));
        db.Policies.RemoveRange(await db.Policies.Where(p => p.TenantId == tenant).ToListAsync(cancellationToken));
        db.UserSettingAssignments.RemoveRange(await db.UserSettingAssignments.Where(a => a.TenantId == tenant).ToListAsync(cancellationToken));
        db.UserSettings.RemoveRange(await db.UserSettings.Where(s => s.TenantId == tenant).ToListAsync(cancellationToken));
        db.Memberships.RemoveRange(await db.Memberships.Where(m => m.TenantId == tenant).ToListAsync(cancellationToken));
        db.Licenses.RemoveRange(await db.Licenses.Where(l => l.TenantId == tenant).ToListAsync(cancellationToken));
        db.Users.RemoveRange(await db.Users.Where(u => u.TenantId == tenant).ToListAsync(cancellationToken));
        // The snapshots are inside the disks being deleted.
        db.RestorePoints.RemoveRange(await db.RestorePoints.Where(r => r.TenantId == tenant).ToListAsync(cancellationToken));
        db.Operations.RemoveRange(await db.Operations.Where(o => o.TenantId == tenant).ToListAsync(cancellationToken));
        // A move under way stops: its next step finds no record.
        db.NetworkMoves.RemoveRange(await db.NetworkMoves.Where(m => m.TenantId == tenant).ToListAsync(cancellationToken));
        await db.SaveChangesAsync(cancellationToken);
    }
}
