using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Stratus.Platform.Audit;
using Stratus.Platform.Auth;
using Stratus.Platform.Http;
using Stratus.Provisioning.CloudPcs;
using Stratus.Provisioning.Persistence;

namespace Stratus.Provisioning.Network;

public sealed record NetworkUsagePolicyView(Guid Id, string DisplayName);

/// <summary>What uses a network connection: the policies naming it and the Cloud PCs (not deprovisioned) whose NIC is on it.</summary>
public sealed record NetworkConnectionUsageView(Guid ConnectionId, IReadOnlyList<NetworkUsagePolicyView> Policies, int CloudPcCount);

public sealed record MoveCloudPcsRequest(string? Reason);

public sealed record MoveCloudPcsView(Guid Id, Guid ConnectionId, int CloudPcCount);

/// <summary>
/// Provisioning's side of network connections: the usage network asks before it deletes a connection or counts its
/// addresses, and the administrator's move of the Cloud PCs off one (under the connection's path, provisioning owns them).
/// </summary>
public static class NetworkConnectionsApi
{
    public static IEndpointRouteBuilder MapNetworkConnectionsApi(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/api/v1/networkConnectionUsage/{id:guid}", UsageAsync).WithTags("Network connections").WithName("GetNetworkConnectionUsage")
            .WithSummary("The provisioning policies naming a network connection and the number of Cloud PCs on it")
            .RequireAuthorization(StratusPolicies.Access([StratusRoles.PlatformOperator, StratusRoles.TenantAdministrator, StratusRoles.CloudPcAdministrator, StratusRoles.CloudPcReader], tenant: false))
            .AcceptsScope(StratusScopes.CloudPcsRead);
        endpoints.MapPost("/api/v1/onPremisesConnections/{id:guid}/moveCloudPcs", MoveAsync).WithTags("Network connections").WithName("MoveCloudPcsOffNetworkConnection")
            .WithSummary("Moves the Cloud PCs on a connection, one by one, to the next usable connection of each one's policy")
            .RequireAuthorization(StratusPolicies.TenantAdministrator);
        return endpoints;
    }

    /// <summary>Whether a Cloud PC counts as on its connection: every status but those whose VM is going or gone.</summary>
    internal static IQueryable<CloudPc> OnConnection(IQueryable<CloudPc> cloudPcs, Guid connectionId) =>
        cloudPcs.Where(p => p.NetworkConnectionId == connectionId && p.Status != CloudPcStatus.Deprovisioning && p.Status != CloudPcStatus.NotProvisioned);

    private static async Task<Results<Ok<NetworkConnectionUsageView>, ProblemHttpResult>> UsageAsync(Guid id, HttpContext http, ProvisioningDbContext db, CancellationToken cancellationToken)
    {
        var tenant = http.User.TenantId();
        var policies = db.Policies.AsNoTracking();
        var cloudPcs = db.CloudPcs.AsNoTracking();
        if (tenant is { } only)
        {
            policies = policies.Where(p => p.TenantId == only);
            cloudPcs = cloudPcs.Where(p => p.TenantId == only);
        }
        else if (!http.User.IsInRole(StratusRoles.PlatformOperator))
        {
            return Problems.Forbidden("Only the platform operator asks about every tenant; a tenant's roles need the tenant in the token.");
        }

        // The ids are a JSON list per policy, and a tenant has few policies: read in full, filtered here.
        var entry = id.ToString("D");
        var named = (await policies.Select(p => new { p.Id, p.DisplayName, p.NetworkConnectionIds }).ToListAsync(cancellationToken))
            .Where(p => p.NetworkConnectionIds.Contains(entry)).OrderBy(p => p.DisplayName, StringComparer.Ordinal)
            .Select(p => new NetworkUsagePolicyView(p.Id, p.DisplayName)).ToList();
        return TypedResults.Ok(new NetworkConnectionUsageView(id, named, await OnConnection(cloudPcs, id).CountAsync(cancellationToken)));
    }

    private static async Task<Results<Accepted<MoveCloudPcsView>, ValidationProblem, ProblemHttpResult>> MoveAsync(
        Guid id, MoveCloudPcsRequest? request, HttpContext http, ProvisioningDbContext db, NetworkClient network, TimeProvider clock, CancellationToken cancellationToken)
    {
        var tenant = http.User.RequiredTenantId();
        if (request?.Reason is { Length: > 1024 })
        {
            return Problems.Validation("reason", "'reason' must be at most 1024 characters.");
        }

        // Only a connection of the caller's tenant: an unknown id is a 404 that records nothing, as everywhere else.
        try
        {
            if (await network.ConnectionAsync(tenant, id, cancellationToken) is null)
            {
                return Problems.NotFound("network connection", id);
            }
        }
        catch (NetworkUnavailableException e)
        {
            return Problems.DependencyUnavailable(
                $"The network service, which knows the connections, cannot be asked now ({e.Message}). Nothing was moved; send the request again later.");
        }

        if (await db.NetworkMoves.AnyAsync(m => m.TenantId == tenant && m.FromConnectionId == id && m.CompletedAt == null, cancellationToken))
        {
            return Problems.Conflict("move-running", $"The Cloud PCs of network connection {id} are being moved already; follow it in the audit log (cloudPc.networkConnectionMoved).");
        }

        // Running ones only: one being provisioned chooses its connection itself, one failed has no VM to move.
        var ids = await OnConnection(db.CloudPcs.AsNoTracking().Where(p => p.TenantId == tenant), id)
            .Where(p => p.Status == CloudPcStatus.Provisioned || p.Status == CloudPcStatus.InGracePeriod)
            .OrderBy(p => p.CreatedAt).ThenBy(p => p.Id).Select(p => p.Id).ToListAsync(cancellationToken);
        var now = clock.GetUtcNow();
        var actor = AuditActor.From(http);
        var move = new NetworkMove
        {
            Id = Guid.CreateVersion7(now),
            TenantId = tenant,
            FromConnectionId = id,
            CloudPcIds = ids,
            Reason = string.IsNullOrWhiteSpace(request?.Reason) ? $"{actor.UserPrincipalName} moved the Cloud PCs off network connection {id}" : request.Reason.Trim(),
            RequestedBy = actor.UserPrincipalName,
            CreatedAt = now,
            CompletedAt = ids.Count == 0 ? now : null,
            Version = Guid.NewGuid(),
        };
        db.NetworkMoves.Add(move);
        if (ids.Count > 0)
        {
            db.Publish(new MoveNextCloudPc(move.Id));
        }

        db.Audit(clock, tenant, actor, "networkConnection", "MoveCloudPcs", $"Asked to move {ids.Count} Cloud PC(s) off network connection {id}: {move.Reason}", true,
            NetworkAudit.ConnectionResource(id.ToString(), null));
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Accepted((string?)null, new MoveCloudPcsView(move.Id, id, ids.Count));
    }
}
