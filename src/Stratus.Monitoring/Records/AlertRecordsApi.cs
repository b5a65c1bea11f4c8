using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Stratus.Monitoring.Notifications;
using Stratus.Monitoring.Persistence;
using Stratus.Monitoring.Rules;
using Stratus.Platform.Audit;
using Stratus.Platform.Http;

namespace Stratus.Monitoring.Records;

/// <summary>Graph's alertRecords of the caller's scope, newest first; the portal's notifications are its active ones.</summary>
public static class AlertRecordsApi
{
    public const string Path = "/api/v1/alertRecords";

    public static IEndpointRouteBuilder MapAlertRecordsApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup(Path).WithTags("Monitoring").RequireAuthorization(AlertRulesApi.Policy);
        group.MapGet("/", ListAsync).WithName("ListAlertRecords").WithSummary("Alert records; $filter=status eq 'active' (or 'resolved'), alertRuleTemplate eq '...'");
        group.MapGet("/{id:guid}", GetAsync).WithName("GetAlertRecord");
        group.MapPost("/{id:guid}/changeStatus", ChangeStatusAsync).WithName("ChangeAlertRecordStatus")
            .WithSummary("Resolve an active record by hand; new impacts open a new record");
        return endpoints;
    }

    public sealed record ListQuery([FromQuery(Name = "$top")] int? Top, [FromQuery(Name = "$skip")] int? Skip, [FromQuery(Name = "$filter")] string? Filter);

    private static async Task<Results<Ok<PagedResult<AlertNotification>>, ValidationProblem>> ListAsync(HttpContext http, [AsParameters] ListQuery query,
        MonitoringDbContext db, CancellationToken cancellationToken)
    {
        if (Paging.Validate(query.Top, query.Skip) is { } invalid)
        {
            return invalid;
        }

        var scope = AlertRulesApi.ScopeOf(http.User);
        var records = db.Records.AsNoTracking().Where(r => r.Scope == scope);
        if (query.Filter is { } filter)
        {
            var parsed = ODataFilter.Parse(filter, "status", "alertRuleTemplate");
            if (parsed.Error is { } error)
            {
                return Problems.Validation("$filter", $"'$filter' {error}");
            }

            foreach (var (property, value) in parsed.Conditions)
            {
                if (property.Equals("status", StringComparison.OrdinalIgnoreCase))
                {
                    if (!Enum.GetValues<AlertStatus>().Any(s => Naming.Of(s) == value))
                    {
                        return Problems.Validation("$filter", $"status must be 'active' or 'resolved', not '{value}'.");
                    }

                    var status = Enum.GetValues<AlertStatus>().First(s => Naming.Of(s) == value);
                    records = records.Where(r => r.Status == status);
                }
                else
                {
                    if (!Enum.GetValues<AlertRuleTemplate>().Any(t => Naming.Of(t) == value))
                    {
                        return Problems.Validation("$filter", $"'{value}' is no alertRuleTemplate; see GET {AlertRulesApi.Path}.");
                    }

                    var template = Enum.GetValues<AlertRuleTemplate>().First(t => Naming.Of(t) == value);
                    records = records.Where(r => r.Template == template);
                }
            }
        }

        var total = await records.CountAsync(cancellationToken);
        var page = await records.OrderByDescending(r => r.DetectedAt).ThenByDescending(r => r.Id)
            .Skip(query.Skip ?? 0).Take(query.Top ?? Paging.DefaultTop).ToListAsync(cancellationToken);
        return TypedResults.Ok(new PagedResult<AlertNotification>(page.Select(NotificationOutbox.Describe).ToList(), total));
    }

    private static async Task<Results<Ok<AlertNotification>, ProblemHttpResult>> GetAsync(Guid id, HttpContext http, MonitoringDbContext db, CancellationToken cancellationToken)
    {
        var scope = AlertRulesApi.ScopeOf(http.User);
        var record = await db.Records.AsNoTracking().FirstOrDefaultAsync(r => r.Id == id && r.Scope == scope, cancellationToken);
        return record is null ? NotFound(id) : TypedResults.Ok(NotificationOutbox.Describe(record));
    }

    public sealed record ChangeStatusRequest(string? Status);

    private static async Task<Results<Ok<AlertNotification>, ValidationProblem, ProblemHttpResult>> ChangeStatusAsync(Guid id, ChangeStatusRequest? request,
        HttpContext http, MonitoringDbContext db, Alerting alerting, TimeProvider clock, CancellationToken cancellationToken)
    {
        if (request is null)
        {
            return Problems.MissingBody("""{"status":"resolved"}""");
        }

        if (request.Status != "resolved")
        {
            return Problems.Validation("status", "'status' must be resolved: a record becomes active only when its rule's threshold is reached.");
        }

        var scope = AlertRulesApi.ScopeOf(http.User);
        var record = await db.Records.FirstOrDefaultAsync(r => r.Id == id && r.Scope == scope, cancellationToken);
        if (record is null)
        {
            return NotFound(id);
        }

        if (record.Status == AlertStatus.Resolved)
        {
            // Already what was asked: no state change, so nothing is notified again.
            return TypedResults.Ok(NotificationOutbox.Describe(record));
        }

        var actor = AuditActor.From(http);
        db.Audit(clock, scope == AlertScope.Platform ? null : scope, actor, AlertRulesApi.Category, "ResolveAlertRecord",
            $"Resolved alert {record.DisplayName} by hand", true, new AuditResource(record.Id.ToString(), "alertRecord", record.DisplayName));
        try
        {
            await alerting.ResolveByHandAsync(record, actor.UserPrincipalName, cancellationToken);
        }
        catch (DbUpdateConcurrencyException)
        {
            return Problems.Conflict("concurrent-change", $"Alert record {id} changed while this request ran; read it again.");
        }

        return TypedResults.Ok(NotificationOutbox.Describe(record));
    }

    private static ProblemHttpResult NotFound(Guid id) => Problems.NotFound("alert record", id);
}
