using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Stratus.Compute.Hosts;
using Stratus.Compute.Persistence;

namespace Stratus.Compute.Regions;

public sealed record ZoneView(string Name, int ReadyHosts);

public sealed record RegionView(string Name, string DisplayName, IReadOnlyList<ZoneView> Zones, string Health, int FreeVCpus, int FreeMemoryMiB);

public static class RegionsApi
{
    public static IEndpointRouteBuilder MapRegionsApi(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/api/v1/regions", ListAsync).WithTags("Regions and hosts").WithName("ListRegions")
            .WithSummary("Regions, their zones, and how many ready hosts and free capacity each has").RequireAuthorization();
        return endpoints;
    }

    private static async Task<Ok<List<RegionView>>> ListAsync(ComputeDbContext db, IOptions<ComputeOptions> options, CancellationToken cancellationToken)
    {
        var hosts = await db.Hosts.AsNoTracking().ToListAsync(cancellationToken);
        var regions = options.Value.EffectiveRegions.Select(region =>
        {
            var ready = hosts.Where(h => h.Region == region.Name && h.State == HostState.Ready).ToList();
            return new RegionView(region.Name, region.DisplayName,
                region.Zones.Select(z => new ZoneView(z, ready.Count(h => h.Zone == z))).ToList(),
                ready.Count > 0 ? "healthy" : "unavailable",
                ready.Sum(h => h.VCpuCapacity - h.VCpuAllocated),
                ready.Sum(h => h.MemoryMiBCapacity - h.MemoryMiBAllocated));
        }).ToList();
        return TypedResults.Ok(regions);
    }
}
