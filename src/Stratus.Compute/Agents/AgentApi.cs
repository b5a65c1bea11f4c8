using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Stratus.Compute.Hosts;
using Stratus.Compute.Networks;
using Host = Stratus.Compute.Hosts.Host;
using Stratus.Compute.Persistence;
using Stratus.Compute.Vms;
using Stratus.Platform.Audit;
using Stratus.Platform.Http;

namespace Stratus.Compute.Agents;

/// <summary>
/// What host agents call. They authenticate with the agent token they got at enrollment, in the
/// X-Stratus-Agent-Token header (not a user's bearer token: an agent is not a person and has no tenant).
/// </summary>
public static class AgentApi
{
    public const string TokenHeader = "X-Stratus-Agent-Token";

    public static IEndpointRouteBuilder MapAgentApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/api/v1/agent").WithTags("Host agents");
        group.MapPost("/enroll", EnrollAsync).WithName("EnrollHost").WithSummary("Exchange an enrollment token for a host identity and agent token");
        group.MapGet("/desiredState", DesiredStateAsync).WithName("GetDesiredState")
            .WithSummary("The host's desired VMs; waits up to 20 s for a version after ?after=N");
        group.MapPost("/report", ReportAsync).WithName("ReportHostState").WithSummary("Heartbeat with the VMs the host runs");
        return endpoints;
    }

    private static async Task<Results<Created<EnrollResponse>, ValidationProblem, ProblemHttpResult>> EnrollAsync(
        EnrollRequest? request, ComputeDbContext db, IOptions<ComputeOptions> options, TimeProvider clock, CancellationToken cancellationToken)
    {
        var validator = new Validator()
            .Require("enrollmentToken", request?.EnrollmentToken)
            .Require("name", request?.Name, maxLength: 128)
            .Require("zone", request?.Zone, maxLength: 64)
            .Check(request?.Driver is "qemu" or "simulated", "driver", "'driver' must be qemu or simulated.")
            .Check(request?.VCpus is >= 1, "vCpus", "'vCpus' must be 1 or more.")
            .Check(request?.MemoryMiB is >= 256, "memoryMiB", "'memoryMiB' must be 256 or more.")
            .Check(request?.DiskGiB is >= 1, "diskGiB", "'diskGiB' must be 1 or more.");
        if (!validator.IsValid)
        {
            return validator.ToProblem();
        }

        var now = clock.GetUtcNow();
        var hash = Secrets.Hash(request!.EnrollmentToken!);
        var token = await db.EnrollmentTokens.AsNoTracking().FirstOrDefaultAsync(t => t.TokenHash == hash, cancellationToken);
        if (token is null || token.ExpiresAt < now)
        {
            return Problems.Unauthorized("The enrollment token is unknown or expired. Ask the operator for a new one (POST /api/v1/hosts/enrollmentTokens).");
        }

        if (token.UsedAt is not null)
        {
            return TokenUsed();
        }

        var region = options.Value.EffectiveRegions.First(r => r.Name == token.Region);
        if (request.Region is { Length: > 0 } asked && asked != region.Name)
        {
            return Problems.Validation("region", $"The enrollment token is for region {region.Name}, not {asked}.");
        }

        if (!region.Zones.Contains(request.Zone!))
        {
            return Problems.Validation("zone", $"Region {region.Name} has zones {string.Join(", ", region.Zones)}.");
        }

        if (await db.Hosts.AnyAsync(h => h.Region == region.Name && h.Name == request.Name, cancellationToken))
        {
            return HostExists(region.Name, request.Name!);
        }

        var agentToken = Secrets.New();
        var host = NewHost(request, region.Name, Secrets.Hash(agentToken), now);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        // The claim is the transaction's first statement and a conditional update, not the read above: of two
        // enrollments with one token, the second's update waits for the first's commit and then matches no row.
        var claimed = await db.EnrollmentTokens.Where(t => t.Id == token.Id && t.UsedAt == null)
            .ExecuteUpdateAsync(set => set.SetProperty(t => t.UsedAt, now), cancellationToken);
        if (claimed == 0)
        {
            return TokenUsed();
        }

        db.Hosts.Add(host);
        db.Audit(clock, null, AuditActor.System("host-agent"), "host", "EnrollHost", $"Enrolled host {host.Name} in {host.Region}/{host.Zone} ({host.Driver}, {host.Accelerator})", true,
            new AuditResource(host.Id.ToString(), "host", host.Name));
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException)
        {
            // Another token enrolled a host of this name meanwhile (the unique index); this token stays unused.
            await transaction.RollbackAsync(CancellationToken.None);
            return HostExists(region.Name, request.Name!);
        }

        await transaction.CommitAsync(cancellationToken);
        return TypedResults.Created($"/api/v1/hosts/{host.Id}", new EnrollResponse(host.Id, agentToken, host.Region, host.Zone));
    }

    private static ProblemHttpResult TokenUsed() => Problems.Conflict("enrollment-token-used",
        "This enrollment token has already enrolled a host; a token enrolls one host only. Ask the operator for a new one (POST /api/v1/hosts/enrollmentTokens).");

    private static ProblemHttpResult HostExists(string region, string name) =>
        Problems.Conflict("host-exists", $"Region {region} already has a host named {name}; remove it first or choose another name.");

    internal static Host NewHost(EnrollRequest request, string region, string tokenHash, DateTimeOffset now) => new()
    {
        Id = Guid.CreateVersion7(now),
        Name = request.Name!,
        Region = region,
        Zone = request.Zone!,
        State = HostState.Ready,
        Driver = request.Driver!,
        Accelerator = request.Driver == "simulated" ? "simulated" : request.Accelerator ?? "unknown",
        VCpuCapacity = request.VCpus!.Value,
        MemoryMiBCapacity = request.MemoryMiB!.Value,
        DiskGiBCapacity = request.DiskGiB!.Value,
        AgentTokenHash = tokenHash,
        AgentVersion = request.AgentVersion,
        EnrolledAt = now,
        LastHeartbeatAt = now,
    };

    private static async Task<Results<Ok<DesiredState>, ProblemHttpResult>> DesiredStateAsync(
        HttpContext http, ComputeDbContext db, IOptions<ComputeOptions> options, TimeProvider clock, IHostApplicationLifetime lifetime, long? after,
        CancellationToken cancellationToken)
    {
        if (await AuthenticateAsync(http, db, cancellationToken) is not { } hostId)
        {
            return Problems.Unauthorized($"Send the agent token from enrollment in the {TokenHeader} header.");
        }

        // Long poll: answer at once if there is something newer than the agent has, else wait for it. A stopping
        // server answers at once too: it waits for requests in flight, and a waiting poll would hold its stop up
        // to the poll's whole timeout.
        var deadline = clock.GetUtcNow() + options.Value.LongPollTimeout;
        while (after is { } known && clock.GetUtcNow() < deadline && !cancellationToken.IsCancellationRequested && !lifetime.ApplicationStopping.IsCancellationRequested)
        {
            var version = await db.Hosts.Where(h => h.Id == hostId).Select(h => h.DesiredVersion).FirstAsync(cancellationToken);
            if (version != known)
            {
                break;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(250), clock, cancellationToken);
        }

        return TypedResults.Ok(await ReadDesiredStateAsync(db, hostId, clock.GetUtcNow(), cancellationToken, options.Value));
    }

    internal static async Task<DesiredState> ReadDesiredStateAsync(ComputeDbContext db, Guid hostId, DateTimeOffset now, CancellationToken cancellationToken,
        ComputeOptions? options = null)
    {
        options ??= new ComputeOptions();
        var version = await db.Hosts.Where(h => h.Id == hostId).Select(h => h.DesiredVersion).FirstAsync(cancellationToken);
        var vms = await db.Vms.AsNoTracking().Where(v => v.HostId == hostId).OrderBy(v => v.Id).ToListAsync(cancellationToken);
        var ids = vms.Select(v => v.Id).ToList();
        var operations = await db.VmOperations.AsNoTracking().Where(o => ids.Contains(o.VmId) && o.Status == VmOperationStatus.Pending)
            .OrderBy(o => o.CreatedAt).ToListAsync(cancellationToken);
        var relays = await db.ConsoleRelays.AsNoTracking().Where(r => r.HostId == hostId && r.ExpiresAt > now).OrderBy(r => r.Id).ToListAsync(cancellationToken);
        var listedSince = now - DeletedVm.ListedAfterConfirmation;
        var tombstones = await db.DeletedVms.AsNoTracking().Where(d => d.HostId == hostId && (d.ConfirmedAt == null || d.ConfirmedAt > listedSince))
            .OrderBy(d => d.Id).Select(d => d.Id).ToListAsync(cancellationToken);

        // A VM made again elsewhere after this host was lost: its stale disk here is deleted on this order only, and
        // only once the VM reported ready on its new host (until then it is the last trace of the data after its copy).
        var movedAway = await db.MovedVms.AsNoTracking().Where(m => m.FromHostId == hostId && (m.ConfirmedAt == null || m.ConfirmedAt > listedSince))
            .Join(db.Vms, m => m.VmId, v => v.Id, (m, v) => new { m.VmId, v.HostId, v.Ready })
            .Where(m => m.HostId != hostId && m.Ready).Select(m => m.VmId).ToListAsync(cancellationToken);
        tombstones = tombstones.Concat(movedAway).Distinct().Order().ToList();
        var (networks, nics) = await NetworkDesiredState.ReadAsync(db, hostId, vms, cancellationToken);
        return new DesiredState(hostId, version,
            vms.Select(v => new DesiredVm(v.Id, v.ImageId, v.VCpuCount, v.MemoryMiB, v.DiskGiB, v.DesiredPower.ToString().ToLowerInvariant(), v.DeleteRequested, v.Generation,
                Created: v.ReportedState is not null, DiskCopyReports.DesiredCopies(v, options), DiskCopyReports.DesiredRestore(v, options), v.Epoch,
                nics.GetValueOrDefault(v.Id))).ToList(),
            operations.Select(o => new DesiredOperation(o.Id, o.VmId, o.Kind.ToString(), DiskCopyReports.OperationArgument(o, options))).ToList(),
            relays.Select(r => new DesiredConsoleRelay(r.Id, r.VmId, r.Url, r.Secret)).ToList(),
            tombstones, networks);
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> ReportAsync(
        AgentReport? report, HttpContext http, ComputeDbContext db, IOptions<ComputeOptions> options, TimeProvider clock, CancellationToken cancellationToken)
    {
        if (await AuthenticateAsync(http, db, cancellationToken) is not { } hostId)
        {
            return Problems.Unauthorized($"Send the agent token from enrollment in the {TokenHeader} header.");
        }

        return await ApplyReportAsync(db, hostId, report, clock.GetUtcNow(), cancellationToken, options.Value)
            ? TypedResults.NoContent()
            : TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Conflict", detail: "The host changed while reporting; report again.", type: Problems.TypePrefix + "retry");
    }

    /// <summary>
    /// Records a host's report and publishes what changed. False when another report or a placement changed the
    /// host since this one read it: the host's heartbeat time is a concurrency token, so that of two reports
    /// handled at once (the agent's heartbeat and its main loop, maybe on two instances) the one that read the
    /// older state cannot overwrite the other's without publishing its own change. The agent reports again
    /// within seconds.
    /// </summary>
    internal static async Task<bool> ApplyReportAsync(ComputeDbContext db, Guid hostId, AgentReport? report, DateTimeOffset now, CancellationToken cancellationToken,
        ComputeOptions? options = null)
    {
        options ??= new ComputeOptions();
        var host = await db.Hosts.FirstAsync(h => h.Id == hostId, cancellationToken);
        host.LastHeartbeatAt = now;
        host.AgentVersion = report?.AgentVersion ?? host.AgentVersion;
        host.Accelerator = report?.Accelerator ?? host.Accelerator;
        if (host.State == HostState.Down)
        {
            host.State = HostState.Ready;
            db.Publish(new HostUp(host.Id, host.Name, host.Region, host.Zone, now));
        }

        var vms = await db.Vms.Where(v => v.HostId == hostId).ToListAsync(cancellationToken);
        // By id: a host reports all its VMs every few seconds, and a scan per VM made each report quadratic.
        var byId = vms.ToDictionary(v => v.Id);
        foreach (var reported in report?.Vms ?? [])
        {
            if (!byId.TryGetValue(reported.Id, out var vm))
            {
                continue;
            }

            if (vm.ReportedState != reported.State || vm.Ready != reported.Ready || vm.ReportedGeneration != reported.Generation || vm.ReportedDetail != reported.Detail)
            {
                db.Publish(new VmReported(vm.Id, hostId, reported.State, reported.Ready, reported.Generation, reported.Detail, now));
            }

            vm.ReportedState = reported.State;
            vm.Ready = reported.Ready;
            vm.ReportedGeneration = reported.Generation;
            vm.ReportedDetail = reported.Detail is { Length: > 4096 } long_ ? long_[^4096..] : reported.Detail;
            vm.ReportedAt = now;
            await DiskCopyReports.ApplyAsync(db, vm, reported.Copies, options, cancellationToken);
        }

        // A stale disk of a VM that moved away, which this host no longer reports: deleted as ordered.
        foreach (var moved in await db.MovedVms.Where(m => m.FromHostId == hostId && m.ConfirmedAt == null).ToListAsync(cancellationToken))
        {
            if (!(report?.Vms ?? []).Any(v => v.Id == moved.VmId) && !(report?.UnmanagedVms ?? []).Any(v => v.Id == moved.VmId))
            {
                moved.ConfirmedAt = now;
            }
        }

        // A VM whose deletion was wanted and that the host no longer reports is gone: free its capacity.
        var reportedIds = (report?.Vms ?? []).Select(v => v.Id).Concat((report?.UnmanagedVms ?? []).Select(v => v.Id)).ToHashSet();
        foreach (var gone in vms.Where(v => v.DeleteRequested && !reportedIds.Contains(v.Id)))
        {
            db.Vms.Remove(gone);
            await NetworkAddresses.FreeVmAsync(db, gone.Id, cancellationToken);
            await DeletedVm.MarkAsync(db, gone.Id, hostId, now, confirmed: true, cancellationToken);
            host.VCpuAllocated -= gone.VCpuCount;
            host.MemoryMiBAllocated -= gone.MemoryMiB;
            host.DiskGiBAllocated -= gone.DiskGiB;
            host.DesiredVersion++;
            db.Publish(new VmReported(gone.Id, hostId, "deleted", false, gone.Generation, null, now));
        }

        var finished = (report?.Operations ?? []).ToDictionary(o => o.Id);
        if (finished.Count > 0)
        {
            var ids = finished.Keys.ToList();
            foreach (var operation in await db.VmOperations.Where(o => ids.Contains(o.Id) && o.Status == VmOperationStatus.Pending).ToListAsync(cancellationToken))
            {
                operation.Status = finished[operation.Id].Succeeded ? VmOperationStatus.Succeeded : VmOperationStatus.Failed;
                operation.Result = finished[operation.Id].Result;
                operation.CompletedAt = now;
                host.DesiredVersion++;
                db.Publish(new VmOperationCompleted(operation.Id, operation.VmId, operation.Kind.ToString(), operation.Status == VmOperationStatus.Succeeded, operation.Result, now));
            }
        }

        await UnmanagedVmReports.ApplyAsync(db, host, report, byId.Keys.ToHashSet(), reportedIds, now, cancellationToken);
        await NetworkReports.ApplyAsync(db, host, report, byId, now, cancellationToken);
        // Rows keyed by what another report (or a connection's handler, or the copy staleness check's first look at a
        // VM's copies) may add at the same moment: losing that race is no error.
        var mayRace = db.ChangeTracker.Entries().Any(e => e.State == EntityState.Added && e.Entity is UnmanagedVm or NetworkAddress or HostNetworkCheck or VmDiskCopy);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateConcurrencyException)
        {
            return false;
        }
        catch (DbUpdateException e) when (mayRace || e.Entries.Any(entry => entry.Entity is UnmanagedVm))
        {
            // Another report of this host added the same unmanaged VM (or checks, or an address) first: a race like the one above.
            return false;
        }

        return true;
    }

    private static async Task<Guid?> AuthenticateAsync(HttpContext http, ComputeDbContext db, CancellationToken cancellationToken)
    {
        var token = http.Request.Headers[TokenHeader].ToString();
        if (token.Length == 0)
        {
            return null;
        }

        var hash = Secrets.Hash(token);
        return await db.Hosts.Where(h => h.AgentTokenHash == hash).Select(h => (Guid?)h.Id).FirstOrDefaultAsync(cancellationToken);
    }
}
