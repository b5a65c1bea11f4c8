using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Stratus.Platform.Jobs;
using Stratus.Provisioning.CloudPcs;
using Stratus.Provisioning.Persistence;
using Stratus.Provisioning.Settings;

namespace Stratus.Provisioning.RestorePoints;

/// <summary>
/// Takes each provisioned Cloud PC's automatic restore points at its user's frequency and lets expired points
/// go. The next slot of every Cloud PC is stored with it: a restart (or a second instance) finds the same
/// slots, and a unique index on (Cloud PC, slot) keeps a slot from being taken twice. Slots missed while no
/// instance ran are made up by one point, not one per missed slot. Passes run in the instance that leads the job.
/// </summary>
internal sealed partial class RestorePointScheduler(IServiceScopeFactory scopes, IOptions<ProvisioningOptions> options, TimeProvider clock, ILogger<RestorePointScheduler> logger) : IPeriodicJob
{
    private const int Batch = 200;

    public string Name => "provisioning.restorePointScheduler";

    public TimeSpan Interval => options.Value.RestorePointScanInterval;

    public bool RunsAtStart => false;

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        await RunOnceAsync(scope.ServiceProvider.GetRequiredService<ProvisioningDbContext>(), options.Value, clock, logger, cancellationToken);
    }

    /// <summary>One pass: schedules new Cloud PCs, takes the due points, deletes the expired ones. Returns the points taken.</summary>
    public static async Task<int> RunOnceAsync(ProvisioningDbContext db, ProvisioningOptions options, TimeProvider clock, ILogger logger, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        foreach (var pc in await db.CloudPcs.Where(p => p.Status == CloudPcStatus.Provisioned && p.NextRestorePointAt == null).Take(Batch).ToListAsync(cancellationToken))
        {
            pc.NextRestorePointAt = RestorePointSchedule.NextSlot(pc.Id, await PeriodAsync(db, pc, options, cancellationToken), now);
        }

        await db.SaveChangesAsync(cancellationToken);
        db.ChangeTracker.Clear();

        var taken = 0;
        var due = await db.CloudPcs.Where(p => p.Status == CloudPcStatus.Provisioned && p.NextRestorePointAt <= now)
            .OrderBy(p => p.NextRestorePointAt).Take(Batch).ToListAsync(cancellationToken);
        foreach (var pc in due)
        {
            var slot = pc.NextRestorePointAt!.Value;
            if (!await db.RestorePoints.AnyAsync(r => r.CloudPcId == pc.Id && r.ScheduledFor == slot, cancellationToken))
            {
                var point = new RestorePoint
                {
                    Id = Guid.CreateVersion7(now), TenantId = pc.TenantId, CloudPcId = pc.Id, VmId = pc.VmId, Type = RestorePointType.Automatic,
                    Retention = RestorePointRetention.Pending, Status = RestorePointStatus.Creating, ScheduledFor = slot, CreatedAt = now,
                };
                db.RestorePoints.Add(point);
                db.Publish(new RunVmOperation(point.Id, pc.VmId, "CreateSnapshot", point.SnapshotName));
                taken++;
            }

            pc.NextRestorePointAt = RestorePointSchedule.NextSlot(pc.Id, await PeriodAsync(db, pc, options, cancellationToken), now);
            // Another instance taking the same slot fails here (the Cloud PC's version, then the slot's unique index).
            pc.Version = Guid.NewGuid();
            try
            {
                await db.SaveChangesAsync(cancellationToken);
            }
            catch (DbUpdateException)
            {
                taken--;
                LogRaced(logger, pc.ManagedDeviceName);
            }

            db.ChangeTracker.Clear();
        }

        await ExpireAsync(db, now, cancellationToken);
        if (taken > 0)
        {
            LogTaken(logger, taken);
        }

        return taken;
    }

    /// <summary>Manual and long-term points expire by time, with no new point to trigger retention.</summary>
    private static async Task ExpireAsync(ProvisioningDbContext db, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var failedBefore = now - RestorePointSchedule.FailedKept;
        var cloudPcs = await db.RestorePoints
            .Where(r => (r.Status == RestorePointStatus.Ready && r.Retention != RestorePointRetention.ShortTerm && r.ExpiresAt <= now)
                || (r.Status == RestorePointStatus.Failed && r.CreatedAt <= failedBefore))
            .Select(r => r.CloudPcId).Distinct().OrderBy(id => id).Take(Batch).ToListAsync(cancellationToken);
        foreach (var cloudPcId in cloudPcs)
        {
            var points = await db.RestorePoints.Where(r => r.CloudPcId == cloudPcId).ToListAsync(cancellationToken);
            await RestorePointRetentionRunner.DeleteAsync(db, cloudPcId, RestorePointSchedule.Expired(points, now), now, cancellationToken);
            await db.SaveChangesAsync(cancellationToken);
            db.ChangeTracker.Clear();
        }
    }

    private static async Task<TimeSpan> PeriodAsync(ProvisioningDbContext db, CloudPc pc, ProvisioningOptions options, CancellationToken cancellationToken)
    {
        var setting = await UserSettingsApi.EffectiveAsync(db, pc.TenantId, pc.UserId, cancellationToken);
        return RestorePointSchedule.Period(setting?.RestorePointFrequency ?? RestorePointFrequency.TwelveHours, options.RestorePointHour);
    }

    [LoggerMessage(EventId = 7301, Level = LogLevel.Information, Message = "Restore points: took {Count} scheduled points")]
    private static partial void LogTaken(ILogger logger, int count);

    [LoggerMessage(EventId = 7302, Level = LogLevel.Debug, Message = "Restore points: {Device}'s slot was taken by another instance")]
    private static partial void LogRaced(ILogger logger, string device);
}

/// <summary>Deletes restore points: the row says deleting until the host confirms the snapshot is gone.</summary>
internal static class RestorePointRetentionRunner
{
    /// <summary>
    /// Deletes the points, but not one that a running restore or export reads: retention takes it at a later
    /// pass, once that is done.
    /// </summary>
    public static async Task DeleteAsync(ProvisioningDbContext db, Guid cloudPcId, IReadOnlyList<RestorePoint> points, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (points.Count == 0)
        {
            return;
        }

        var inUse = await db.Operations.Where(o => o.CloudPcId == cloudPcId && o.Status == OperationStatus.Running && o.RestorePointId != null)
            .Select(o => o.RestorePointId!.Value).ToListAsync(cancellationToken);
        foreach (var point in points)
        {
            if (point.Status == RestorePointStatus.Deleting || inUse.Contains(point.Id))
            {
                continue;
            }

            point.Status = RestorePointStatus.Deleting;
            point.Version = Guid.NewGuid();
            point.DeleteOperationId = Guid.CreateVersion7(now);
            db.Publish(new RunVmOperation(point.DeleteOperationId.Value, point.VmId, "DeleteSnapshot", point.SnapshotName));
        }
    }
}
