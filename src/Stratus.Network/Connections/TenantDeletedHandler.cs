using Microsoft.EntityFrameworkCore;
using Stratus.Network.Persistence;
using Stratus.Platform.Messaging;

namespace Stratus.Network.Connections;

/// <summary>Identity's event, in the network service's own copy (services share names and shapes, never assemblies).</summary>
[MessageName("identity.tenantDeleted.v1")]
public sealed record TenantDeleted(Guid TenantId, long Sequence, DateTimeOffset OccurredAt);

/// <summary>
/// A deleted tenant's connections and their check history go with it, each announced as deleted so that compute and the
/// hosts tear the connection down (once the tenant's VMs, deprovisioned by provisioning on the same event, are gone).
/// </summary>
internal sealed class TenantDeletedHandler(NetworkDbContext db, TimeProvider clock) : IMessageHandler<TenantDeleted>
{
    public async Task HandleAsync(TenantDeleted message, MessageContext context, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var connections = await db.Connections.Where(c => c.TenantId == message.TenantId).ToListAsync(cancellationToken);
        var ids = connections.Select(c => c.Id).ToList();
        db.HealthCheckRuns.RemoveRange(await db.HealthCheckRuns.Where(r => ids.Contains(r.ConnectionId)).ToListAsync(cancellationToken));
        foreach (var connection in connections)
        {
            db.Connections.Remove(connection);
            db.Publish(new NetworkConnectionDeleted(connection.TenantId, connection.Id, connection.Region, connection.Version + 1, now));
        }

        db.TenantGuards.RemoveRange(await db.TenantGuards.Where(g => g.TenantId == message.TenantId).ToListAsync(cancellationToken));
        await db.SaveChangesAsync(cancellationToken);
    }
}
