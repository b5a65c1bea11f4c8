using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Stratus.Platform.Auth;
using Stratus.Platform.Http;
using Stratus.Provisioning.Persistence;

namespace Stratus.Provisioning.CloudPcs;

public sealed record StatusDetailView(string Code, string Message, bool Retryable);

public sealed record CloudPcView(
    Guid Id, string DisplayName, string ManagedDeviceName, Guid UserId, string UserPrincipalName, Guid ProvisioningPolicyId, string ProvisioningPolicyName,
    Guid ServicePlanId, string ServicePlanName, string ImageId, string ImageDisplayName, string Status, StatusDetailView? StatusDetail, string PowerState,
    DateTimeOffset? GracePeriodEndDateTime, DateTimeOffset LastModifiedDateTime, DateTimeOffset CreatedDateTime, string RegionName, string? HostName,
    int VCpuCount, int RamInGB, int StorageInGB, Guid? ActiveOperationId, Guid VmId,
    DisasterRecoveryCapabilityView DisasterRecoveryCapability, DisasterRecoveryStatusView DisasterRecoveryStatus, DiskCopyWarningView? DiskCopyWarning,
    Guid? OnPremisesConnectionId, string OnPremisesConnectionName, string? IpAddress)
{
    public static CloudPcView From(CloudPc p) => new(
        p.Id, p.DisplayName, p.ManagedDeviceName, p.UserId, p.UserPrincipalName, p.ProvisioningPolicyId, p.ProvisioningPolicyName,
        p.ServicePlanId, p.ServicePlanName, p.ImageId, p.ImageDisplayName, Lifecycle.ToGraph(p.Status),
        p.StatusDetailCode is { } code ? new StatusDetailView(code, p.StatusDetailMessage ?? "", p.StatusDetailRetryable ?? false) : null,
        Lifecycle.JsonNaming(p.PowerState.ToString()), p.GracePeriodEnd, p.LastModifiedAt, p.CreatedAt, p.RegionName, p.HostName,
        p.VCpuCount, p.MemoryMiB / 1024, p.DiskGiB, p.ActiveOperationId, p.VmId,
        DisasterRecoveryCapabilityView.From(p), DisasterRecoveryStatusView.From(p), DisasterRecoveryApi.WarningOf(p),
        p.NetworkConnectionId, p.NetworkConnectionId is null ? Network.NetworkClient.HostedName : p.NetworkConnectionName ?? p.NetworkConnectionId.Value.ToString(), p.IpAddress);
}

/// <summary>Graph's cloudPCs for admins, and /me/cloudPCs for their users.</summary>
public static class CloudPcsApi
{
    private static readonly string[] FilterProperties = ["status", "userPrincipalName", "servicePlanId", "provisioningPolicyId", "regionName", "powerState", "managedDeviceName"];

    private static readonly string[] OrderProperties = ["displayName", "managedDeviceName", "userPrincipalName", "status", "lastModifiedDateTime", "createdDateTime", "regionName"];

    public static IEndpointRouteBuilder MapCloudPcsApi(this IEndpointRouteBuilder endpoints)
    {
        var read = endpoints.MapGroup("/api/v1/cloudPCs").WithTags("Cloud PCs").RequireAuthorization(StratusPolicies.CloudPcReader)
            .AcceptsScope(StratusScopes.CloudPcsRead);
        read.MapGet("/", ListAsync).WithName("ListCloudPcs").WithSummary("$filter (eq, and), $orderby, $top, $skip");
        read.MapGet("/{id:guid}", GetAsync).WithName("GetCloudPc");
        read.MapGet("/{id:guid}/operations/{operationId:guid}", GetOperationAsync).WithName("GetCloudPcOperation");
        var mine = endpoints.MapGroup("/api/v1/me/cloudPCs").WithTags("My Cloud PCs").RequireAuthorization(StratusPolicies.TenantMember)
            .AcceptsScope(StratusScopes.CloudPcsRead);
        mine.MapGet("/", ListMineAsync).WithName("ListMyCloudPcs");
        mine.MapGet("/{id:guid}", GetMineAsync).WithName("GetMyCloudPc");
        endpoints.MapCloudPcActions();
        return endpoints;
    }

    private static async Task<Results<Ok<PagedResult<CloudPcView>>, ValidationProblem>> ListAsync(
        HttpContext http, ProvisioningDbContext db, [FromQuery(Name = "$filter")] string? filter, [FromQuery(Name = "$orderby")] string? orderBy,
        [FromQuery(Name = "$top")] int? top, [FromQuery(Name = "$skip")] int? skip, CancellationToken cancellationToken)
    {
        if (Paging.Validate(top, skip) is { } invalid)
        {
            return invalid;
        }

        var tenant = http.User.RequiredTenantId();
        if (Query(db.CloudPcs.AsNoTracking().Where(p => p.TenantId == tenant), filter, orderBy, out var query, out var ordered) is { } problem)
        {
            return problem;
        }

        var total = await query.CountAsync(cancellationToken);
        var page = await ordered.Skip(skip ?? 0).Take(top ?? Paging.DefaultTop).ToListAsync(cancellationToken);
        return TypedResults.Ok(new PagedResult<CloudPcView>(page.Select(CloudPcView.From).ToList(), total));
    }

    /// <summary>
    /// The list's $filter and $orderby on a tenant's Cloud PCs, shared by the lists that page through Cloud PCs
    /// (this one and disaster recovery's), so that the same query gives the same page in each.
    /// </summary>
    internal static ValidationProblem? Query(
        IQueryable<CloudPc> tenantCloudPcs, string? filter, string? orderBy, out IQueryable<CloudPc> query, out IQueryable<CloudPc> ordered)
    {
        query = ordered = tenantCloudPcs;
        if (!string.IsNullOrWhiteSpace(filter))
        {
            var parsed = ODataFilter.Parse(filter, FilterProperties);
            if (parsed.Error is { } error)
            {
                return Problems.Validation("$filter", $"'$filter' {error}");
            }

            foreach (var (property, value) in parsed.Conditions)
            {
                if (Filter(query, property, value) is not { } filtered)
                {
                    return Problems.Validation("$filter", $"'{value}' is not a value of {property}.");
                }

                query = filtered;
            }
        }

        if (Order(query, orderBy) is not { } sorted)
        {
            return Problems.Validation("$orderby", $"'$orderby' must be one of {string.Join(", ", OrderProperties)}, optionally followed by asc or desc.");
        }

        ordered = sorted;
        return null;
    }

    private static IQueryable<CloudPc>? Filter(IQueryable<CloudPc> query, string property, string value) => property switch
    {
        "status" => Enum.TryParse<CloudPcStatus>(value, ignoreCase: true, out var status) ? query.Where(p => p.Status == status) : null,
        "powerState" => Enum.TryParse<CloudPcPowerState>(value, ignoreCase: true, out var power) ? query.Where(p => p.PowerState == power) : null,
        "userPrincipalName" => query.Where(p => p.UserPrincipalName == value),
        "managedDeviceName" => query.Where(p => p.ManagedDeviceName == value.ToUpperInvariant()),
        "regionName" => query.Where(p => p.RegionName == value),
        "servicePlanId" => Guid.TryParse(value, out var plan) ? query.Where(p => p.ServicePlanId == plan) : null,
        "provisioningPolicyId" => Guid.TryParse(value, out var policy) ? query.Where(p => p.ProvisioningPolicyId == policy) : null,
        _ => null,
    };

    private static IQueryable<CloudPc>? Order(IQueryable<CloudPc> query, string? orderBy)
    {
        if (string.IsNullOrWhiteSpace(orderBy))
        {
            return query.OrderBy(p => p.CreatedAt).ThenBy(p => p.Id);
        }

        var parts = orderBy.Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length > 2 || (parts.Length == 2 && parts[1] is not ("asc" or "desc")))
        {
            return null;
        }

        var descending = parts.Length == 2 && parts[1] == "desc";
        return parts[0] switch
        {
            "displayName" => descending ? query.OrderByDescending(p => p.DisplayName).ThenBy(p => p.Id) : query.OrderBy(p => p.DisplayName).ThenBy(p => p.Id),
            "managedDeviceName" => descending ? query.OrderByDescending(p => p.ManagedDeviceName) : query.OrderBy(p => p.ManagedDeviceName),
            "userPrincipalName" => descending ? query.OrderByDescending(p => p.UserPrincipalName).ThenBy(p => p.Id) : query.OrderBy(p => p.UserPrincipalName).ThenBy(p => p.Id),
            "status" => descending ? query.OrderByDescending(p => p.Status).ThenBy(p => p.Id) : query.OrderBy(p => p.Status).ThenBy(p => p.Id),
            "lastModifiedDateTime" => descending ? query.OrderByDescending(p => p.LastModifiedAt).ThenBy(p => p.Id) : query.OrderBy(p => p.LastModifiedAt).ThenBy(p => p.Id),
            "createdDateTime" => descending ? query.OrderByDescending(p => p.CreatedAt).ThenBy(p => p.Id) : query.OrderBy(p => p.CreatedAt).ThenBy(p => p.Id),
            "regionName" => descending ? query.OrderByDescending(p => p.RegionName).ThenBy(p => p.Id) : query.OrderBy(p => p.RegionName).ThenBy(p => p.Id),
            _ => null,
        };
    }

    private static async Task<Results<Ok<CloudPcView>, ProblemHttpResult>> GetAsync(Guid id, HttpContext http, ProvisioningDbContext db, CancellationToken cancellationToken)
    {
        var tenant = http.User.RequiredTenantId();
        var pc = await db.CloudPcs.AsNoTracking().FirstOrDefaultAsync(p => p.Id == id && p.TenantId == tenant, cancellationToken);
        return pc is null ? Problems.NotFound("Cloud PC", id) : TypedResults.Ok(CloudPcView.From(pc));
    }

    private static async Task<Ok<PagedResult<CloudPcView>>> ListMineAsync(HttpContext http, ProvisioningDbContext db, CancellationToken cancellationToken)
    {
        var tenant = http.User.RequiredTenantId();
        var user = http.User.AccountId();
        var pcs = await db.CloudPcs.AsNoTracking().Where(p => p.TenantId == tenant && p.UserId == user).OrderBy(p => p.CreatedAt).ToListAsync(cancellationToken);
        return TypedResults.Ok(new PagedResult<CloudPcView>(pcs.Select(CloudPcView.From).ToList(), pcs.Count));
    }

    private static async Task<Results<Ok<CloudPcView>, ProblemHttpResult>> GetMineAsync(Guid id, HttpContext http, ProvisioningDbContext db, CancellationToken cancellationToken)
    {
        var tenant = http.User.RequiredTenantId();
        var user = http.User.AccountId();
        var pc = await db.CloudPcs.AsNoTracking().FirstOrDefaultAsync(p => p.Id == id && p.TenantId == tenant && p.UserId == user, cancellationToken);
        return pc is null ? Problems.NotFound("Cloud PC", id) : TypedResults.Ok(CloudPcView.From(pc));
    }

    private static async Task<Results<Ok<OperationView>, ProblemHttpResult>> GetOperationAsync(
        Guid id, Guid operationId, HttpContext http, ProvisioningDbContext db, CancellationToken cancellationToken)
    {
        var tenant = http.User.RequiredTenantId();
        var operation = await db.Operations.AsNoTracking().FirstOrDefaultAsync(o => o.Id == operationId && o.CloudPcId == id && o.TenantId == tenant, cancellationToken);
        return operation is null ? Problems.NotFound("operation", operationId) : TypedResults.Ok(OperationView.From(operation));
    }
}
