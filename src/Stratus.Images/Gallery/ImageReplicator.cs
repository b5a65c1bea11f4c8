using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Stratus.Images.DeviceImages;
using Stratus.Images.Persistence;
using Stratus.Images.Store;
using Stratus.Platform.Audit;
using Stratus.Platform.Jobs;

namespace Stratus.Images.Gallery;

/// <summary>
/// Keeps every region's store complete: at start, every <see cref="ImagesOptions.ReplicationInterval"/> and on
/// demand, it copies each gallery image (and each ready custom image, for a region added since) into every
/// region that lacks it, removes the files of custom images that no longer exist, and what crashed work left.
/// Scheduled passes run in the instance that leads the job.
/// </summary>
internal sealed partial class ImageReplicator(
    ImageStore store,
    ImageUsageClient usage,
    IServiceScopeFactory scopes,
    IOptions<ImagesOptions> options,
    TimeProvider clock,
    ILogger<ImageReplicator> logger) : IPeriodicJob, IDisposable
{
    /// <summary>Work that writes nothing for this long is taken for dead.</summary>
    private static readonly TimeSpan LeftoverAge = TimeSpan.FromHours(1);

    /// <summary>How long a finished import job stays in import_jobs (README.md).</summary>
    public static readonly TimeSpan FinishedImportJobsKeptFor = TimeSpan.FromDays(7);

    /// <summary>A delete takes seconds; one still marked deleting after this was cut short.</summary>
    private static readonly TimeSpan StuckDeletionAge = TimeSpan.FromMinutes(10);

    private readonly SemaphoreSlim pass = new(1, 1);

    public string Name => "images.replicator";

    public TimeSpan Interval => options.Value.ReplicationInterval;

    public Task RunAsync(CancellationToken cancellationToken) => RunOnceAsync(cancellationToken);

    /// <summary>One pass; a pass already running is waited for, then this one runs.</summary>
    public async Task RunOnceAsync(CancellationToken cancellationToken)
    {
        await pass.WaitAsync(cancellationToken);
        try
        {
            store.EnsureFolders();
            var gallery = store.ListGallery();
            foreach (var image in gallery)
            {
                await ReplicateAsync(image, cancellationToken);
            }

            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<ImagesDbContext>();
            var images = await db.DeviceImages.AsNoTracking().Select(i => new { i.Id, i.TenantId, i.Status, i.UploadFile, i.LastModifiedAt }).ToListAsync(cancellationToken);
            var stuck = clock.GetUtcNow() - StuckDeletionAge;
            foreach (var deleting in images.Where(i => i.Status == DeviceImageStatus.Deleting && i.LastModifiedAt < stuck))
            {
                // A delete cut short (a crash, a restart): finished, or undone when the image turns out to be in use.
                await scope.ServiceProvider.GetRequiredService<DeviceImageDeletion>().DeleteAsync(deleting.TenantId, deleting.Id, AuditActor.System("images"), cancellationToken);
            }

            foreach (var ready in images.Where(i => i.Status == DeviceImageStatus.Ready))
            {
                if (store.ReadImage(store.CustomImageFolder(ready.Id.ToString())) is { } image)
                {
                    await ReplicateAsync(image, cancellationToken);
                }
            }

            await RemoveOrphansAsync(db, images.Select(i => i.Id.ToString()).Concat(gallery.Select(g => g.Id)).ToHashSet(StringComparer.Ordinal), cancellationToken);
            store.RemoveLeftovers(LeftoverAge, images.Where(i => i.UploadFile is not null).Select(i => i.UploadFile!).ToHashSet(StringComparer.Ordinal), clock.GetUtcNow());

            // Finished import jobs are kept a while for the operator, then go: the image keeps the outcome.
            var forgottenBefore = clock.GetUtcNow() - FinishedImportJobsKeptFor;
            await db.ImportJobs.Where(j => (j.State == ImportJobState.Succeeded || j.State == ImportJobState.Failed) && j.FinishedAt < forgottenBefore)
                .ExecuteDeleteAsync(cancellationToken);
        }
        finally
        {
            pass.Release();
        }
    }

    private async Task ReplicateAsync(StoredImage image, CancellationToken cancellationToken)
    {
        using var _ = await store.LockAsync(image.Id, cancellationToken);
        foreach (var region in store.Regions)
        {
            try
            {
                await store.ReplicateAsync(image, region, cancellationToken);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException)
            {
                // One region's failure (a full disk, a source that changed under the copy) does not stop the others.
                LogReplicationFailed(logger, e, image.Id, region);
            }
        }
    }

    /// <summary>Custom images' folders whose image was deleted (a delete that could not remove them at once).</summary>
    private async Task RemoveOrphansAsync(ImagesDbContext db, HashSet<string> known, CancellationToken cancellationToken)
    {
        var folders = store.Regions.Select(store.RegionFolder).Prepend(store.CustomFolder).Where(Directory.Exists)
            .SelectMany(Directory.EnumerateDirectories)
            .Select(Path.GetFileName)
            .OfType<string>()
            .Where(name => Guid.TryParseExact(name, "D", out _) && !known.Contains(name))
            .Distinct(StringComparer.Ordinal)
            .ToList();
        foreach (var orphan in folders)
        {
            if (!store.TryLock(orphan, out var held))
            {
                continue;
            }

            using (held)
            {
                // Asked again under the lock: an image created since the list was read is not an orphan. And an image
                // in use is never removed, even one this store forgot (restored from an older backup, say).
                var id = Guid.ParseExact(orphan, "D");
                if (!await db.DeviceImages.AnyAsync(i => i.Id == id, cancellationToken) && !await InUseAsync(orphan, cancellationToken))
                {
                    store.RemoveEverywhere(orphan);
                    LogRemovedOrphan(logger, orphan);
                }
            }
        }
    }

    /// <summary>True when provisioning names the image anywhere, or cannot be asked (then the files stay until it can).</summary>
    private async Task<bool> InUseAsync(string imageId, CancellationToken cancellationToken)
    {
        try
        {
            var used = await usage.OfAnyTenantAsync(imageId, cancellationToken);
            if (used.InUse)
            {
                LogOrphanInUse(logger, imageId, used.Describe());
            }

            return used.InUse;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or System.Text.Json.JsonException or InvalidOperationException)
        {
            LogOrphanUsageUnknown(logger, e, imageId);
            return true;
        }
    }

    public void Dispose() => pass.Dispose();

    [LoggerMessage(EventId = 7202, Level = LogLevel.Warning, Message = "Replicating image {ImageId} into region {Region} failed; the next pass tries again")]
    private static partial void LogReplicationFailed(ILogger logger, Exception exception, string imageId, string region);

    [LoggerMessage(EventId = 7203, Level = LogLevel.Information, Message = "Removed the files of deleted image {ImageId}")]
    private static partial void LogRemovedOrphan(ILogger logger, string imageId);

    [LoggerMessage(EventId = 7204, Level = LogLevel.Warning, Message = "Kept the files of image {ImageId}, which this store no longer lists: {Usage} use it")]
    private static partial void LogOrphanInUse(ILogger logger, string imageId, string usage);

    [LoggerMessage(EventId = 7205, Level = LogLevel.Warning, Message = "Kept the files of image {ImageId}, which this store no longer lists: provisioning could not say whether it is in use")]
    private static partial void LogOrphanUsageUnknown(ILogger logger, Exception exception, string imageId);
}
