using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Stratus.Images.Persistence;
using Stratus.Images.Store;
using Stratus.Platform.Audit;
using Stratus.Platform.Messaging;

namespace Stratus.Images.DeviceImages;

/// <summary>
/// Validates and imports an upload, then marks the image ready or failed, with its event and audit record in
/// the same transaction. A failed image keeps none of its files; the upload goes in every case.
/// </summary>
internal sealed partial class DeviceImageContentUploadedHandler(
    ImagesDbContext db,
    ImageStore store,
    DeviceImageImporter importer,
    IOptions<MessagingOptions> messaging,
    TimeProvider clock,
    ILogger<DeviceImageContentUploadedHandler> logger) : IMessageHandler<DeviceImageContentUploaded>
{
    public async Task HandleAsync(DeviceImageContentUploaded message, MessageContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(context);
        var upload = store.UploadPath(message.UploadFile);
        var image = await db.DeviceImages.FirstOrDefaultAsync(i => i.Id == message.Id && i.TenantId == message.TenantId, cancellationToken);
        if (image is not { Status: DeviceImageStatus.Pending } || image.UploadFile != message.UploadFile)
        {
            // Deleted meanwhile, or already decided: nothing to import, only the upload to drop.
            File.Delete(upload);
            return;
        }

        using (await store.LockAsync(image.ImageId, cancellationToken))
        {
            var outcome = await ImportAsync(image, upload, context, cancellationToken);
            var now = clock.GetUtcNow();
            var actor = AuditActor.System("images");
            var resource = new AuditResource(image.ImageId, "deviceImage", image.DisplayName);
            image.UploadFile = null;
            image.LastModifiedAt = now;
            image.ConcurrencyStamp = Guid.NewGuid();
            if (outcome.Imported is { } imported)
            {
                image.Status = DeviceImageStatus.Ready;
                image.ErrorCode = null;
                image.StatusDetails = null;
                image.SourceFormat = imported.Source.Format;
                image.VirtualSizeBytes = imported.Source.VirtualSize;
                db.Publish(new DeviceImageReady(image.Id, image.TenantId, image.ImageId, image.DisplayName, image.Version, imported.Regions, now));
                db.Audit(clock, image.TenantId, actor, "image", "ImportDeviceImage",
                    $"Device image {image.DisplayName} {image.Version} is ready in {string.Join(", ", imported.Regions)}", true, resource);
                LogReady(logger, image.Id, imported.Source.Format, imported.Regions.Count);
            }
            else
            {
                var refusal = outcome.Refusal!;
                store.RemoveEverywhere(image.ImageId);
                image.Status = DeviceImageStatus.Failed;
                image.ErrorCode = refusal.ErrorCode;
                image.StatusDetails = refusal.Message;
                db.Publish(new DeviceImageFailed(image.Id, image.TenantId, image.DisplayName, image.Version, refusal.ErrorCode, refusal.Message, now));
                db.Audit(clock, image.TenantId, actor, "image", "ImportDeviceImage",
                    $"Device image {image.DisplayName} {image.Version} was refused: {refusal.Message}", false, resource);
                LogRefused(logger, image.Id, refusal.ErrorCode, refusal.Message);
            }

            try
            {
                await db.SaveChangesAsync(cancellationToken);
            }
            catch (DbUpdateConcurrencyException)
            {
                // Deleted while it was imported: the delete left its files to this handler, which holds the lock.
                store.RemoveEverywhere(image.ImageId);
                db.ChangeTracker.Clear();
                await db.SaveChangesAsync(cancellationToken);
            }
        }

        File.Delete(upload);
    }

    /// <returns>The imported image, or the refusal that says why not.</returns>
    private async Task<(ImportResult? Imported, ImageRefusedException? Refusal)> ImportAsync(DeviceImage image, string upload, MessageContext context, CancellationToken cancellationToken)
    {
        try
        {
            return (await importer.ImportAsync(image, upload, cancellationToken), null);
        }
        catch (ImageRefusedException refusal)
        {
            return (null, refusal);
        }
        catch (Exception e) when (e is not OperationCanceledException && context.Attempt < messaging.Value.MaxAttempts)
        {
            // Not the image's fault (a full disk, qemu-img missing): the queue retries, from a clean slate.
            LogAttemptFailed(logger, e, image.Id, context.Attempt);
            store.RemoveEverywhere(image.ImageId);
            throw;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogAttemptFailed(logger, e, image.Id, context.Attempt);
            return (null, new ImageRefusedException(DeviceImageErrorCodes.InternalServerError,
                $"Stratus could not import the image after {context.Attempt} attempts ({e.Message}). Upload it again later; if it fails again, the operator finds the cause in the images service's log."));
        }
    }

    [LoggerMessage(EventId = 7101, Level = LogLevel.Information, Message = "Device image {Id} is ready ({Format} upload, {Regions} regions)")]
    private static partial void LogReady(ILogger logger, Guid id, string format, int regions);

    [LoggerMessage(EventId = 7102, Level = LogLevel.Information, Message = "Device image {Id} was refused ({ErrorCode}): {Details}")]
    private static partial void LogRefused(ILogger logger, Guid id, string errorCode, string details);

    [LoggerMessage(EventId = 7103, Level = LogLevel.Warning, Message = "Importing device image {Id} failed on attempt {Attempt}")]
    private static partial void LogAttemptFailed(ILogger logger, Exception exception, Guid id, int attempt);
}
