using System.Text.Json.Serialization;
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

namespace Stratus.Identity.Groups;

public sealed record GroupRequest(string? DisplayName, string? Description);

/// <summary>A member reference: Graph's <c>{"@odata.id": ".../users/{id}"}</c>, or simply <c>{"id": "..."}</c>.</summary>
public sealed record MemberReference(Guid? Id, [property: JsonPropertyName("@odata.id")] string? ODataId)
{
    public Guid? UserId()
    {
        if (Id is { } id)
        {
            return id;
        }

        var last = ODataId?.TrimEnd('/').Split('/').LastOrDefault();
        return Guid.TryParse(last, out var parsed) ? parsed : null;
    }
}

public sealed record GroupView(Guid Id, string DisplayName, string? Description, DateTimeOffset CreatedDateTime, string? ExternalId, bool OnPremisesSyncEnabled)
{
    public static GroupView From(Group g) => new(g.Id, g.DisplayName, g.Description, g.CreatedAt, g.ExternalId, g.Source == DirectorySource.Ldap);
}

public static class GroupsApi
{
    public static IEndpointRouteBuilder MapGroupsApi(this IEndpointRouteBuilder endpoints)
    {
        var read = endpoints.MapGroup("/api/v1/groups").WithTags("Groups").RequireAuthorization(StratusPolicies.CloudPcReader)
            .AcceptsScope(StratusScopes.DirectoryRead);
        var write = endpoints.MapGroup("/api/v1/groups").WithTags("Groups").RequireAuthorization(StratusPolicies.TenantAdministrator)
            .WithMetadata(new RequestSizeLimitAttribute(UsersApi.MaxBodyBytes));
        read.MapGet("/", ListAsync).WithName("ListGroups");
        read.MapGet("/{id:guid}", GetAsync).WithName("GetGroup");
        read.MapGet("/{id:guid}/members", ListMembersAsync).WithName("ListGroupMembers").WithSummary("The group's members (users), paged");
        write.MapPost("/", CreateAsync).WithName("CreateGroup");
        write.MapPatch("/{id:guid}", UpdateAsync).WithName("UpdateGroup");
        write.MapDelete("/{id:guid}", DeleteAsync).WithName("DeleteGroup");
        write.MapPost("/{id:guid}/members", AddMemberAsync).WithName("AddGroupMember")
            .WithSummary("Add a user: {\"id\": userId} or Graph's {\"@odata.id\": \".../users/{userId}\"}");
        write.MapDelete("/{id:guid}/members/{userId:guid}", RemoveMemberAsync).WithName("RemoveGroupMember");
        return endpoints;
    }

    private static async Task<Results<Ok<PagedResult<GroupView>>, ValidationProblem>> ListAsync(
        HttpContext http, IdentityDbContext db, [FromQuery(Name = "$filter")] string? filter,
        [FromQuery(Name = "$top")] int? top, [FromQuery(Name = "$skip")] int? skip, CancellationToken cancellationToken)
    {
        if (Paging.Validate(top, skip) is { } invalid)
        {
            return invalid;
        }

        var tenant = http.User.RequiredTenantId();
        var query = db.Groups.AsNoTracking().Where(g => g.TenantId == tenant);
        if (!string.IsNullOrWhiteSpace(filter))
        {
            var parsed = ODataFilter.Parse(filter, "displayName");
            if (parsed.Error is { } error)
            {
                return Problems.Validation("$filter", error);
            }

            foreach (var (_, value) in parsed.Conditions)
            {
                query = query.Where(g => g.DisplayName == value);
            }
        }

        var total = await query.CountAsync(cancellationToken);
        var page = await query.OrderBy(g => g.DisplayName).ThenBy(g => g.Id).Skip(skip ?? 0).Take(top ?? Paging.DefaultTop).ToListAsync(cancellationToken);
        return TypedResults.Ok(new PagedResult<GroupView>(page.Select(GroupView.From).ToList(), total));
    }

    private static async Task<Results<Ok<GroupView>, ProblemHttpResult>> GetAsync(Guid id, HttpContext http, IdentityDbContext db, CancellationToken cancellationToken)
    {
        var tenant = http.User.RequiredTenantId();
        var group = await db.Groups.AsNoTracking().FirstOrDefaultAsync(g => g.Id == id && g.TenantId == tenant, cancellationToken);
        return group is null ? Problems.NotFound("group", id) : TypedResults.Ok(GroupView.From(group));
    }

    private static async Task<Results<Ok<PagedResult<UserView>>, ValidationProblem, ProblemHttpResult>> ListMembersAsync(
        Guid id, HttpContext http, IdentityDbContext db, [FromQuery(Name = "$top")] int? top, [FromQuery(Name = "$skip")] int? skip,
        CancellationToken cancellationToken)
    {
        if (Paging.Validate(top, skip) is { } invalid)
        {
            return invalid;
        }

        var tenant = http.User.RequiredTenantId();
        if (!await db.Groups.AnyAsync(g => g.Id == id && g.TenantId == tenant, cancellationToken))
        {
            return Problems.NotFound("group", id);
        }

        var members = db.Accounts.AsNoTracking().Where(a => db.GroupMembers.Any(m => m.GroupId == id && m.UserId == a.Id));
        var total = await members.CountAsync(cancellationToken);
        var page = await members.OrderBy(a => a.NormalizedUserName).Skip(skip ?? 0).Take(top ?? Paging.DefaultTop).ToListAsync(cancellationToken);
        return TypedResults.Ok(new PagedResult<UserView>(page.Select(UserView.From).ToList(), total));
    }

    private static async Task<Results<Created<GroupView>, ValidationProblem>> CreateAsync(
        GroupRequest? request, HttpContext http, DirectoryWriter directory, CancellationToken cancellationToken)
    {
        var validator = Validate(request, creating: true);
        if (!validator.IsValid)
        {
            return validator.ToProblem();
        }

        var actor = AuditActor.From(http);
        return await directory.ChangeAsync<Results<Created<GroupView>, ValidationProblem>>(http.User.RequiredTenantId(), change =>
        {
            var group = new Group
            {
                Id = Guid.CreateVersion7(change.Now),
                TenantId = change.Tenant.Id,
                DisplayName = request!.DisplayName!.Trim(),
                Description = request.Description,
                Source = DirectorySource.Local,
                CreatedAt = change.Now,
            };
            change.Db.Groups.Add(group);
            change.Audit(actor, "CreateGroup", $"Created group {group.DisplayName}", TenantChange.Resource(group));
            return Task.FromResult<Results<Created<GroupView>, ValidationProblem>>(TypedResults.Created($"/api/v1/groups/{group.Id}", GroupView.From(group)));
        }, cancellationToken);
    }

    private static async Task<Results<Ok<GroupView>, ValidationProblem, ProblemHttpResult>> UpdateAsync(
        Guid id, GroupRequest? request, HttpContext http, DirectoryWriter directory, CancellationToken cancellationToken)
    {
        var validator = Validate(request, creating: false);
        if (!validator.IsValid)
        {
            return validator.ToProblem();
        }

        var tenantId = http.User.RequiredTenantId();
        var actor = AuditActor.From(http);
        return await directory.ChangeAsync<Results<Ok<GroupView>, ValidationProblem, ProblemHttpResult>>(tenantId, async change =>
        {
            var group = await change.Db.Groups.FirstOrDefaultAsync(g => g.Id == id && g.TenantId == tenantId, cancellationToken);
            if (group is null)
            {
                change.Refuse();
                return Problems.NotFound("group", id);
            }

            group.DisplayName = request!.DisplayName?.Trim() ?? group.DisplayName;
            group.Description = request.Description ?? group.Description;
            change.Audit(actor, "UpdateGroup", $"Updated group {group.DisplayName}", TenantChange.Resource(group));
            return TypedResults.Ok(GroupView.From(group));
        }, cancellationToken);
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(Guid id, HttpContext http, DirectoryWriter directory, CancellationToken cancellationToken)
    {
        var tenantId = http.User.RequiredTenantId();
        var actor = AuditActor.From(http);
        return await directory.ChangeAsync<Results<NoContent, ProblemHttpResult>>(tenantId, async change =>
        {
            var group = await change.Db.Groups.FirstOrDefaultAsync(g => g.Id == id && g.TenantId == tenantId, cancellationToken);
            if (group is null)
            {
                change.Refuse();
                return Problems.NotFound("group", id);
            }

            await GroupChanges.RemoveAsync(change, group, cancellationToken);
            change.Audit(actor, "DeleteGroup", $"Deleted group {group.DisplayName}", TenantChange.Resource(group));
            return TypedResults.NoContent();
        }, cancellationToken);
    }

    private static async Task<Results<NoContent, ValidationProblem, ProblemHttpResult>> AddMemberAsync(
        Guid id, MemberReference? reference, HttpContext http, DirectoryWriter directory, CancellationToken cancellationToken)
    {
        if (reference?.UserId() is not { } userId)
        {
            return Problems.Validation("id", "Give the user to add as {\"id\": \"<user id>\"} or {\"@odata.id\": \".../users/<user id>\"}.");
        }

        var tenantId = http.User.RequiredTenantId();
        var actor = AuditActor.From(http);
        return await directory.ChangeAsync<Results<NoContent, ValidationProblem, ProblemHttpResult>>(tenantId, async change =>
        {
            var group = await change.Db.Groups.FirstOrDefaultAsync(g => g.Id == id && g.TenantId == tenantId, cancellationToken);
            var user = await change.Db.Accounts.FirstOrDefaultAsync(a => a.Id == userId && a.TenantId == tenantId, cancellationToken);
            if (group is null || user is null)
            {
                change.Refuse();
                return group is null ? Problems.NotFound("group", id) : Problems.NotFound("user", userId);
            }

            if (await GroupChanges.AddMemberAsync(change, group, user.Id, cancellationToken))
            {
                change.Audit(actor, "AddGroupMember", $"Added {user.UserName} to {group.DisplayName}", TenantChange.Resource(group), TenantChange.Resource(user));
            }
            else
            {
                change.Refuse();
            }

            return TypedResults.NoContent();
        }, cancellationToken);
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> RemoveMemberAsync(
        Guid id, Guid userId, HttpContext http, DirectoryWriter directory, CancellationToken cancellationToken)
    {
        var tenantId = http.User.RequiredTenantId();
        var actor = AuditActor.From(http);
        return await directory.ChangeAsync<Results<NoContent, ProblemHttpResult>>(tenantId, async change =>
        {
            var group = await change.Db.Groups.FirstOrDefaultAsync(g => g.Id == id && g.TenantId == tenantId, cancellationToken);
            if (group is null)
            {
                change.Refuse();
                return Problems.NotFound("group", id);
            }

            if (!await GroupChanges.RemoveMemberAsync(change, group, userId, cancellationToken))
            {
                change.Refuse();
                return Problems.NotFound("member of this group", userId);
            }

            change.Audit(actor, "RemoveGroupMember", $"Removed user {userId} from {group.DisplayName}", TenantChange.Resource(group));
            return TypedResults.NoContent();
        }, cancellationToken);
    }

    private static Validator Validate(GroupRequest? request, bool creating)
    {
        var validator = new Validator();
        if (creating)
        {
            validator.Require("displayName", request?.DisplayName);
        }
        else
        {
            validator.Check(request is not null, "body", "Send a JSON object with the properties to change.");
            validator.Check(request?.DisplayName is null || request.DisplayName.Trim().Length is > 0 and <= 256, "displayName", "'displayName' must be 1 to 256 characters.");
        }

        validator.Check(request?.Description is null || request.Description.Length <= 1024, "description", "'description' must be at most 1024 characters.");
        return validator;
    }
}

/// <summary>The group changes that the API, SCIM and the LDAP sync share.</summary>
public static class GroupChanges
{
    /// <summary>Adds a member; false (and no event) when the user already was one.</summary>
    public static async Task<bool> AddMemberAsync(TenantChange change, Group group, Guid userId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(change);
        ArgumentNullException.ThrowIfNull(group);
        if (await change.Db.GroupMembers.AnyAsync(m => m.GroupId == group.Id && m.UserId == userId, cancellationToken)
            || change.Db.GroupMembers.Local.Any(m => m.GroupId == group.Id && m.UserId == userId))
        {
            return false;
        }

        change.Db.GroupMembers.Add(new GroupMember { GroupId = group.Id, UserId = userId, TenantId = group.TenantId, AddedAt = change.Now });
        change.MemberAdded(group.Id, userId);
        return true;
    }

    /// <summary>Removes a member; false (and no event) when the user was not one.</summary>
    public static async Task<bool> RemoveMemberAsync(TenantChange change, Group group, Guid userId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(change);
        ArgumentNullException.ThrowIfNull(group);
        var member = await change.Db.GroupMembers.FirstOrDefaultAsync(m => m.GroupId == group.Id && m.UserId == userId, cancellationToken);
        if (member is null)
        {
            return false;
        }

        change.Db.GroupMembers.Remove(member);
        change.MemberRemoved(group.Id, userId);
        return true;
    }

    public static async Task RemoveAsync(TenantChange change, Group group, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(change);
        ArgumentNullException.ThrowIfNull(group);
        var members = await change.Db.GroupMembers.Where(m => m.GroupId == group.Id).ToListAsync(cancellationToken);
        change.Db.GroupMembers.RemoveRange(members);
        change.Db.Groups.Remove(group);
        change.GroupDeleted(group, members.Select(m => m.UserId).ToList());
    }
}
