using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Stratus.Platform.Audit;
using Stratus.Platform.Auth;
using Stratus.Platform.Http;
using Stratus.Platform.Idempotency;
using Stratus.Provisioning.Directory;
using Stratus.Provisioning.Persistence;
using Stratus.Provisioning.Policies;

namespace Stratus.Provisioning.CloudPcs;

public sealed record OperationView(Guid Id, Guid CloudPcId, string Action, string Status, string? Detail, DateTimeOffset CreatedDateTime, DateTimeOffset? CompletedDateTime)
{
    public static OperationView From(CloudPcOperation o) =>
        new(o.Id, o.CloudPcId, o.Action, Lifecycle.JsonNaming(o.Status.ToString()), o.Detail, o.CreatedAt, o.CompletedAt);
}

public sealed record ActionRequest(string? DisplayName, Guid? TargetServicePlanId);

public sealed record BulkActionRequest(string? Action, List<Guid>? CloudPcIds, string? DisplayName, Guid? TargetServicePlanId);

public sealed record BulkItemResult(Guid CloudPcId, int Status, Guid? OperationId, string? Error);

public sealed record BulkActionResult(string Action, int Succeeded, int Failed, IReadOnlyList<BulkItemResult> Value);

/// <summary>
/// The Cloud PC actions: each answers 202 with an operation to poll, is audited, and is refused with 409 and
/// the reason when the Cloud PC's status does not allow it. An Idempotency-Key header makes a repeat return the
/// first request's operation and change nothing (keys live with the operations, per tenant, so the platform's
/// generic handling of the header is switched off for these endpoints).
/// </summary>
public static class CloudPcActions
{
    public const string IdempotencyKeyHeader = "Idempotency-Key";

    private static readonly string[] Actions = ["reboot", "rename", "reprovision", "resize", "powerOn", "powerOff", "endGracePeriod", "retry", Lifecycle.FailoverAction, Lifecycle.FailbackAction];

    public static IEndpointRouteBuilder MapCloudPcActions(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/api/v1/cloudPCs").WithTags("Cloud PC actions").RequireAuthorization(StratusPolicies.CloudPcAdministrator);
        foreach (var action in Actions)
        {
            group.MapPost($"/{{id:guid}}/{action}", (Guid id, ActionRequest? request, HttpContext http, ProvisioningDbContext db, Lifecycle lifecycle, ServiceClients services, TimeProvider clock, CancellationToken cancellationToken) =>
                RunAsync(action, id, request, http, db, lifecycle, services, clock, cancellationToken)).WithName($"CloudPc{char.ToUpperInvariant(action[0])}{action[1..]}")
                .WithOwnIdempotencyKey();
        }

        // Users restart and rename their own Cloud PCs, as in Windows 365's end-user portal.
        var mine = endpoints.MapGroup("/api/v1/me/cloudPCs").WithTags("My Cloud PCs").RequireAuthorization(StratusPolicies.TenantMember);
        // Failover and failback too, when the user's setting allows it (userInitiatedDisasterRecoveryAllowed).
        foreach (var action in new[] { "reboot", "rename", Lifecycle.FailoverAction, Lifecycle.FailbackAction })
        {
            mine.MapPost($"/{{id:guid}}/{action}", (Guid id, ActionRequest? request, HttpContext http, ProvisioningDbContext db, Lifecycle lifecycle, ServiceClients services, TimeProvider clock, CancellationToken cancellationToken) =>
                RunAsync(action, id, request, http, db, lifecycle, services, clock, cancellationToken, owner: http.User.AccountId())).WithName($"MyCloudPc{char.ToUpperInvariant(action[0])}{action[1..]}")
                .WithOwnIdempotencyKey();
        }

        group.MapPost("/bulkAction", BulkAsync).WithName("CloudPcBulkAction").WithSummary("One action on up to 5,000 Cloud PCs, with a result per item");
        return endpoints;
    }

    private static async Task<Results<Accepted<OperationView>, Ok<OperationView>, ValidationProblem, ProblemHttpResult>> RunAsync(
        string action, Guid id, ActionRequest? request, HttpContext http, ProvisioningDbContext db, Lifecycle lifecycle, ServiceClients services, TimeProvider clock,
        CancellationToken cancellationToken, Guid? owner = null)
    {
        var tenant = http.User.RequiredTenantId();
        var key = http.Request.Headers[IdempotencyKeyHeader].ToString();
        if (key.Length > 128)
        {
            return Problems.Validation(IdempotencyKeyHeader, "The Idempotency-Key header must be at most 128 characters.");
        }

        if (key.Length > 0 && await db.Operations.AsNoTracking().FirstOrDefaultAsync(o => o.TenantId == tenant && o.IdempotencyKey == key, cancellationToken) is { } earlier)
        {
            // A user's /me action repeats only for their own Cloud PC: a key does not open another user's.
            if (owner is { } user && !await db.CloudPcs.AnyAsync(p => p.Id == id && p.TenantId == tenant && p.UserId == user, cancellationToken))
            {
                return Problems.NotFound("Cloud PC", id);
            }

            return earlier.CloudPcId == id && earlier.Action == action
                ? TypedResults.Ok(OperationView.From(earlier))
                : Problems.Conflict("idempotency-key-reused", $"The Idempotency-Key '{key}' was used for another request ({earlier.Action} on {earlier.CloudPcId}); use a new key.");
        }

        var outcome = await StartAsync(action, id, tenant, request ?? new ActionRequest(null, null), key.Length > 0 ? key : null, AuditActor.From(http), db, lifecycle, services, clock, cancellationToken, owner);
        return outcome switch
        {
            Started started => TypedResults.Accepted($"/api/v1/cloudPCs/{id}/operations/{started.Operation.Id}", OperationView.From(started.Operation)),
            Refused { Status: 404 } => Problems.NotFound("Cloud PC", id),
            Refused { Field: { } field } refused => Problems.Validation(field, refused.Reason),
            Refused { Status: 503 } refused => Problems.DependencyUnavailable(refused.Reason),
            Refused { Status: 403 } refused => Problems.Forbidden(refused.Reason),
            Refused refused => Problems.Conflict(refused.Code, refused.Reason),
            _ => throw new InvalidOperationException("unknown outcome"),
        };
    }

    private static async Task<Results<Ok<BulkActionResult>, ValidationProblem>> BulkAsync(
        BulkActionRequest? request, HttpContext http, ProvisioningDbContext db, Lifecycle lifecycle, ServiceClients services, IOptions<ProvisioningOptions> options, TimeProvider clock, CancellationToken cancellationToken)
    {
        var max = options.Value.MaxBulkItems;
        var validator = new Validator()
            .Check(request?.Action is { } a && Actions.Contains(a), "action", $"'action' must be one of {string.Join(", ", Actions)}.")
            .Check(request?.CloudPcIds is { Count: > 0 } ids && ids.Count <= max, "cloudPcIds", $"'cloudPcIds' must list 1 to {max} Cloud PCs.");
        if (!validator.IsValid)
        {
            return validator.ToProblem();
        }

        var tenant = http.User.RequiredTenantId();
        var actor = AuditActor.From(http);
        var results = new List<BulkItemResult>();
        foreach (var id in request!.CloudPcIds!.Distinct())
        {
            var outcome = await StartAsync(request.Action!, id, tenant, new ActionRequest(request.DisplayName, request.TargetServicePlanId), null, actor, db, lifecycle, services, clock, cancellationToken);
            db.ChangeTracker.Clear();
            results.Add(outcome switch
            {
                Started started => new BulkItemResult(id, StatusCodes.Status202Accepted, started.Operation.Id, null),
                Refused refused => new BulkItemResult(id, refused.Status, null, refused.Reason),
                _ => throw new InvalidOperationException("unknown outcome"),
            });
        }

        return TypedResults.Ok(new BulkActionResult(request.Action!, results.Count(r => r.Error is null), results.Count(r => r.Error is not null), results));
    }

    internal abstract record Outcome;

    internal sealed record Started(CloudPcOperation Operation) : Outcome;

    internal sealed record Refused(int Status, string Code, string Reason, string? Field = null) : Outcome;

    private static Refused NotAllowed(string action, CloudPc pc, string allowed) =>
        new(StatusCodes.Status409Conflict, "action-not-allowed", $"Cannot {action} {pc.ManagedDeviceName} while it is {Lifecycle.ToGraph(pc.Status)}; {action} needs a Cloud PC that is {allowed}.");

    /// <summary>
    /// Starts the action, checked again from the start when the Cloud PC changed between the checks and the save
    /// (the restore point scheduler and the host's reports change it at any time): a 500 before.
    /// </summary>
    internal static async Task<Outcome> StartAsync(
        string action, Guid id, Guid tenant, ActionRequest request, string? idempotencyKey, AuditActor actor,
        ProvisioningDbContext db, Lifecycle lifecycle, ServiceClients services, TimeProvider clock, CancellationToken cancellationToken, Guid? owner = null)
    {
        try
        {
            return await db.RetryOnConcurrentChangeAsync(() => TryStartAsync(action, id, tenant, request, idempotencyKey, actor, db, lifecycle, services, clock, cancellationToken, owner));
        }
        catch (DbUpdateConcurrencyException)
        {
            db.ChangeTracker.Clear();
            return new Refused(StatusCodes.Status409Conflict, "concurrent-change", $"Cloud PC {id} kept changing while {action} was being started; nothing was done. Try again in a moment.");
        }
    }

    private static async Task<Outcome> TryStartAsync(
        string action, Guid id, Guid tenant, ActionRequest request, string? idempotencyKey, AuditActor actor,
        ProvisioningDbContext db, Lifecycle lifecycle, ServiceClients services, TimeProvider clock, CancellationToken cancellationToken, Guid? owner = null)
    {
        var pc = await db.CloudPcs.FirstOrDefaultAsync(p => p.Id == id && p.TenantId == tenant && (owner == null || p.UserId == owner), cancellationToken);
        if (pc is null)
        {
            return new Refused(StatusCodes.Status404NotFound, "not-found", $"There is no Cloud PC {id} in your tenant.");
        }

        if (pc.ActiveOperationId is { } running && action != "rename")
        {
            return new Refused(StatusCodes.Status409Conflict, "action-in-progress", $"{pc.ManagedDeviceName} is busy with operation {running}; wait until it completes.");
        }

        var now = clock.GetUtcNow();
        var operation = new CloudPcOperation
        {
            Id = Guid.CreateVersion7(now), TenantId = tenant, CloudPcId = pc.Id, Action = action, Status = OperationStatus.Running,
            IdempotencyKey = idempotencyKey, RequestedBy = actor.UserPrincipalName, CreatedAt = now,
        };
        var refused = await ApplyAsync(action, pc, operation, request, db, lifecycle, services, cancellationToken, byOwner: owner is not null);
        if (refused is not null)
        {
            return refused;
        }

        if (operation.Status == OperationStatus.Running && action != "rename")
        {
            pc.ActiveOperationId = operation.Id;
            lifecycle.ScheduleDeadline(operation);
            if (pc.StatusDetailCode == OperationDeadlineHandler.TimedOut)
            {
                // The operation that timed out is being replaced: its detail no longer says how the Cloud PC is.
                Lifecycle.ClearDetail(pc);
            }
        }

        db.Operations.Add(operation);
        lifecycle.Touch(pc);
        db.Audit(clock, tenant, actor, "cloudPc", Lifecycle.JsonNaming(action), $"{action} {pc.ManagedDeviceName} of {pc.UserPrincipalName}", true,
            new AuditResource(pc.Id.ToString(), "cloudPc", pc.ManagedDeviceName));
        await db.SaveChangesAsync(cancellationToken);
        return new Started(operation);
    }

    private static async Task<Refused?> ApplyAsync(
        string action, CloudPc pc, CloudPcOperation operation, ActionRequest request, ProvisioningDbContext db, Lifecycle lifecycle, ServiceClients services, CancellationToken cancellationToken,
        bool byOwner = false)
    {
        switch (action)
        {
            case Lifecycle.FailoverAction or Lifecycle.FailbackAction:
                var setting = lifecycle.EffectiveSetting(pc);
                if (byOwner && setting is not { UserInitiatedDisasterRecoveryAllowed: true })
                {
                    return new Refused(StatusCodes.Status403Forbidden, "not-allowed", "Your user setting does not let you fail your Cloud PC over or back (userInitiatedDisasterRecoveryAllowed); ask your administrator.");
                }

                var drRefusal = action == Lifecycle.FailoverAction ? lifecycle.StartFailover(pc, operation, setting) : lifecycle.StartFailback(pc, operation);
                return drRefusal is null ? null : new Refused(StatusCodes.Status409Conflict, "action-not-allowed", drRefusal);

            case "reboot":
                if (pc.Status != CloudPcStatus.Provisioned)
                {
                    return NotAllowed(action, pc, "provisioned");
                }

                db.Publish(new RunVmOperation(operation.Id, pc.VmId, "Restart", null));
                return null;

            case "rename":
                if (string.IsNullOrWhiteSpace(request.DisplayName) || request.DisplayName.Length > 64)
                {
                    return new Refused(StatusCodes.Status400BadRequest, "validation", "'displayName' is required, at most 64 characters.", "displayName");
                }

                pc.DisplayName = request.DisplayName.Trim();
                operation.Status = OperationStatus.Succeeded;
                operation.CompletedAt = operation.CreatedAt;
                return null;

            case "powerOn" or "powerOff":
                if (pc.Status is not (CloudPcStatus.Provisioned or CloudPcStatus.InGracePeriod))
                {
                    return NotAllowed(action, pc, "provisioned or in its grace period");
                }

                if ((action == "powerOn" && pc.PowerState == CloudPcPowerState.Running) || (action == "powerOff" && pc.PowerState == CloudPcPowerState.PoweredOff))
                {
                    // Already there: no command, or this one could reach compute after the next, opposite one (the
                    // queue keeps no order among messages relayed together) and undo it.
                    operation.Status = OperationStatus.Succeeded;
                    operation.CompletedAt = operation.CreatedAt;
                    return null;
                }

                db.Publish(new ChangeVm(pc.VmId, action == "powerOn" ? "running" : "stopped", Delete: false));
                return null;

            case "endGracePeriod":
                if (pc.Status != CloudPcStatus.InGracePeriod)
                {
                    return NotAllowed(action, pc, "in its grace period");
                }

                lifecycle.Deprovision(pc);
                return null;

            case "reprovision" or "retry":
                if (action == "reprovision" ? pc.Status is not (CloudPcStatus.Provisioned or CloudPcStatus.Failed) : pc.Status != CloudPcStatus.Failed)
                {
                    return NotAllowed(action, pc, action == "reprovision" ? "provisioned or failed" : "failed");
                }

                // A reprovision takes the policy as it is now; the old VM and its disk are deleted.
                if (await db.Policies.FindAsync([pc.ProvisioningPolicyId], cancellationToken) is { } policy
                    && await services.PlanAsync(pc.ServicePlanId, cancellationToken) is { } plan)
                {
                    AssignmentEvaluator.ApplyPolicy(pc, policy, plan);
                }

                pc.Attempt = 0;
                lifecycle.StartProvisioning(pc, pc.VmId);
                return null;

            case "resize":
                // A resize to the same plan that stopped after its first step (its process died, or its last save lost
                // a race with a host's report and is checked again here) is taken up where it stopped.
                var resuming = pc.Status == CloudPcStatus.Resizing && pc.TargetServicePlanId is not null && pc.TargetServicePlanId == request.TargetServicePlanId;
                if (pc.Status != CloudPcStatus.Provisioned && !resuming)
                {
                    var refusal = NotAllowed(action, pc, "provisioned");
                    return pc is { Status: CloudPcStatus.Resizing, TargetServicePlanId: { } stopped }
                        ? refusal with { Reason = $"{refusal.Reason} Its resize to plan {stopped} stopped before the VM was changed: send that resize again to finish it." }
                        : refusal;
                }

                if (request.TargetServicePlanId is not { } target || await services.PlanAsync(target, cancellationToken) is not { } targetPlan)
                {
                    return new Refused(StatusCodes.Status400BadRequest, "validation", "'targetServicePlanId' must name a plan of /api/v1/servicePlans.", "targetServicePlanId");
                }

                if (target == pc.ServicePlanId)
                {
                    return new Refused(StatusCodes.Status400BadRequest, "validation", $"{pc.ManagedDeviceName} already has plan {targetPlan.DisplayName}.", "targetServicePlanId");
                }

                if (await db.CloudPcs.AnyAsync(p => p.UserId == pc.UserId && p.Id != pc.Id && (p.ServicePlanId == target || p.TargetServicePlanId == target), cancellationToken))
                {
                    return new Refused(StatusCodes.Status409Conflict, "plan-in-use", $"{pc.UserPrincipalName} already has a Cloud PC of {targetPlan.DisplayName}; a user has one Cloud PC per plan.");
                }

                // As in Windows 365, a resize moves the user from the current plan's license to a free one of the target
                // plan. The resize is committed first: the license events the move causes must find it under way, or
                // evaluation would put the Cloud PC in its grace period and provision another one of the target plan.
                if (!resuming)
                {
                    pc.TargetServicePlanId = target;
                    lifecycle.SetStatus(pc, CloudPcStatus.Resizing);
                    await db.SaveChangesAsync(cancellationToken);
                }

                string? reason;
                try
                {
                    reason = await services.SwapLicenseAsync(pc.TenantId, pc.UserId, target, pc.ServicePlanId, cancellationToken);
                    if (reason is not null && await services.HoldsOnlyAsync(pc.TenantId, pc.UserId, target, pc.ServicePlanId, cancellationToken))
                    {
                        // Refused because the license has moved already: by this resize's earlier attempt.
                        reason = null;
                    }
                }
                catch (HttpRequestException)
                {
                    // The move may or may not have happened: the Cloud PC stays resizing, and the same resize again
                    // finds out and goes on.
                    return new Refused(StatusCodes.Status503ServiceUnavailable, "dependency-unavailable",
                        $"Identity cannot be reached to move {pc.UserPrincipalName}'s license; {pc.ManagedDeviceName} stays resizing until you send the same resize again.");
                }

                if (reason is not null)
                {
                    lifecycle.EndResize(pc);
                    await db.SaveChangesAsync(cancellationToken);
                    return new Refused(StatusCodes.Status409Conflict, "no-free-license", $"Cannot resize {pc.ManagedDeviceName} to {targetPlan.DisplayName}: {reason}; nothing was changed.");
                }

                // New CPU and memory apply at the next boot, so the VM stops with its new size and starts again; the
                // disk grows at once.
                lifecycle.StartResize(pc, targetPlan);
                return null;

            default:
                return new Refused(StatusCodes.Status404NotFound, "not-found", $"Unknown action {action}.");
        }
    }
}
