using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Stratus.Gateway.Persistence;
using Stratus.Platform.Auth;
using Stratus.Platform.Http;

namespace Stratus.Gateway.Connect;

public sealed record RoundTripSampleView(DateTimeOffset At, double Milliseconds);

/// <summary>The samples of a session, oldest first, and their figures (null while there is none).</summary>
public sealed record RoundTripTimesView(int Count, double? MinimumMilliseconds, double? AverageMilliseconds, double? MaximumMilliseconds, IReadOnlyList<RoundTripSampleView> Samples)
{
    public static RoundTripTimesView From(IReadOnlyList<RoundTripSample> samples) => samples.Count == 0
        ? new(0, null, null, null, [])
        : new(samples.Count, samples.Min(s => s.Milliseconds), Math.Round(samples.Average(s => s.Milliseconds), 2), samples.Max(s => s.Milliseconds),
            samples.OrderBy(s => s.SentAt).Select(s => new RoundTripSampleView(s.SentAt, s.Milliseconds)).ToList());
}

public sealed record SessionView(
    Guid Id, Guid UserId, string UserName, Guid CloudPcId, string? CloudPcUserPrincipalName, DateTimeOffset StartedAt, DateTimeOffset? EndedAt,
    long BytesToClient, long BytesFromClient, string? EndReason, RoundTripTimesView RoundTripTimes);

public sealed record RoundTripProbeView(string Probe, DateTimeOffset ExpiresDateTime);

public sealed record RoundTripSampleRequest(string? Probe);

/// <summary>
/// Console sessions and their round-trip times. ASP.NET Core does not expose WebSocket ping/pong, and the
/// WebSocket itself carries raw VNC that noVNC reads, so the gateway times an echo instead: the browser asks
/// for a probe (a signed timestamp of the gateway's clock) and sends it straight back; the gap is the sample.
/// The browser cannot make its connection look faster than it is, only slower, and only for its own session.
/// </summary>
public static class SessionsApi
{
    /// <summary>The samples a session keeps: the latest, about 20 minutes at one every 10 s.</summary>
    public const int MaxSamples = 120;

    /// <summary>A probe echoed later than this measures the browser's patience, not the network.</summary>
    public static readonly TimeSpan ProbeLifetime = TimeSpan.FromSeconds(30);

    public static IEndpointRouteBuilder MapSessionsApi(this IEndpointRouteBuilder endpoints)
    {
        var mine = endpoints.MapGroup("/api/v1/me/sessions").WithTags("Gateway").RequireAuthorization(StratusPolicies.TenantMember);
        mine.MapGet("/", ListAsync).WithName("ListMySessions").WithSummary("Your latest 50 console sessions, with their round-trip times");
        mine.MapPost("/{id:guid}/roundTripProbes", ProbeAsync).WithName("CreateRoundTripProbe")
            .WithSummary("A probe to send straight back to roundTripSamples: the gateway times the echo");
        mine.MapPost("/{id:guid}/roundTripSamples", SampleAsync).WithName("AddRoundTripSample")
            .WithSummary("Echo a probe: {\"probe\": \"...\"}; the gateway records the round-trip time");
        return endpoints;
    }

    private static async Task<Ok<List<SessionView>>> ListAsync(HttpContext http, GatewayDbContext db, CancellationToken cancellationToken)
    {
        var tenant = http.User.RequiredTenantId();
        var user = http.User.AccountId();
        var sessions = await db.Sessions.AsNoTracking().Where(s => s.TenantId == tenant && s.UserId == user)
            .OrderByDescending(s => s.StartedAt).Take(50).ToListAsync(cancellationToken);
        var ids = sessions.Select(s => s.Id).ToList();
        var samples = (await db.RoundTripSamples.AsNoTracking().Where(s => s.TenantId == tenant && ids.Contains(s.SessionId)).ToListAsync(cancellationToken))
            .ToLookup(s => s.SessionId);
        return TypedResults.Ok(sessions.Select(s => new SessionView(s.Id, s.UserId, s.UserName, s.CloudPcId, s.CloudPcUserPrincipalName, s.StartedAt, s.EndedAt,
            s.BytesToClient, s.BytesFromClient, s.EndReason, RoundTripTimesView.From(samples[s.Id].ToList()))).ToList());
    }

    private static async Task<Results<Ok<RoundTripProbeView>, ProblemHttpResult>> ProbeAsync(
        Guid id, HttpContext http, GatewayDbContext db, ProbeKey keys, TimeProvider clock, CancellationToken cancellationToken)
    {
        if (await FindLiveAsync(id, http, db, cancellationToken) is { } refused)
        {
            return refused;
        }

        // The timestamp is taken last, so that the sample does not count the lookup above.
        // Whole microseconds: PostgreSQL keeps no finer, and the replay check compares the stored value.
        var now = clock.GetUtcNow();
        var ticks = (now.UtcTicks - (now.UtcTicks % 10)).ToString(CultureInfo.InvariantCulture);
        return TypedResults.Ok(new RoundTripProbeView($"{ticks}.{Sign(keys, id, ticks)}", now + ProbeLifetime));
    }

    private static async Task<Results<Created<RoundTripSampleView>, ValidationProblem, ProblemHttpResult>> SampleAsync(
        Guid id, RoundTripSampleRequest? request, HttpContext http, GatewayDbContext db, ProbeKey keys, TimeProvider clock, CancellationToken cancellationToken)
    {
        // The echo's arrival, before anything else of this request is done.
        var now = clock.GetUtcNow();
        if (string.IsNullOrWhiteSpace(request?.Probe) || request.Probe.Length > 100)
        {
            return Problems.Validation("probe", $"'probe' is required: the probe from POST /api/v1/me/sessions/{id}/roundTripProbes, sent back at once.");
        }

        if (await FindLiveAsync(id, http, db, cancellationToken) is { } refused)
        {
            return refused;
        }

        var parts = request.Probe.Split('.');
        if (parts.Length != 2 || !long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var sentTicks)
            || !CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(parts[1]), Encoding.ASCII.GetBytes(Sign(keys, id, parts[0]))))
        {
            return Problems.Validation("probe", $"'probe' is not a probe the gateway handed out for session {id}; get one from POST /api/v1/me/sessions/{id}/roundTripProbes.");
        }

        var sentAt = new DateTimeOffset(sentTicks, TimeSpan.Zero);
        var elapsed = now - sentAt;
        if (elapsed < TimeSpan.Zero || elapsed > ProbeLifetime)
        {
            return Problems.Validation("probe", $"'probe' was handed out {elapsed.TotalSeconds:0} s ago; echo a probe within {ProbeLifetime.TotalSeconds:0} s, at once after receiving it.");
        }

        if (await db.RoundTripSamples.AnyAsync(s => s.SessionId == id && s.SentAt == sentAt, cancellationToken))
        {
            return ProbeUsed();
        }

        var sample = new RoundTripSample
        {
            Id = Guid.CreateVersion7(now), TenantId = http.User.RequiredTenantId(), SessionId = id, SentAt = sentAt, Milliseconds = Math.Round(elapsed.TotalMilliseconds, 2),
        };
        db.RoundTripSamples.Add(sample);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException)
        {
            // The same probe echoed twice at once: the unique index let one through.
            return ProbeUsed();
        }

        // Keep the latest MaxSamples: the oldest beyond them go.
        var oldestKept = await db.RoundTripSamples.Where(s => s.SessionId == id).OrderByDescending(s => s.SentAt).Skip(MaxSamples - 1)
            .Select(s => (DateTimeOffset?)s.SentAt).FirstOrDefaultAsync(cancellationToken);
        if (oldestKept is { } cutoff)
        {
            await db.RoundTripSamples.Where(s => s.SessionId == id && s.SentAt < cutoff).ExecuteDeleteAsync(cancellationToken);
        }

        return TypedResults.Created($"/api/v1/me/sessions/{id}", new RoundTripSampleView(sample.SentAt, sample.Milliseconds));
    }

    /// <summary>Null when the session is the caller's and still open; else the refusal.</summary>
    private static async Task<ProblemHttpResult?> FindLiveAsync(Guid id, HttpContext http, GatewayDbContext db, CancellationToken cancellationToken)
    {
        var tenant = http.User.RequiredTenantId();
        var user = http.User.AccountId();
        var session = await db.Sessions.AsNoTracking().Where(s => s.Id == id && s.TenantId == tenant && s.UserId == user)
            .Select(s => new { s.EndedAt }).FirstOrDefaultAsync(cancellationToken);
        if (session is null)
        {
            return Problems.NotFound("console session", id);
        }

        return session.EndedAt is { } ended
            ? Problems.Conflict("session-ended", $"Session {id} ended at {ended:u}; round-trip times are taken only while a console is open.")
            : null;
    }

    private static ProblemHttpResult ProbeUsed() =>
        Problems.Conflict("probe-used", "This probe was already echoed: a probe gives one sample. Get a new one from roundTripProbes.");

    /// <summary>An HMAC with the gateways' shared probe key, bound to the session, so that any gateway instance can check it.</summary>
    private static string Sign(ProbeKey keys, Guid session, string ticks)
    {
                var mac = HMACSHA256.HashData(keys.Value, Encoding.ASCII.GetBytes($"stratus-gateway-round-trip-probe\n{session:N}\n{ticks}"));
        return Convert.ToBase64String(mac).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }
}
