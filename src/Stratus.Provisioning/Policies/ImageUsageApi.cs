using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Stratus.Platform.Auth;
using Stratus.Platform.Http;
using Stratus.Provisioning.Persistence;

namespace Stratus.Provisioning.Policies;

public sealed record ImageUsagePolicyView(Guid Id, string DisplayName);

/// <summary>What uses an image: the policies that name it and the number of Cloud PCs built from it (whose disks overlay it).</summary>
public sealed record ImageUsageView(string ImageId, IReadOnlyList<ImageUsagePolicyView> Policies, int CloudPcCount);

/// <summary>
/// Asked by the images service before it deletes an image's files (issue 16): the caller's tenant only, or every
/// tenant for the platform operator (the images service's check of a folder whose image it no longer knows).
/// </summary>
public static class ImageUsageApi
{
    public static IEndpointRouteBuilder MapImageUsageApi(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/api/v1/imageUsage/{imageId}", GetAsync).WithTags("Provisioning policies").WithName("GetImageUsage")
            .WithSummary("The provisioning policies naming an image and the number of Cloud PCs built from it")
            .RequireAuthorization(StratusPolicies.Access([StratusRoles.PlatformOperator, StratusRoles.TenantAdministrator, StratusRoles.CloudPcAdministrator, StratusRoles.CloudPcReader], tenant: false))
            .AcceptsScope(StratusScopes.CloudPcsRead);
        return endpoints;
    }

    private static async Task<Results<Ok<ImageUsageView>, ProblemHttpResult>> GetAsync(string imageId, HttpContext http, ProvisioningDbContext db, CancellationToken cancellationToken)
    {
        if (!ImageIds.IsWellFormed(imageId))
        {
            return Problems.NotFound("image", imageId);
        }

        var tenant = http.User.TenantId();
        var policies = db.Policies.AsNoTracking().Where(p => p.ImageId == imageId);
        var cloudPcs = db.CloudPcs.AsNoTracking().Where(p => p.ImageId == imageId);
        if (tenant is { } only)
        {
            policies = policies.Where(p => p.TenantId == only);
            cloudPcs = cloudPcs.Where(p => p.TenantId == only);
        }
        else if (!http.User.IsInRole(StratusRoles.PlatformOperator))
        {
            return Problems.Forbidden("Only the platform operator asks about every tenant; a tenant's roles need the tenant in the token.");
        }

        var named = await policies.OrderBy(p => p.DisplayName).Select(p => new ImageUsagePolicyView(p.Id, p.DisplayName)).ToListAsync(cancellationToken);
        return TypedResults.Ok(new ImageUsageView(imageId, named, await cloudPcs.CountAsync(cancellationToken)));
    }
}
