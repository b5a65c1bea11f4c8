using System.Security.Claims;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Stratus.Monitoring.Notifications;
using Stratus.Monitoring.Persistence;
using Stratus.Platform.Audit;
using Stratus.Platform.Auth;
using Stratus.Platform.Http;

namespace Stratus.Monitoring.Rules;

/// <summary>
/// Graph's alertRules of the caller's scope: a tenant administrator's tenant, or the platform operator's own rules
/// (hosts). A rule of another scope is not found, for reading and for changing alike.
/// </summary>
public static class AlertRulesApi
{
    public const string Path = "/api/v1/alertRules";
    public const string Policy = "monitoringAdministrator";
    internal const string Category = "monitoring";

    public static IEndpointRouteBuilder MapAlertRulesApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup(Path).WithTags("Monitoring").RequireAuthorization(Policy);
        group.MapGet("/", ListAsync).WithName("ListAlertRules").WithSummary("The built-in alert rules of the caller's tenant (or the platform's, for the operator)");
        group.MapGet("/{id:guid}", GetAsync).WithName("GetAlertRule");
        group.MapMethods("/{id:guid}", ["PATCH"], UpdateAsync).WithName("UpdateAlertRule")
            .WithSummary("Turn a rule on or off, change its severity, threshold target and notification channels");
        group.MapGet("/{id:guid}/deliveries", DeliveriesAsync).WithName("ListAlertRuleDeliveries")
            .WithSummary("The rule's e-mail and webhook notifications, newest first, each with its attempts");
        return endpoints;
    }

    /// <summary>A tenant administrator's tenant; the platform's scope for the operator, who has no tenant.</summary>
    public static Guid ScopeOf(ClaimsPrincipal user) => user.TenantId() ?? AlertScope.Platform;

    private static async Task<Ok<PagedResult<AlertRuleView>>> ListAsync(HttpContext http, BuiltInRules rules, CancellationToken cancellationToken)
    {
        var all = await rules.OfScopeAsync(ScopeOf(http.User), cancellationToken);
        return TypedResults.Ok(new PagedResult<AlertRuleView>(all.Select(AlertRuleView.From).ToList(), all.Count));
    }

    private static async Task<Results<Ok<AlertRuleView>, ProblemHttpResult>> GetAsync(Guid id, HttpContext http, BuiltInRules rules, CancellationToken cancellationToken)
    {
        var rule = (await rules.OfScopeAsync(ScopeOf(http.User), cancellationToken)).FirstOrDefault(r => r.Id == id);
        return rule is null ? NotFound(id) : TypedResults.Ok(AlertRuleView.From(rule));
    }

    private static async Task<Results<Ok<AlertRuleView>, ValidationProblem, ProblemHttpResult>> UpdateAsync(Guid id, AlertRulePatch? patch, HttpContext http,
        MonitoringDbContext db, TimeProvider clock, CancellationToken cancellationToken)
    {
        if (patch is null)
        {
            return Problems.MissingBody("""{"enabled":true,"severity":"critical","threshold":{"target":3}}""");
        }

        var scope = ScopeOf(http.User);
        var rule = await db.Rules.FirstOrDefaultAsync(r => r.Id == id && r.Scope == scope, cancellationToken);
        if (rule is null)
        {
            return NotFound(id);
        }

        var validator = RulePatchRules.Validate(patch, rule);
        if (!validator.IsValid)
        {
            return validator.ToProblem();
        }

        RulePatchRules.Apply(patch, rule, clock.GetUtcNow());
        db.Audit(clock, scope == AlertScope.Platform ? null : scope, AuditActor.From(http), Category, "UpdateAlertRule",
            $"Changed alert rule {rule.DisplayName}", true, new AuditResource(rule.Id.ToString(), "alertRule", rule.DisplayName));
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateConcurrencyException)
        {
            return Problems.Conflict("concurrent-change", $"Alert rule {id} changed (or was evaluated) while this request ran; send the change again.");
        }

        return TypedResults.Ok(AlertRuleView.From(rule));
    }

    public sealed record DeliveriesQuery([FromQuery(Name = "$top")] int? Top, [FromQuery(Name = "$skip")] int? Skip);

    public sealed record DeliveryView(Guid Id, Guid AlertRecordId, string Channel, string Target, string Subject, string Status, int Attempts,
        DateTimeOffset CreatedDateTime, DateTimeOffset? DeliveredDateTime, DateTimeOffset? NextAttemptDateTime, string? LastError, IReadOnlyList<AttemptView> AttemptLog);

    public sealed record AttemptView(int Number, DateTimeOffset DateTime, bool Succeeded, string Detail);

    private static async Task<Results<Ok<PagedResult<DeliveryView>>, ValidationProblem, ProblemHttpResult>> DeliveriesAsync(Guid id, HttpContext http,
        [AsParameters] DeliveriesQuery query, MonitoringDbContext db, CancellationToken cancellationToken)
    {
        if (Paging.Validate(query.Top, query.Skip) is { } invalid)
        {
            return invalid;
        }

        var scope = ScopeOf(http.User);
        if (!await db.Rules.AnyAsync(r => r.Id == id && r.Scope == scope, cancellationToken))
        {
            return NotFound(id);
        }

        var all = db.Notifications.AsNoTracking().Where(n => n.RuleId == id && n.Scope == scope);
        var total = await all.CountAsync(cancellationToken);
        var page = await all.Include(n => n.AttemptLog).OrderByDescending(n => n.CreatedAt).ThenByDescending(n => n.Id)
            .Skip(query.Skip ?? 0).Take(query.Top ?? Paging.DefaultTop).ToListAsync(cancellationToken);
        return TypedResults.Ok(new PagedResult<DeliveryView>(page.Select(n => new DeliveryView(n.Id, n.RecordId, Naming.Of(n.Channel), n.Target, n.Subject,
            Naming.Of(n.Status), n.Attempts, n.CreatedAt, n.DeliveredAt, n.Status == NotificationStatus.Pending ? n.NextAttemptAt : null, n.LastError,
            n.AttemptLog.OrderBy(a => a.Number).Select(a => new AttemptView(a.Number, a.At, a.Succeeded, a.Detail)).ToList())).ToList(), total));
    }

    private static ProblemHttpResult NotFound(Guid id) => Problems.NotFound("alert rule", id);
}
