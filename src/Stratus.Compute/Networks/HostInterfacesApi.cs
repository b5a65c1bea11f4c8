using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Stratus.Compute.Persistence;
using Stratus.Platform.Auth;
using Stratus.Platform.Http;

namespace Stratus.Compute.Networks;

public sealed record HostInterfacesView(Guid HostId, string Name, string State, IReadOnlyList<string> Interfaces);

public sealed record RegionHostInterfacesView(string Region, IReadOnlyList<HostInterfacesView> Hosts);

/// <summary>
/// The region's hosts and the interfaces their agents reported that may be uplinks: network validates a connection's
/// uplink interface against them (service token with hosts.read, no tenant), and the operator may look too.
/// </summary>
public static class HostInterfacesApi
{
    public static IEndpointRouteBuilder MapHostInterfacesApi(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/api/v1/regions/{name}/hostInterfaces", GetAsync).WithTags("Regions and hosts").WithName("GetRegionHostInterfaces")
            .WithSummary("The region's hosts with the network interfaces their agents reported (uplink candidates)")
            .RequireAuthorization(StratusPolicies.PlatformOperator).AcceptsScope(StratusScopes.HostsRead);
        return endpoints;
    }

    private static async Task<Results<Ok<RegionHostInterfacesView>, ProblemHttpResult>> GetAsync(
        string name, ComputeDbContext db, IOptions<ComputeOptions> options, CancellationToken cancellationToken)
    {
        if (!options.Value.EffectiveRegions.Any(r => r.Name == name))
        {
            return Problems.NotFound("region", name);
        }

        var hosts = await db.Hosts.AsNoTracking().Where(h => h.Region == name).OrderBy(h => h.Name).ToListAsync(cancellationToken);
        return TypedResults.Ok(new RegionHostInterfacesView(name,
            hosts.Select(h => new HostInterfacesView(h.Id, h.Name, h.State.ToString().ToLowerInvariant(), h.Interfaces ?? [])).ToList()));
    }
}
