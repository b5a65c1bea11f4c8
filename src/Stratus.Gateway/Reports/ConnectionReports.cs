using Microsoft.EntityFrameworkCore;
using Stratus.Gateway.History;
using Stratus.Gateway.Persistence;

namespace Stratus.Gateway.Reports;

/// <summary>The reports' rows, computed from the gateway's store for one tenant at one moment (its clock's now).</summary>
public static class ConnectionReports
{
    /// <summary>Per Cloud PC of <paramref name="tenant"/> per UTC day of the 28 days before <paramref name="now"/>: P50, P95 and category.</summary>
    public static async Task<IReadOnlyList<ConnectionQualityRow>> QualityAsync(GatewayDbContext db, Guid tenant, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        var since = now - ConnectionHistoryApi.Window;
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
        return [.. rows];
    }

    /// <summary>Per Cloud PC of <paramref name="tenant"/> the gateway knows of: hours connected in the 28 days before <paramref name="now"/>.</summary>
    public static async Task<IReadOnlyList<UtilizationRow>> UtilizationAsync(GatewayDbContext db, Guid tenant, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
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
        return [.. rows];
    }
}
