using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Stratus.Network.HealthChecks;
using Stratus.Network.Persistence;
using Stratus.Platform.Audit;
using Stratus.Platform.Auth;
using Stratus.Platform.Http;

namespace Stratus.Network.Connections;

public static partial class OnPremisesConnectionsApi
{
    private static async Task<Results<Ok<ConnectionView>, ValidationProblem, ProblemHttpResult>> UpdateAsync(
        Guid id, ConnectionRequest? request, HttpContext http, [AsParameters] ConnectionServices services, CancellationToken cancellationToken)
    {
        if (request is null)
        {
            return Problems.MissingBody("""{"displayName":"Corp A","dnsServers":["10.20.0.53"]}""");
        }

        var tenant = http.User.RequiredTenantId();
        var db = services.Db;
        var connection = await db.Connections.FirstOrDefaultAsync(c => c.Id == id && c.TenantId == tenant, cancellationToken);
        if (connection is null)
        {
            return NotFound(id);
        }

        var before = ConnectionSpec.Of(connection);
        var after = before.With(request);
        await TenantConnectionsGuard.ClaimAsync(db, tenant, cancellationToken);
        var others = await db.Connections.AsNoTracking().Where(c => c.TenantId == tenant && c.Id != id).Select(c => new { c.Subnet, c.DisplayName }).ToListAsync(cancellationToken);
        var validator = new Validator()
            .Check(request.RegionName is null || request.RegionName == connection.Region, "regionName",
                $"A connection's region cannot change (it is {connection.Region}); create a connection in the other region instead.")
            .Check(request.ConnectionType is null or "custom", "connectionType", "'connectionType' must be custom.");
        ConnectionRules.Validate(after, Regions(services.Configuration), others.Select(o => (o.Subnet, o.DisplayName)), validator);
        if (!validator.IsValid)
        {
            return validator.ToProblem();
        }

        if (!after.SameWiring(before))
        {
            var usage = await services.Usage.OfAsync(tenant, id, cancellationToken);
            if (usage.Unavailable is { } why)
            {
                return Problems.DependencyUnavailable($"Stratus could not learn whether network connection {id} is in use ({why}), so its subnet, gateway and uplink are kept. Send the change again in a minute.");
            }

            if (usage.Value!.InUse)
            {
                return Problems.Conflict("connection-in-use", $"Network connection {id} is used by {usage.Value.Describe()}, so its subnet, gateway and uplink cannot change "
                    + "(the Cloud PCs' addresses and wiring depend on them). Its name, DNS settings, names to resolve, endpoints and MTU can.");
            }

            if (after.UplinkInterface != before.UplinkInterface)
            {
                switch (await CheckInterfaceAsync(services.Hosts, after, cancellationToken))
                {
                    case (ValidationProblem invalid, _):
                        return invalid;
                    case (_, ProblemHttpResult unavailable):
                        return unavailable;
                }
            }
        }

        if (after == before)
        {
            return TypedResults.Ok(ConnectionView.From(connection, await InUseAsync(services.Usage, connection, cancellationToken)));
        }

        var now = services.Clock.GetUtcNow();
        Apply(connection, after, now);
        db.Publish(Upserted(connection, now));
        // The hosts apply the change; the checks then say whether it works.
        await services.Runs.RequestAsync(connection, "updated", cancellationToken);
        db.Audit(services.Clock, tenant, AuditActor.From(http), Category, "UpdateOnPremisesConnection",
            $"Changed network connection {connection.DisplayName}", true, Resource(connection));
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException e) when (TenantConnectionsGuard.LostRace(e))
        {
            return Problems.Conflict("concurrent-change", $"Network connection {id}, or another connection of the tenant, changed (or was checked) while this request ran; read it again and send the change again.");
        }

        return TypedResults.Ok(ConnectionView.From(connection, await InUseAsync(services.Usage, connection, cancellationToken)));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(Guid id, HttpContext http, [AsParameters] ConnectionServices services,
        CancellationToken cancellationToken)
    {
        var tenant = http.User.RequiredTenantId();
        var db = services.Db;
        var connection = await db.Connections.FirstOrDefaultAsync(c => c.Id == id && c.TenantId == tenant, cancellationToken);
        if (connection is null)
        {
            return NotFound(id);
        }

        // Never blind: a connection goes only when provisioning says nothing uses it.
        var usage = await services.Usage.OfAsync(tenant, id, cancellationToken);
        if (usage.Unavailable is { } why)
        {
            return Problems.DependencyUnavailable($"Stratus could not learn whether network connection {id} is in use ({why}), so it is kept. Delete it again when provisioning answers.");
        }

        if (usage.Value!.InUse)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Conflict",
                detail: $"Network connection {id} is used by {usage.Value.Describe()}. Remove it from the policies and move or deprovision its Cloud PCs, then delete it.",
                type: Problems.TypePrefix + "connection-in-use",
                extensions: new Dictionary<string, object?> { ["policies"] = usage.Value.Policies, ["cloudPcCount"] = usage.Value.CloudPcCount });
        }

        var now = services.Clock.GetUtcNow();
        db.Connections.Remove(connection);
        db.HealthCheckRuns.RemoveRange(await db.HealthCheckRuns.Where(r => r.ConnectionId == id).ToListAsync(cancellationToken));
        db.Publish(new NetworkConnectionDeleted(tenant, id, connection.Region, connection.Version + 1, now));
        db.Audit(services.Clock, tenant, AuditActor.From(http), Category, "DeleteOnPremisesConnection",
            $"Deleted network connection {connection.DisplayName}", true, Resource(connection));
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateConcurrencyException)
        {
            return Problems.Conflict("concurrent-change", $"Network connection {id} changed while it was being deleted; delete it again.");
        }

        return TypedResults.NoContent();
    }

    private static async Task<Results<Accepted<HealthCheckRunView>, ProblemHttpResult>> RunHealthChecksAsync(Guid id, HttpContext http, NetworkDbContext db,
        HealthCheckRuns runs, TimeProvider clock, CancellationToken cancellationToken)
    {
        var tenant = http.User.RequiredTenantId();
        var run = await db.RetryOnConcurrentChangeAsync(async () =>
        {
            var connection = await db.Connections.FirstOrDefaultAsync(c => c.Id == id && c.TenantId == tenant, cancellationToken);
            if (connection is null)
            {
                return null;
            }

            var actor = AuditActor.From(http);
            var run = await runs.RequestAsync(connection, actor.UserPrincipalName, cancellationToken);
            db.Audit(clock, tenant, actor, Category, "RunOnPremisesConnectionHealthChecks",
                $"Ran the health checks of network connection {connection.DisplayName}", true, Resource(connection));
            await db.SaveChangesAsync(cancellationToken);
            return run;
        });
        return run is null ? NotFound(id) : TypedResults.Accepted($"{Path}/{id}/healthCheckRuns", HealthCheckRunView.From(run));
    }

    private static async Task<Results<Ok<PagedResult<HealthCheckRunView>>, ValidationProblem, ProblemHttpResult>> ListRunsAsync(Guid id, HttpContext http,
        [AsParameters] ListQuery query, NetworkDbContext db, CancellationToken cancellationToken)
    {
        if (Paging.Validate(query.Top, query.Skip) is { } invalid)
        {
            return invalid;
        }

        var tenant = http.User.RequiredTenantId();
        if (!await db.Connections.AnyAsync(c => c.Id == id && c.TenantId == tenant, cancellationToken))
        {
            return NotFound(id);
        }

        var runs = db.HealthCheckRuns.AsNoTracking().Where(r => r.ConnectionId == id && r.TenantId == tenant);
        var total = await runs.CountAsync(cancellationToken);
        var page = await runs.OrderByDescending(r => r.RequestedAt).ThenByDescending(r => r.Id).Skip(query.Skip ?? 0).Take(query.Top ?? Paging.DefaultTop).ToListAsync(cancellationToken);
        return TypedResults.Ok(new PagedResult<HealthCheckRunView>(page.Select(HealthCheckRunView.From).ToList(), total));
    }
}
