using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Stratus.Platform.Audit;
using Stratus.Platform.Auth;
using Stratus.Platform.Hosting;
using Stratus.Platform.Http;
using Stratus.Platform.Idempotency;
using Stratus.Provisioning.CloudPcs;
using Stratus.Provisioning.Persistence;
using Stratus.Provisioning.Settings;

namespace Stratus.Provisioning.RestorePoints;

/// <summary>Graph's cloudPcSnapshot, with which retention rule keeps it and where it was last exported.</summary>
public sealed record RestorePointView(
    Guid Id, Guid CloudPcId, string SnapshotType, string Retention, string Status, DateTimeOffset CreatedDateTime,
    DateTimeOffset? ExpirationDateTime, DateTimeOffset? LastRestoredDateTime, string? ExportedTo, string? FailureReason)
{
    public static RestorePointView From(RestorePoint r) => new(
        r.Id, r.CloudPcId, Lifecycle.JsonNaming(r.Type.ToString()), Lifecycle.JsonNaming(r.Retention.ToString()), Lifecycle.JsonNaming(r.Status.ToString()),
        r.CreatedAt, r.ExpiresAt, r.LastRestoredAt, r.ExportedTo, r.FailureReason);
}

public sealed record RestorePointList(IReadOnlyList<RestorePointView> Value);

public sealed record RestoreRequest(Guid? CloudPcSnapshotId);

public sealed record BulkRestoreRequest(List<Guid>? CloudPcIds, DateTimeOffset? RestorePointDateTime, string? TimeRange);

/// <summary>
/// Restore points of a Cloud PC: list, take one now (manual), restore the disk to one, export one as a
/// standalone qcow2 file; users list and restore their own when their user setting allows it.
/// </summary>
public static class RestorePointsApi
{
    private static readonly string[] TimeRanges = ["before", "after", "beforeOrAfter"];

    public static IEndpointRouteBuilder MapRestorePointsApi(this IEndpointRouteBuilder endpoints)
    {
        var read = endpoints.MapGroup("/api/v1/cloudPCs").WithTags("Restore points").RequireAuthorization(StratusPolicies.CloudPcReader)
            .AcceptsScope(StratusScopes.CloudPcsRead);
        read.MapGet("/{id:guid}/snapshots", (Guid id, HttpContext http, ProvisioningDbContext db, CancellationToken cancellationToken) =>
            ListAsync(id, http.User.RequiredTenantId(), null, db, cancellationToken)).WithName("ListCloudPcSnapshots");

        var write = endpoints.MapGroup("/api/v1/cloudPCs").WithTags("Restore points").RequireAuthorization(StratusPolicies.CloudPcAdministrator);
        write.MapPost("/{id:guid}/createSnapshot", CreateAsync).WithName("CreateCloudPcSnapshot").WithOwnIdempotencyKey()
            .WithSummary("Take a manual restore point now; it replaces the previous manual one and lasts 28 days");
        write.MapPost("/{id:guid}/restore", (Guid id, RestoreRequest? request, HttpContext http, ProvisioningDbContext db, Lifecycle lifecycle, TimeProvider clock, CancellationToken cancellationToken) =>
            RestoreAsync(id, request, http, db, lifecycle, clock, null, cancellationToken)).WithName("RestoreCloudPc").WithOwnIdempotencyKey()
            .WithSummary("Return the Cloud PC's disk to a restore point: {cloudPcSnapshotId}");
        write.MapPost("/{id:guid}/snapshots/{snapshotId:guid}/export", ExportAsync).WithName("ExportCloudPcSnapshot")
            .WithSummary("Write the restore point as a standalone qcow2 file into the export folder, one folder per Cloud PC");
        write.MapPost("/bulkRestore", BulkRestoreAsync).WithName("BulkRestoreCloudPcs")
            .WithSummary("Restore each Cloud PC to its point closest to restorePointDateTime (timeRange before, after or beforeOrAfter)");

        var mine = endpoints.MapGroup("/api/v1/me/cloudPCs").WithTags("My Cloud PCs").RequireAuthorization(StratusPolicies.TenantMember);
        mine.MapGet("/{id:guid}/snapshots", async Task<Results<Ok<RestorePointList>, ProblemHttpResult>> (Guid id, HttpContext http, ProvisioningDbContext db, CancellationToken cancellationToken) =>
            await UserMayRestoreAsync(http, db, cancellationToken) is { } refused ? refused : await ListAsync(id, http.User.RequiredTenantId(), http.User.AccountId(), db, cancellationToken))
            .WithName("ListMyCloudPcSnapshots");
        mine.MapPost("/{id:guid}/restore", async Task<Results<Accepted<OperationView>, Ok<OperationView>, ValidationProblem, ProblemHttpResult>> (
                Guid id, RestoreRequest? request, HttpContext http, ProvisioningDbContext db, Lifecycle lifecycle, TimeProvider clock, CancellationToken cancellationToken) =>
            await UserMayRestoreAsync(http, db, cancellationToken) is { } refused ? refused : await RestoreAsync(id, request, http, db, lifecycle, clock, http.User.AccountId(), cancellationToken))
            .WithName("RestoreMyCloudPc").WithOwnIdempotencyKey();
        return endpoints;
    }

    private static async Task<ProblemHttpResult?> UserMayRestoreAsync(HttpContext http, ProvisioningDbContext db, CancellationToken cancellationToken)
    {
        var setting = await UserSettingsApi.EffectiveAsync(db, http.User.RequiredTenantId(), http.User.AccountId(), cancellationToken);
        return setting is { UserRestoreEnabled: true }
            ? null
            : Problems.Forbidden("Restoring your own Cloud PC is not enabled for you: your administrator turns it on in a user setting (userRestoreEnabled) for one of your groups.");
    }

    private static async Task<Results<Ok<RestorePointList>, ProblemHttpResult>> ListAsync(Guid id, Guid tenant, Guid? owner, ProvisioningDbContext db, CancellationToken cancellationToken)
    {
        if (await FindCloudPcAsync(db, id, tenant, owner, cancellationToken) is not { } pc)
        {
            return Problems.NotFound("Cloud PC", id);
        }

        var points = await db.RestorePoints.AsNoTracking().Where(r => r.CloudPcId == pc.Id && r.VmId == pc.VmId && r.Status != RestorePointStatus.Deleting)
            .OrderByDescending(r => r.CreatedAt).ToListAsync(cancellationToken);
        return TypedResults.Ok(new RestorePointList(points.Select(RestorePointView.From).ToList()));
    }

    private static async Task<Results<Accepted<OperationView>, Ok<OperationView>, ValidationProblem, ProblemHttpResult>> CreateAsync(
        Guid id, HttpContext http, ProvisioningDbContext db, Lifecycle lifecycle, TimeProvider clock, CancellationToken cancellationToken)
    {
        var tenant = http.User.RequiredTenantId();
        if (await RepeatedAsync(http, db, tenant, id, "createSnapshot", cancellationToken) is { } repeated)
        {
            return repeated;
        }

        if (await FindCloudPcAsync(db, id, tenant, null, cancellationToken) is not { } pc)
        {
            return Problems.NotFound("Cloud PC", id);
        }

        if (pc.Status != CloudPcStatus.Provisioned)
        {
            return NotAllowed("take a restore point of", pc);
        }

        var now = clock.GetUtcNow();
        var operation = NewOperation(http, tenant, pc, "createSnapshot", now, restorePointId: Guid.CreateVersion7(now));
        var point = new RestorePoint
        {
            Id = operation.RestorePointId!.Value, TenantId = tenant, CloudPcId = pc.Id, VmId = pc.VmId, Type = RestorePointType.Manual,
            Retention = RestorePointRetention.Pending, Status = RestorePointStatus.Creating, CreatedAt = now,
        };
        db.RestorePoints.Add(point);
        db.Operations.Add(operation);
        lifecycle.ScheduleDeadline(operation);
        db.Publish(new RunVmOperation(point.Id, pc.VmId, "CreateSnapshot", point.SnapshotName));
        db.Audit(clock, tenant, AuditActor.From(http), "cloudPc", "createSnapshot", $"Manual restore point of {pc.ManagedDeviceName} of {pc.UserPrincipalName}", true,
            new AuditResource(pc.Id.ToString(), "cloudPc", pc.ManagedDeviceName));
        await db.SaveChangesAsync(cancellationToken);
        return Accepted(operation);
    }

    private static async Task<Results<Accepted<OperationView>, Ok<OperationView>, ValidationProblem, ProblemHttpResult>> RestoreAsync(
        Guid id, RestoreRequest? request, HttpContext http, ProvisioningDbContext db, Lifecycle lifecycle, TimeProvider clock, Guid? owner, CancellationToken cancellationToken)
    {
        var tenant = http.User.RequiredTenantId();
        if (await RepeatedAsync(http, db, tenant, id, "restore", cancellationToken, owner) is { } repeated)
        {
            return repeated;
        }

        if (request?.CloudPcSnapshotId is not { } snapshotId)
        {
            return Problems.Validation("cloudPcSnapshotId", "'cloudPcSnapshotId' is required: the id of one of the Cloud PC's restore points (GET .../snapshots).");
        }

        var outcome = await StartRestoreAsync(id, snapshotId, tenant, owner, AuditActor.From(http), IdempotencyKey(http), db, lifecycle, clock, cancellationToken);
        return outcome.Operation is { } operation ? Accepted(operation)
            : outcome.Status == StatusCodes.Status404NotFound ? Problems.NotFound("Cloud PC", id)
            : outcome.Status == StatusCodes.Status400BadRequest ? Problems.Validation("cloudPcSnapshotId", outcome.Reason!)
            : Problems.Conflict(outcome.Code!, outcome.Reason!);
    }

    internal sealed record RestoreOutcome(CloudPcOperation? Operation, int Status, string? Code, string? Reason);

    /// <summary>
    /// Starts a restore, checked again from the start when the Cloud PC or the point changed between the checks and
    /// the save: the scheduler takes points and hosts report beside every user's restore.
    /// </summary>
    internal static async Task<RestoreOutcome> StartRestoreAsync(
        Guid id, Guid snapshotId, Guid tenant, Guid? owner, AuditActor actor, string? idempotencyKey, ProvisioningDbContext db, Lifecycle lifecycle, TimeProvider clock, CancellationToken cancellationToken)
    {
        try
        {
            return await db.RetryOnConcurrentChangeAsync(() => TryStartRestoreAsync(id, snapshotId, tenant, owner, actor, idempotencyKey, db, lifecycle, clock, cancellationToken));
        }
        catch (DbUpdateConcurrencyException)
        {
            db.ChangeTracker.Clear();
            return new RestoreOutcome(null, StatusCodes.Status409Conflict, "concurrent-change",
                $"Cloud PC {id} or its restore point kept changing while the restore was being started; nothing was done. Look at its restore points again and retry.");
        }
    }

    private static async Task<RestoreOutcome> TryStartRestoreAsync(
        Guid id, Guid snapshotId, Guid tenant, Guid? owner, AuditActor actor, string? idempotencyKey, ProvisioningDbContext db, Lifecycle lifecycle, TimeProvider clock, CancellationToken cancellationToken)
    {
        if (await FindCloudPcAsync(db, id, tenant, owner, cancellationToken) is not { } pc)
        {
            return new RestoreOutcome(null, StatusCodes.Status404NotFound, "not-found", $"There is no Cloud PC {id} in your tenant.");
        }

        var now = clock.GetUtcNow();
        var point = await db.RestorePoints.FirstOrDefaultAsync(r => r.Id == snapshotId && r.CloudPcId == pc.Id && r.TenantId == tenant && r.VmId == pc.VmId, cancellationToken);
        if (point is null)
        {
            return new RestoreOutcome(null, StatusCodes.Status400BadRequest, "validation", $"{pc.ManagedDeviceName} has no restore point {snapshotId}; list its points with GET /api/v1/cloudPCs/{pc.Id}/snapshots.");
        }

        if (pc.Status != CloudPcStatus.Provisioned)
        {
            return new RestoreOutcome(null, StatusCodes.Status409Conflict, "action-not-allowed",
                $"Cannot restore {pc.ManagedDeviceName} while it is {Lifecycle.ToGraph(pc.Status)}; restore needs a Cloud PC that is provisioned.");
        }

        if (pc.ActiveOperationId is { } running)
        {
            return new RestoreOutcome(null, StatusCodes.Status409Conflict, "action-in-progress", $"{pc.ManagedDeviceName} is busy with operation {running}; wait until it completes.");
        }

        if (!RestorePointSchedule.IsRestorable(point, now))
        {
            var why = point.Status switch
            {
                RestorePointStatus.Creating => "is still being taken; try again in a moment",
                RestorePointStatus.Failed => $"failed to be taken ({point.FailureReason})",
                _ => $"expired{(point.ExpiresAt is { } expired ? $" on {expired:u}" : "")} and is being deleted",
            };
            return new RestoreOutcome(null, StatusCodes.Status409Conflict, "restore-point-unavailable", $"The restore point of {point.CreatedAt:u} {why}; pick another one.");
        }

        var operation = new CloudPcOperation
        {
            Id = Guid.CreateVersion7(now), TenantId = tenant, CloudPcId = pc.Id, Action = "restore", Status = OperationStatus.Running,
            IdempotencyKey = idempotencyKey, RequestedBy = actor.UserPrincipalName, CreatedAt = now, RestorePointId = point.Id,
        };
        db.Operations.Add(operation);
        point.Version = Guid.NewGuid();
        pc.ActiveOperationId = operation.Id;
        lifecycle.ScheduleDeadline(operation);
        lifecycle.SetStatus(pc, CloudPcStatus.Restoring);
        // The host shuts the VM down, reverts its disk and starts it again. The command leaves with this transaction
        // and the host journals it: a crash of either side resumes the restore, and it runs once.
        db.Publish(new RunVmOperation(operation.Id, pc.VmId, "RevertSnapshot", point.SnapshotName));
        db.Audit(clock, tenant, actor, "cloudPc", "restore", $"Restore {pc.ManagedDeviceName} of {pc.UserPrincipalName} to {point.CreatedAt:u}", true,
            new AuditResource(pc.Id.ToString(), "cloudPc", pc.ManagedDeviceName));
        await db.SaveChangesAsync(cancellationToken);
        return new RestoreOutcome(operation, StatusCodes.Status202Accepted, null, null);
    }

    private static async Task<Results<Accepted<OperationView>, Ok<OperationView>, ValidationProblem, ProblemHttpResult>> ExportAsync(
        Guid id, Guid snapshotId, HttpContext http, ProvisioningDbContext db, Lifecycle lifecycle, TimeProvider clock, CancellationToken cancellationToken)
    {
        var tenant = http.User.RequiredTenantId();
        if (await RepeatedAsync(http, db, tenant, id, "exportSnapshot", cancellationToken) is { } repeated)
        {
            return repeated;
        }

        if (await FindCloudPcAsync(db, id, tenant, null, cancellationToken) is not { } pc)
        {
            return Problems.NotFound("Cloud PC", id);
        }

        if (await db.RestorePoints.FirstOrDefaultAsync(r => r.Id == snapshotId && r.CloudPcId == pc.Id && r.VmId == pc.VmId, cancellationToken) is not { } point)
        {
            return Problems.NotFound("restore point", snapshotId);
        }

        var now = clock.GetUtcNow();
        if (!RestorePointSchedule.IsRestorable(point, now))
        {
            return Problems.Conflict("restore-point-unavailable", $"The restore point of {point.CreatedAt:u} is {Lifecycle.JsonNaming(point.Status.ToString())}; only a ready point can be exported.");
        }

        if (pc.Status is not (CloudPcStatus.Provisioned or CloudPcStatus.InGracePeriod or CloudPcStatus.Restoring))
        {
            return NotAllowed("export a restore point of", pc);
        }

        // Relative to the host's export folder, the only place its agent writes exports to: no path is asked for or sent.
        var file = $"{pc.ManagedDeviceName}-{pc.Id:N}/{pc.ManagedDeviceName}-{point.CreatedAt:yyyyMMdd-HHmmss}-{point.Id:N}.qcow2";
        var operation = NewOperation(http, tenant, pc, "exportSnapshot", now, point.Id);
        db.Operations.Add(operation);
        lifecycle.ScheduleDeadline(operation);
        db.Publish(new RunVmOperation(operation.Id, pc.VmId, "ExportSnapshot", $"{point.SnapshotName}:{file}"));
        db.Audit(clock, tenant, AuditActor.From(http), "cloudPc", "exportSnapshot", $"Export the restore point of {point.CreatedAt:u} of {pc.ManagedDeviceName} to {file} in the export folder", true,
            new AuditResource(pc.Id.ToString(), "cloudPc", pc.ManagedDeviceName));
        await db.SaveChangesAsync(cancellationToken);
        return Accepted(operation);
    }

    private static async Task<Results<Ok<BulkActionResult>, ValidationProblem>> BulkRestoreAsync(
        BulkRestoreRequest? request, HttpContext http, ProvisioningDbContext db, Lifecycle lifecycle, IOptions<ProvisioningOptions> options, TimeProvider clock, CancellationToken cancellationToken)
    {
        var max = options.Value.MaxBulkItems;
        var timeRange = request?.TimeRange ?? "before";
        var validator = new Validator()
            .Check(request?.CloudPcIds is { Count: > 0 } ids && ids.Count <= max, "cloudPcIds", $"'cloudPcIds' must list 1 to {max} Cloud PCs.")
            .Check(request?.RestorePointDateTime is not null, "restorePointDateTime", "'restorePointDateTime' is required: the time to restore to, e.g. 2026-11-26T08:00:00Z.")
            .Check(TimeRanges.Contains(timeRange), "timeRange", $"'timeRange' must be one of {string.Join(", ", TimeRanges)}.");
        if (!validator.IsValid)
        {
            return validator.ToProblem();
        }

        var tenant = http.User.RequiredTenantId();
        var actor = AuditActor.From(http);
        var time = request!.RestorePointDateTime!.Value;
        var now = clock.GetUtcNow();
        var results = new List<BulkItemResult>();
        foreach (var id in request.CloudPcIds!.Distinct())
        {
            var points = await db.RestorePoints.AsNoTracking().Where(r => r.CloudPcId == id && r.TenantId == tenant).ToListAsync(cancellationToken);
            var pc = await db.CloudPcs.AsNoTracking().FirstOrDefaultAsync(p => p.Id == id && p.TenantId == tenant, cancellationToken);
            var point = pc is null ? null : RestorePointSchedule.Closest(points.Where(r => r.VmId == pc.VmId), time, timeRange, now);
            if (pc is null)
            {
                results.Add(new BulkItemResult(id, StatusCodes.Status404NotFound, null, $"There is no Cloud PC {id} in your tenant."));
                continue;
            }

            if (point is null)
            {
                results.Add(new BulkItemResult(id, StatusCodes.Status409Conflict, null, $"{pc.ManagedDeviceName} has no ready restore point {(timeRange == "beforeOrAfter" ? "near" : timeRange)} {time:u}."));
                continue;
            }

            var outcome = await StartRestoreAsync(id, point.Id, tenant, null, actor, null, db, lifecycle, clock, cancellationToken);
            db.ChangeTracker.Clear();
            results.Add(new BulkItemResult(id, outcome.Status, outcome.Operation?.Id, outcome.Operation is null ? outcome.Reason : null));
        }

        return TypedResults.Ok(new BulkActionResult("restore", results.Count(r => r.Error is null), results.Count(r => r.Error is not null), results));
    }

    private static Task<CloudPc?> FindCloudPcAsync(ProvisioningDbContext db, Guid id, Guid tenant, Guid? owner, CancellationToken cancellationToken) =>
        db.CloudPcs.FirstOrDefaultAsync(p => p.Id == id && p.TenantId == tenant && (owner == null || p.UserId == owner), cancellationToken);

    private static ProblemHttpResult NotAllowed(string what, CloudPc pc) => Problems.Conflict("action-not-allowed",
        $"Cannot {what} {pc.ManagedDeviceName} while it is {Lifecycle.ToGraph(pc.Status)}; it must be provisioned.");

    private static string? IdempotencyKey(HttpContext http) =>
        http.Request.Headers[CloudPcActions.IdempotencyKeyHeader].ToString() is { Length: > 0 and <= 128 } key ? key : null;

    /// <summary>A request repeated with its Idempotency-Key gets the first one's operation and changes nothing.</summary>
    private static async Task<Results<Accepted<OperationView>, Ok<OperationView>, ValidationProblem, ProblemHttpResult>?> RepeatedAsync(
        HttpContext http, ProvisioningDbContext db, Guid tenant, Guid id, string action, CancellationToken cancellationToken, Guid? owner = null)
    {
        var key = http.Request.Headers[CloudPcActions.IdempotencyKeyHeader].ToString();
        if (key.Length > 128)
        {
            return Problems.Validation(CloudPcActions.IdempotencyKeyHeader, "The Idempotency-Key header must be at most 128 characters.");
        }

        if (key.Length == 0 || await db.Operations.AsNoTracking().FirstOrDefaultAsync(o => o.TenantId == tenant && o.IdempotencyKey == key, cancellationToken) is not { } earlier)
        {
            return null;
        }

        if (owner is { } user && !await db.CloudPcs.AnyAsync(p => p.Id == id && p.TenantId == tenant && p.UserId == user, cancellationToken))
        {
            return Problems.NotFound("Cloud PC", id);
        }

        return earlier.CloudPcId == id && earlier.Action == action
            ? TypedResults.Ok(OperationView.From(earlier))
            : Problems.Conflict("idempotency-key-reused", $"The Idempotency-Key '{key}' was used for another request ({earlier.Action} on {earlier.CloudPcId}); use a new key.");
    }

    private static CloudPcOperation NewOperation(HttpContext http, Guid tenant, CloudPc pc, string action, DateTimeOffset now, Guid restorePointId) => new()
    {
        Id = action == "createSnapshot" ? restorePointId : Guid.CreateVersion7(now), TenantId = tenant, CloudPcId = pc.Id, Action = action,
        Status = OperationStatus.Running, IdempotencyKey = IdempotencyKey(http), RequestedBy = AuditActor.From(http).UserPrincipalName, CreatedAt = now,
        RestorePointId = restorePointId,
    };

    private static Accepted<OperationView> Accepted(CloudPcOperation operation) =>
        TypedResults.Accepted($"/api/v1/cloudPCs/{operation.CloudPcId}/operations/{operation.Id}", OperationView.From(operation));
}
