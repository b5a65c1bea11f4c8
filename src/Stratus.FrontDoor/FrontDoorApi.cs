using System.Security.Claims;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;
using Stratus.Platform.Auth;
using Stratus.Platform.Http;
using Stratus.Platform.Regions;

namespace Stratus.FrontDoor;

public sealed record SwitchoverRequest(string? Region);

public sealed record InstanceView(Uri Url, bool Healthy, DateTimeOffset? LastSeen, string? LastError);

public sealed record RegionView(string Name, bool Healthy, bool Writable, DateTimeOffset? LastSeen, DateTimeOffset? LastWritableLeaseUntil, IReadOnlyList<InstanceView> Instances);

/// <param name="Pending">A switch under way: its old region gets no lease until the new one is writable.</param>
/// <param name="LastChange">The last change of writable region (failover or switchover), when and why.</param>
public sealed record RegionsView(string WritableRegion, long Epoch, string? PreferredReadRegion, TimeSpan LeaseDuration, TimeSpan FailoverDelay,
    RegionSwitch? Pending, RegionChange? LastChange, IReadOnlyList<RegionView> Regions);

/// <summary>/frontdoor/v1: the lease a region's instances renew, the regions' state, and the planned switchover.</summary>
internal static class FrontDoorApi
{
    public const string RegionsPath = "/frontdoor/v1/regions";
    public const string SwitchoverPath = "/frontdoor/v1/switchover";

    public static IEndpointRouteBuilder MapFrontDoorApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/frontdoor/v1").WithTags("Front door");
        group.MapGet("/lease", Lease).WithName("GetRegionLease")
            .WithSummary("Whether the asking region may take writes, until when (services with the regions.lease scope).")
            .RequireAuthorization(StratusPolicies.PlatformOperator).AcceptsScope(RegionLeaseApi.Scope);
        group.MapGet("/regions", Regions).WithName("GetRegions")
            .WithSummary("Each region's health, which is writable at which epoch, and the last failover or switchover.")
            .RequireAuthorization(StratusPolicies.PlatformOperator).AcceptsScope(RegionLeaseApi.Scope);
        group.MapPost("/switchover", Switchover).WithName("SwitchRegion")
            .WithSummary("Planned switchover: stop granting the writable region, wait for its lease to run out, make the given region writable.")
            .RequireAuthorization(StratusPolicies.PlatformOperator);
        return endpoints;
    }

    private static Results<Ok<RegionLease>, ValidationProblem> Lease(string? region, RegionDecider decider, IOptions<FrontDoorOptions> options) =>
        Known(region, options.Value) is { } name ? TypedResults.Ok(decider.Lease(name)) : UnknownRegion(region, options.Value);

    private static Ok<RegionsView> Regions(RegionDecider decider, RegionHealth health, IOptions<FrontDoorOptions> options) =>
        TypedResults.Ok(View(decider, health, options.Value));

    private static Results<Ok<RegionsView>, Accepted<RegionsView>, ValidationProblem, ProblemHttpResult> Switchover(
        SwitchoverRequest? request, ClaimsPrincipal user, RegionDecider decider, RegionHealth health, IOptions<FrontDoorOptions> options)
    {
        if (Known(request?.Region, options.Value) is not { } region)
        {
            return UnknownRegion(request?.Region, options.Value);
        }

        var outcome = decider.RequestSwitch(region, $"switchover by {user.Identity?.Name ?? "an operator"}");
        var view = View(decider, health, options.Value);
        return outcome switch
        {
            SwitchOutcome.AlreadyWritable => TypedResults.Ok(view),
            SwitchOutcome.Started => TypedResults.Accepted(RegionsPath, view),
            SwitchOutcome.OtherSwitchPending => Problems.Conflict("region-switch-pending",
                $"A switch to region {view.Pending?.To} is under way ({view.Pending?.Reason}); wait until it is done (GET {RegionsPath}), then ask again."),
            SwitchOutcome.TargetUnhealthy => Problems.Conflict("region-unhealthy",
                $"No instance of region {region} answers /readyz, so it could not take the writes; bring it up (GET {RegionsPath} shows each instance's last error), then ask again."),
        };
    }

    private static string? Known(string? region, FrontDoorOptions options) => string.IsNullOrWhiteSpace(region) ? null : options.Find(region)?.Name;

    private static ValidationProblem UnknownRegion(string? region, FrontDoorOptions options) => Problems.Validation("region", string.IsNullOrWhiteSpace(region)
        ? $"Name a region: one of {string.Join(", ", options.Regions.Select(r => r.Name))}."
        : $"There is no region '{region}'; the regions are {string.Join(", ", options.Regions.Select(r => r.Name))}.");

    private static RegionsView View(RegionDecider decider, RegionHealth health, FrontDoorOptions options)
    {
        var decision = decider.Current;
        var regions = options.Regions.Select(r => new RegionView(
            r.Name,
            health.IsHealthy(r.Name),
            decision.Pending is null && decision.WritableRegion == r.Name,
            health.LastSeen(r.Name),
            decider.WritableLeaseUntil(r.Name),
            health.Instances(r.Name).Select(i => new InstanceView(i.Url, i.Healthy, i.LastSeen, i.LastError)).ToList())).ToList();
        return new RegionsView(decision.WritableRegion, decision.Epoch, options.PreferredReadRegion, options.LeaseDuration, options.FailoverDelay,
            decision.Pending, decision.LastChange, regions);
    }
}
