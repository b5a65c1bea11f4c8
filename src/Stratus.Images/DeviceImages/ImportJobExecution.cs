using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Stratus.Images.Persistence;
using Stratus.Images.Store;
using Stratus.Platform.Audit;

namespace Stratus.Images.DeviceImages;

/// <summary>
/// Runs one claimed import job: validates and imports the upload, then marks the image ready or failed, with its
/// event, its audit record and the job's end in the same transaction. It renews its lease while it works, reports
/// progress on the job and the image, and stops at the job's deadline. A failed image keeps none of its files;
/// the upload goes once the job ends. A failure that is not the image's fault puts the job back in the queue
/// until <see cref="ImagesOptions.ImportMaxAttempts"/>.
/// </summary>
internal sealed partial class ImportJobExecution(
    ImagesDbContext db,
    ImageStore store,
    DeviceImageImporter importer,
    IOptions<ImagesOptions> options,
    IServiceScopeFactory scopes,
    TimeProvider clock,
    ILogger<ImportJobExecution> logger)
{
    public async Task RunAsync(ImportJob job, string owner, CancellationToken stoppingToken)
    {
        ArgumentNullException.ThrowIfNull(job);
        var upload = store.UploadPath(job.UploadFile);
        var image = await db.DeviceImages.FirstOrDefaultAsync(i => i.Id == job.Id && i.TenantId == job.TenantId, stoppingToken);
        if (image is not { Status: DeviceImageStatus.Pending } || image.UploadFile != job.UploadFile)
        {
            // Deleted meanwhile, or already decided: nothing to import, only the upload to drop.
            await EndJobAsync(job.Id, ImportJobState.Failed, "The image was deleted or decided before its import ran.", stoppingToken);
            File.Delete(upload);
            return;
        }

        using var work = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        work.CancelAfter(Max(job.Deadline - clock.GetUtcNow(), TimeSpan.Zero));
        using var renewal = RenewLeaseAsync(job, owner, work);
        using (await store.LockAsync(image.ImageId, work.Token))
        {
            (ImportResult? Imported, ImageRefusedException? Refusal) outcome;
            try
            {
                outcome = (await importer.ImportAsync(image, upload, (percent, details, token) => ReportAsync(job.Id, percent, details, token), work.Token), null);
            }
            catch (ImageRefusedException refusal)
            {
                outcome = (null, refusal);
            }
            catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested && clock.GetUtcNow() >= job.Deadline)
            {
                outcome = (null, new ImageRefusedException(DeviceImageErrorCodes.InternalServerError,
                    $"The import did not finish within {options.Value.ImportTimeout} of the upload. Upload a smaller disk, or ask the operator to allow more time (Stratus:Images:ImportTimeout)."));
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogAttemptFailed(logger, e, image.Id, job.Attempts);
                store.RemoveEverywhere(image.ImageId);
                if (job.Attempts < options.Value.ImportMaxAttempts)
                {
                    // Not the image's fault (a full disk, qemu-img missing): queued again, from a clean slate.
                    await RequeueAsync(job, e.Message);
                    return;
                }

                outcome = (null, new ImageRefusedException(DeviceImageErrorCodes.InternalServerError,
                    $"Stratus could not import the image after {job.Attempts} attempts ({e.Message}). Upload it again later; if it fails again, the operator finds the cause in the images service's log."));
            }

            await DecideAsync(image, job, outcome.Imported, outcome.Refusal);
        }

        File.Delete(upload);
    }

    /// <summary>The image's end and the job's, in one transaction; not cancelled by a stop, which would only redo the work.</summary>
    private async Task DecideAsync(DeviceImage image, ImportJob job, ImportResult? imported, ImageRefusedException? refusal)
    {
        var now = clock.GetUtcNow();
        var actor = AuditActor.System("images");
        var resource = new AuditResource(image.ImageId, "deviceImage", image.DisplayName);
        image.UploadFile = null;
        image.LastModifiedAt = now;
        image.ConcurrencyStamp = Guid.NewGuid();
        image.PercentComplete = 100;
        if (imported is not null)
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
            store.RemoveEverywhere(image.ImageId);
            image.Status = DeviceImageStatus.Failed;
            image.ErrorCode = refusal!.ErrorCode;
            image.StatusDetails = refusal.Message;
            db.Publish(new DeviceImageFailed(image.Id, image.TenantId, image.DisplayName, image.Version, refusal.ErrorCode, refusal.Message, now));
            db.Audit(clock, image.TenantId, actor, "image", "ImportDeviceImage",
                $"Device image {image.DisplayName} {image.Version} was refused: {refusal.Message}", false, resource);
            LogRefused(logger, image.Id, refusal.ErrorCode, refusal.Message);
        }

        var tracked = await db.ImportJobs.FirstAsync(j => j.Id == job.Id, CancellationToken.None);
        tracked.State = imported is not null ? ImportJobState.Succeeded : ImportJobState.Failed;
        tracked.Error = refusal?.Message;
        tracked.PercentComplete = 100;
        tracked.FinishedAt = now;
        tracked.LeaseOwner = null;
        tracked.LeaseExpiresAt = null;
        try
        {
            await db.SaveChangesAsync(CancellationToken.None);
        }
        catch (DbUpdateConcurrencyException)
        {
            // Deleted while it was imported: the delete left its files to this job, which holds the lock.
            store.RemoveEverywhere(image.ImageId);
            db.ChangeTracker.Clear();
            await EndJobAsync(job.Id, ImportJobState.Failed, "The image was deleted while it was imported.", CancellationToken.None);
        }
    }

    private async Task ReportAsync(Guid id, int percent, string details, CancellationToken cancellationToken)
    {
        // Neither write changes the image's concurrency stamp: progress never makes an upload or a delete conflict.
        await db.ImportJobs.Where(j => j.Id == id).ExecuteUpdateAsync(set => set.SetProperty(j => j.PercentComplete, percent), cancellationToken);
        await db.DeviceImages.Where(i => i.Id == id && i.Status == DeviceImageStatus.Pending)
            .ExecuteUpdateAsync(set => set.SetProperty(i => i.PercentComplete, percent).SetProperty(i => i.StatusDetails, details), cancellationToken);
    }

    private async Task RequeueAsync(ImportJob job, string error) =>
        await db.ImportJobs.Where(j => j.Id == job.Id && j.Attempts == job.Attempts).ExecuteUpdateAsync(set => set
            .SetProperty(j => j.State, ImportJobState.Queued).SetProperty(j => j.Error, error)
            .SetProperty(j => j.LeaseOwner, (string?)null).SetProperty(j => j.LeaseExpiresAt, (DateTimeOffset?)null), CancellationToken.None);

    private async Task EndJobAsync(Guid id, ImportJobState state, string error, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        await db.ImportJobs.Where(j => j.Id == id).ExecuteUpdateAsync(set => set
            .SetProperty(j => j.State, state).SetProperty(j => j.Error, error).SetProperty(j => j.FinishedAt, now)
            .SetProperty(j => j.LeaseOwner, (string?)null).SetProperty(j => j.LeaseExpiresAt, (DateTimeOffset?)null), cancellationToken);
    }

    /// <summary>
    /// Extends the lease every third of it while the work runs; a lease found taken (this runner was presumed
    /// dead) stops the work, so that two runners never import one image at once. On its own context: the work's
    /// context is busy meanwhile.
    /// </summary>
    private LeaseRenewal RenewLeaseAsync(ImportJob job, string owner, CancellationTokenSource work)
    {
        var lease = options.Value.ImportLease;
        var renewal = new LeaseRenewal(work.Token);
        renewal.Task = Task.Run(async () =>
        {
            while (!renewal.Stopping.IsCancellationRequested)
            {
                await Task.Delay(lease / 3, clock, renewal.Stopping.Token).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
                if (renewal.Stopping.IsCancellationRequested)
                {
                    return;
                }

                try
                {
                    var until = clock.GetUtcNow() + lease;
                    await using var scope = scopes.CreateAsyncScope();
                    var own = scope.ServiceProvider.GetRequiredService<ImagesDbContext>();
                    if (await own.ImportJobs.Where(j => j.Id == job.Id && j.LeaseOwner == owner && j.Attempts == job.Attempts)
                        .ExecuteUpdateAsync(set => set.SetProperty(j => j.LeaseExpiresAt, until), renewal.Stopping.Token) == 0)
                    {
                        LogLeaseLost(logger, job.Id);
                        await work.CancelAsync();
                        return;
                    }
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // A database hiccup: the next renewal tries again, well before the lease runs out.
                    LogRenewalFailed(logger, e, job.Id);
                }
            }
        });
        return renewal;
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    private sealed class LeaseRenewal(CancellationToken work) : IDisposable
    {
        public CancellationTokenSource Stopping { get; } = CancellationTokenSource.CreateLinkedTokenSource(work);

        public Task Task { get; set; } = Task.CompletedTask;

        public void Dispose()
        {
            Stopping.Cancel();
            Task.Wait(TimeSpan.FromSeconds(10));
            Stopping.Dispose();
        }
    }

    [LoggerMessage(EventId = 7101, Level = LogLevel.Information, Message = "Device image {Id} is ready ({Format} upload, {Regions} regions)")]
    private static partial void LogReady(ILogger logger, Guid id, string format, int regions);

    [LoggerMessage(EventId = 7102, Level = LogLevel.Information, Message = "Device image {Id} was refused ({ErrorCode}): {Details}")]
    private static partial void LogRefused(ILogger logger, Guid id, string errorCode, string details);

    [LoggerMessage(EventId = 7103, Level = LogLevel.Warning, Message = "Importing device image {Id} failed on attempt {Attempt}")]
    private static partial void LogAttemptFailed(ILogger logger, Exception exception, Guid id, int attempt);

    [LoggerMessage(EventId = 7105, Level = LogLevel.Warning, Message = "Import job {Id} was taken by another runner (this one was presumed dead); stopping")]
    private static partial void LogLeaseLost(ILogger logger, Guid id);

    [LoggerMessage(EventId = 7106, Level = LogLevel.Warning, Message = "Renewing the lease of import job {Id} failed; trying again")]
    private static partial void LogRenewalFailed(ILogger logger, Exception exception, Guid id);
}
