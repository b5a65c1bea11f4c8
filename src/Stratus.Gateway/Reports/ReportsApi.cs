using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Stratus.Gateway.History;
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

    private static async Task<IResult> ConnectionQualityAsync(HttpContext http, GatewayDbContext db, TimeProvider clock, CancellationToken cancellationToken)
    {
        var tenant = http.User.RequiredTenantId();
        var since = clock.GetUtcNow() - ConnectionHistoryApi.Window;
        var samples = await db.RoundTripSamples.AsNoTracking().Where(s => s.TenantId == tenant && s.SentAt >= since)
            .Join(db.Sessions.Where(s => s.TenantId == tenant), sample => sample.SessionId, session => session.Id,
                (sample, session) => new { session.CloudPcId, sample.SessionId, sample.SentAt, sample.Milliseconds })
            .ToListAsync(cancellationToken);
        var rows = samples.GroupBy(s => (s.CloudPcId, Date: DateOnly.FromDateTime(s.SentAt.UtcDateTime)))
            .Select(day =>
            {
                var values = day.Select(s => s.Milliseconds).ToList();
                var p50 = ConnectionMath.Percentile(values, 50);
                return new ConnectionQualityRow(day.Key.CloudPcId, day.Key.Date, day.Select(s => s.SessionId).Distinct().Count(), values.Count,
                    p50, ConnectionMath.Percentile(values, 95), ConnectionMath.QualityCategory(p50));
            })
            .OrderByDescending(r => r.Date).ThenBy(r => r.CloudPcId);
        return Quality.Answer(rows, ReportQuery.From(http.Request));
    }

    private static async Task<IResult> UtilizationAsync(HttpContext http, GatewayDbContext db, TimeProvider clock, CancellationToken cancellationToken)
    {
        var tenant = http.User.RequiredTenantId();
        var now = clock.GetUtcNow();
        var since = now - ConnectionHistoryApi.Window;
        var sessions = await db.Sessions.AsNoTracking().Where(s => s.TenantId == tenant && (s.EndedAt == null || s.EndedAt > since) && s.StartedAt < now)
            .Select(s => new { s.CloudPcId, s.StartedAt, s.EndedAt }).ToListAsync(cancellationToken);

        // "Never connected" covers the Cloud PCs the gateway knows of: those someone asked to connect to (a ticket,
        // kept a day) or was refused on (kept 28 days), or that had sessions before the window. The gateway does not
        // list the tenant's Cloud PCs: one nobody ever tried to reach is in provisioning's list, not here (README.md).
        var known = await db.Sessions.Where(s => s.TenantId == tenant).Select(s => s.CloudPcId)
            .Union(db.ConnectionRefusals.Where(r => r.TenantId == tenant).Select(r => r.CloudPcId))
            .Union(db.ConnectTokens.Where(t => t.TenantId == tenant).Select(t => t.CloudPcId))
            .ToListAsync(cancellationToken);
        var byPc = sessions.ToLookup(s => s.CloudPcId);
        var rows = known.Distinct().Select(pc =>
        {
            var mine = byPc[pc].ToList();
            var hours = Math.Round(ConnectionMath.ConnectedHours(mine.Select(s => (s.StartedAt, s.EndedAt)), since, now), 2);
            return new UtilizationRow(pc, hours, ConnectionMath.UtilizationCategory(hours, mine.Count), mine.Count,
                mine.Count == 0 ? null : mine.Max(s => s.EndedAt ?? now));
        }).OrderByDescending(r => r.HoursConnected).ThenBy(r => r.CloudPcId);
        return Utilization.Answer(rows, ReportQuery.From(http.Request));
    }
}
