using Microsoft.EntityFrameworkCore;
using Stratus.Gateway.Persistence;
using Stratus.Platform.Messaging;

namespace Stratus.Gateway.Connect;

/// <summary>Identity's event, in the gateway's own copy (services share names and shapes, never assemblies).</summary>
[MessageName("identity.tenantDeleted.v1")]
public sealed record TenantDeleted(Guid TenantId, long Sequence, DateTimeOffset OccurredAt);

/// <summary>A deleted tenant's connect tickets, sessions, their round-trip samples and refused attempts go with it.</summary>
internal sealed class TenantDeletedHandler(GatewayDbContext db) : IMessageHandler<TenantDeleted>
{
    public async Task HandleAsync(TenantDeleted message, MessageContext context, CancellationToken cancellationToken)
    {
        var tenant = message.TenantId;
        db.RoundTripSamples.RemoveRange(await db.RoundTripSamples.Where(s => s.TenantId == tenant).ToListAsync(cancellationToken));
        db.Sessions.RemoveRange(await db.Sessions.Where(s => s.TenantId == tenant).ToListAsync(cancellationToken));
        db.ConnectTokens.RemoveRange(await db.ConnectTokens.Where(t => t.TenantId == tenant).ToListAsync(cancellationToken));
        db.ConnectionRefusals.RemoveRange(await db.ConnectionRefusals.Where(r => r.TenantId == tenant).ToListAsync(cancellationToken));
        await db.SaveChangesAsync(cancellationToken);
    }
}
