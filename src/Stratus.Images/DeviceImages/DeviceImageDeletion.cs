using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Stratus.Images.Persistence;
using Stratus.Images.Store;
using Stratus.Platform.Audit;

namespace Stratus.Images.DeviceImages;

public enum DeletionResult
{
    Deleted,
    NotFound,

    /// <summary>Policies or Cloud PCs use the image; nothing was removed.</summary>
    InUse,

    /// <summary>Provisioning did not answer; nothing was removed.</summary>
    UsageUnknown,
}

public sealed record DeletionOutcome(DeletionResult Result, ImageUsage? Usage = null, string? Error = null);

/// <summary>
/// Deletes a custom image, never one in use: every VM disk is a copy-on-write overlay of its image's disk, so
/// removing the files of a used image loses those Cloud PCs for good. A ready image is first marked
/// <see cref="DeviceImageStatus.Deleting"/> (provisioning refuses new policies naming an image that is not
/// ready), its usage is checked, its folders are withdrawn (renamed aside: no host agent can build a disk on
/// it from then on), and its usage is checked again. A VM made from the image before the withdrawal belongs to a
/// Cloud PC created before it, which the second check sees: then the folders go back and the image is ready
/// again. So no interleaving removes the files under a disk; see README.md.
/// </summary>
internal sealed partial class DeviceImageDeletion(ImagesDbContext db, ImageStore store, ImageUsageClient usage, TimeProvider clock, ILogger<DeviceImageDeletion> logger)
{
    public async Task<DeletionOutcome> DeleteAsync(Guid tenantId, Guid id, AuditActor actor, CancellationToken cancellationToken)
    {
        var image = await db.DeviceImages.AsNoTracking().FirstOrDefaultAsync(i => i.Id == id && i.TenantId == tenantId, cancellationToken);
        if (image is null)
        {
            return new DeletionOutcome(DeletionResult.NotFound);
        }

        if (image.Status is not (DeviceImageStatus.Ready or DeviceImageStatus.Deleting))
        {
            // Pending or failed: never offered to a policy (provisioning takes only ready images), so no disk uses it.
            if (!await DeleteRecordAsync(image, actor, cancellationToken))
            {
                return new DeletionOutcome(DeletionResult.NotFound);
            }

            // The files go now, unless an import holds the image: then the import removes them when it finds the image gone.
            if (store.TryLock(image.ImageId, out var held))
            {
                using (held)
                {
                    RemoveFiles(image);
                }
            }

            return new DeletionOutcome(DeletionResult.Deleted);
        }

        if (image.Status == DeviceImageStatus.Ready && await SetStatusAsync(image, DeviceImageStatus.Ready, DeviceImageStatus.Deleting, CancellationToken.None) == 0)
        {
            // Another delete marked it (or deleted it) first: answered from the state it is in now.
            return await DeleteAsync(tenantId, id, actor, cancellationToken);
        }

        var refused = await RefusalAsync(image, cancellationToken);
        if (refused is null)
        {
            using (await store.LockAsync(image.ImageId, cancellationToken))
            {
                store.Withdraw(image.ImageId);
                refused = await RefusalAsync(image, cancellationToken);
                if (refused is null)
                {
                    if (await DeleteRecordAsync(image, actor, CancellationToken.None))
                    {
                        RemoveFiles(image);
                        return new DeletionOutcome(DeletionResult.Deleted);
                    }

                    return new DeletionOutcome(DeletionResult.NotFound);
                }

                store.Restore(image.ImageId);
            }
        }

        // In use, or its use unknown: ready again, with every file where it was.
        await SetStatusAsync(image, DeviceImageStatus.Deleting, DeviceImageStatus.Ready, CancellationToken.None);
        return refused;
    }

    /// <summary>Null when nothing uses the image; else why it stays.</summary>
    private async Task<DeletionOutcome?> RefusalAsync(DeviceImage image, CancellationToken cancellationToken)
    {
        try
        {
            var used = await usage.OfTenantAsync(image.TenantId, image.ImageId, cancellationToken);
            return used.InUse ? new DeletionOutcome(DeletionResult.InUse, used) : null;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or System.Text.Json.JsonException or InvalidOperationException)
        {
            LogUsageUnknown(logger, e, image.Id);
            return new DeletionOutcome(DeletionResult.UsageUnknown, Error: e.Message);
        }
    }

    private async Task<int> SetStatusAsync(DeviceImage image, DeviceImageStatus from, DeviceImageStatus to, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var stamp = Guid.NewGuid();
        return await db.DeviceImages.Where(i => i.Id == image.Id && i.Status == from)
            .ExecuteUpdateAsync(set => set.SetProperty(i => i.Status, to).SetProperty(i => i.LastModifiedAt, now).SetProperty(i => i.ConcurrencyStamp, stamp), cancellationToken);
    }

    /// <summary>One statement without a concurrency check, with its event and audit record in the same transaction.</summary>
    private async Task<bool> DeleteRecordAsync(DeviceImage image, AuditActor actor, CancellationToken cancellationToken)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        if (await db.DeviceImages.Where(i => i.Id == image.Id && i.TenantId == image.TenantId).ExecuteDeleteAsync(cancellationToken) == 0)
        {
            return false;
        }

        db.Publish(new DeviceImageDeleted(image.Id, image.TenantId, image.DisplayName, image.Version, clock.GetUtcNow()));
        db.Audit(clock, image.TenantId, actor, "image", "DeleteDeviceImage", $"Deleted device image {image.DisplayName} {image.Version}", true,
            new AuditResource(image.ImageId, "deviceImage", image.DisplayName));
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return true;
    }

    private void RemoveFiles(DeviceImage image)
    {
        store.RemoveWithdrawn(image.ImageId);
        if (image.UploadFile is { } upload)
        {
            File.Delete(store.UploadPath(upload));
        }
    }

    [LoggerMessage(EventId = 7104, Level = LogLevel.Warning, Message = "Could not learn from provisioning whether device image {Id} is in use; it is kept")]
    private static partial void LogUsageUnknown(ILogger logger, Exception exception, Guid id);
}
