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

namespace Stratus.Identity.Roles;

public sealed record RoleDefinitionView(string Id, string DisplayName, string Description, bool IsBuiltIn);

public sealed record RoleAssignmentView(string Id, Guid PrincipalId, string RoleDefinitionId);

public sealed record RoleAssignmentRequest(Guid? PrincipalId, string? RoleDefinitionId);

/// <summary>Roles of a tenant's accounts. A change applies from the account's next sign-in (tokens last an hour).</summary>
public static class RolesApi
{
    public static readonly IReadOnlyList<RoleDefinitionView> Definitions =
    [
        new(StratusRoles.TenantAdministrator, "Tenant administrator", "Manages the tenant's users, groups, licenses, roles and everything of its Cloud PCs.", true),
        new(StratusRoles.CloudPcAdministrator, "Cloud PC administrator", "Manages Cloud PCs, provisioning policies, images, network connections and settings.", true),
        new(StratusRoles.CloudPcReader, "Cloud PC reader", "Reads everything of the tenant's Cloud PCs and directory, changes nothing.", true),
        new(StratusRoles.CloudPcConsoleOperator, "Cloud PC console operator",
            "Connects to the console of any Cloud PC of the tenant, to give support; every connection is audited. No administrator role includes it.", true),
        new(StratusRoles.User, "User", "Uses their own Cloud PCs. Every account of a tenant has it.", true),
    ];

    private static readonly string[] Assignable = [StratusRoles.TenantAdministrator, StratusRoles.CloudPcAdministrator, StratusRoles.CloudPcReader, StratusRoles.CloudPcConsoleOperator];

    public static IEndpointRouteBuilder MapRolesApi(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/api/v1/roleDefinitions", () => TypedResults.Ok(Definitions)).WithTags("Roles").WithName("ListRoleDefinitions")
            .RequireAuthorization(StratusPolicies.TenantMember);
        var group = endpoints.MapGroup("/api/v1/roleAssignments").WithTags("Roles");
        group.MapGet("/", ListAsync).WithName("ListRoleAssignments").RequireAuthorization(StratusPolicies.CloudPcReader);
        group.MapPost("/", AssignAsync).WithName("CreateRoleAssignment").RequireAuthorization(StratusPolicies.TenantAdministrator);
        group.MapDelete("/{id}", RemoveAsync).WithName("DeleteRoleAssignment").RequireAuthorization(StratusPolicies.TenantAdministrator);
        return endpoints;
    }

    private static string AssignmentId(Guid principal, string role) => $"{principal}_{role}";

    private static async Task<Results<Ok<PagedResult<RoleAssignmentView>>, ValidationProblem>> ListAsync(
        HttpContext http, IdentityDbContext db, [FromQuery(Name = "$top")] int? top, [FromQuery(Name = "$skip")] int? skip, CancellationToken cancellationToken)
    {
        if (Paging.Validate(top, skip) is { } invalid)
        {
            return invalid;
        }

        var tenant = http.User.RequiredTenantId();
        var accounts = await db.Accounts.AsNoTracking().Where(a => a.TenantId == tenant).OrderBy(a => a.NormalizedUserName)
            .Select(a => new { a.Id, a.Roles }).ToListAsync(cancellationToken);
        var all = accounts.SelectMany(a => a.Roles.Where(r => Assignable.Contains(r)).Select(r => new RoleAssignmentView(AssignmentId(a.Id, r), a.Id, r))).ToList();
        return TypedResults.Ok(new PagedResult<RoleAssignmentView>(all.Skip(skip ?? 0).Take(top ?? Paging.DefaultTop).ToList(), all.Count));
    }

    private static async Task<Results<Created<RoleAssignmentView>, Ok<RoleAssignmentView>, ValidationProblem, ProblemHttpResult>> AssignAsync(
        RoleAssignmentRequest? request, HttpContext http, DirectoryWriter directory, CancellationToken cancellationToken)
    {
        var validator = new Validator()
            .Check(request?.PrincipalId is not null, "principalId", "'principalId' is required: the id of a user of your tenant.")
            .Check(request?.RoleDefinitionId is not null && Assignable.Contains(request.RoleDefinitionId), "roleDefinitionId",
                $"'roleDefinitionId' must be one of {string.Join(", ", Assignable)}.");
        if (!validator.IsValid)
        {
            return validator.ToProblem();
        }

        var tenantId = http.User.RequiredTenantId();
        var actor = AuditActor.From(http);
        var role = request!.RoleDefinitionId!;
        var principal = request.PrincipalId!.Value;
        return await directory.ChangeAsync<Results<Created<RoleAssignmentView>, Ok<RoleAssignmentView>, ValidationProblem, ProblemHttpResult>>(tenantId, async change =>
        {
            var user = await change.Db.Accounts.FirstOrDefaultAsync(a => a.Id == principal && a.TenantId == tenantId, cancellationToken);
            if (user is null)
            {
                change.Refuse();
                return Problems.NotFound("user", principal);
            }

            var view = new RoleAssignmentView(AssignmentId(user.Id, role), user.Id, role);
            if (user.Roles.Contains(role))
            {
                change.Refuse();
                return TypedResults.Ok(view);
            }

            user.Roles = [.. user.Roles, role];
            change.Publish(new RolesChanged(tenantId, change.NextSequence(), change.Now, user.Id, user.Roles));
            change.Audit(actor, "AssignRole", $"Gave {user.UserName} the role {role}", TenantChange.Resource(user));
            return TypedResults.Created($"/api/v1/roleAssignments/{view.Id}", view);
        }, cancellationToken);
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> RemoveAsync(string id, HttpContext http, DirectoryWriter directory, CancellationToken cancellationToken)
    {
        var parts = id.Split('_', 2);
        if (parts.Length != 2 || !Guid.TryParse(parts[0], out var principal) || !Assignable.Contains(parts[1]))
        {
            return Problems.NotFound("role assignment", id);
        }

        var role = parts[1];
        var tenantId = http.User.RequiredTenantId();
        var actor = AuditActor.From(http);
        return await directory.ChangeAsync<Results<NoContent, ProblemHttpResult>>(tenantId, async change =>
        {
            var user = await change.Db.Accounts.FirstOrDefaultAsync(a => a.Id == principal && a.TenantId == tenantId, cancellationToken);
            if (user is null || !user.Roles.Contains(role))
            {
                change.Refuse();
                return Problems.NotFound("role assignment", id);
            }

            if (role == StratusRoles.TenantAdministrator)
            {
                var admins = await change.Db.Accounts.Where(a => a.TenantId == tenantId && a.Enabled).Select(a => a.Roles).ToListAsync(cancellationToken);
                if (admins.Count(r => r.Contains(StratusRoles.TenantAdministrator)) <= 1)
                {
                    change.Refuse();
                    return Problems.Conflict("last-administrator", "This is the tenant's last enabled administrator. Make someone else a tenant administrator first.");
                }
            }

            user.Roles = user.Roles.Where(r => r != role).ToList();

            // The roles column is not a concurrency token; taking the tenant's lock keeps two removals of
            // the last two administrators from both passing the check above.
            change.Publish(new RolesChanged(tenantId, change.NextSequence(), change.Now, user.Id, user.Roles));
            change.Audit(actor, "RemoveRole", $"Took the role {role} from {user.UserName}", TenantChange.Resource(user));
            return TypedResults.NoContent();
        }, cancellationToken);
    }
}
