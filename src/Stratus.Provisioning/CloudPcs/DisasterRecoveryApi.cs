using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Stratus.Platform.Auth;
using Stratus.Platform.Http;
using Stratus.Platform.Messaging;
using Stratus.Provisioning.Directory;
using Stratus.Provisioning.Persistence;

namespace Stratus.Provisioning.CloudPcs;

/// <summary>Graph's cloudPcDisasterRecoveryCapability: what the Cloud PC can do now (none, failover, failback) and its regions.</summary>
public sealed record DisasterRecoveryCapabilityView(string CapabilityType, string PrimaryRegion, string? SecondaryRegion)
{
    public static DisasterRecoveryCapabilityView From(CloudPc p) => new(
        p.DisasterRecoveryState switch
        {
            DisasterRecoveryState.Active => "failback",
            DisasterRecoveryState.None when p.BackupRegionName is not null && p.Status is CloudPcStatus.Provisioned or CloudPcStatus.Failed => "failover",
            _ => "none",
        },
        p.RegionName, p.DisasterRecoveryRegionName ?? p.BackupRegionName);
}

/// <summary>Where the Cloud PC stands in disaster recovery: notFailedOver, failingOver, failedOver or failingBack, on which VM and region.</summary>
public sealed record DisasterRecoveryStatusView(
    string Status, string ActiveRegion, Guid ActiveVmId, Guid? PrimaryVmId, Guid? PendingVmId, DateTimeOffset? ChangedDateTime, string? ChangedBy)
{
    public static DisasterRecoveryStatusView From(CloudPc p) => new(
        Lifecycle.DisasterRecoveryStatusName(p.DisasterRecoveryState),
        p.DisasterRecoveryState is DisasterRecoveryState.None or DisasterRecoveryState.FailingOver ? p.RegionName : p.DisasterRecoveryRegionName ?? p.RegionName,
        p.VmId, p.PrimaryVmId, p.PendingVmId, p.DisasterRecoveryChangedAt, p.DisasterRecoveryChangedBy);
}

/// <summary>A warning about the disk's copies (compute's diskCopyStale): the copy a failover would start from is late.</summary>
public sealed record DiskCopyWarningView(string Region, string Message, DateTimeOffset Since);

/// <summary>The Cloud PC's disaster recovery in full: capability, status, failover/failback history, and compute's copies.</summary>
public sealed record DisasterRecoveryView(
    DisasterRecoveryCapabilityView Capability, DisasterRecoveryStatusView Status, DiskCopyWarningView? Warning,
    IReadOnlyList<OperationView> History, IReadOnlyList<DiskCopyBody>? DiskCopies);

/// <summary>A row of the cross-region disaster recovery report (Windows 365's report of that name).</summary>
public sealed record DisasterRecoveryReportRow(
    Guid CloudPcId, string ManagedDeviceName, string UserPrincipalName, string PrimaryRegion, string? BackupRegion, string DisasterRecoveryType,
    string DisasterRecoveryStatus, string Health, DateTimeOffset? LatestCopyDateTime, int? RecoveryPointAgeInSeconds, string? Warning);

/// <summary>Disaster recovery's read side: per Cloud PC, for its user, a page of Cloud PCs at once, and the tenant's report.</summary>
public static class DisasterRecoveryApi
{
    /// <summary>How many of compute's answers about a page's disk copies are awaited at once: a page is one wait, not one per Cloud PC.</summary>
    private const int CopyReadsAtOnce = 8;

    public static IEndpointRouteBuilder MapDisasterRecoveryApi(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/api/v1/cloudPCs/{id:guid}/disasterRecovery", (Guid id, HttpContext http, ProvisioningDbContext db, ServiceClients services, CancellationToken ct) =>
                GetAsync(id, null, http, db, services, ct))
            .WithTags("Cloud PCs").RequireAuthorization(StratusPolicies.CloudPcReader).WithName("GetCloudPcDisasterRecovery")
            .WithSummary("Capability, status, failover/failback history and the disk's copies per region");
        endpoints.MapGet("/api/v1/me/cloudPCs/{id:guid}/disasterRecovery", (Guid id, HttpContext http, ProvisioningDbContext db, ServiceClients services, CancellationToken ct) =>
                GetAsync(id, http.User.AccountId(), http, db, services, ct))
            .WithTags("My Cloud PCs").RequireAuthorization(StratusPolicies.TenantMember).WithName("GetMyCloudPcDisasterRecovery");
        endpoints.MapGet("/api/v1/cloudPCs/disasterRecovery", ListAsync)
            .WithTags("Cloud PCs").RequireAuthorization(StratusPolicies.CloudPcReader).WithName("ListCloudPcDisasterRecovery")
            .WithSummary("The disaster recovery row (status, copy health, latest copy, recovery point age, warning) of each Cloud PC of a page of the "
                + "Cloud PC list: the same $filter, $orderby, $top and $skip give the same Cloud PCs, in one call");
        endpoints.MapGet("/api/v1/reports/crossRegionDisasterRecovery", ReportAsync)
            .WithTags("Reports").RequireAuthorization(StratusPolicies.CloudPcReader).WithName("CrossRegionDisasterRecoveryReport")
            .WithSummary("Per Cloud PC: disaster recovery type and status, copy health, latest copy time, recovery point age ($top, $skip)");
        return endpoints;
    }

    private static async Task<Results<Ok<DisasterRecoveryView>, ProblemHttpResult>> GetAsync(
        Guid id, Guid? owner, HttpContext http, ProvisioningDbContext db, ServiceClients services, CancellationToken cancellationToken)
    {
        var tenant = http.User.RequiredTenantId();
        var pc = await db.CloudPcs.AsNoTracking().FirstOrDefaultAsync(p => p.Id == id && p.TenantId == tenant && (owner == null || p.UserId == owner), cancellationToken);
        if (pc is null)
        {
            return Problems.NotFound("Cloud PC", id);
        }

        var history = await db.Operations.AsNoTracking()
            .Where(o => o.CloudPcId == id && (o.Action == Lifecycle.FailoverAction || o.Action == Lifecycle.FailbackAction))
            .OrderByDescending(o => o.CreatedAt).Take(50).ToListAsync(cancellationToken);
        return TypedResults.Ok(new DisasterRecoveryView(
            DisasterRecoveryCapabilityView.From(pc), DisasterRecoveryStatusView.From(pc), WarningOf(pc),
            history.Select(OperationView.From).ToList(), await services.DiskCopiesAsync(pc.TenantId, pc.VmId, cancellationToken)));
    }

    private static async Task<Results<Ok<PagedResult<DisasterRecoveryReportRow>>, ValidationProblem>> ReportAsync(
        HttpContext http, ProvisioningDbContext db, ServiceClients services, TimeProvider clock,
        [Microsoft.AspNetCore.Mvc.FromQuery(Name = "$top")] int? top, [Microsoft.AspNetCore.Mvc.FromQuery(Name = "$skip")] int? skip, CancellationToken cancellationToken)
    {
        if (Paging.Validate(top, skip) is { } invalid)
        {
            return invalid;
        }

        var tenant = http.User.RequiredTenantId();
        var query = db.CloudPcs.AsNoTracking().Where(p => p.TenantId == tenant && p.Status != CloudPcStatus.NotProvisioned);
        var page = await query.OrderBy(p => p.ManagedDeviceName).Skip(skip ?? 0).Take(top ?? Paging.DefaultTop).ToListAsync(cancellationToken);
        var rows = await RowsAsync(page, services, clock.GetUtcNow(), cancellationToken);
        return TypedResults.Ok(new PagedResult<DisasterRecoveryReportRow>(rows, await query.CountAsync(cancellationToken)));
    }

    private static async Task<Results<Ok<PagedResult<DisasterRecoveryReportRow>>, ValidationProblem>> ListAsync(
        HttpContext http, ProvisioningDbContext db, ServiceClients services, TimeProvider clock,
        [Microsoft.AspNetCore.Mvc.FromQuery(Name = "$filter")] string? filter, [Microsoft.AspNetCore.Mvc.FromQuery(Name = "$orderby")] string? orderBy,
        [Microsoft.AspNetCore.Mvc.FromQuery(Name = "$top")] int? top, [Microsoft.AspNetCore.Mvc.FromQuery(Name = "$skip")] int? skip, CancellationToken cancellationToken)
    {
        if (Paging.Validate(top, skip) is { } invalid)
        {
            return invalid;
        }

        var tenant = http.User.RequiredTenantId();
        if (CloudPcsApi.Query(db.CloudPcs.AsNoTracking().Where(p => p.TenantId == tenant), filter, orderBy, out var query, out var ordered) is { } problem)
        {
            return problem;
        }

        var page = await ordered.Skip(skip ?? 0).Take(top ?? Paging.DefaultTop).ToListAsync(cancellationToken);
        var rows = await RowsAsync(page, services, clock.GetUtcNow(), cancellationToken);
        return TypedResults.Ok(new PagedResult<DisasterRecoveryReportRow>(rows, await query.CountAsync(cancellationToken)));
    }

    /// <summary>The rows of a page of Cloud PCs, in its order, with compute asked about several disks at once.</summary>
    private static async Task<List<DisasterRecoveryReportRow>> RowsAsync(
        IReadOnlyList<CloudPc> page, ServiceClients services, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var copies = new IReadOnlyList<DiskCopyBody>?[page.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, page.Count), new ParallelOptions { MaxDegreeOfParallelism = CopyReadsAtOnce, CancellationToken = cancellationToken },
            async (i, ct) => copies[i] = page[i].Status == CloudPcStatus.NotProvisioned ? [] : await services.DiskCopiesAsync(page[i].TenantId, page[i].VmId, ct));
        return page.Select((pc, i) => Row(pc, copies[i], now)).ToList();
    }

    /// <summary>
    /// One Cloud PC's row. The copy that matters is the one a failover (or failback) would start from: the backup
    /// region's when failed over or with crossRegion disaster recovery, else the Cloud PC's own region's.
    /// </summary>
    public static DisasterRecoveryReportRow Row(CloudPc pc, IReadOnlyList<DiskCopyBody>? copies, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(pc);
        var region = pc.DisasterRecoveryState == DisasterRecoveryState.None ? pc.BackupRegionName ?? pc.RegionName : pc.RegionName;
        var copy = copies?.FirstOrDefault(c => c.Region == region);
        var health = copies is null ? "unknown" : copy?.Status ?? "none";
        int? age = copy?.LatestCopyAt is { } latest ? (int)Math.Max(0, (now - latest).TotalSeconds) : null;
        return new DisasterRecoveryReportRow(
            pc.Id, pc.ManagedDeviceName, pc.UserPrincipalName, pc.RegionName, pc.BackupRegionName,
            pc.BackupRegionName is null ? "notConfigured" : "crossRegion", Lifecycle.DisasterRecoveryStatusName(pc.DisasterRecoveryState),
            health, copy?.LatestCopyAt, age, WarningOf(pc)?.Message ?? (health is "stale" or "failed" ? copy?.LastError : null));
    }

    public static DiskCopyWarningView? WarningOf(CloudPc pc) =>
        pc is { DiskCopyWarning: { } message, DiskCopyWarningRegion: { } region, DiskCopyWarningSince: { } since } ? new DiskCopyWarningView(region, message, since) : null;
}

/// <summary>Compute's diskCopyStale and diskCopyHealthy put a warning on the Cloud PC of the VM, and take it away.</summary>
internal sealed class DiskCopyHealthHandler(ProvisioningDbContext db, Lifecycle lifecycle, TimeProvider clock) : IMessageHandler<DiskCopyStale>, IMessageHandler<DiskCopyHealthy>
{
    public async Task HandleAsync(DiskCopyStale message, MessageContext context, CancellationToken cancellationToken)
    {
        if (await db.CloudPcs.FirstOrDefaultAsync(p => p.VmId == message.VmId, cancellationToken) is { } pc)
        {
            var latest = message.LatestCopyAt is { } at ? $"its latest copy is from {at:u}" : "no copy was ever taken";
            var text = $"The disk's copies to {message.Region} are late: {latest}. {message.Reason}".Trim();
            pc.DiskCopyWarning = text.Length > 1024 ? text[..1024] : text;
            pc.DiskCopyWarningSince = pc.DiskCopyWarningRegion == message.Region ? pc.DiskCopyWarningSince ?? clock.GetUtcNow() : clock.GetUtcNow();
            pc.DiskCopyWarningRegion = message.Region;
            lifecycle.Touch(pc);
            await db.SaveChangesAsync(cancellationToken);
        }
    }

    public async Task HandleAsync(DiskCopyHealthy message, MessageContext context, CancellationToken cancellationToken)
    {
        if (await db.CloudPcs.FirstOrDefaultAsync(p => p.VmId == message.VmId && p.DiskCopyWarningRegion == message.Region, cancellationToken) is { } pc)
        {
            pc.DiskCopyWarning = null;
            pc.DiskCopyWarningRegion = null;
            pc.DiskCopyWarningSince = null;
            lifecycle.Touch(pc);
            await db.SaveChangesAsync(cancellationToken);
        }
    }
}
