using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Stratus.Gateway.Persistence;
using Stratus.Platform.Auth;

namespace Stratus.Gateway.Reports;

/// <summary>One Cloud PC on one day (UTC): its round-trip times' P50 and P95 and the category of its P50.</summary>
public sealed record ConnectionQualityRow(Guid CloudPcId, DateOnly Date, int SessionCount, int SampleCount, double P50Milliseconds, double P95Milliseconds, string QualityCategory);

/// <summary>One Cloud PC's hours connected in the last 28 days and their category.</summary>
public sealed record UtilizationRow(Guid CloudPcId, double HoursConnected, string UtilizationCategory, int SessionCount, DateTimeOffset? LastConnectedDateTime);

/// <summary>
/// The tenant's connection reports (issue 21), from the gateway's own sessions and samples (ADR 0020): $filter (eq on
/// the filterable columns), $orderby, $top/$skip, and CSV with ?format=csv or Accept: text/csv.
/// </summary>
public static class ReportsApi
{
    private static readonly ReportTable<ConnectionQualityRow> Quality = new("connectionQuality",
    [
        new("cloudPcId", r => r.CloudPcId, Filterable: true), new("date", r => r.Date, Filterable: true), new("sessionCount", r => r.SessionCount),
        new("sampleCount", r => r.SampleCount), new("p50Milliseconds", r => r.P50Milliseconds), new("p95Milliseconds", r => r.P95Milliseconds),
        new("qualityCategory", r => r.QualityCategory, Filterable: true),
    ]);

    private static readonly ReportTable<UtilizationRow> Utilization = new("utilization",
    [
        new("cloudPcId", r => r.CloudPcId, Filterable: true), new("hoursConnected", r => r.HoursConnected), new("utilizationCategory", r => r.UtilizationCategory, Filterable: true),
        new("sessionCount", r => r.SessionCount), new("lastConnectedDateTime", r => r.LastConnectedDateTime),
    ]);

    public static IEndpointRouteBuilder MapReportsApi(this IEndpointRouteBuilder endpoints)
    {
        var reports = endpoints.MapGroup("/api/v1/reports").WithTags("Reports").RequireAuthorization(StratusPolicies.CloudPcReader);
        reports.MapGet("/connectionQuality", ConnectionQualityAsync).WithName("GetConnectionQualityReport")
            .WithSummary("Round-trip P50/P95 per Cloud PC per day (UTC), last 28 days: good < 100 ms, average 100-200, high > 200; $filter, $orderby, $top, $skip, ?format=csv");
        reports.MapGet("/utilization", UtilizationAsync).WithName("GetUtilizationReport")
            .WithSummary("Hours connected per Cloud PC in the last 28 days: high > 80, average 40-80, low < 40, neverConnected; $filter, $orderby, $top, $skip, ?format=csv");
        return endpoints;
    }

    private static async Task<IResult> ConnectionQualityAsync(HttpContext http, GatewayDbContext db, TimeProvider clock, CancellationToken cancellationToken) =>
        Quality.Answer(await ConnectionReports.QualityAsync(db, http.User.RequiredTenantId(), clock.GetUtcNow(), cancellationToken), ReportQuery.From(http.Request));

    private static async Task<IResult> UtilizationAsync(HttpContext http, GatewayDbContext db, TimeProvider clock, CancellationToken cancellationToken) =>
        Utilization.Answer(await ConnectionReports.UtilizationAsync(db, http.User.RequiredTenantId(), clock.GetUtcNow(), cancellationToken), ReportQuery.From(http.Request));
}
