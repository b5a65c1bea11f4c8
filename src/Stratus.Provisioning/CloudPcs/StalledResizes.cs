using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Stratus.Platform.Audit;
using Stratus.Provisioning.Directory;
using Stratus.Provisioning.Persistence;

namespace Stratus.Provisioning.CloudPcs;

/// <summary>
/// A resize commits "resizing to plan X", has identity move the license, then saves the VM's change and its
/// operation. A process that died between those steps leaves the Cloud PC resizing with no operation. Found here
/// (with the reconciliation, once no live request can still be in it): when the license has moved the resize is
/// finished as the same resize sent again would; when it has not, it is undone and the Cloud PC is as before.
/// </summary>
internal static partial class StalledResizes
{
    private static readonly AuditActor Actor = AuditActor.System("Stratus provisioning (stalled resize)");

    public static async Task<int> SettleAsync(
        ProvisioningDbContext db, Lifecycle lifecycle, ServiceClients services, TimeSpan stalledAfter, TimeProvider clock, ILogger logger, CancellationToken cancellationToken)
    {
        var before = clock.GetUtcNow() - stalledAfter;
        var candidates = await db.CloudPcs.AsNoTracking()
            .Where(p => p.Status == CloudPcStatus.Resizing && p.ActiveOperationId == null && p.TargetServicePlanId != null)
            .Select(p => new Stalled(p.Id, p.TenantId, p.UserId, p.ServicePlanId, p.TargetServicePlanId!.Value, p.ManagedDeviceName, p.LastModifiedAt))
            .ToListAsync(cancellationToken);
        var settled = 0;
        // Compared here: SQLite cannot order DateTimeOffset values in a query.
        foreach (var pc in candidates.Where(p => p.LastModifiedAt < before))
        {
            db.ChangeTracker.Clear();
            try
            {
                settled += await SettleOneAsync(pc, db, lifecycle, services, clock, logger, cancellationToken) ? 1 : 0;
            }
            catch (Exception e) when (e is HttpRequestException or DbUpdateConcurrencyException)
            {
                // Identity away, or the Cloud PC changed meanwhile: the next pass looks again.
                LogNotFinished(logger, pc.ManagedDeviceName, e.Message);
            }
        }

        db.ChangeTracker.Clear();
        return settled;
    }

    private static async Task<bool> SettleOneAsync(
        Stalled pc, ProvisioningDbContext db, Lifecycle lifecycle, ServiceClients services, TimeProvider clock, ILogger logger, CancellationToken cancellationToken)
    {
        if (await services.HoldsOnlyAsync(pc.TenantId, pc.UserId, pc.Target, pc.ServicePlanId, cancellationToken))
        {
            var outcome = await CloudPcActions.StartAsync("resize", pc.Id, pc.TenantId, new ActionRequest(null, pc.Target), null, Actor, db, lifecycle, services, clock, cancellationToken);
            if (outcome is CloudPcActions.Started started)
            {
                LogFinished(logger, pc.ManagedDeviceName, pc.Target, started.Operation.Id);
                return true;
            }

            LogNotFinished(logger, pc.ManagedDeviceName, (outcome as CloudPcActions.Refused)?.Reason ?? "unknown outcome");
            return false;
        }

        // The license did not move: nothing happened yet but the status; back to what it was.
        var row = await db.CloudPcs.FirstAsync(p => p.Id == pc.Id, cancellationToken);
        if (row is not { Status: CloudPcStatus.Resizing, ActiveOperationId: null } || row.TargetServicePlanId != pc.Target)
        {
            return false;
        }

        lifecycle.EndResize(row);
        db.Audit(clock, pc.TenantId, Actor, "cloudPc", "resize", $"Undid the resize of {pc.ManagedDeviceName} to plan {pc.Target}: it stopped before the license moved",
            false, new AuditResource(pc.Id.ToString(), "cloudPc", pc.ManagedDeviceName));
        await db.SaveChangesAsync(cancellationToken);
        LogUndone(logger, pc.ManagedDeviceName, pc.Target);
        return true;
    }

    private sealed record Stalled(Guid Id, Guid TenantId, Guid UserId, Guid ServicePlanId, Guid Target, string ManagedDeviceName, DateTimeOffset LastModifiedAt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Finished the stalled resize of {CloudPc} to plan {Plan} (its license had moved): operation {Operation}")]
    private static partial void LogFinished(ILogger logger, string cloudPc, Guid plan, Guid operation);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not finish the stalled resize of {CloudPc}: {Reason}")]
    private static partial void LogNotFinished(ILogger logger, string cloudPc, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Undid the stalled resize of {CloudPc} to plan {Plan}: its license had not moved")]
    private static partial void LogUndone(ILogger logger, string cloudPc, Guid plan);
}
