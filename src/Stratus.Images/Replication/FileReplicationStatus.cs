using Microsoft.EntityFrameworkCore;
using Stratus.Images.Persistence;

namespace Stratus.Images.Replication;

/// <summary>Where one route stands: counts by state, the last copy, and the oldest write the target lacks (its lag).</summary>
public sealed record FileReplicationStatus(
    string SourceRegion,
    string TargetRegion,
    string Set,
    int Replicated,
    int Pending,
    int Failed,
    int Deleting,
    DateTimeOffset? LastReplicatedAt,
    DateTimeOffset? OldestUnreplicatedWrite)
{
    /// <summary>The status of every route of this region, from the records (aggregated here: SQLite cannot order the stored timestamps' type in SQL aggregates).</summary>
    public static async Task<IReadOnlyList<FileReplicationStatus>> ReadAsync(ImagesDbContext db, FileReplicationRoutes routes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(routes);
        var rows = await db.FileReplicas.AsNoTracking().Where(r => r.SourceRegion == routes.Region)
            .Select(r => new { r.TargetRegion, r.Set, r.State, r.ReplicatedAt, r.SourceModifiedAt })
            .ToListAsync(cancellationToken);
        return routes.Routes.Select(route =>
        {
            var mine = rows.Where(r => r.TargetRegion == route.TargetRegion && r.Set == route.Set).ToList();
            var waiting = mine.Where(r => r.State is FileReplicaState.Pending or FileReplicaState.Failed).ToList();
            return new FileReplicationStatus(route.SourceRegion, route.TargetRegion, route.Set,
                mine.Count(r => r.State == FileReplicaState.Replicated), mine.Count(r => r.State == FileReplicaState.Pending),
                mine.Count(r => r.State == FileReplicaState.Failed), mine.Count(r => r.State == FileReplicaState.Deleting),
                mine.Max(r => r.ReplicatedAt), waiting.Count > 0 ? waiting.Min(r => r.SourceModifiedAt) : null);
        }).ToList();
    }
}
