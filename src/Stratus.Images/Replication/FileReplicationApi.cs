using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Stratus.Images.Persistence;
using Stratus.Platform.Auth;
using Stratus.Platform.Http;

namespace Stratus.Images.Replication;

/// <summary>One route's status; <c>lagSeconds</c> is the age of the oldest write the target lacks (the files' RPO now).</summary>
public sealed record FileReplicationRouteView(
    string SourceRegion, string TargetRegion, string Set, int Replicated, int Pending, int Failed, int Deleting,
    DateTimeOffset? LastReplicatedAt, DateTimeOffset? OldestUnreplicatedWrite, double LagSeconds);

public sealed record FileReplicationView(bool Enabled, string? Region, double IntervalSeconds, IReadOnlyList<FileReplicationRouteView> Routes);

public sealed record FileReplicaView(
    string TargetRegion, string Set, string Path, string State, long Size, string? Sha256, DateTimeOffset SourceModifiedAt,
    DateTimeOffset? ReplicatedAt, DateTimeOffset? VerifiedAt, int Attempts, DateTimeOffset? NextAttemptAt, string? LastError)
{
    public static FileReplicaView From(FileReplica r) => new(r.TargetRegion, r.Set, r.Path, r.State.ToString().ToLowerInvariant(), r.Size, r.Sha256,
        r.SourceModifiedAt, r.ReplicatedAt, r.VerifiedAt, r.Attempts, r.NextAttemptAt, r.LastError);
}

/// <summary>
/// The replication of this region's files to the other regions, for the operator (every file, the platform's and the
/// tenants'), and for a tenant the replicas of its own custom image.
/// </summary>
public static class FileReplicationApi
{
    public static IEndpointRouteBuilder MapFileReplicationApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/api/v1/fileReplication").WithTags("Images").RequireAuthorization(StratusPolicies.PlatformOperator);
        group.MapGet("/", GetAsync).WithName("GetFileReplication")
            .WithSummary("Files of this region's stores waiting for, failing or done with their copy in each other region, and the lag");
        group.MapGet("/files", ListAsync).WithName("ListFileReplicas");
        group.MapPost("/run", RunAsync).WithName("RunFileReplication")
            .WithSummary("A replication pass now (verify=true reads every replica whole and checks its sha256); answers when done");
        endpoints.MapGet("/api/v1/deviceImages/{id:guid}/replicas", ImageReplicasAsync).WithTags("Images").WithName("ListDeviceImageReplicas")
            .RequireAuthorization(StratusPolicies.CloudPcReader).AcceptsScope(StratusScopes.ImagesRead);
        return endpoints;
    }

    private static async Task<Ok<FileReplicationView>> GetAsync(
        ImagesDbContext db, FileReplicationRoutes routes, IOptions<FileReplicationOptions> options, TimeProvider clock, CancellationToken cancellationToken) =>
        TypedResults.Ok(await ViewAsync(db, routes, options, clock, cancellationToken));

    private static async Task<FileReplicationView> ViewAsync(
        ImagesDbContext db, FileReplicationRoutes routes, IOptions<FileReplicationOptions> options, TimeProvider clock, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var statuses = await FileReplicationStatus.ReadAsync(db, routes, cancellationToken);
        var views = statuses.Select(s => new FileReplicationRouteView(s.SourceRegion, s.TargetRegion, s.Set, s.Replicated, s.Pending, s.Failed, s.Deleting,
            s.LastReplicatedAt, s.OldestUnreplicatedWrite, s.OldestUnreplicatedWrite is { } oldest ? Math.Max(0, (now - oldest).TotalSeconds) : 0)).ToList();
        return new FileReplicationView(routes.Enabled, routes.Region, options.Value.Interval.TotalSeconds, views);
    }

    private static async Task<Results<Ok<PagedResult<FileReplicaView>>, ValidationProblem>> ListAsync(
        ImagesDbContext db, FileReplicationRoutes routes, string? state, string? targetRegion,
        [FromQuery(Name = "$top")] int? top, [FromQuery(Name = "$skip")] int? skip, CancellationToken cancellationToken)
    {
        if (Paging.Validate(top, skip) is { } invalid)
        {
            return invalid;
        }

        var query = db.FileReplicas.AsNoTracking().Where(r => r.SourceRegion == routes.Region);
        if (state is not null)
        {
            if (!Enum.TryParse<FileReplicaState>(state, ignoreCase: true, out var parsed) || !Enum.IsDefined(parsed) || int.TryParse(state, out _))
            {
                return Problems.Validation("state", "'state' must be pending, replicated, failed or deleting.");
            }

            query = query.Where(r => r.State == parsed);
        }

        if (targetRegion is not null)
        {
            if (!routes.Routes.Any(r => r.TargetRegion == targetRegion))
            {
                var targets = string.Join(", ", routes.Routes.Select(r => r.TargetRegion).Distinct());
                return Problems.Validation("targetRegion", $"'targetRegion' must be one of the regions this region replicates to: {(targets.Length > 0 ? targets : "none (replication is off)")}.");
            }

            query = query.Where(r => r.TargetRegion == targetRegion);
        }

        var total = await query.CountAsync(cancellationToken);
        var page = await query.OrderBy(r => r.TargetRegion).ThenBy(r => r.Set).ThenBy(r => r.Path)
            .Skip(skip ?? 0).Take(top ?? Paging.DefaultTop).ToListAsync(cancellationToken);
        return TypedResults.Ok(new PagedResult<FileReplicaView>(page.Select(FileReplicaView.From).ToList(), total));
    }

    private static async Task<Results<Ok<FileReplicationView>, ValidationProblem, ProblemHttpResult>> RunAsync(
        string? verify, FileReplicator replicator, ImagesDbContext db, FileReplicationRoutes routes,
        IOptions<FileReplicationOptions> options, TimeProvider clock, CancellationToken cancellationToken)
    {
        if (verify is not null && !bool.TryParse(verify, out _))
        {
            return Problems.Validation("verify", "'verify' must be true or false.");
        }

        if (!routes.Enabled)
        {
            return Problems.Conflict("file-replication-off",
                "File replication is not configured here: set Stratus:Region:Name and Stratus:Images:FileReplication:Stores:REGION:images for this region and the other.");
        }

        await replicator.RunOnceAsync(verify is not null && bool.Parse(verify), cancellationToken);
        return TypedResults.Ok(await ViewAsync(db, routes, options, clock, cancellationToken));
    }

    /// <summary>The replicas of one of the caller's tenant's custom images; another tenant's image is not found.</summary>
    private static async Task<Results<Ok<PagedResult<FileReplicaView>>, ProblemHttpResult>> ImageReplicasAsync(
        Guid id, HttpContext http, ImagesDbContext db, CancellationToken cancellationToken)
    {
        var tenant = http.User.RequiredTenantId();
        if (!await db.DeviceImages.AnyAsync(i => i.Id == id && i.TenantId == tenant, cancellationToken))
        {
            return Problems.NotFound("device image", id);
        }

        var imageId = id.ToString();
        var replicas = await db.FileReplicas.AsNoTracking().Where(r => r.ImageId == imageId && r.TenantId == tenant)
            .OrderBy(r => r.TargetRegion).ThenBy(r => r.Path).ToListAsync(cancellationToken);
        return TypedResults.Ok(new PagedResult<FileReplicaView>(replicas.Select(FileReplicaView.From).ToList(), replicas.Count));
    }
}
