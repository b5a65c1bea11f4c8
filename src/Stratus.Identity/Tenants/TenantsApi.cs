using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Stratus.Identity.Accounts;
using Stratus.Identity.Persistence;
using Stratus.Identity.Sync;
using Stratus.Identity.Users;
using Stratus.Platform.Audit;
using Stratus.Platform.Auth;
using Stratus.Platform.Http;

namespace Stratus.Identity.Tenants;

public sealed record TenantAdminRequest(string? UserName, string? Password, string? DisplayName);

public sealed record CreateTenantRequest(string? DisplayName, string? Domain, TenantAdminRequest? Admin);

public sealed record TenantView(Guid Id, string DisplayName, string Domain, string State, DateTimeOffset CreatedDateTime, bool ScimEnabled)
{
    public static TenantView From(Tenant t) => new(t.Id, t.DisplayName, t.Domain, t.State.ToString().ToLowerInvariant(), t.CreatedAt, t.ScimTokenHash is not null);
}

public sealed record CreatedTenant(TenantView Tenant, UserView Admin);

/// <summary>The platform operator's management of tenants.</summary>
public static class TenantsApi
{
    public static IEndpointRouteBuilder MapTenantsApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup("/api/v1/tenants").WithTags("Tenants").RequireAuthorization(StratusPolicies.PlatformOperator)
            .WithMetadata(new RequestSizeLimitAttribute(UsersApi.MaxBodyBytes));
        group.MapPost("/", CreateAsync).WithName("CreateTenant").WithSummary("Create a tenant with its first tenant administrator");
        group.MapGet("/", ListAsync).WithName("ListTenants");
        group.MapGet("/{id:guid}", GetAsync).WithName("GetTenant");
        group.MapPost("/{id:guid}/suspend", (Guid id, HttpContext http, IdentityDbContext db, TimeProvider clock, CancellationToken ct) => SetStateAsync(id, TenantState.Suspended, http, db, clock, ct))
            .WithName("SuspendTenant").WithSummary("Stop the tenant's accounts from signing in; nothing is deleted");
        group.MapPost("/{id:guid}/activate", (Guid id, HttpContext http, IdentityDbContext db, TimeProvider clock, CancellationToken ct) => SetStateAsync(id, TenantState.Active, http, db, clock, ct))
            .WithName("ActivateTenant").WithSummary("Let a suspended tenant sign in again");
        group.MapDelete("/{id:guid}", DeleteAsync).WithName("DeleteTenant").WithSummary("Delete a suspended tenant and its directory");
        return endpoints;
    }

    private static async Task<Results<Created<CreatedTenant>, ValidationProblem, ProblemHttpResult>> CreateAsync(
        CreateTenantRequest? request, HttpContext http, IdentityDbContext db, TimeProvider clock, CancellationToken cancellationToken)
    {
        var domain = request?.Domain?.Trim().ToLowerInvariant() ?? "";
        var validator = new Validator()
            .Require("displayName", request?.DisplayName)
            .Check(UserPrincipalNames.IsValidDomain(domain), "domain", "'domain' must be a DNS domain such as contoso.example (letters, digits, '-', dots).");
        var upn = "";
        if (validator.IsValid || UserPrincipalNames.IsValidDomain(domain))
        {
            var upnError = UserPrincipalNames.Check(request?.Admin?.UserName, domain, out upn);
            validator.Check(upnError is null, "admin.userName", $"'admin.userName' {upnError}");
        }

        var password = request?.Admin?.Password;
        validator.Check(password is not null && password.Length is >= Passwords.MinimumLength and <= 256, "admin.password",
            $"'admin.password' is required: {Passwords.MinimumLength} to 256 characters.");
        if (!validator.IsValid)
        {
            return validator.ToProblem();
        }

        if (await db.Tenants.AnyAsync(t => t.Domain == domain, cancellationToken))
        {
            return Problems.Conflict("domain-taken", $"A tenant with domain '{domain}' already exists. Domains are unique across Stratus.");
        }

        if (await db.Accounts.AnyAsync(a => a.NormalizedUserName == Account.Normalize(upn), cancellationToken))
        {
            return Problems.Conflict("user-exists", $"A user named '{upn}' already exists.");
        }

        var now = clock.GetUtcNow();
        var tenant = new Tenant { Id = Guid.CreateVersion7(now), DisplayName = request!.DisplayName!.Trim(), Domain = domain, State = TenantState.Active, CreatedAt = now };
        var admin = UserChanges.New(tenant.Id, upn, request.Admin!.DisplayName?.Trim() is { Length: > 0 } name ? name : "Tenant administrator", DirectorySource.Local, now);
        admin.PasswordHash = Passwords.Hash(password!);
        admin.Roles = [StratusRoles.User, StratusRoles.TenantAdministrator];
        db.Tenants.Add(tenant);
        db.Accounts.Add(admin);
        var change = new TenantChange(db, tenant, clock);
        change.UserCreated(admin);
        var actor = AuditActor.From(http);
        db.Audit(clock, null, actor, "tenant", "CreateTenant", $"Created tenant {domain}", true, new AuditResource(tenant.Id.ToString(), "tenant", domain));
        change.Audit(actor, "CreateUser", $"Created the first administrator {upn}", TenantChange.Resource(admin));
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException)
        {
            // The unique domain or user name was taken between the check and the commit.
            return Problems.Conflict("domain-taken", $"A tenant with domain '{domain}' or a user '{upn}' was just created by someone else.");
        }

        return TypedResults.Created($"/api/v1/tenants/{tenant.Id}", new CreatedTenant(TenantView.From(tenant), UserView.From(admin)));
    }

    private static async Task<Results<Ok<PagedResult<TenantView>>, ValidationProblem>> ListAsync(
        IdentityDbContext db, [FromQuery(Name = "$top")] int? top, [FromQuery(Name = "$skip")] int? skip, CancellationToken cancellationToken)
    {
        if (Paging.Validate(top, skip) is { } invalid)
        {
            return invalid;
        }

        var total = await db.Tenants.CountAsync(cancellationToken);
        var page = await db.Tenants.AsNoTracking().OrderBy(t => t.Domain).Skip(skip ?? 0).Take(top ?? Paging.DefaultTop).ToListAsync(cancellationToken);
        return TypedResults.Ok(new PagedResult<TenantView>(page.Select(TenantView.From).ToList(), total));
    }

    private static async Task<Results<Ok<TenantView>, ProblemHttpResult>> GetAsync(Guid id, IdentityDbContext db, CancellationToken cancellationToken)
    {
        var tenant = await db.Tenants.AsNoTracking().FirstOrDefaultAsync(t => t.Id == id, cancellationToken);
        return tenant is null ? Problems.NotFound("tenant", id) : TypedResults.Ok(TenantView.From(tenant));
    }

    private static async Task<Results<Ok<TenantView>, ProblemHttpResult>> SetStateAsync(
        Guid id, TenantState state, HttpContext http, IdentityDbContext db, TimeProvider clock, CancellationToken cancellationToken)
    {
        var tenant = await db.Tenants.FirstOrDefaultAsync(t => t.Id == id, cancellationToken);
        if (tenant is null)
        {
            return Problems.NotFound("tenant", id);
        }

        if (tenant.State != state)
        {
            tenant.State = state;
            var (activity, verb) = state == TenantState.Suspended ? ("SuspendTenant", "Suspended") : ("ActivateTenant", "Activated");
            db.Audit(clock, null, AuditActor.From(http), "tenant", activity, $"{verb} tenant {tenant.Domain}", true,
                new AuditResource(tenant.Id.ToString(), "tenant", tenant.Domain));
            await db.SaveChangesAsync(cancellationToken);
        }

        return TypedResults.Ok(TenantView.From(tenant));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(Guid id, HttpContext http, IdentityDbContext db, ServiceCalls calls, TimeProvider clock, CancellationToken cancellationToken)
    {
        var tenant = await db.Tenants.FirstOrDefaultAsync(t => t.Id == id, cancellationToken);
        if (tenant is null)
        {
            return Problems.NotFound("tenant", id);
        }

        // A tenant is suspended before it is deleted, so that nobody works in it while it goes away.
        if (tenant.State != TenantState.Suspended)
        {
            return Problems.Conflict("tenant-active", $"Suspend tenant {tenant.Domain} first (POST /api/v1/tenants/{id}/suspend), then delete it.");
        }

        switch (await CountCloudPcsAsync(calls, id, cancellationToken))
        {
            case null:
                return TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "Service unavailable", type: Problems.TypePrefix + "dependency-unavailable",
                    detail: "Cannot reach the provisioning service to confirm that the tenant has no Cloud PCs left; nothing was deleted. Try again shortly.");
            case > 0 and var count:
                return Problems.Conflict("tenant-has-cloud-pcs", $"Tenant {tenant.Domain} still has {count} Cloud PCs. Remove its licenses or end their grace periods, wait until they are deprovisioned, then delete it.");
        }

        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await db.LicenseAssignments.Where(l => l.TenantId == id).ExecuteDeleteAsync(cancellationToken);
        await db.GroupMembers.Where(m => m.TenantId == id).ExecuteDeleteAsync(cancellationToken);
        await db.Groups.Where(g => g.TenantId == id).ExecuteDeleteAsync(cancellationToken);
        await db.SubscribedSkus.Where(s => s.TenantId == id).ExecuteDeleteAsync(cancellationToken);
        await db.Accounts.Where(a => a.TenantId == id).ExecuteDeleteAsync(cancellationToken);
        db.Tenants.Remove(tenant);
        db.Publish(new TenantDeleted(id, tenant.LastSequence + 1, clock.GetUtcNow()));
        db.Audit(clock, null, AuditActor.From(http), "tenant", "DeleteTenant", $"Deleted tenant {tenant.Domain}", true,
            new AuditResource(tenant.Id.ToString(), "tenant", tenant.Domain));
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return TypedResults.NoContent();
    }

    /// <summary>
    /// The tenant's Cloud PCs as provisioning counts them: 0 where no provisioning service is deployed (its API
    /// answers 404), null when it cannot be asked.
    /// </summary>
    private static async Task<int?> CountCloudPcsAsync(ServiceCalls calls, Guid tenantId, CancellationToken cancellationToken)
    {
        try
        {
            using var client = calls.For("identity", "provisioning", tenantId, StratusScopes.CloudPcsRead);
            using var response = await client.GetAsync("/api/v1/cloudPCs?$top=1", cancellationToken);
            if (response.StatusCode == HttpStatusCode.NotFound)
            {
                return 0;
            }

            if (!response.IsSuccessStatusCode)
            {
                return null;
            }

            return (await response.Content.ReadFromJsonAsync<CloudPcCount>(cancellationToken))?.TotalCount;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return null;
        }
    }

    private sealed record CloudPcCount(int TotalCount);
}
