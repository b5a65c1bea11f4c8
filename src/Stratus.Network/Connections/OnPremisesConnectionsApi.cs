using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using Stratus.Network.HealthChecks;
using Stratus.Network.Persistence;
using Stratus.Platform.Audit;
using Stratus.Platform.Auth;
using Stratus.Platform.Http;

namespace Stratus.Network.Connections;

/// <summary>Everything an endpoint of the connections API uses, in one parameter object.</summary>
public sealed record ConnectionServices(NetworkDbContext Db, HealthCheckRuns Runs, ConnectionUsageClient Usage, HostInterfacesClient Hosts,
    IConfiguration Configuration, IOptions<NetworkOptions> Options, TimeProvider Clock);

/// <summary>
/// A tenant's network connections (Graph's /onPremisesConnections): the caller's token's tenant only, so a tenant
/// never sees or changes another's. Every bad input is refused before anything is written or sent to a host.
/// </summary>
public static partial class OnPremisesConnectionsApi
{
    public const string Path = "/api/v1/onPremisesConnections";
    private const string Category = "network";
    private static readonly TimeSpan InUseLookup = TimeSpan.FromSeconds(3);

    public static IEndpointRouteBuilder MapOnPremisesConnectionsApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup(Path).WithTags("Network").RequireAuthorization(StratusPolicies.TenantAdministrator);
        group.MapGet("/", ListAsync).WithName("ListOnPremisesConnections").AcceptsScope(StratusScopes.NetworkConnectionsRead);
        group.MapGet("/{id:guid}", GetAsync).WithName("GetOnPremisesConnection").AcceptsScope(StratusScopes.NetworkConnectionsRead);
        group.MapPost("/", CreateAsync).WithName("CreateOnPremisesConnection").WithSummary("Create a network connection; its checks start at once");
        group.MapMethods("/{id:guid}", ["PATCH"], UpdateAsync).WithName("UpdateOnPremisesConnection")
            .WithSummary("Change a connection; its subnet, gateway and uplink only while nothing uses it");
        group.MapDelete("/{id:guid}", DeleteAsync).WithName("DeleteOnPremisesConnection").WithSummary("Delete a connection nothing uses");
        group.MapPost("/{id:guid}/runHealthChecks", RunHealthChecksAsync).WithName("RunOnPremisesConnectionHealthChecks")
            .WithSummary("Run the connection's checks on every host of its region now; answers 202 with the run");
        group.MapGet("/{id:guid}/healthCheckRuns", ListRunsAsync).WithName("ListOnPremisesConnectionHealthCheckRuns");
        return endpoints;
    }

    public static List<string> Regions(IConfiguration configuration)
    {
        // The regions compute is configured with, read from the same configuration (as provisioning does).
        var configured = configuration.GetSection("Stratus:Compute:Regions").GetChildren().Select(r => r["Name"]).OfType<string>().ToList();
        return configured.Count > 0 ? configured : ["local-1", "local-2"];
    }

    private static async Task<Results<Ok<PagedResult<ConnectionView>>, ValidationProblem>> ListAsync(HttpContext http, [AsParameters] ListQuery query,
        NetworkDbContext db, ConnectionUsageClient usage, CancellationToken cancellationToken)
    {
        if (Paging.Validate(query.Top, query.Skip) is { } invalid)
        {
            return invalid;
        }

        var tenant = http.User.RequiredTenantId();
        var all = db.Connections.AsNoTracking().Where(c => c.TenantId == tenant);
        var total = await all.CountAsync(cancellationToken);
        var page = await all.OrderBy(c => c.CreatedAt).ThenBy(c => c.Id).Skip(query.Skip ?? 0).Take(query.Top ?? Paging.DefaultTop).ToListAsync(cancellationToken);
        var inUse = await Task.WhenAll(page.Select(c => InUseAsync(usage, c, cancellationToken)));
        return TypedResults.Ok(new PagedResult<ConnectionView>(page.Select((c, i) => ConnectionView.From(c, inUse[i])).ToList(), total));
    }

    public sealed record ListQuery([FromQuery(Name = "$top")] int? Top, [FromQuery(Name = "$skip")] int? Skip);

    private static async Task<Results<Ok<ConnectionView>, ProblemHttpResult>> GetAsync(Guid id, HttpContext http, NetworkDbContext db, ConnectionUsageClient usage,
        CancellationToken cancellationToken)
    {
        var tenant = http.User.RequiredTenantId();
        var connection = await db.Connections.AsNoTracking().FirstOrDefaultAsync(c => c.Id == id && c.TenantId == tenant, cancellationToken);
        return connection is null ? NotFound(id) : TypedResults.Ok(ConnectionView.From(connection, await InUseAsync(usage, connection, cancellationToken)));
    }

    private static async Task<Results<Created<ConnectionView>, ValidationProblem, ProblemHttpResult>> CreateAsync(
        ConnectionRequest? request, HttpContext http, [AsParameters] ConnectionServices services, CancellationToken cancellationToken)
    {
        if (request is null)
        {
            return Problems.MissingBody("""{"displayName":"Corp A","regionName":"local-1","subnet":"10.20.0.0/24","gateway":"10.20.0.1","uplink":{"kind":"hostInterface","interface":"eth1"}}""");
        }

        var tenant = http.User.RequiredTenantId();
        var db = services.Db;
        var spec = ConnectionSpec.FromCreate(request);
        await TenantConnectionsGuard.ClaimAsync(db, tenant, cancellationToken);
        var existing = await db.Connections.AsNoTracking().Where(c => c.TenantId == tenant).Select(c => new { c.Subnet, c.DisplayName }).ToListAsync(cancellationToken);
        var validator = new Validator().Check(request.ConnectionType is null or "custom", "connectionType", "'connectionType' must be custom (the hosted network is not created).");
        ConnectionRules.Validate(spec, Regions(services.Configuration), existing.Select(e => (e.Subnet, e.DisplayName)), validator);
        if (!validator.IsValid)
        {
            return validator.ToProblem();
        }

        if (existing.Count >= services.Options.Value.MaxConnectionsPerTenant)
        {
            return Problems.Conflict("connection-limit", $"A tenant may have at most {services.Options.Value.MaxConnectionsPerTenant} network connections; delete one it no longer needs first.");
        }

        switch (await CheckInterfaceAsync(services.Hosts, spec, cancellationToken))
        {
            case (ValidationProblem invalid, _):
                return invalid;
            case (_, ProblemHttpResult unavailable):
                return unavailable;
        }

        var now = services.Clock.GetUtcNow();
        var connection = new NetworkConnection
        {
            Id = Guid.CreateVersion7(now),
            TenantId = tenant,
            DisplayName = spec.DisplayName!,
            Region = spec.Region!,
            Subnet = spec.Subnet!,
            Gateway = spec.Gateway!,
            UplinkInterface = spec.UplinkInterface!,
            CreatedAt = now,
            HealthCheckStatus = HealthCheckStatus.Pending,
            LastCompletedStatus = HealthCheckStatus.Pending,
        };
        Apply(connection, spec, now);
        db.Connections.Add(connection);
        db.Publish(Upserted(connection, now));
        await services.Runs.RequestAsync(connection, "created", cancellationToken);
        db.Audit(services.Clock, tenant, AuditActor.From(http), Category, "CreateOnPremisesConnection",
            $"Created network connection {connection.DisplayName} ({connection.Subnet} in {connection.Region})", true, Resource(connection));
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException e) when (TenantConnectionsGuard.LostRace(e))
        {
            return ConcurrentTenantChange();
        }

        return TypedResults.Created($"{Path}/{connection.Id}", ConnectionView.From(connection, false));
    }

    /// <summary>400 when the uplink interface is on none of the region's hosts (when the region has hosts that report interfaces).</summary>
    internal static async Task<(ValidationProblem? Invalid, ProblemHttpResult? Unavailable)> CheckInterfaceAsync(HostInterfacesClient hosts, ConnectionSpec spec, CancellationToken cancellationToken)
    {
        var answer = await hosts.OfRegionAsync(spec.Region!, cancellationToken);
        if (answer.Unavailable is { } why)
        {
            return (null, Problems.DependencyUnavailable($"Stratus could not check that interface '{spec.UplinkInterface}' exists on the hosts of {spec.Region}: {why}. Nothing was changed; send the request again in a minute."));
        }

        var reporting = answer.Value?.Hosts.Where(h => h.Interfaces is { Count: > 0 }).ToList() ?? [];
        if (reporting.Count == 0 || reporting.Any(h => h.Interfaces!.Contains(spec.UplinkInterface!, StringComparer.Ordinal)))
        {
            return (null, null);
        }

        return (Problems.Validation("uplink.interface", $"'{spec.UplinkInterface}' is on none of the hosts of {spec.Region}; they have "
            + string.Join("; ", reporting.Select(h => $"{h.Name}: {string.Join(", ", h.Interfaces!)}")) + "."), null);
    }

    internal static void Apply(NetworkConnection connection, ConnectionSpec spec, DateTimeOffset now)
    {
        connection.DisplayName = spec.DisplayName!;
        connection.Subnet = spec.Subnet!;
        connection.Gateway = spec.Gateway!;
        connection.Mtu = spec.Mtu;
        connection.UplinkKind = UplinkKinds.Parse(spec.UplinkKind)!.Value;
        connection.UplinkInterface = spec.UplinkInterface!;
        connection.VlanId = spec.VlanId;
        connection.VxlanId = spec.VxlanId;
        connection.VxlanRemote = spec.VxlanRemote;
        connection.VxlanPort = connection.UplinkKind == UplinkKind.Vxlan ? spec.VxlanPort ?? ConnectionSpec.DefaultVxlanPort : null;
        connection.DnsServers = [.. spec.DnsServers];
        connection.DnsSearchDomain = spec.DnsSearchDomain;
        connection.DnsNamesToResolve = [.. spec.DnsNamesToResolve];
        connection.RequiredEndpoints = [.. spec.RequiredEndpoints];
        connection.Version++;
        connection.LastModifiedAt = now;
        connection.ConcurrencyStamp = Guid.NewGuid();
    }

    internal static NetworkConnectionUpserted Upserted(NetworkConnection c, DateTimeOffset now) => new(c.TenantId, c.Id, c.Region, c.Version, c.Subnet, c.Gateway, c.Mtu,
        UplinkKinds.Name(c.UplinkKind), c.UplinkInterface, c.VlanId, c.VxlanId, c.VxlanRemote, c.VxlanPort, c.DnsServers, c.DnsSearchDomain, c.DnsNamesToResolve,
        c.RequiredEndpoints, now);

    /// <summary>Provisioning's word on whether the connection is used, within a short wait; null when it cannot say.</summary>
    internal static async Task<bool?> InUseAsync(ConnectionUsageClient usage, NetworkConnection connection, CancellationToken cancellationToken)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(InUseLookup);
        try
        {
            return (await usage.OfAsync(connection.TenantId, connection.Id, limit.Token)).Value?.InUse;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return null;
        }
    }

    internal static ProblemHttpResult NotFound(Guid id) => Problems.NotFound("network connection", id);

    private static ProblemHttpResult ConcurrentTenantChange() => Problems.Conflict("concurrent-change",
        "Another network connection of the tenant was created or changed while this request ran, and the limit and the subnet overlap rule "
        + "are checked against all of them: nothing was saved. Send the request again.");

    internal static AuditResource Resource(NetworkConnection c) => new(c.Id.ToString(), "onPremisesConnection", c.DisplayName);
}
