using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Stratus.Gateway.Connect;
using Stratus.Gateway.Persistence;
using Stratus.Platform.Auth;
using Stratus.Platform.Http;

namespace Stratus.Gateway.History;

/// <summary>
/// One console attempt on a Cloud PC: a session (open, closed by the user, dropped, or revoked) or a refusal.
/// <paramref name="Reason"/> is a stable code (the refusal's problem code, or why a session ended); <paramref name="Detail"/> says it in words.
/// </summary>
public sealed record ConnectionAttemptView(
    Guid Id, Guid CloudPcId, Guid UserId, string UserName, DateTimeOffset StartDateTime, DateTimeOffset? EndDateTime, double? DurationSeconds,
    string Outcome, string? Reason, string? Detail, string? GatewayInstance, string? GatewayZone, long BytesToClient, long BytesFromClient, RoundTripTimesView RoundTripTimes);

/// <summary>
/// The connection history of a Cloud PC over the last 28 days: every console session and every refused attempt
/// (expired or used ticket, Cloud PC not running, display unreachable), newest first. The gateway owns this data
/// (ADR 0020), so it answers from its own store.
/// </summary>
public static class ConnectionHistoryApi
{
    public static readonly TimeSpan Window = ConnectionHistoryPruner.KeepFor;

    public static IEndpointRouteBuilder MapConnectionHistoryApi(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/api/v1/cloudPCs/{id:guid}/connectionHistory", AdminAsync).WithTags("Gateway").WithName("GetCloudPcConnectionHistory")
            .WithSummary("Every console attempt on a Cloud PC of your tenant in the last 28 days, newest first; $top, $skip")
            .RequireAuthorization(StratusPolicies.CloudPcReader);
        endpoints.MapGet("/api/v1/me/cloudPCs/{id:guid}/connectionHistory", MineAsync).WithTags("Gateway").WithName("GetMyCloudPcConnectionHistory")
            .WithSummary("Your own console attempts on your Cloud PC in the last 28 days, newest first; $top, $skip")
            .RequireAuthorization(StratusPolicies.TenantMember);
        return endpoints;
    }

    private static Task<Results<Ok<PagedResult<ConnectionAttemptView>>, ValidationProblem, ProblemHttpResult>> AdminAsync(
        Guid id, HttpContext http, GatewayDbContext db, ServiceCalls calls, TimeProvider clock, [FromQuery(Name = "$top")] int? top, [FromQuery(Name = "$skip")] int? skip,
        CancellationToken cancellationToken) =>
        ListAsync(id, userId: null, $"/api/v1/cloudPCs/{id}", http, db, calls, clock, top, skip, cancellationToken);

    private static Task<Results<Ok<PagedResult<ConnectionAttemptView>>, ValidationProblem, ProblemHttpResult>> MineAsync(
        Guid id, HttpContext http, GatewayDbContext db, ServiceCalls calls, TimeProvider clock, [FromQuery(Name = "$top")] int? top, [FromQuery(Name = "$skip")] int? skip,
        CancellationToken cancellationToken) =>
        // A user sees their own attempts only: an operator's look at their Cloud PC is in the tenant's audit log.
        ListAsync(id, http.User.AccountId(), $"/api/v1/me/cloudPCs/{id}", http, db, calls, clock, top, skip, cancellationToken);

    private static async Task<Results<Ok<PagedResult<ConnectionAttemptView>>, ValidationProblem, ProblemHttpResult>> ListAsync(
        Guid id, Guid? userId, string cloudPcPath, HttpContext http, GatewayDbContext db, ServiceCalls calls, TimeProvider clock, int? top, int? skip,
        CancellationToken cancellationToken)
    {
        if (Paging.Validate(top, skip) is { } invalid)
        {
            return invalid;
        }

        var tenant = http.User.RequiredTenantId();
        var since = clock.GetUtcNow() - Window;
        var sessions = await db.Sessions.AsNoTracking()
            .Where(s => s.TenantId == tenant && s.CloudPcId == id && (userId == null || s.UserId == userId) && (s.EndedAt == null || s.EndedAt >= since))
            .ToListAsync(cancellationToken);
        var refusals = await db.ConnectionRefusals.AsNoTracking()
            .Where(r => r.TenantId == tenant && r.CloudPcId == id && (userId == null || r.UserId == userId) && r.At >= since)
            .ToListAsync(cancellationToken);
        if (sessions.Count == 0 && refusals.Count == 0 && await CloudPcMissingAsync(http, calls, cloudPcPath, cancellationToken) is { } missing)
        {
            // Nothing here: the Cloud PC may exist and never have been connected to, or be another tenant's (not found, the same as none).
            return missing.StatusCode == StatusCodes.Status404NotFound ? Problems.NotFound("Cloud PC", id) : missing;
        }

        var ids = sessions.Select(s => s.Id).ToList();
        var samples = (await db.RoundTripSamples.AsNoTracking().Where(s => s.TenantId == tenant && ids.Contains(s.SessionId)).ToListAsync(cancellationToken))
            .ToLookup(s => s.SessionId);
        var attempts = sessions.Select(s => FromSession(s, samples[s.Id].ToList())).Concat(refusals.Select(FromRefusal))
            .OrderByDescending(a => a.StartDateTime).ToList();
        return TypedResults.Ok(new PagedResult<ConnectionAttemptView>([.. attempts.Skip(skip ?? 0).Take(top ?? Paging.DefaultTop)], attempts.Count));
    }

    internal static string Outcome(ConsoleSession session) => session.EndedBy switch
    {
        null when session.EndedAt is null => "connected",
        SessionEnd.ClosedByUser => "closedByUser",
        SessionEnd.Revoked => "revoked",
        SessionEnd.DisplayClosed or SessionEnd.Error or null => "dropped",
        _ => throw new ArgumentOutOfRangeException(nameof(session), session.EndedBy, "a new way for a session to end"),
    };

    private static ConnectionAttemptView FromSession(ConsoleSession s, IReadOnlyList<RoundTripSample> samples) => new(
        s.Id, s.CloudPcId, s.UserId, s.UserName, s.StartedAt, s.EndedAt, s.EndedAt is { } end ? Math.Round((end - s.StartedAt).TotalSeconds, 1) : null,
        Outcome(s), s.EndedBy is { } by ? char.ToLowerInvariant(by.ToString()[0]) + by.ToString()[1..] : null, s.EndReason, s.GatewayInstance, s.GatewayZone,
        s.BytesToClient, s.BytesFromClient, RoundTripTimesView.From(samples));

    private static ConnectionAttemptView FromRefusal(ConnectionRefusal r) => new(
        r.Id, r.CloudPcId, r.UserId, r.UserName, r.At, r.At, 0, "refused", r.Reason, r.Detail, r.GatewayInstance, r.GatewayZone, 0, 0, RoundTripTimesView.From([]));

    /// <summary>
    /// Asks provisioning, as the caller, whether the Cloud PC is theirs to see: null when it is; else the problem
    /// (a 404 for one that does not exist or is another tenant's).
    /// </summary>
    private static async Task<ProblemHttpResult?> CloudPcMissingAsync(HttpContext http, ServiceCalls calls, string path, CancellationToken cancellationToken)
    {
        var (token, refused) = await ConnectApi.ExchangeAsync(http, calls, StratusScopes.CloudPcsRead, cancellationToken);
        if (token is null)
        {
            return refused;
        }

        using var provisioning = calls.AsAccount("provisioning", token);
        try
        {
            using var response = await provisioning.GetAsync(path, cancellationToken);
            return response.IsSuccessStatusCode ? null
                : response.StatusCode == HttpStatusCode.NotFound ? Problems.NotFound("Cloud PC", path)
                : Problems.DependencyUnavailable("Cannot look up the Cloud PC right now; try again in a moment.");
        }
        catch (HttpRequestException)
        {
            return Problems.DependencyUnavailable("Cannot look up the Cloud PC right now; try again in a moment.");
        }
    }
}
