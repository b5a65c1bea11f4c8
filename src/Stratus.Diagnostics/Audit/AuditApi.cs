using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Stratus.Diagnostics.Persistence;
using Stratus.Platform.Auth;
using Stratus.Platform.Http;

namespace Stratus.Diagnostics.Audit;

public sealed record AuditActor(Guid? Id, string UserPrincipalName, string? IpAddress);

public sealed record AuditEventView(
    Guid Id,
    string DisplayName,
    string Category,
    string Activity,
    string ActivityType,
    string ActivityResult,
    DateTimeOffset ActivityDateTime,
    AuditActor Actor,
    System.Text.Json.JsonElement Resources);

public static class AuditApi
{
    public static IEndpointRouteBuilder MapAuditApi(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/api/v1/auditEvents", ListAsync)
            .WithTags("Audit")
            .WithName("ListAuditEvents")
            .WithSummary("The audit log of the caller's tenant (the platform's for the operator), newest first")
            .RequireAuthorization();
        return endpoints;
    }

    private static async Task<Results<Ok<PagedResult<AuditEventView>>, ValidationProblem, ProblemHttpResult>> ListAsync(
        HttpContext http,
        DiagnosticsDbContext db,
        [FromQuery(Name = "$top")] int? top,
        [FromQuery(Name = "$skip")] int? skip,
        CancellationToken cancellationToken)
    {
        if (Paging.Validate(top, skip) is { } invalid)
        {
            return invalid;
        }

        var user = http.User;
        IQueryable<AuditEvent> query;
        if (user.IsInRole(StratusRoles.PlatformOperator))
        {
            query = db.AuditEvents.Where(a => a.TenantId == null);
        }
        else if (user.TenantId() is { } tenant && (user.IsInRole(StratusRoles.TenantAdministrator)
                     || user.IsInRole(StratusRoles.CloudPcAdministrator) || user.IsInRole(StratusRoles.CloudPcReader)))
        {
            // The tenant is the token's, never a parameter: a caller sees its own tenant's log and no other.
            query = db.AuditEvents.Where(a => a.TenantId == tenant);
        }
        else
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Forbidden",
                detail: "Reading the audit log needs the tenant administrator, Cloud PC administrator or Cloud PC reader role.",
                type: Problems.TypePrefix + "forbidden");
        }

        var total = await query.CountAsync(cancellationToken);
        var page = await query.AsNoTracking()
            .OrderByDescending(a => a.ActivityDateTime)
            .Skip(skip ?? 0)
            .Take(top ?? Paging.DefaultTop)
            .Select(a => new { a.Id, a.ResourcesJson, a.DisplayName, a.Category, a.Activity, a.ActivityType, a.ActivityResult, a.ActivityDateTime, a.ActorId, a.ActorUserPrincipalName, a.ActorIpAddress })
            .ToListAsync(cancellationToken);
        var views = page.Select(a => new AuditEventView(a.Id, a.DisplayName, a.Category, a.Activity, a.ActivityType, a.ActivityResult,
                a.ActivityDateTime, new AuditActor(a.ActorId, a.ActorUserPrincipalName, a.ActorIpAddress),
            System.Text.Json.JsonDocument.Parse(a.ResourcesJson).RootElement)).ToList();
        return TypedResults.Ok(new PagedResult<AuditEventView>(views, total));
    }
}
