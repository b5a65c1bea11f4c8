using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Stratus.Compute.Persistence;
using Stratus.Platform.Audit;
using Stratus.Platform.Auth;
using Stratus.Platform.Http;

namespace Stratus.Compute.Hosts;

public sealed record Capacity(int VCpus, int MemoryMiB, int DiskGiB);

public sealed record HostView(
    Guid Id, string Name, string Region, string Zone, string State, string Driver, string Accelerator,
    Capacity Capacity, Capacity Allocated, int VmCount, DateTimeOffset? LastHeartbeatDateTime, string? AgentVersion, int UnmanagedVmCount);

public sealed record EnrollmentTokenRequest(string? Region, int? ValidForMinutes);

public sealed record EnrollmentTokenView(string Token, string Region, DateTimeOffset ExpirationDateTime);

/// <summary>The operator's view of hosts: list, drain, remove, and tokens to enroll new ones.</summary>
public static class HostsApi
{
    public static IEndpointRouteBuilder MapHostsApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/api/v1/hosts").WithTags("Regions and hosts").RequireAuthorization(StratusPolicies.PlatformOperator);
        group.MapGet("/", ListAsync).WithName("ListHosts");
        group.MapGet("/{id:guid}", GetAsync).WithName("GetHost");
        group.MapPost("/{id:guid}/drain", DrainAsync).WithName("DrainHost").WithSummary("Place no new VMs on the host");
        group.MapPost("/{id:guid}/resume", ResumeAsync).WithName("ResumeHost").WithSummary("Let a drained host take VMs again");
        group.MapDelete("/{id:guid}", RemoveAsync).WithName("RemoveHost").WithSummary("Forget a host that runs no VMs");
        group.MapPost("/enrollmentTokens", CreateEnrollmentTokenAsync).WithName("CreateEnrollmentToken")
            .WithSummary("A one-time token for `stratus host --enrollment-token` on a new machine");
        return endpoints;
    }

    internal static HostView ToView(Host h, int vmCount, int unmanagedVmCount) => new(h.Id, h.Name, h.Region, h.Zone, h.State.ToString().ToLowerInvariant(), h.Driver, h.Accelerator,
        new Capacity(h.VCpuCapacity, h.MemoryMiBCapacity, h.DiskGiBCapacity), new Capacity(h.VCpuAllocated, h.MemoryMiBAllocated, h.DiskGiBAllocated),
        vmCount, h.LastHeartbeatAt, h.AgentVersion, unmanagedVmCount);

    private static async Task<HostView> ViewAsync(Host host, ComputeDbContext db, CancellationToken cancellationToken) => ToView(host,
        await db.Vms.CountAsync(v => v.HostId == host.Id, cancellationToken), await db.UnmanagedVms.CountAsync(u => u.HostId == host.Id, cancellationToken));

    private static async Task<Ok<List<HostView>>> ListAsync(ComputeDbContext db, CancellationToken cancellationToken)
    {
        var hosts = await db.Hosts.AsNoTracking().OrderBy(h => h.Region).ThenBy(h => h.Zone).ThenBy(h => h.Name).ToListAsync(cancellationToken);
        var counts = await db.Vms.GroupBy(v => v.HostId).Select(g => new { g.Key, Count = g.Count() }).ToDictionaryAsync(g => g.Key, g => g.Count, cancellationToken);
        var unmanaged = await db.UnmanagedVms.GroupBy(u => u.HostId).Select(g => new { g.Key, Count = g.Count() }).ToDictionaryAsync(g => g.Key, g => g.Count, cancellationToken);
        return TypedResults.Ok(hosts.Select(h => ToView(h, counts.GetValueOrDefault(h.Id), unmanaged.GetValueOrDefault(h.Id))).ToList());
    }

    private static async Task<Results<Ok<HostView>, ProblemHttpResult>> GetAsync(Guid id, ComputeDbContext db, CancellationToken cancellationToken)
    {
        var host = await db.Hosts.AsNoTracking().FirstOrDefaultAsync(h => h.Id == id, cancellationToken);
        return host is null ? Problems.NotFound("host", id) : TypedResults.Ok(await ViewAsync(host, db, cancellationToken));
    }

    private static Task<Results<Ok<HostView>, ProblemHttpResult>> DrainAsync(Guid id, HttpContext http, ComputeDbContext db, TimeProvider clock, CancellationToken cancellationToken) =>
        SetStateAsync(id, HostState.Draining, http, db, clock, cancellationToken);

    private static Task<Results<Ok<HostView>, ProblemHttpResult>> ResumeAsync(Guid id, HttpContext http, ComputeDbContext db, TimeProvider clock, CancellationToken cancellationToken) =>
        SetStateAsync(id, HostState.Ready, http, db, clock, cancellationToken);

    private static Task<Results<Ok<HostView>, ProblemHttpResult>> SetStateAsync(
        Guid id, HostState state, HttpContext http, ComputeDbContext db, TimeProvider clock, CancellationToken cancellationToken) =>
        db.RetryOnConcurrentChangeAsync(() => TrySetStateAsync(id, state, http, db, clock, cancellationToken));

    private static async Task<Results<Ok<HostView>, ProblemHttpResult>> TrySetStateAsync(
        Guid id, HostState state, HttpContext http, ComputeDbContext db, TimeProvider clock, CancellationToken cancellationToken)
    {
        var host = await db.Hosts.FirstOrDefaultAsync(h => h.Id == id, cancellationToken);
        if (host is null)
        {
            return Problems.NotFound("host", id);
        }

        if (state == HostState.Ready && host.State == HostState.Down)
        {
            return Problems.Conflict("host-down", $"Host {host.Name} is down (no heartbeat since {host.LastHeartbeatAt:u}); it becomes ready when its agent reports again.");
        }

        host.State = state;
        db.Audit(clock, null, AuditActor.From(http), "host", state == HostState.Draining ? "DrainHost" : "ResumeHost", $"{(state == HostState.Draining ? "Drained" : "Resumed")} host {host.Name}", true,
            new AuditResource(host.Id.ToString(), "host", host.Name));
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Ok(await ViewAsync(host, db, cancellationToken));
    }

    private static Task<Results<NoContent, ProblemHttpResult>> RemoveAsync(Guid id, HttpContext http, ComputeDbContext db, TimeProvider clock, CancellationToken cancellationToken) =>
        db.RetryOnConcurrentChangeAsync(() => TryRemoveAsync(id, http, db, clock, cancellationToken));

    private static async Task<Results<NoContent, ProblemHttpResult>> TryRemoveAsync(Guid id, HttpContext http, ComputeDbContext db, TimeProvider clock, CancellationToken cancellationToken)
    {
        var host = await db.Hosts.FirstOrDefaultAsync(h => h.Id == id, cancellationToken);
        if (host is null)
        {
            return Problems.NotFound("host", id);
        }

        var vms = await db.Vms.CountAsync(v => v.HostId == id, cancellationToken);
        if (vms > 0)
        {
            return Problems.Conflict("host-not-empty", $"Host {host.Name} still has {vms} VMs. Drain it and move or delete them first.");
        }

        // What the host had but compute did not manage is gone with it, and so is any order to delete such a VM.
        db.UnmanagedVms.RemoveRange(await db.UnmanagedVms.Where(u => u.HostId == id).ToListAsync(cancellationToken));
        foreach (var order in await db.DeletedVms.Where(d => d.HostId == id && d.ConfirmedAt == null).ToListAsync(cancellationToken))
        {
            order.ConfirmedAt = clock.GetUtcNow();
        }

        // So are the stale disks of VMs made again elsewhere after it was lost: no agent is left to delete them.
        foreach (var moved in await db.MovedVms.Where(m => m.FromHostId == id && m.ConfirmedAt == null).ToListAsync(cancellationToken))
        {
            moved.ConfirmedAt = clock.GetUtcNow();
        }

        // Its service addresses on the region's network connections are free for another host or a VM.
        db.NetworkAddresses.RemoveRange(await db.NetworkAddresses.Where(a => a.HostId == id).ToListAsync(cancellationToken));
        db.HostNetworkChecks.RemoveRange(await db.HostNetworkChecks.Where(c => c.HostId == id).ToListAsync(cancellationToken));
        db.Hosts.Remove(host);
        db.Audit(clock, null, AuditActor.From(http), "host", "RemoveHost", $"Removed host {host.Name}", true, new AuditResource(host.Id.ToString(), "host", host.Name));
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.NoContent();
    }

    private static async Task<Results<Created<EnrollmentTokenView>, ValidationProblem>> CreateEnrollmentTokenAsync(
        EnrollmentTokenRequest? request, HttpContext http, ComputeDbContext db, IOptions<ComputeOptions> options, TimeProvider clock, CancellationToken cancellationToken)
    {
        var regions = options.Value.EffectiveRegions.Select(r => r.Name).ToList();
        var validator = new Validator()
            .Check(request?.Region is not null && regions.Contains(request.Region), "region", $"'region' must be one of {string.Join(", ", regions)}.")
            .Check(request?.ValidForMinutes is null or (>= 1 and <= 10080), "validForMinutes", "'validForMinutes' must be 1 to 10080 (a week).");
        if (!validator.IsValid)
        {
            return validator.ToProblem();
        }

        var token = EnrollmentToken.Issue(request!.Region!, TimeSpan.FromMinutes(request.ValidForMinutes ?? 60), clock.GetUtcNow(), out var secret);
        db.EnrollmentTokens.Add(token);
        db.Audit(clock, null, AuditActor.From(http), "host", "CreateEnrollmentToken", $"Created an enrollment token for {token.Region}");
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Created($"/api/v1/hosts/enrollmentTokens/{token.Id}", new EnrollmentTokenView(secret, token.Region, token.ExpiresAt));
    }
}
