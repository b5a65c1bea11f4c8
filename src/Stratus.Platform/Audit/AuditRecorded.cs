using System.Net;
using Microsoft.AspNetCore.Http;
using Stratus.Platform.Auth;
using Stratus.Platform.Messaging;
using Stratus.Platform.Persistence;

namespace Stratus.Platform.Audit;

/// <summary>
/// An audited activity, published by the service that did it and kept by diagnostics. It is the one
/// message every service shares, so it lives here rather than in a copy per service.
/// </summary>
[MessageName("platform.auditRecorded.v1")]
public sealed record AuditRecorded(
    Guid Id,
    Guid? TenantId,
    string Category,
    string Activity,
    string ActivityType,
    string ActivityResult,
    string DisplayName,
    DateTimeOffset ActivityDateTime,
    Guid? ActorId,
    string ActorUserPrincipalName,
    string? ActorIpAddress,
    IReadOnlyList<AuditResource> Resources);

/// <summary>What an activity touched, shaped like Graph's cloudPcAuditResource.</summary>
public sealed record AuditResource(string ResourceId, string Type, string DisplayName);

/// <summary>Who did it: the signed-in caller, or a named system actor (a sync, a scheduler).</summary>
public sealed record AuditActor(Guid? Id, string UserPrincipalName, string? IpAddress)
{
    public static AuditActor From(HttpContext http)
    {
        ArgumentNullException.ThrowIfNull(http);
        var user = http.User;
        Guid? id = user.Identity?.IsAuthenticated == true && Guid.TryParse(user.FindFirst(StratusClaims.Subject)?.Value, out var parsed) ? parsed : null;
        return new AuditActor(id, user.UserName() is { Length: > 0 } name ? name : "anonymous", http.Connection.RemoteIpAddress?.ToString());
    }

    public static AuditActor System(string name) => new(null, name, IPAddress.Loopback.ToString());
}

public static class AuditExtensions
{
    /// <summary>Records an activity in the same transaction as the change it describes.</summary>
    public static void Audit(this ServiceDbContext db, TimeProvider clock, Guid? tenantId, AuditActor actor, string category,
        string activityType, string displayName, bool succeeded = true, params AuditResource[] resources)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(clock);
        ArgumentNullException.ThrowIfNull(actor);
        var now = clock.GetUtcNow();
        db.Publish(new AuditRecorded(Guid.CreateVersion7(now), tenantId, category, activityType, activityType,
            succeeded ? "success" : "failure", displayName, now, actor.Id, actor.UserPrincipalName, actor.IpAddress, resources));
    }
}
