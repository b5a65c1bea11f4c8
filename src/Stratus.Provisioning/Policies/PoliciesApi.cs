using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Stratus.Platform.Audit;
using Stratus.Platform.Auth;
using Stratus.Platform.Http;
using Stratus.Provisioning.CloudPcs;
using Stratus.Provisioning.Directory;
using Stratus.Provisioning.Network;
using Stratus.Provisioning.Persistence;

namespace Stratus.Provisioning.Policies;

public sealed record PolicyRequest(
    string? DisplayName, string? Description, string? ImageId, string? ImageType, List<string>? RegionNames, List<string>? NetworkConnectionIds,
    string? CloudPcNamingTemplate, bool? LocalAdminEnabled, int? GracePeriodInHours);

public sealed record AssignmentTarget(Guid? GroupId, Guid? ServicePlanId);

public sealed record AssignmentItem(AssignmentTarget? Target);

public sealed record AssignRequest(List<AssignmentItem>? Assignments);

public sealed record AssignmentView(Guid Id, AssignmentTarget Target, DateTimeOffset AssignedDateTime);

public sealed record PolicyView(
    Guid Id, string DisplayName, string Description, string ImageId, string ImageType, string ImageDisplayName, IReadOnlyList<string> RegionNames,
    bool AutomaticRegion, IReadOnlyList<string> NetworkConnectionIds, string CloudPcNamingTemplate, bool LocalAdminEnabled, int GracePeriodInHours,
    string ProvisioningType, DateTimeOffset CreatedDateTime, DateTimeOffset LastModifiedDateTime, IReadOnlyList<AssignmentView> Assignments)
{
    public static PolicyView From(ProvisioningPolicy p, IEnumerable<PolicyAssignment> assignments) => new(
        p.Id, p.DisplayName, p.Description, p.ImageId, Lifecycle.JsonNaming(p.ImageType.ToString()), p.ImageDisplayName, p.RegionNames, p.RegionNames.Count == 0,
        p.NetworkConnectionIds, p.CloudPcNamingTemplate, p.LocalAdminEnabled, p.GracePeriodInHours, "dedicated", p.CreatedAt, p.LastModifiedAt,
        assignments.Where(a => a.PolicyId == p.Id).OrderBy(a => a.AssignedAt)
            .Select(a => new AssignmentView(a.Id, new AssignmentTarget(a.GroupId, a.ServicePlanId), a.AssignedAt)).ToList());
}

/// <summary>Graph's provisioningPolicies: create, read, edit, delete and assign, per tenant.</summary>
public static class PoliciesApi
{
    public static IEndpointRouteBuilder MapPoliciesApi(this IEndpointRouteBuilder endpoints)
    {
        var read = endpoints.MapGroup("/api/v1/provisioningPolicies").WithTags("Provisioning policies").RequireAuthorization(StratusPolicies.CloudPcReader);
        var write = endpoints.MapGroup("/api/v1/provisioningPolicies").WithTags("Provisioning policies").RequireAuthorization(StratusPolicies.CloudPcAdministrator);
        read.MapGet("/", ListAsync).WithName("ListProvisioningPolicies");
        read.MapGet("/{id:guid}", GetAsync).WithName("GetProvisioningPolicy");
        write.MapPost("/", CreateAsync).WithName("CreateProvisioningPolicy");
        write.MapPatch("/{id:guid}", UpdateAsync).WithName("UpdateProvisioningPolicy").WithSummary("Applies to new and reprovisioned Cloud PCs only");
        write.MapDelete("/{id:guid}", DeleteAsync).WithName("DeleteProvisioningPolicy");
        write.MapPost("/{id:guid}/assign", AssignAsync).WithName("AssignProvisioningPolicy")
            .WithSummary("Replace the policy's assignments: {assignments:[{target:{groupId, servicePlanId}}]}");
        return endpoints;
    }

    private static async Task<Results<Ok<PagedResult<PolicyView>>, ValidationProblem>> ListAsync(
        HttpContext http, ProvisioningDbContext db, [FromQuery(Name = "$top")] int? top, [FromQuery(Name = "$skip")] int? skip, CancellationToken cancellationToken)
    {
        if (Paging.Validate(top, skip) is { } invalid)
        {
            return invalid;
        }

        var tenant = http.User.RequiredTenantId();
        var query = db.Policies.AsNoTracking().Where(p => p.TenantId == tenant);
        var page = await query.OrderBy(p => p.DisplayName).Skip(skip ?? 0).Take(top ?? Paging.DefaultTop).ToListAsync(cancellationToken);
        var ids = page.Select(p => p.Id).ToList();
        var assignments = await db.Assignments.AsNoTracking().Where(a => ids.Contains(a.PolicyId)).ToListAsync(cancellationToken);
        return TypedResults.Ok(new PagedResult<PolicyView>(page.Select(p => PolicyView.From(p, assignments)).ToList(), await query.CountAsync(cancellationToken)));
    }

    private static async Task<Results<Ok<PolicyView>, ProblemHttpResult>> GetAsync(Guid id, HttpContext http, ProvisioningDbContext db, CancellationToken cancellationToken)
    {
        var tenant = http.User.RequiredTenantId();
        var policy = await db.Policies.AsNoTracking().FirstOrDefaultAsync(p => p.Id == id && p.TenantId == tenant, cancellationToken);
        return policy is null
            ? Problems.NotFound("provisioning policy", id)
            : TypedResults.Ok(PolicyView.From(policy, await db.Assignments.AsNoTracking().Where(a => a.PolicyId == id).ToListAsync(cancellationToken)));
    }

    private static async Task<Results<Created<PolicyView>, ValidationProblem, ProblemHttpResult>> CreateAsync(
        PolicyRequest? request, HttpContext http, ProvisioningDbContext db, ServiceClients services, NetworkClient network, IConfiguration configuration, TimeProvider clock,
        CancellationToken cancellationToken)
    {
        var tenant = http.User.RequiredTenantId();
        var validator = new Validator().Require("displayName", request?.DisplayName);
        var imageType = ValidateCommon(request, validator, configuration);
        ValidateImageId(request?.ImageId, imageType, validator);
        if (!validator.IsValid)
        {
            return validator.ToProblem();
        }

        var image = await services.ImageAsync(tenant, request!.ImageId!, imageType == ImageType.Custom, cancellationToken);
        if (UnusableImage(image, imageType, request.ImageId!) is { } unusable)
        {
            return unusable;
        }

        var connections = PolicyConnections.Normalized(request.NetworkConnectionIds ?? []);
        switch (await PolicyConnections.CheckExistAsync(network, tenant, connections, cancellationToken))
        {
            case ({ } invalid, _):
                return invalid;
            case (_, { } unavailable):
                return unavailable;
        }

        if (await db.Policies.AnyAsync(p => p.TenantId == tenant && p.DisplayName == request.DisplayName, cancellationToken))
        {
            return Problems.Conflict("policy-exists", $"A provisioning policy named '{request.DisplayName}' exists already; choose another name.");
        }

        var now = clock.GetUtcNow();
        var policy = new ProvisioningPolicy
        {
            Id = Guid.CreateVersion7(now),
            TenantId = tenant,
            DisplayName = request.DisplayName!.Trim(),
            Description = request.Description ?? "",
            ImageId = request.ImageId!,
            ImageType = imageType,
            ImageDisplayName = image!.DisplayName,
            RegionNames = RegionNames(request.RegionNames),
            NetworkConnectionIds = connections,
            CloudPcNamingTemplate = request.CloudPcNamingTemplate ?? NamingTemplate.Default,
            LocalAdminEnabled = request.LocalAdminEnabled ?? false,
            GracePeriodInHours = request.GracePeriodInHours ?? 168,
            CreatedAt = now,
            LastModifiedAt = now,
        };
        db.Policies.Add(policy);
        db.Audit(clock, tenant, AuditActor.From(http), "provisioningPolicy", "Create", $"Created provisioning policy {policy.DisplayName}", true,
            new AuditResource(policy.Id.ToString(), "provisioningPolicy", policy.DisplayName));
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Created($"/api/v1/provisioningPolicies/{policy.Id}", PolicyView.From(policy, []));
    }

    private static async Task<Results<Ok<PolicyView>, ValidationProblem, ProblemHttpResult>> UpdateAsync(
        Guid id, PolicyRequest? request, HttpContext http, ProvisioningDbContext db, ServiceClients services, NetworkClient network, IConfiguration configuration, TimeProvider clock,
        CancellationToken cancellationToken)
    {
        var tenant = http.User.RequiredTenantId();
        var policy = await db.Policies.FirstOrDefaultAsync(p => p.Id == id && p.TenantId == tenant, cancellationToken);
        if (policy is null)
        {
            return Problems.NotFound("provisioning policy", id);
        }

        if (request is null)
        {
            return Problems.MissingBody("{\"displayName\": \"Engineering\"}");
        }

        var validator = new Validator();
        if (request.DisplayName is not null)
        {
            validator.Require("displayName", request.DisplayName);
        }

        var imageType = ValidateCommon(request, validator, configuration);
        if (request.ImageId is not null)
        {
            ValidateImageId(request.ImageId, request.ImageType is null ? policy.ImageType : imageType, validator);
        }

        if (!validator.IsValid)
        {
            return validator.ToProblem();
        }

        var connections = request.NetworkConnectionIds is null ? null : PolicyConnections.Normalized(request.NetworkConnectionIds);
        if (connections is not null)
        {
            switch (await PolicyConnections.CheckExistAsync(network, tenant, connections, cancellationToken))
            {
                case ({ } invalid, _):
                    return invalid;
                case (_, { } unavailable):
                    return unavailable;
            }
        }

        if (request.ImageId is { } imageId)
        {
            var type = request.ImageType is null ? policy.ImageType : imageType;
            var image = await services.ImageAsync(tenant, imageId, type == ImageType.Custom, cancellationToken);
            // The same rule as a new policy's: an image being deleted (or not yet imported) is never named by a policy.
            if (UnusableImage(image, type, imageId) is { } unusable)
            {
                return unusable;
            }

            policy.ImageId = imageId;
            policy.ImageType = type;
            policy.ImageDisplayName = image!.DisplayName;
        }

        if (request.DisplayName is { } name && name.Trim() != policy.DisplayName)
        {
            if (await db.Policies.AnyAsync(p => p.TenantId == tenant && p.DisplayName == name.Trim() && p.Id != id, cancellationToken))
            {
                return Problems.Conflict("policy-exists", $"A provisioning policy named '{name}' exists already; choose another name.");
            }

            policy.DisplayName = name.Trim();
        }

        policy.Description = request.Description ?? policy.Description;
        policy.RegionNames = request.RegionNames is null ? policy.RegionNames : RegionNames(request.RegionNames);
        policy.NetworkConnectionIds = connections ?? policy.NetworkConnectionIds;
        policy.CloudPcNamingTemplate = request.CloudPcNamingTemplate ?? policy.CloudPcNamingTemplate;
        policy.LocalAdminEnabled = request.LocalAdminEnabled ?? policy.LocalAdminEnabled;
        policy.GracePeriodInHours = request.GracePeriodInHours ?? policy.GracePeriodInHours;
        policy.LastModifiedAt = clock.GetUtcNow();
        db.Audit(clock, tenant, AuditActor.From(http), "provisioningPolicy", "Update", $"Changed provisioning policy {policy.DisplayName}", true,
            new AuditResource(policy.Id.ToString(), "provisioningPolicy", policy.DisplayName));
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Ok(PolicyView.From(policy, await db.Assignments.AsNoTracking().Where(a => a.PolicyId == id).ToListAsync(cancellationToken)));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(Guid id, HttpContext http, ProvisioningDbContext db, TimeProvider clock, CancellationToken cancellationToken)
    {
        var tenant = http.User.RequiredTenantId();
        var policy = await db.Policies.FirstOrDefaultAsync(p => p.Id == id && p.TenantId == tenant, cancellationToken);
        if (policy is null)
        {
            return Problems.NotFound("provisioning policy", id);
        }

        if (await db.Assignments.AnyAsync(a => a.PolicyId == id, cancellationToken))
        {
            return Problems.Conflict("policy-assigned", $"Provisioning policy {policy.DisplayName} is still assigned; remove its assignments first (assign with an empty list).");
        }

        db.Policies.Remove(policy);
        db.Audit(clock, tenant, AuditActor.From(http), "provisioningPolicy", "Delete", $"Deleted provisioning policy {policy.DisplayName}", true,
            new AuditResource(policy.Id.ToString(), "provisioningPolicy", policy.DisplayName));
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.NoContent();
    }

    private static async Task<Results<Ok<PolicyView>, ValidationProblem, ProblemHttpResult>> AssignAsync(
        Guid id, AssignRequest? request, HttpContext http, ProvisioningDbContext db, ServiceClients services, TimeProvider clock, CancellationToken cancellationToken)
    {
        var tenant = http.User.RequiredTenantId();
        var policy = await db.Policies.FirstOrDefaultAsync(p => p.Id == id && p.TenantId == tenant, cancellationToken);
        if (policy is null)
        {
            return Problems.NotFound("provisioning policy", id);
        }

        var validator = new Validator().Check(request?.Assignments is not null, "assignments", "'assignments' is required: a list of {target:{groupId, servicePlanId}} (empty to unassign).");
        var items = request?.Assignments ?? [];
        for (var i = 0; i < items.Count; i++)
        {
            validator.Check(items[i].Target?.GroupId is not null, $"assignments[{i}].target.groupId", "'groupId' is required.");
            validator.Check(items[i].Target?.ServicePlanId is not null, $"assignments[{i}].target.servicePlanId", "'servicePlanId' is required.");
        }

        if (!validator.IsValid)
        {
            return validator.ToProblem();
        }

        var targets = items.Select(i => (Group: i.Target!.GroupId!.Value, Plan: i.Target.ServicePlanId!.Value)).Distinct().ToList();
        for (var i = 0; i < targets.Count; i++)
        {
            if (!await services.GroupExistsAsync(tenant, targets[i].Group, cancellationToken))
            {
                validator.Add($"assignments[{i}].target.groupId", $"There is no group {targets[i].Group} in your tenant.");
            }

            if (await services.PlanAsync(targets[i].Plan, cancellationToken) is null)
            {
                validator.Add($"assignments[{i}].target.servicePlanId", $"There is no service plan {targets[i].Plan}; list them at /api/v1/servicePlans.");
            }
        }

        if (!validator.IsValid)
        {
            return validator.ToProblem();
        }

        // Graph's assign replaces the list; a target kept keeps its date, and so its precedence over other policies.
        var now = clock.GetUtcNow();
        var current = await db.Assignments.Where(a => a.PolicyId == id).ToListAsync(cancellationToken);
        db.Assignments.RemoveRange(current.Where(a => !targets.Contains((a.GroupId, a.ServicePlanId))));
        foreach (var (group, plan) in targets.Where(t => !current.Any(a => a.GroupId == t.Group && a.ServicePlanId == t.Plan)))
        {
            db.Assignments.Add(new PolicyAssignment { Id = Guid.CreateVersion7(now), TenantId = tenant, PolicyId = id, GroupId = group, ServicePlanId = plan, AssignedAt = now });
        }

        db.Publish(new EvaluateTenant(tenant));
        db.Audit(clock, tenant, AuditActor.From(http), "provisioningPolicy", "Assign", $"Assigned provisioning policy {policy.DisplayName} to {targets.Count} group(s)", true,
            new AuditResource(policy.Id.ToString(), "provisioningPolicy", policy.DisplayName));
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Ok(PolicyView.From(policy, await db.Assignments.AsNoTracking().Where(a => a.PolicyId == id).ToListAsync(cancellationToken)));
    }

    /// <summary>A problem when a policy cannot name the image: it does not exist, or a custom one is not ready (still
    /// importing, failed, or being deleted: the images service deletes only what no policy names).</summary>
    private static ValidationProblem? UnusableImage(ImageBody? image, ImageType type, string imageId) =>
        image is null
            ? Problems.Validation("imageId", $"There is no {Lifecycle.JsonNaming(type.ToString())} image '{imageId}'; list them at /api/v1/{(type == ImageType.Custom ? "deviceImages" : "galleryImages")}.")
            : type == ImageType.Custom && image.Status != "ready"
                ? Problems.Validation("imageId", $"The custom image '{imageId}' is {image.Status}, not ready; wait until it is ready.")
                : null;

    /// <summary>Checked before the images service is asked: a custom image's id is a GUID, a gallery image's a name of the gallery.</summary>
    private static void ValidateImageId(string? imageId, ImageType type, Validator validator)
    {
        validator.Require("imageId", imageId, maxLength: 128);
        if (imageId is not null && type == ImageType.Custom && !Guid.TryParse(imageId, out _))
        {
            validator.Add("imageId", "A custom image's 'imageId' is the id of a device image (a GUID); list them at /api/v1/deviceImages.");
        }
        else if (imageId is not null && type == ImageType.Gallery && !ImageIds.IsWellFormed(imageId))
        {
            validator.Add("imageId", "'imageId' is not the id of a gallery image; list them at /api/v1/galleryImages.");
        }
    }

    private static ImageType ValidateCommon(PolicyRequest? request, Validator validator, IConfiguration configuration)
    {
        var imageType = ImageType.Gallery;
        if (request?.ImageType is { } type && !Enum.TryParse(type, ignoreCase: true, out imageType))
        {
            validator.Add("imageType", "'imageType' must be gallery or custom.");
        }

        if (request?.CloudPcNamingTemplate is { } template && NamingTemplate.Validate(template) is { } error)
        {
            validator.Add("cloudPcNamingTemplate", $"'cloudPcNamingTemplate' {error}");
        }

        validator.Check(request?.GracePeriodInHours is null or (>= 0 and <= 8760), "gracePeriodInHours", "'gracePeriodInHours' must be 0 to 8760 (a year).");
        validator.Check(request?.Description is null || request.Description.Length <= 1024, "description", "'description' must be at most 1024 characters.");
        var regions = AssignmentEvaluator.Regions(configuration);
        foreach (var region in request?.RegionNames ?? [])
        {
            validator.Check(region == "automatic" || regions.Contains(region), "regionNames", $"'{region}' is not a region; choose from {string.Join(", ", regions)}, or automatic.");
        }

        PolicyConnections.ValidateForm(request?.NetworkConnectionIds, validator);
        return imageType;
    }

    private static List<string> RegionNames(List<string>? requested) =>
        requested is null || requested.Contains("automatic") ? [] : requested.Distinct().ToList();
}
