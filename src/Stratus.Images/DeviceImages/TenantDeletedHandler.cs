using Microsoft.EntityFrameworkCore;
using Stratus.Images.Persistence;
using Stratus.Platform.Messaging;

namespace Stratus.Images.DeviceImages;

/// <summary>Identity's event, in the images service's own copy (services share names and shapes, never assemblies).</summary>
[MessageName("identity.tenantDeleted.v1")]
public sealed record TenantDeleted(Guid TenantId, long Sequence, DateTimeOffset OccurredAt);

/// <summary>
/// A deleted tenant's custom images and import jobs are forgotten at once. Their files are not removed here: the
/// tenant's Cloud PCs are being deprovisioned meanwhile and their disks overlay those files, so the replicator removes
/// them as orphans once provisioning says nothing uses them (the one rule by which image files ever leave a store).
/// </summary>
internal sealed class TenantDeletedHandler(ImagesDbContext db) : IMessageHandler<TenantDeleted>
{
    public async Task HandleAsync(TenantDeleted message, MessageContext context, CancellationToken cancellationToken)
    {
        var tenant = message.TenantId;
        db.ImportJobs.RemoveRange(await db.ImportJobs.Where(j => j.TenantId == tenant).ToListAsync(cancellationToken));
        db.DeviceImages.RemoveRange(await db.DeviceImages.Where(i => i.TenantId == tenant).ToListAsync(cancellationToken));
        await db.SaveChangesAsync(cancellationToken);
    }
}
