using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Stratus.Identity.Persistence;
using Stratus.Identity.Sync;
using Stratus.Identity.Users;
using Stratus.Platform.Audit;
using Stratus.Platform.Auth;
using Stratus.Platform.Http;

namespace Stratus.Identity.Licensing;

public sealed record ServicePlanRequest(string? DisplayName, int? VCpuCount, int? RamInGB, int? StorageInGB);

public sealed record ServicePlanView(Guid Id, string DisplayName, int VCpuCount, int RamInGB, int StorageInGB)
{
    public static ServicePlanView From(ServicePlan p) => new(p.Id, p.DisplayName, p.VCpuCount, p.RamInGB, p.StorageInGB);
}

public sealed record LicenseUnits(int Enabled);

/// <summary>Graph's subscribedSku: here a SKU is a plan, so skuId is the plan's id.</summary>
public sealed record SubscribedSkuView(string Id, Guid SkuId, string SkuPartNumber, ServicePlanView ServicePlan, LicenseUnits PrepaidUnits, int ConsumedUnits);

public sealed record AddLicense(Guid? SkuId);

public sealed record AssignLicenseRequest(IReadOnlyList<AddLicense>? AddLicenses, IReadOnlyList<Guid>? RemoveLicenses);

public sealed record LicenseDetail(Guid SkuId, string SkuPartNumber);

public sealed record SeatsRequest(int? PrepaidUnits);

public static class LicensingApi
{
    public static IEndpointRouteBuilder MapLicensingApi(this IEndpointRouteBuilder endpoints)
    {
        var plans = endpoints.MapGroup("/api/v1/servicePlans").WithTags("Plans and licenses");
        plans.MapGet("/", ListPlansAsync).WithName("ListServicePlans").WithSummary("The catalog of Cloud PC sizes").RequireAuthorization()
            .AcceptsScope(StratusScopes.DirectoryRead);
        plans.MapPost("/", CreatePlanAsync).WithName("CreateServicePlan").RequireAuthorization(StratusPolicies.PlatformOperator);
        plans.MapDelete("/{id:guid}", DeletePlanAsync).WithName("DeleteServicePlan").RequireAuthorization(StratusPolicies.PlatformOperator);

        endpoints.MapGet("/api/v1/subscribedSkus", ListSubscribedSkusAsync).WithTags("Plans and licenses").WithName("ListSubscribedSkus")
            .WithSummary("The caller's tenant's subscriptions: seats bought and used").RequireAuthorization(StratusPolicies.CloudPcReader);
        endpoints.MapGet("/api/v1/tenants/{tenantId:guid}/subscribedSkus", ListTenantSubscribedSkusAsync).WithTags("Tenants")
            .WithName("ListTenantSubscribedSkus").WithSummary("A tenant's subscriptions (seats bought and used), for the platform operator")
            .RequireAuthorization(StratusPolicies.PlatformOperator);
        endpoints.MapPut("/api/v1/tenants/{tenantId:guid}/subscribedSkus/{skuId:guid}", SetSeatsAsync).WithTags("Tenants")
            .WithName("SetSeats").WithSummary("Set how many seats of a plan a tenant bought").RequireAuthorization(StratusPolicies.PlatformOperator);

        var users = endpoints.MapGroup("/api/v1/users/{id:guid}").WithTags("Users");
        users.MapPost("/assignLicense", AssignLicenseAsync).WithName("AssignLicense")
            .WithSummary("Add and remove licenses of a user (Graph's assignLicense)").RequireAuthorization(StratusPolicies.TenantAdministrator)
            .AcceptsScope(StratusScopes.LicensesWrite);
        users.MapGet("/licenseDetails", ListLicenseDetailsAsync).WithName("ListLicenseDetails").RequireAuthorization(StratusPolicies.CloudPcReader)
            .AcceptsScope(StratusScopes.DirectoryRead);
        return endpoints;
    }

    private static async Task<Ok<List<ServicePlanView>>> ListPlansAsync(IdentityDbContext db, CancellationToken cancellationToken) =>
        TypedResults.Ok((await db.ServicePlans.AsNoTracking().OrderBy(p => p.VCpuCount).ThenBy(p => p.RamInGB).ThenBy(p => p.StorageInGB)
            .ToListAsync(cancellationToken)).Select(ServicePlanView.From).ToList());

    private static async Task<Results<Created<ServicePlanView>, ValidationProblem, ProblemHttpResult>> CreatePlanAsync(
        ServicePlanRequest? request, HttpContext http, IdentityDbContext db, TimeProvider clock, CancellationToken cancellationToken)
    {
        var validator = new Validator()
            .Require("displayName", request?.DisplayName)
            .Check(request?.VCpuCount is >= 1 and <= 64, "vCpuCount", "'vCpuCount' must be 1 to 64.")
            .Check(request?.RamInGB is >= 1 and <= 512, "ramInGB", "'ramInGB' must be 1 to 512.")
            .Check(request?.StorageInGB is >= 8 and <= 4096, "storageInGB", "'storageInGB' must be 8 to 4096.");
        if (!validator.IsValid)
        {
            return validator.ToProblem();
        }

        var name = request!.DisplayName!.Trim();
        if (await db.ServicePlans.AnyAsync(p => p.DisplayName == name, cancellationToken))
        {
            return Problems.Conflict("plan-exists", $"A plan named '{name}' already exists. Choose another displayName.");
        }

        var now = clock.GetUtcNow();
        var plan = new ServicePlan { Id = Guid.CreateVersion7(now), DisplayName = name, VCpuCount = request.VCpuCount!.Value, RamInGB = request.RamInGB!.Value, StorageInGB = request.StorageInGB!.Value, CreatedAt = now };
        db.ServicePlans.Add(plan);
        db.Audit(clock, null, AuditActor.From(http), "license", "CreateServicePlan", $"Created plan {name}", true, TenantChange.Resource(plan));
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Created($"/api/v1/servicePlans/{plan.Id}", ServicePlanView.From(plan));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> DeletePlanAsync(Guid id, HttpContext http, IdentityDbContext db, TimeProvider clock, CancellationToken cancellationToken)
    {
        var plan = await db.ServicePlans.FirstOrDefaultAsync(p => p.Id == id, cancellationToken);
        if (plan is null)
        {
            return Problems.NotFound("service plan", id);
        }

        if (await db.SubscribedSkus.AnyAsync(s => s.ServicePlanId == id, cancellationToken))
        {
            return Problems.Conflict("plan-in-use", $"Tenants subscribe to '{plan.DisplayName}'. Set their seats of it to 0 and remove their subscriptions first.");
        }

        db.ServicePlans.Remove(plan);
        db.Audit(clock, null, AuditActor.From(http), "license", "DeleteServicePlan", $"Deleted plan {plan.DisplayName}", true, TenantChange.Resource(plan));
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.NoContent();
    }

    private static async Task<Ok<List<SubscribedSkuView>>> ListSubscribedSkusAsync(HttpContext http, IdentityDbContext db, CancellationToken cancellationToken)
    {
        var tenant = http.User.RequiredTenantId();
        return TypedResults.Ok(await SubscribedSkusOfAsync(db, tenant, cancellationToken));
    }

    private static async Task<Results<Ok<List<SubscribedSkuView>>, ProblemHttpResult>> ListTenantSubscribedSkusAsync(
        Guid tenantId, IdentityDbContext db, CancellationToken cancellationToken)
    {
        if (!await db.Tenants.AnyAsync(t => t.Id == tenantId, cancellationToken))
        {
            return Problems.NotFound("tenant", tenantId);
        }

        return TypedResults.Ok(await SubscribedSkusOfAsync(db, tenantId, cancellationToken));
    }

    internal static async Task<List<SubscribedSkuView>> SubscribedSkusOfAsync(IdentityDbContext db, Guid tenant, CancellationToken cancellationToken)
    {
        var rows = await (from sku in db.SubscribedSkus.AsNoTracking()
                          join plan in db.ServicePlans.AsNoTracking() on sku.ServicePlanId equals plan.Id
                          where sku.TenantId == tenant
                          select new
                          {
                              Sku = sku,
                              Plan = plan,
                              Consumed = db.LicenseAssignments.Count(l => l.TenantId == tenant && l.ServicePlanId == sku.ServicePlanId),
                          }).ToListAsync(cancellationToken);
        return rows.OrderBy(r => r.Plan.VCpuCount).ThenBy(r => r.Plan.RamInGB)
            .Select(r => new SubscribedSkuView($"{tenant}_{r.Plan.Id}", r.Plan.Id, r.Plan.DisplayName, ServicePlanView.From(r.Plan), new LicenseUnits(r.Sku.PrepaidUnits), r.Consumed))
            .ToList();
    }

    private static async Task<Results<Ok<SubscribedSkuView>, ValidationProblem, ProblemHttpResult>> SetSeatsAsync(
        Guid tenantId, Guid skuId, SeatsRequest? request, HttpContext http, DirectoryWriter directory, CancellationToken cancellationToken)
    {
        if (request?.PrepaidUnits is not (>= 0 and <= 1_000_000))
        {
            return Problems.Validation("prepaidUnits", "'prepaidUnits' must be 0 to 1000000.");
        }

        var db = directory.Db;
        if (!await db.Tenants.AnyAsync(t => t.Id == tenantId, cancellationToken))
        {
            return Problems.NotFound("tenant", tenantId);
        }

        var plan = await db.ServicePlans.AsNoTracking().FirstOrDefaultAsync(p => p.Id == skuId, cancellationToken);
        if (plan is null)
        {
            return Problems.NotFound("service plan", skuId);
        }

        var actor = AuditActor.From(http);
        var result = await directory.ChangeAsync<ProblemHttpResult?>(tenantId, async change =>
        {
            var consumed = await change.Db.LicenseAssignments.CountAsync(l => l.TenantId == tenantId && l.ServicePlanId == skuId, cancellationToken);
            if (request.PrepaidUnits < consumed)
            {
                change.Refuse();
                return Problems.Conflict("seats-in-use", $"{consumed} seats of '{plan.DisplayName}' are assigned; remove licenses before setting fewer than {consumed} seats.");
            }

            var sku = await change.Db.SubscribedSkus.FirstOrDefaultAsync(s => s.TenantId == tenantId && s.ServicePlanId == skuId, cancellationToken);
            if (sku is null)
            {
                change.Db.SubscribedSkus.Add(new SubscribedSku { TenantId = tenantId, ServicePlanId = skuId, PrepaidUnits = request.PrepaidUnits.Value, CreatedAt = change.Now });
            }
            else
            {
                sku.PrepaidUnits = request.PrepaidUnits.Value;
            }

            // Published with a sequence number like every change, which also orders it with assignments.
            change.Publish(new SubscriptionChanged(tenantId, change.NextSequence(), change.Now, skuId, request.PrepaidUnits.Value));
            change.Db.Audit(directory.Clock, null, actor, "license", "SetSeats", $"Set {request.PrepaidUnits} seats of {plan.DisplayName} for tenant {change.Tenant.Domain}", true, TenantChange.Resource(plan));
            return null;
        }, cancellationToken);
        if (result is not null)
        {
            return result;
        }

        var views = await SubscribedSkusOfAsync(db, tenantId, cancellationToken);
        return TypedResults.Ok(views.Single(v => v.SkuId == skuId));
    }

    private static async Task<Results<Ok<UserView>, ValidationProblem, ProblemHttpResult>> AssignLicenseAsync(
        Guid id, AssignLicenseRequest? request, HttpContext http, DirectoryWriter directory, CancellationToken cancellationToken)
    {
        var adds = request?.AddLicenses ?? [];
        var removes = request?.RemoveLicenses ?? [];
        var validator = new Validator()
            .Check(request is not null, "body", "Send {\"addLicenses\": [{\"skuId\": \"...\"}], \"removeLicenses\": [\"...\"]}.")
            .Check(adds.All(a => a?.SkuId is not null), "addLicenses", "Every item of 'addLicenses' needs a 'skuId'.")
            .Check(adds.Count + removes.Count <= 100, "addLicenses", "At most 100 licenses per request.");
        var addIds = adds.Where(a => a?.SkuId is not null).Select(a => a.SkuId!.Value).ToList();
        validator.Check(addIds.Distinct().Count() == addIds.Count, "addLicenses", "A skuId appears twice in 'addLicenses'.");
        validator.Check(!addIds.Intersect(removes).Any(), "removeLicenses", "A skuId cannot be both added and removed.");
        if (!validator.IsValid)
        {
            return validator.ToProblem();
        }

        var tenantId = http.User.RequiredTenantId();
        var actor = AuditActor.From(http);
        return await directory.ChangeAsync<Results<Ok<UserView>, ValidationProblem, ProblemHttpResult>>(tenantId, async change =>
        {
            var db = change.Db;
            var user = await db.Accounts.FirstOrDefaultAsync(a => a.Id == id && a.TenantId == tenantId, cancellationToken);
            if (user is null)
            {
                change.Refuse();
                return Problems.NotFound("user", id);
            }

            var held = await db.LicenseAssignments.Where(l => l.UserId == id).ToListAsync(cancellationToken);
            foreach (var skuId in removes)
            {
                var license = held.FirstOrDefault(l => l.ServicePlanId == skuId);
                if (license is null)
                {
                    change.Refuse();
                    return Problems.Validation("removeLicenses", $"The user does not hold license '{skuId}'.");
                }

                db.LicenseAssignments.Remove(license);
                change.LicenseRemoved(id, skuId);
            }

            foreach (var skuId in addIds.Where(s => held.All(l => l.ServicePlanId != s)))
            {
                var sku = await db.SubscribedSkus.AsNoTracking().FirstOrDefaultAsync(s => s.TenantId == tenantId && s.ServicePlanId == skuId, cancellationToken);
                if (sku is null)
                {
                    change.Refuse();
                    return Problems.Validation("addLicenses", $"The tenant has no subscription to '{skuId}'. See GET /api/v1/subscribedSkus.");
                }

                var consumed = await db.LicenseAssignments.CountAsync(l => l.TenantId == tenantId && l.ServicePlanId == skuId, cancellationToken);
                if (consumed >= sku.PrepaidUnits)
                {
                    var plan = await db.ServicePlans.AsNoTracking().Where(p => p.Id == skuId).Select(p => p.DisplayName).FirstOrDefaultAsync(cancellationToken) ?? skuId.ToString();
                    change.Fail(actor, "AssignLicense", $"Refused a license of {plan} for {user.UserName}: no seats left", TenantChange.Resource(user));
                    return Problems.Conflict("no-seats-left", $"No seat of '{plan}' is free: all {sku.PrepaidUnits} are assigned. Remove a license from someone or ask your provider for more seats; nothing was changed.");
                }

                db.LicenseAssignments.Add(new LicenseAssignment { UserId = id, ServicePlanId = skuId, TenantId = tenantId, AssignedAt = change.Now });
                change.LicenseAssigned(id, skuId);
            }

            if (removes.Count > 0 || addIds.Count > 0)
            {
                change.Audit(actor, "AssignLicense", $"Changed licenses of {user.UserName}: +{addIds.Count} -{removes.Count}", TenantChange.Resource(user));
            }

            return TypedResults.Ok(UserView.From(user));
        }, cancellationToken);
    }

    private static async Task<Results<Ok<List<LicenseDetail>>, ProblemHttpResult>> ListLicenseDetailsAsync(Guid id, HttpContext http, IdentityDbContext db, CancellationToken cancellationToken)
    {
        var tenant = http.User.RequiredTenantId();
        if (!await db.Accounts.AnyAsync(a => a.Id == id && a.TenantId == tenant, cancellationToken))
        {
            return Problems.NotFound("user", id);
        }

        var details = await (from license in db.LicenseAssignments
                             join plan in db.ServicePlans on license.ServicePlanId equals plan.Id
                             where license.UserId == id
                             select new LicenseDetail(plan.Id, plan.DisplayName)).ToListAsync(cancellationToken);
        return TypedResults.Ok(details);
    }
}
