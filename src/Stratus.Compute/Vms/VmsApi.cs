using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Stratus.Compute.Networks;
using Stratus.Compute.Persistence;
using Stratus.Platform.Auth;
using Stratus.Platform.Http;

namespace Stratus.Compute.Vms;

public sealed record CreateVmRequest(Guid? Id, Guid? TenantId, string? Region, string? ImageId, int? VCpuCount, int? MemoryMiB, int? DiskGiB, Guid? NetworkConnectionId = null);

public sealed record VmView(
    Guid Id, Guid HostId, Guid? TenantId, string Region, string ImageId, int VCpuCount, int MemoryMiB, int DiskGiB,
    string DesiredPower, bool DeleteRequested, long Generation, string? State, bool Ready, long ReportedGeneration, string? Detail, DateTimeOffset? ReportedDateTime,
    IReadOnlyList<DiskCopyView>? DiskCopies = null, VmCopyPolicyView? CopyPolicy = null, Guid? NetworkConnectionId = null, string? IpAddress = null)
{
    public static VmView From(Vm v, string? ipAddress = null) => new(v.Id, v.HostId, v.TenantId, v.Region, v.ImageId, v.VCpuCount, v.MemoryMiB, v.DiskGiB,
        v.DesiredPower.ToString().ToLowerInvariant(), v.DeleteRequested, v.Generation, v.ReportedState, v.Ready, v.ReportedGeneration, v.ReportedDetail, v.ReportedAt,
        CopyPolicy: new VmCopyPolicyView(v.CopiesOff, v.CopyIntervalMinutes, v.CopyBackupRegion), NetworkConnectionId: v.NetworkConnectionId, IpAddress: ipAddress);
}

/// <summary>The VM's copy policy as provisioning last set it (PlaceVm, SetVmDiskCopies); a null interval is compute's default.</summary>
public sealed record VmCopyPolicyView(bool Off, int? IntervalMinutes, string? BackupRegion);

/// <summary>A VM's copies to one store (GET /api/v1/vms/{id}); Status is healthy, stale, failed or none.</summary>
public sealed record DiskCopyView(string Region, string StoreUri, DateTimeOffset? LatestCopyAt, long? LatestBytes, long? DiskBytes, int ChainLength,
    DateTimeOffset? LastAttemptAt, string? LastError, string Status, string? StatusReason)
{
    public static DiskCopyView From(VmDiskCopy c) => new(c.Region, c.StoreUri, c.LatestCopyAt, c.LatestBytes, c.DiskBytes, c.ChainLength, c.LastAttemptAt, c.LastError,
        c.Status.ToString().ToLowerInvariant(), c.StatusReason);
}

public sealed record PowerRequest(string? Power);

public sealed record OperationRequest(string? Kind, string? Argument, Guid? Id);

public sealed record ConsoleRelayRequest(Guid? Id, string? Url, string? Secret);

public sealed record ConsoleRelayView(Guid Id, Guid VmId, Guid HostId, DateTimeOffset ExpirationDateTime);

public sealed record OperationView(Guid Id, Guid VmId, string Kind, string? Argument, string Status, string? Result, DateTimeOffset CreatedDateTime, DateTimeOffset? CompletedDateTime)
{
    public static OperationView From(VmOperation o) => new(o.Id, o.VmId, o.Kind.ToString(), o.Argument, o.Status.ToString().ToLowerInvariant(), o.Result, o.CreatedAt, o.CompletedAt);
}

/// <summary>
/// The compute service's VM API: for the provisioning service and the operator. Every write changes the
/// desired state and bumps the host's version; the agent does the rest.
/// </summary>
public static class VmsApi
{
    public static IEndpointRouteBuilder MapVmsApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/api/v1/vms").WithTags("VMs").RequireAuthorization(StratusPolicies.PlatformOperator);
        group.MapPost("/", CreateAsync).WithName("CreateVm").WithSummary("Place a VM in a region (idempotent by id)");
        group.MapGet("/", ListAsync).WithName("ListVms");
        group.MapGet("/{id:guid}", GetAsync).WithName("GetVm").AcceptsScope(StratusScopes.VmsRead);
        group.MapPost("/{id:guid}/power", SetPowerAsync).WithName("SetVmPower").WithSummary("{\"power\": \"running\" | \"stopped\"}");
        group.MapDelete("/{id:guid}", DeleteAsync).WithName("DeleteVm").WithSummary("Delete the VM and its disks on its host");
        group.MapPost("/{id:guid}/operations", CreateOperationAsync).WithName("CreateVmOperation")
            .WithSummary("Restart, CreateSnapshot, RevertSnapshot, DeleteSnapshot or ExportSnapshot (name:FILE, in the host's export folder; idempotent by id)");
        group.MapGet("/{id:guid}/operations/{operationId:guid}", GetOperationAsync).WithName("GetVmOperation");
        group.MapPost("/{id:guid}/consoleRelays", CreateConsoleRelayAsync).WithName("CreateConsoleRelay")
            .WithSummary("Ask the VM's host to connect the VM's display out to a gateway's relay URL (ws/wss) within 30 s (idempotent by id)")
            .AcceptsScope(StratusScopes.ConsolesRelay);
        return endpoints;
    }

    private static async Task<Results<Created<VmView>, Ok<VmView>, ValidationProblem, ProblemHttpResult>> CreateAsync(
        CreateVmRequest? request, Placement placement, IOptions<ComputeOptions> options, CancellationToken cancellationToken)
    {
        var regions = options.Value.EffectiveRegions.Select(r => r.Name).ToList();
        var validator = new Validator()
            .Check(request?.Region is not null && regions.Contains(request.Region), "region", $"'region' must be one of {string.Join(", ", regions)}.")
            .Require("imageId", request?.ImageId, maxLength: 128)
            .Check(request?.VCpuCount is >= 1 and <= 64, "vCpuCount", "'vCpuCount' must be 1 to 64.")
            .Check(request?.MemoryMiB is >= 128 and <= 524288, "memoryMiB", "'memoryMiB' must be 128 to 524288.")
            .Check(request?.DiskGiB is >= 1 and <= 4096, "diskGiB", "'diskGiB' must be 1 to 4096.");
        if (!validator.IsValid)
        {
            return validator.ToProblem();
        }

        var vmRequest = new VmRequest(request!.Id ?? Guid.CreateVersion7(), request.TenantId, request.Region!, request.ImageId!,
            request.VCpuCount!.Value, request.MemoryMiB!.Value, request.DiskGiB!.Value, NetworkConnectionId: request.NetworkConnectionId);
        return await placement.PlaceAsync(vmRequest, cancellationToken) switch
        {
            PlacementResult.Placed { AlreadyExisted: true } placed => TypedResults.Ok(VmView.From(placed.Vm, placed.IpAddress)),
            PlacementResult.Placed placed => TypedResults.Created($"/api/v1/vms/{placed.Vm.Id}", VmView.From(placed.Vm, placed.IpAddress)),
            PlacementResult.NoCapacity none => Problems.Conflict("no-capacity", none.Reason),
            PlacementResult.NetworkUnavailable network => Problems.Conflict("network-connection-unavailable", network.Reason),
            PlacementResult.AlreadyDeleted => Problems.Conflict("vm-deleted", $"VM {vmRequest.Id} was deleted; a deleted VM id cannot be used again. Leave 'id' out to get a new one."),
            _ => throw new InvalidOperationException("unknown placement result"),
        };
    }

    private static async Task<Ok<List<VmView>>> ListAsync(ComputeDbContext db, Guid? hostId, CancellationToken cancellationToken)
    {
        var query = db.Vms.AsNoTracking();
        if (hostId is { } host)
        {
            query = query.Where(v => v.HostId == host);
        }

        return TypedResults.Ok((await query.OrderBy(v => v.CreatedAt).ToListAsync(cancellationToken)).Select(v => VmView.From(v)).ToList());
    }

    private static async Task<Results<Ok<VmView>, ProblemHttpResult>> GetAsync(Guid id, ComputeDbContext db, CancellationToken cancellationToken)
    {
        var vm = await db.Vms.AsNoTracking().FirstOrDefaultAsync(v => v.Id == id, cancellationToken);
        if (vm is null)
        {
            return Problems.NotFound("VM", id);
        }

        var copies = await db.VmDiskCopies.AsNoTracking().Where(c => c.VmId == id).OrderBy(c => c.Region).ToListAsync(cancellationToken);
        var address = await NetworkAddresses.OfVmAsync(db, vm.Id, vm.NetworkConnectionId, cancellationToken);
        return TypedResults.Ok(VmView.From(vm, address) with { DiskCopies = copies.Select(DiskCopyView.From).ToList() });
    }

    private static async Task<Results<Ok<VmView>, ValidationProblem, ProblemHttpResult>> SetPowerAsync(
        Guid id, PowerRequest? request, ComputeDbContext db, CancellationToken cancellationToken)
    {
        if (!Enum.TryParse<PowerState>(request?.Power, ignoreCase: true, out var power) || !Enum.IsDefined(power))
        {
            return Problems.Validation("power", "'power' must be running or stopped.");
        }

        return await ChangeAsync(id, db, vm =>
        {
            if (vm.DesiredPower == power)
            {
                return false;
            }

            vm.DesiredPower = power;
            return true;
        }, cancellationToken);
    }

    internal static async Task<Results<Ok<VmView>, ValidationProblem, ProblemHttpResult>> DeleteAsync(Guid id, ComputeDbContext db, CancellationToken cancellationToken) =>
        await ChangeAsync(id, db, vm =>
        {
            if (vm.DeleteRequested)
            {
                return false;
            }

            vm.DeleteRequested = true;
            return true;
        }, cancellationToken);

    private static async Task<Results<Ok<VmView>, ValidationProblem, ProblemHttpResult>> ChangeAsync(
        Guid id, ComputeDbContext db, Func<Vm, bool> change, CancellationToken cancellationToken) =>
        await db.RetryOnConcurrentChangeAsync(() => TryChangeAsync(id, db, change, cancellationToken));

    private static async Task<Results<Ok<VmView>, ValidationProblem, ProblemHttpResult>> TryChangeAsync(
        Guid id, ComputeDbContext db, Func<Vm, bool> change, CancellationToken cancellationToken)
    {
        var vm = await db.Vms.FirstOrDefaultAsync(v => v.Id == id, cancellationToken);
        if (vm is null)
        {
            return Problems.NotFound("VM", id);
        }

        if (change(vm))
        {
            vm.Generation++;
            var host = await db.Hosts.FirstAsync(h => h.Id == vm.HostId, cancellationToken);
            host.DesiredVersion++;
            await db.SaveChangesAsync(cancellationToken);
        }

        return TypedResults.Ok(VmView.From(vm));
    }

    private static async Task<Results<Accepted<OperationView>, Ok<OperationView>, ValidationProblem, ProblemHttpResult>> CreateOperationAsync(
        Guid id, OperationRequest? request, ComputeDbContext db, TimeProvider clock, CancellationToken cancellationToken) =>
        await db.RetryOnConcurrentChangeAsync(() => TryCreateOperationAsync(id, request, db, clock, cancellationToken));

    private static async Task<Results<Accepted<OperationView>, Ok<OperationView>, ValidationProblem, ProblemHttpResult>> TryCreateOperationAsync(
        Guid id, OperationRequest? request, ComputeDbContext db, TimeProvider clock, CancellationToken cancellationToken)
    {
        if (VmOperation.KindProblem(request?.Kind, out var kind) is { } kindProblem)
        {
            return Problems.Validation("kind", kindProblem);
        }

        if (VmOperation.ArgumentProblem(kind, request!.Argument) is { } problem)
        {
            return Problems.Validation("argument", problem);
        }

        if (request!.Id is { } existingId && await db.VmOperations.AsNoTracking().FirstOrDefaultAsync(o => o.Id == existingId, cancellationToken) is { } existing)
        {
            return existing.VmId == id ? TypedResults.Ok(OperationView.From(existing)) : Problems.Conflict("operation-exists", $"Operation {existingId} belongs to another VM.");
        }

        var vm = await db.Vms.FirstOrDefaultAsync(v => v.Id == id && !v.DeleteRequested, cancellationToken);
        if (vm is null)
        {
            return Problems.NotFound("VM", id);
        }

        var now = clock.GetUtcNow();
        var operation = new VmOperation { Id = request.Id ?? Guid.CreateVersion7(now), VmId = id, Kind = kind, Argument = request.Argument, Status = VmOperationStatus.Pending, CreatedAt = now };
        db.VmOperations.Add(operation);
        var host = await db.Hosts.FirstAsync(h => h.Id == vm.HostId, cancellationToken);
        host.DesiredVersion++;
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Accepted($"/api/v1/vms/{id}/operations/{operation.Id}", OperationView.From(operation));
    }

    private static async Task<Results<Accepted<ConsoleRelayView>, Ok<ConsoleRelayView>, ValidationProblem, ProblemHttpResult>> CreateConsoleRelayAsync(
        Guid id, ConsoleRelayRequest? request, HttpContext http, ComputeDbContext db, TimeProvider clock, CancellationToken cancellationToken)
    {
        // A service's token (the gateway's, exchanged from its user's, ADR 0016) reaches only a VM of the token's tenant;
        // another tenant's is not found, the same as one that does not exist.
        if (http.User.IsService() && http.User.TenantId() is var tokenTenant
            && !await db.Vms.AnyAsync(v => v.Id == id && tokenTenant != null && v.TenantId == tokenTenant, cancellationToken))
        {
            return Problems.NotFound("VM", id);
        }

        var validator = new Validator()
            .Check(request?.Id is { } relayId && relayId != Guid.Empty, "id", "'id' must be a GUID chosen by the caller (it makes the request idempotent).")
            .Check(Uri.TryCreate(request?.Url, UriKind.Absolute, out var url) && url.Scheme is "ws" or "wss" && request!.Url!.Length <= 2048, "url",
                "'url' must be an absolute ws:// or wss:// URL of at most 2048 characters: the gateway instance's relay endpoint that the host can reach.")
            .Check(request?.Secret is { Length: >= 16 and <= 128 }, "secret", "'secret' must be 16 to 128 characters.");
        if (!validator.IsValid)
        {
            return validator.ToProblem();
        }

        return await db.RetryOnConcurrentChangeAsync(() => TryCreateConsoleRelayAsync(id, request!, db, clock, cancellationToken));
    }

    private static async Task<Results<Accepted<ConsoleRelayView>, Ok<ConsoleRelayView>, ValidationProblem, ProblemHttpResult>> TryCreateConsoleRelayAsync(
        Guid id, ConsoleRelayRequest request, ComputeDbContext db, TimeProvider clock, CancellationToken cancellationToken)
    {
        if (await db.ConsoleRelays.AsNoTracking().FirstOrDefaultAsync(r => r.Id == request.Id, cancellationToken) is { } existing)
        {
            return existing.VmId == id && existing.Url == request.Url && existing.Secret == request.Secret
                ? TypedResults.Ok(new ConsoleRelayView(existing.Id, existing.VmId, existing.HostId, existing.ExpiresAt))
                : Problems.Conflict("console-relay-exists", $"Console relay {request.Id} was asked for with another VM, URL or secret; choose a new id.");
        }

        var vm = await db.Vms.AsNoTracking().FirstOrDefaultAsync(v => v.Id == id && !v.DeleteRequested, cancellationToken);
        if (vm is null)
        {
            return Problems.NotFound("VM", id);
        }

        // Requests the hosts no longer see are of no use to anyone: each new one clears the expired.
        var now = clock.GetUtcNow();
        await db.ConsoleRelays.Where(r => r.ExpiresAt < now).ExecuteDeleteAsync(cancellationToken);
        var relay = new ConsoleRelay { Id = request.Id!.Value, VmId = id, HostId = vm.HostId, Url = request.Url!, Secret = request.Secret!, ExpiresAt = now + ConsoleRelay.Lifetime };
        db.ConsoleRelays.Add(relay);

        // A new desired version wakes the agent's long poll at once.
        var host = await db.Hosts.FirstAsync(h => h.Id == vm.HostId, cancellationToken);
        host.DesiredVersion++;
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Accepted($"/api/v1/vms/{id}/consoleRelays/{relay.Id}", new ConsoleRelayView(relay.Id, id, relay.HostId, relay.ExpiresAt));
    }

    private static async Task<Results<Ok<OperationView>, ProblemHttpResult>> GetOperationAsync(Guid id, Guid operationId, ComputeDbContext db, CancellationToken cancellationToken)
    {
        var operation = await db.VmOperations.AsNoTracking().FirstOrDefaultAsync(o => o.Id == operationId && o.VmId == id, cancellationToken);
        return operation is null ? Problems.NotFound("operation", operationId) : TypedResults.Ok(OperationView.From(operation));
    }
}
