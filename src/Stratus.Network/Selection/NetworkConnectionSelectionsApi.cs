using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Stratus.Network.Connections;
using Stratus.Network.HealthChecks;
using Stratus.Network.Persistence;
using Stratus.Platform.Auth;
using Stratus.Platform.Http;

namespace Stratus.Network.Selection;

public sealed record SelectionRequest(List<string>? ConnectionIds);

public sealed record SkippedConnection(string ConnectionId, string? DisplayName, string? HealthCheckStatus, string Reason);

/// <summary>The first usable entry of the list ("hosted", a connection id, or null for none) and why the ones before it were skipped.</summary>
public sealed record SelectionResult(string? ConnectionId, string? RegionName, IReadOnlyList<SkippedConnection> Skipped);

/// <summary>
/// Prioritized failover (issue 20): provisioning hands a policy's ordered list and gets the first connection it may
/// use now. A connection whose checks are older than PreProvisioningCheckAge is checked again first (one run shared by
/// concurrent selections), waiting up to PreProvisioningCheckWait for it.
/// </summary>
public static class NetworkConnectionSelectionsApi
{
    public const string Hosted = "hosted";

    public static IEndpointRouteBuilder MapNetworkConnectionSelectionsApi(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPost("/api/v1/networkConnectionSelections", SelectAsync).WithTags("Network").WithName("SelectNetworkConnection")
            .WithSummary("The first usable connection of an ordered list (connection ids and 'hosted')")
            .RequireAuthorization(StratusPolicies.TenantAdministrator).AcceptsScope(StratusScopes.NetworkConnectionsRead);
        return endpoints;
    }

    private static async Task<Results<Ok<SelectionResult>, ValidationProblem>> SelectAsync(SelectionRequest? request, HttpContext http, NetworkDbContext db,
        HealthCheckRuns runs, IOptions<NetworkOptions> options, TimeProvider clock, CancellationToken cancellationToken)
    {
        if (request?.ConnectionIds is not { } entries)
        {
            return Problems.Validation("connectionIds", """'connectionIds' is required: the policy's ordered list, such as ["<connection id>","hosted"].""");
        }

        var malformed = entries.Where(e => e != Hosted && !Guid.TryParse(e, out _)).ToList();
        if (malformed.Count > 0)
        {
            return Problems.Validation("connectionIds", $"'{string.Join("', '", malformed)}' is neither a connection id nor 'hosted'.");
        }

        var tenant = http.User.RequiredTenantId();
        var ordered = entries.Count == 0 ? [Hosted] : entries;
        // Every stale connection before the first "hosted" is checked at once, so a list waits once, not once per entry.
        var candidates = ordered.TakeWhile(e => e != Hosted).Select(Guid.Parse).Distinct().ToList();
        await RunStaleChecksAsync(db, runs, tenant, candidates, options.Value, clock, cancellationToken);
        var skipped = new List<SkippedConnection>();
        foreach (var entry in ordered)
        {
            if (entry == Hosted)
            {
                return TypedResults.Ok(new SelectionResult(Hosted, null, skipped));
            }

            var id = Guid.Parse(entry);
            var connection = await db.Connections.AsNoTracking().FirstOrDefaultAsync(c => c.Id == id && c.TenantId == tenant, cancellationToken);
            if (connection is null)
            {
                skipped.Add(new SkippedConnection(entry, null, null, "There is no such network connection in the tenant."));
                continue;
            }

            if (Unusable(connection, options.Value, clock.GetUtcNow()) is { } reason)
            {
                skipped.Add(new SkippedConnection(entry, connection.DisplayName, ConnectionView.StatusName(connection.HealthCheckStatus), reason));
                continue;
            }

            return TypedResults.Ok(new SelectionResult(entry, connection.Region, skipped));
        }

        return TypedResults.Ok(new SelectionResult(null, null, skipped));
    }

    /// <summary>Runs the checks of each connection whose latest are older than PreProvisioningCheckAge, and waits for them up to PreProvisioningCheckWait.</summary>
    private static async Task RunStaleChecksAsync(NetworkDbContext db, HealthCheckRuns runs, Guid tenant, List<Guid> ids, NetworkOptions options,
        TimeProvider clock, CancellationToken cancellationToken)
    {
        var started = new List<Guid>();
        foreach (var id in ids)
        {
            var run = await db.RetryOnConcurrentChangeAsync(async () =>
            {
                var connection = await db.Connections.FirstOrDefaultAsync(c => c.Id == id && c.TenantId == tenant, cancellationToken);
                if (connection is null || connection.LastCheckedAt >= clock.GetUtcNow() - options.PreProvisioningCheckAge)
                {
                    return (Guid?)null;
                }

                var run = await runs.RequestAsync(connection, "selection", cancellationToken);
                await db.SaveChangesAsync(cancellationToken);
                return run.Id;
            });
            if (run is { } runId)
            {
                started.Add(runId);
            }
        }

        db.ChangeTracker.Clear();
        var deadline = clock.GetUtcNow() + options.PreProvisioningCheckWait;
        while (started.Count > 0 && clock.GetUtcNow() < deadline
            && await db.HealthCheckRuns.AsNoTracking().AnyAsync(r => started.Contains(r.Id) && r.Status == HealthCheckStatus.Running, cancellationToken))
        {
            await Task.Delay(TimeSpan.FromMilliseconds(250), clock, cancellationToken);
        }
    }

    /// <summary>Why the connection cannot take a Cloud PC now, or null when it can.</summary>
    private static string? Unusable(NetworkConnection connection, NetworkOptions options, DateTimeOffset now)
    {
        if (connection.LastCheckedAt is not { } checkedAt || connection.LastCompletedStatus == HealthCheckStatus.Pending)
        {
            return "Its health checks have not completed yet.";
        }

        if (connection.LastCompletedStatus == HealthCheckStatus.Failed)
        {
            var failed = HealthCheckDetail.Parse(connection.HealthCheckDetail)?.HealthChecks.Where(c => c.Status == "failed")
                .Select(c => $"{c.DisplayName} ({c.ErrorType}{(c.AdditionalDetails is { } d ? ": " + d : "")})").ToList() ?? [];
            return $"Its latest health checks failed: {(failed.Count == 0 ? "see its healthCheckStatusDetail" : string.Join("; ", failed))}.";
        }

        return now - checkedAt > options.SelectionMaxCheckAge
            ? $"Its latest health checks ended {checkedAt:u}, longer ago than {options.SelectionMaxCheckAge.TotalMinutes:0} minutes, and no newer run completed in time."
            : null;
    }
}
