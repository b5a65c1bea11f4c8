using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Stratus.Images.Persistence;
using Stratus.Images.Store;
using Stratus.Platform.Messaging;

namespace Stratus.Images.DeviceImages;

/// <summary>
/// Queues the import of a complete upload as a job and returns at once: the import takes up to hours, and a
/// handler that held the images queue that long would hold every message behind it (issue 16 item 6).
/// <see cref="ImportJobRunner"/> runs the job.
/// </summary>
internal sealed class DeviceImageContentUploadedHandler(
    ImagesDbContext db,
    ImageStore store,
    ImportJobRunner runner,
    IOptions<ImagesOptions> options,
    TimeProvider clock) : IMessageHandler<DeviceImageContentUploaded>
{
    public async Task HandleAsync(DeviceImageContentUploaded message, MessageContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(context);
        var image = await db.DeviceImages.AsNoTracking().FirstOrDefaultAsync(i => i.Id == message.Id && i.TenantId == message.TenantId, cancellationToken);
        if (image is not { Status: DeviceImageStatus.Pending } || image.UploadFile != message.UploadFile)
        {
            // Deleted meanwhile, or already decided: nothing to import, only the upload to drop.
            File.Delete(store.UploadPath(message.UploadFile));
            return;
        }

        if (!await db.ImportJobs.AnyAsync(j => j.Id == image.Id, cancellationToken))
        {
            var now = clock.GetUtcNow();
            db.ImportJobs.Add(new ImportJob
            {
                Id = image.Id,
                TenantId = image.TenantId,
                UploadFile = message.UploadFile,
                State = ImportJobState.Queued,
                Deadline = now + options.Value.ImportTimeout,
                CreatedAt = now,
            });
        }

        await db.SaveChangesAsync(cancellationToken);
        runner.Wake();
    }
}
