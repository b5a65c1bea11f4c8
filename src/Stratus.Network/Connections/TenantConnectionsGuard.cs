using Microsoft.EntityFrameworkCore;
using Stratus.Network.Persistence;

namespace Stratus.Network.Connections;

/// <summary>
/// One row per tenant whose version every create and change of the tenant's connections raises in its own save. The
/// rules that span a tenant's connections (at most N, no two subnets overlap) are read after it, so of two requests
/// that both passed them at the same moment, the second save finds the version moved and saves nothing: the rules
/// hold however many instances handle requests at once, with no check that a caller must remember.
/// </summary>
public sealed class TenantConnectionsGuard
{
    public Guid TenantId { get; init; }

    public long Version { get; set; }

    /// <summary>Call before reading the tenant's other connections; the caller's SaveChanges then fails if another write came between.</summary>
    public static async Task ClaimAsync(NetworkDbContext db, Guid tenantId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        var guard = await db.TenantGuards.FirstOrDefaultAsync(g => g.TenantId == tenantId, cancellationToken)
            ?? db.TenantGuards.Add(new TenantConnectionsGuard { TenantId = tenantId }).Entity;
        guard.Version++;
    }

    /// <summary>Whether a failed save lost this race (the version moved, or another request made the tenant's first row).</summary>
    public static bool LostRace(DbUpdateException exception) =>
        exception is DbUpdateConcurrencyException || exception.Entries.Any(e => e.Entity is TenantConnectionsGuard);
}
