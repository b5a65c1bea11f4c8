using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Stratus.Images.DeviceImages;
using Stratus.Images.Persistence;
using Stratus.Platform.Jobs;

namespace Stratus.Images.Replication;

/// <summary>
/// Replicates this region's file stores (the image store, exports) to the other regions' stores, asynchronously:
/// each pass lists the source folders, records what changed in images.file_replicas, copies each new or changed file
/// (checked by sha256 after the copy, retried with backoff), re-copies a replica found missing, resized or (every
/// VerifyInterval) with other bytes, and removes the replica of a file gone from the source once nothing uses it.
/// Runs in the instance that leads the job; the records are written before any file is touched, so an instance
/// whose database takes no writes (a standby region's) copies and deletes nothing.
/// </summary>
public sealed partial class FileReplicator(
    FileReplicationRoutes routes,
    IServiceScopeFactory scopes,
    ImageUsageClient usage,
    FileReplicationMetrics metrics,
    IOptions<FileReplicationOptions> options,
    TimeProvider clock,
    ILogger<FileReplicator> logger) : IPeriodicJob, IDisposable
{
    private readonly SemaphoreSlim pass = new(1, 1);

    public string Name => "images.fileReplicator";

    public TimeSpan Interval => options.Value.Interval;

    public Task RunAsync(CancellationToken cancellationToken) => RunOnceAsync(verifyAll: false, cancellationToken);

    /// <summary>One pass over every route; <paramref name="verifyAll"/> reads every replica whole and checks its sha256.</summary>
    public async Task RunOnceAsync(bool verifyAll, CancellationToken cancellationToken)
    {
        await pass.WaitAsync(cancellationToken);
        try
        {
            foreach (var route in routes.Routes)
            {
                // One route's trouble (a mount away) does not hold back the others.
                if (!Directory.Exists(route.SourceRoot) || !Directory.Exists(route.TargetRoot))
                {
                    LogRouteUnavailable(logger, route.Set, route.SourceRoot, route.TargetRegion, route.TargetRoot);
                    continue;
                }

                await using var scope = scopes.CreateAsyncScope();
                var db = scope.ServiceProvider.GetRequiredService<ImagesDbContext>();
                var records = await db.FileReplicas
                    .Where(r => r.SourceRegion == route.SourceRegion && r.TargetRegion == route.TargetRegion && r.Set == route.Set)
                    .ToDictionaryAsync(r => r.Path, StringComparer.Ordinal, cancellationToken);
                await RecordChangesAsync(db, route, records, cancellationToken);
                await CheckReplicasAsync(db, route, records.Values, verifyAll, cancellationToken);
                await CopyDueAsync(db, route, records.Values, cancellationToken);
                await RemoveDeletedAsync(db, route, records, cancellationToken);
            }

            await UpdateMetricsAsync(cancellationToken);
        }
        finally
        {
            pass.Release();
        }
    }

    /// <summary>New files, changed ones (size or last write) and files gone from the source, saved before any copy.</summary>
    private async Task RecordChangesAsync(ImagesDbContext db, ReplicationRoute route, Dictionary<string, FileReplica> records, CancellationToken cancellationToken)
    {
        var files = await Task.Run(() => ReplicaFiles.List(route.SourceRoot, route.Set), cancellationToken);
        var now = clock.GetUtcNow();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var added = new List<FileReplica>();
        foreach (var file in files)
        {
            seen.Add(file.Path);
            if (!records.TryGetValue(file.Path, out var record))
            {
                record = new FileReplica
                {
                    Id = Guid.NewGuid(), SourceRegion = route.SourceRegion, TargetRegion = route.TargetRegion, Set = route.Set, Path = file.Path,
                    ImageId = ReplicaFiles.ImageIdOf(route.Set, file.Path), State = FileReplicaState.Pending, Size = file.Size,
                    SourceModifiedAt = file.ModifiedAt, DetectedAt = now,
                };
                records[file.Path] = record;
                added.Add(record);
            }
            else if (record.Size != file.Size || record.SourceModifiedAt != file.ModifiedAt || record.State == FileReplicaState.Deleting)
            {
                (record.State, record.Size, record.SourceModifiedAt, record.DetectedAt) = (FileReplicaState.Pending, file.Size, file.ModifiedAt, now);
                (record.Attempts, record.NextAttemptAt) = (0, null);
            }
        }

        foreach (var gone in records.Values.Where(r => r.State != FileReplicaState.Deleting && !seen.Contains(r.Path)))
        {
            (gone.State, gone.DetectedAt, gone.NextAttemptAt) = (FileReplicaState.Deleting, now, null);
        }

        // A custom image's files are its tenant's: the status API shows them to that tenant only.
        var imageIds = added.Select(r => Guid.TryParseExact(r.ImageId, "D", out var id) ? id : (Guid?)null).OfType<Guid>().Distinct().ToList();
        if (imageIds.Count > 0)
        {
            var tenants = await db.DeviceImages.AsNoTracking().Where(i => imageIds.Contains(i.Id)).ToDictionaryAsync(i => i.Id.ToString(), i => i.TenantId, cancellationToken);
            foreach (var record in added)
            {
                record.TenantId = record.ImageId is not null && tenants.TryGetValue(record.ImageId, out var tenant) ? tenant : null;
            }
        }

        db.FileReplicas.AddRange(added);
        await db.SaveChangesAsync(cancellationToken);
    }

    /// <summary>A replica that went missing or changed size is seen every pass; its bytes are read every VerifyInterval.</summary>
    private async Task CheckReplicasAsync(ImagesDbContext db, ReplicationRoute route, IEnumerable<FileReplica> records, bool verifyAll, CancellationToken cancellationToken)
    {
        var verifyBefore = clock.GetUtcNow() - options.Value.VerifyInterval;
        foreach (var record in records.Where(r => r.State == FileReplicaState.Replicated).ToList())
        {
            var hash = verifyAll || record.VerifiedAt is null || record.VerifiedAt < verifyBefore;
            try
            {
                if (await ReplicaFiles.ProblemWithAsync(route, record, hash, cancellationToken) is { } problem)
                {
                    LogReplicaDamaged(logger, route.Set, record.Path, route.TargetRegion, problem);
                    (record.State, record.LastError, record.NextAttemptAt) = (FileReplicaState.Pending, $"Found at {clock.GetUtcNow():u}: {problem}; copied again.", null);
                }
                else if (hash)
                {
                    record.VerifiedAt = clock.GetUtcNow();
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                (record.State, record.LastError) = (FileReplicaState.Pending, $"The replica could not be read: {e.Message}");
            }
        }

        await db.SaveChangesAsync(cancellationToken);
    }

    private async Task CopyDueAsync(ImagesDbContext db, ReplicationRoute route, IEnumerable<FileReplica> records, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();

        // An image folder's manifest last, and only once every other file of its folder is replicated: a replica
        // folder with a manifest is a complete image to the store and the host agents.
        var all = records.ToList();
        var byFolder = all.ToLookup(r => Path.GetDirectoryName(r.Path) ?? "", StringComparer.Ordinal);
        var due = all.Where(r => r.Unreplicated && (r.NextAttemptAt is null || r.NextAttemptAt <= now))
            .OrderBy(r => Path.GetDirectoryName(r.Path), StringComparer.Ordinal)
            .ThenBy(r => Path.GetFileName(r.Path) == Store.ImageManifest.FileName)
            .ThenBy(r => r.Path, StringComparer.Ordinal)
            .ToList();
        foreach (var record in due)
        {
            if (Path.GetFileName(record.Path) == Store.ImageManifest.FileName
                && byFolder[Path.GetDirectoryName(record.Path) ?? ""].Any(r => r != record && r.Unreplicated))
            {
                continue;
            }

            using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            limit.CancelAfter(options.Value.CopyTimeout);
            try
            {
                var (sha256, size, modifiedAt) = await ReplicaFiles.CopyAsync(route, new SourceFile(record.Path, record.Size, record.SourceModifiedAt), limit.Token);
                var done = clock.GetUtcNow();
                (record.State, record.Sha256, record.Size, record.SourceModifiedAt) = (FileReplicaState.Replicated, sha256, size, modifiedAt);
                (record.ReplicatedAt, record.VerifiedAt, record.Attempts, record.NextAttemptAt, record.LastError) = (done, done, 0, null, null);
                metrics.Copied(route.TargetRegion, size, done - modifiedAt);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException
                                          || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
            {
                record.Attempts++;
                var backoff = TimeSpan.FromTicks(Math.Min(options.Value.RetryMax.Ticks, options.Value.RetryBase.Ticks << Math.Min(record.Attempts - 1, 20)));
                (record.State, record.NextAttemptAt) = (FileReplicaState.Failed, clock.GetUtcNow() + backoff);
                record.LastError = e is OperationCanceledException ? $"The copy took longer than {options.Value.CopyTimeout}." : e.Message;
                LogCopyFailed(logger, e, route.Set, record.Path, route.TargetRegion, record.Attempts, backoff);
            }

            // Each file's outcome at once: the status API follows a long pass, and a crash loses no finished copy.
            await db.SaveChangesAsync(CancellationToken.None);
        }
    }

    /// <summary>
    /// The replica of a file gone from the source goes once nothing uses its image: VMs of the other region may have
    /// their disks on it (copy-on-write overlays), and provisioning, asked, knows them. When it cannot say, it stays.
    /// </summary>
    private async Task RemoveDeletedAsync(ImagesDbContext db, ReplicationRoute route, Dictionary<string, FileReplica> records, CancellationToken cancellationToken)
    {
        var inUse = new Dictionary<string, bool>(StringComparer.Ordinal);
        foreach (var record in records.Values.Where(r => r.State == FileReplicaState.Deleting).ToList())
        {
            if (record.ImageId is { } imageId)
            {
                if (!inUse.TryGetValue(imageId, out var used))
                {
                    inUse[imageId] = used = await InUseAsync(imageId, record.TenantId, cancellationToken);
                }

                if (used)
                {
                    continue;
                }
            }

            try
            {
                ReplicaFiles.Remove(route, record.Path);
                db.FileReplicas.Remove(record);
                records.Remove(record.Path);
                LogReplicaRemoved(logger, route.Set, record.Path, route.TargetRegion);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                record.LastError = $"The replica could not be removed: {e.Message}";
            }
        }

        await db.SaveChangesAsync(cancellationToken);
    }

    /// <summary>
    /// A custom image is asked about within its tenant (a custom image is its tenant's alone). A gallery image is
    /// asked about across tenants, which provisioning answers only to the platform operator: a service token without
    /// a tenant is refused today, so a gallery image's replicas stay after its removal (the safe side).
    /// </summary>
    private async Task<bool> InUseAsync(string imageId, Guid? tenantId, CancellationToken cancellationToken)
    {
        try
        {
            var used = tenantId is { } tenant
                ? await usage.OfTenantAsync(tenant, imageId, cancellationToken)
                : await usage.OfAnyTenantAsync(imageId, cancellationToken);
            return used.InUse;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or System.Text.Json.JsonException or InvalidOperationException)
        {
            LogUsageUnknown(logger, e, imageId);
            return true;
        }
    }

    private async Task UpdateMetricsAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var statuses = await FileReplicationStatus.ReadAsync(scope.ServiceProvider.GetRequiredService<ImagesDbContext>(), routes, cancellationToken);
        foreach (var region in statuses.GroupBy(s => s.TargetRegion))
        {
            metrics.Update(region.Key, region.Sum(s => s.Pending), region.Sum(s => s.Failed), region.Min(s => s.OldestUnreplicatedWrite));
        }
    }

    public void Dispose() => pass.Dispose();

    [LoggerMessage(EventId = 7251, Level = LogLevel.Warning, Message = "File replication of {Set} skipped: the source folder {Source} or region {TargetRegion}'s folder {Target} is not there (a mount away?)")]
    private static partial void LogRouteUnavailable(ILogger logger, string set, string source, string targetRegion, string target);

    [LoggerMessage(EventId = 7252, Level = LogLevel.Warning, Message = "The replica of {Set}/{Path} in region {TargetRegion} is damaged ({Problem}); copying it again")]
    private static partial void LogReplicaDamaged(ILogger logger, string set, string path, string targetRegion, string problem);

    [LoggerMessage(EventId = 7253, Level = LogLevel.Warning, Message = "Copying {Set}/{Path} to region {TargetRegion} failed (attempt {Attempts}); retrying in {Backoff}")]
    private static partial void LogCopyFailed(ILogger logger, Exception exception, string set, string path, string targetRegion, int attempts, TimeSpan backoff);

    [LoggerMessage(EventId = 7254, Level = LogLevel.Information, Message = "Removed the replica of {Set}/{Path} in region {TargetRegion}, gone from the source")]
    private static partial void LogReplicaRemoved(ILogger logger, string set, string path, string targetRegion);

    [LoggerMessage(EventId = 7255, Level = LogLevel.Warning, Message = "Kept the replicas of image {ImageId}, gone from the source: provisioning could not say whether it is in use")]
    private static partial void LogUsageUnknown(ILogger logger, Exception exception, string imageId);
}
