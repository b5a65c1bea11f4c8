using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Stratus.Identity.Groups;
using Stratus.Identity.Persistence;
using Stratus.Identity.Sync;
using Stratus.Platform.Audit;
using Stratus.Platform.Auth;

namespace Stratus.Identity.Scim;

/// <summary>/scim/v2/Groups: the tenant's groups and their member users, as an identity provider provisions them.</summary>
public static class ScimGroupsApi
{
    private const string Resource = "Groups";

    public static RouteGroupBuilder MapScimGroups(this RouteGroupBuilder scim)
    {
        ArgumentNullException.ThrowIfNull(scim);
        scim.MapGet("/Groups", ListAsync).WithName("ScimListGroups").WithSummary("Groups; filter on displayName, externalId, id; excludedAttributes=members");
        scim.MapGet("/Groups/{id}", GetAsync).WithName("ScimGetGroup");
        scim.MapPost("/Groups", CreateAsync).WithName("ScimCreateGroup");
        scim.MapPut("/Groups/{id}", ReplaceAsync).WithName("ScimReplaceGroup").WithSummary("Replace a group, its members included");
        scim.MapPatch("/Groups/{id}", PatchAsync).WithName("ScimPatchGroup").WithSummary("Change a group: add, remove or replace members, rename");
        scim.MapDelete("/Groups/{id}", DeleteAsync).WithName("ScimDeleteGroup");
        return scim;
    }

    private static async Task<Results<ScimResponse, ScimError>> ListAsync(HttpContext http, IdentityDbContext db, CancellationToken cancellationToken)
    {
        if (ScimRequest.ReadPage(http.Request.Query, out var startIndex, out var count) is { } pageError)
        {
            return pageError;
        }

        var tenant = http.User.RequiredTenantId();
        var query = db.Groups.AsNoTracking().Where(g => g.TenantId == tenant);
        if (http.Request.Query["filter"].ToString() is { Length: > 0 } filter)
        {
            var parsed = ScimFilter.Parse(filter, ScimSchemas.Group);
            if (parsed.Error is { } message)
            {
                return ScimError.BadRequest(ScimErrorTypes.InvalidFilter, message);
            }

            foreach (var condition in parsed.Conditions)
            {
                if (Filter(query, condition) is not { } filtered)
                {
                    return ScimError.BadRequest(ScimErrorTypes.InvalidFilter,
                        $"Groups cannot be filtered on '{condition.Attribute}' with that value. Supported: displayName, externalId and id eq \"text\".");
                }

                query = filtered;
            }
        }

        var total = await query.CountAsync(cancellationToken);
        var page = count == 0 ? [] : await query.OrderBy(g => g.Id).Skip(startIndex - 1).Take(count).ToListAsync(cancellationToken);
        var members = ScimRequest.Excludes(http.Request.Query, "members", ScimSchemas.Group)
            ? null
            : await MembersAsync(db, [.. page.Select(g => g.Id)], cancellationToken);
        return ScimResponse.Ok(ScimRequest.ListResponse(page.Select(g => ToScim(http, g, members is null ? null : members.GetValueOrDefault(g.Id) ?? [])), total, startIndex));
    }

    private static IQueryable<Group>? Filter(IQueryable<Group> query, ScimCondition condition)
    {
        if (condition.Selector is not null)
        {
            return null;
        }

        if (!condition.IsString(out var value))
        {
            return null;
        }

        return condition.Attribute switch
        {
            "displayname" => query.Where(g => g.DisplayName == value),
            "externalid" => query.Where(g => g.ExternalId == value),
            "id" => Guid.TryParse(value, out var id) ? query.Where(g => g.Id == id) : query.Where(g => false),
            _ => null,
        };
    }

    private static async Task<Dictionary<Guid, List<ScimMember>>> MembersAsync(IdentityDbContext db, List<Guid> groupIds, CancellationToken cancellationToken)
    {
        var rows = await db.GroupMembers.AsNoTracking().Where(m => groupIds.Contains(m.GroupId))
            .Join(db.Accounts, m => m.UserId, a => a.Id, (m, a) => new { m.GroupId, a.Id, a.DisplayName })
            .ToListAsync(cancellationToken);
        return rows.GroupBy(r => r.GroupId).ToDictionary(g => g.Key, g => g.OrderBy(r => r.Id).Select(r => new ScimMember(r.Id, r.DisplayName)).ToList());
    }

    private static JsonObject ToScim(HttpContext http, Group group, IReadOnlyList<ScimMember>? members) =>
        ScimRequest.Project(
            ScimGroupResource.ToScim(group, members, ScimRequest.Location(http.Request, Resource, group.Id), id => ScimRequest.Location(http.Request, "Users", id)),
            http.Request.Query, ScimSchemas.Group);

    private static async Task<Results<ScimResponse, ScimError>> GetAsync(string id, HttpContext http, IdentityDbContext db, CancellationToken cancellationToken)
    {
        var tenant = http.User.RequiredTenantId();
        var group = Guid.TryParse(id, out var groupId)
            ? await db.Groups.AsNoTracking().FirstOrDefaultAsync(g => g.Id == groupId && g.TenantId == tenant, cancellationToken)
            : null;
        if (group is null)
        {
            return ScimError.NotFound("group", id);
        }

        var members = ScimRequest.Excludes(http.Request.Query, "members", ScimSchemas.Group)
            ? null
            : (await MembersAsync(db, [group.Id], cancellationToken)).GetValueOrDefault(group.Id) ?? [];
        return ScimResponse.Ok(ToScim(http, group, members));
    }

    private static async Task<Results<ScimResponse, ScimError>> CreateAsync(HttpContext http, DirectoryWriter directory, CancellationToken cancellationToken)
    {
        var body = await ScimRequest.ReadObjectAsync(http.Request, cancellationToken);
        if (body.Error is { } bodyError)
        {
            return bodyError;
        }

        if (ScimGroupDraft.Parse(body.Value, out var parseError) is not { } draft)
        {
            return parseError!;
        }

        if (draft.Validate() is { } invalid)
        {
            return invalid;
        }

        var actor = ScimRequest.Actor(http);
        var tenantId = http.User.RequiredTenantId();
        var (created, error) = await directory.ChangeAsync<(Group?, ScimError?)>(tenantId, async change =>
        {
            if (await NameTakenAsync(change, tenantId, null, draft.DisplayName!.Trim(), cancellationToken) is { } taken)
            {
                change.Refuse();
                return (null, taken);
            }

            var group = new Group
            {
                Id = Guid.CreateVersion7(change.Now),
                TenantId = tenantId,
                DisplayName = draft.DisplayName!.Trim(),
                ExternalId = draft.ExternalId,
                Source = DirectorySource.Scim,
                CreatedAt = change.Now,
            };
            change.Db.Groups.Add(group);
            change.Audit(actor, "CreateGroup", $"SCIM created group {group.DisplayName}", TenantChange.Resource(group));
            if (await ChangeMembersAsync(change, group, [], draft.Members, actor, cancellationToken) is { } membersError)
            {
                change.Refuse();
                return (null, membersError);
            }

            return (group, null);
        }, cancellationToken);
        if (error is not null)
        {
            return error;
        }

        var members = (await MembersAsync(directory.Db, [created!.Id], cancellationToken)).GetValueOrDefault(created.Id) ?? [];
        var location = ScimRequest.Location(http.Request, Resource, created.Id);
        return ScimResponse.Created(ToScim(http, created, members), location);
    }

    private static async Task<Results<ScimResponse, ScimError>> ReplaceAsync(string id, HttpContext http, DirectoryWriter directory, CancellationToken cancellationToken)
    {
        var body = await ScimRequest.ReadObjectAsync(http.Request, cancellationToken);
        if (body.Error is { } bodyError)
        {
            return bodyError;
        }

        if (ScimGroupDraft.Parse(body.Value, out var parseError) is not { } draft)
        {
            return parseError!;
        }

        var (group, error) = await ChangeAsync(id, http, directory, (_, _) => (draft, null), cancellationToken);
        if (error is not null)
        {
            return error;
        }

        var members = (await MembersAsync(directory.Db, [group!.Id], cancellationToken)).GetValueOrDefault(group.Id) ?? [];
        return ScimResponse.Ok(ToScim(http, group, members));
    }

    private static async Task<Results<NoContent, ScimError>> PatchAsync(string id, HttpContext http, DirectoryWriter directory, CancellationToken cancellationToken)
    {
        var body = await ScimRequest.ReadObjectAsync(http.Request, cancellationToken);
        if (body.Error is { } bodyError)
        {
            return bodyError;
        }

        if (ScimPatch.Parse(body.Value, ScimSchemas.Group, out var patchError) is not { } operations)
        {
            return patchError!;
        }

        // All operations apply to a draft first: one that fails refuses the whole PATCH, and nothing is saved.
        var (_, error) = await ChangeAsync(id, http, directory, (group, members) =>
        {
            var draft = ScimGroupDraft.From(group, members);
            foreach (var operation in operations)
            {
                if (draft.Apply(operation) is { } failure)
                {
                    return (null, failure);
                }
            }

            return (draft, null);
        }, cancellationToken);

        // 204 rather than the group: a big group's member list would be sent back with every change.
        return error is null ? TypedResults.NoContent() : error;
    }

    private static async Task<(Group? Group, ScimError? Error)> ChangeAsync(string id, HttpContext http, DirectoryWriter directory,
        Func<Group, IReadOnlyCollection<Guid>, (ScimGroupDraft? Draft, ScimError? Error)> edit, CancellationToken cancellationToken)
    {
        var actor = ScimRequest.Actor(http);
        var tenantId = http.User.RequiredTenantId();
        return await directory.ChangeAsync<(Group?, ScimError?)>(tenantId, async change =>
        {
            var group = Guid.TryParse(id, out var groupId)
                ? await change.Db.Groups.FirstOrDefaultAsync(g => g.Id == groupId && g.TenantId == tenantId, cancellationToken)
                : null;
            if (group is null)
            {
                change.Refuse();
                return (null, ScimError.NotFound("group", id));
            }

            if (group.Source != DirectorySource.Scim)
            {
                change.Refuse();
                return (null, ScimError.NotProvisionedByScim("group", group.DisplayName, group.Source));
            }

            var current = await change.Db.GroupMembers.AsNoTracking().Where(m => m.GroupId == group.Id).Select(m => m.UserId).ToListAsync(cancellationToken);
            var (draft, error) = edit(group, current);
            error ??= draft!.Validate();
            error ??= await NameTakenAsync(change, tenantId, group.Id, draft!.DisplayName!.Trim(), cancellationToken);
            error ??= await ChangeMembersAsync(change, group, current, draft!.Members, actor, cancellationToken);
            if (error is not null)
            {
                change.Refuse();
                return (null, error);
            }

            var displayName = draft!.DisplayName!.Trim();
            var renamed = displayName != group.DisplayName || draft.ExternalId != group.ExternalId;
            if (renamed)
            {
                var before = group.DisplayName;
                group.DisplayName = displayName;
                group.ExternalId = draft.ExternalId;
                change.Audit(actor, "UpdateGroup", before == displayName ? $"SCIM updated group {displayName}" : $"SCIM renamed group {before} to {displayName}",
                    TenantChange.Resource(group));
            }

            if (!renamed && !change.Db.ChangeTracker.HasChanges())
            {
                // Nothing changed: no event, no audit record, nothing to save.
                change.Refuse();
            }

            return (group, null);
        }, cancellationToken);
    }

    /// <summary>
    /// Entra ID matches groups by displayName, so a tenant's groups are unique by it (ignoring case): a second group
    /// of the same name, by a create or a rename, is refused with 409 uniqueness (RFC 7644 section 3.12).
    /// </summary>
    private static async Task<ScimError?> NameTakenAsync(TenantChange change, Guid tenantId, Guid? self, string displayName, CancellationToken cancellationToken)
    {
        var lowered = displayName.ToLowerInvariant();
        var taken = await change.Db.Groups.AsNoTracking()
            .AnyAsync(g => g.TenantId == tenantId && g.Id != self && g.DisplayName.ToLower() == lowered, cancellationToken);
        return taken ? ScimError.Uniqueness($"A group named '{displayName}' already exists.") : null;
    }

    /// <summary>
    /// Takes the group from its current members to the wanted ones, one event and one audit record per user
    /// added or removed. Every added member must be a user of the tenant.
    /// </summary>
    private static async Task<ScimError?> ChangeMembersAsync(TenantChange change, Group group, IReadOnlyCollection<Guid> current, IReadOnlyCollection<Guid> wanted,
        AuditActor actor, CancellationToken cancellationToken)
    {
        var added = wanted.Except(current).ToList();
        var removed = current.Except(wanted).ToList();
        if (added.Count == 0 && removed.Count == 0)
        {
            return null;
        }

        var changed = added.Concat(removed).ToList();
        var names = await change.Db.Accounts.AsNoTracking().Where(a => a.TenantId == group.TenantId && changed.Contains(a.Id))
            .ToDictionaryAsync(a => a.Id, a => a.UserName, cancellationToken);
        if (added.Where(id => !names.ContainsKey(id)).Order().ToList() is [var missing, ..])
        {
            return ScimError.InvalidValue($"The member '{missing}' is not the id of a user of this tenant.");
        }

        foreach (var userId in added.Order())
        {
            if (await GroupChanges.AddMemberAsync(change, group, userId, cancellationToken))
            {
                change.Audit(actor, "AddGroupMember", $"SCIM added {names[userId]} to {group.DisplayName}", TenantChange.Resource(group),
                    new AuditResource(userId.ToString(), "user", names[userId]));
            }
        }

        foreach (var userId in removed.Order())
        {
            if (await GroupChanges.RemoveMemberAsync(change, group, userId, cancellationToken))
            {
                var name = names.GetValueOrDefault(userId, userId.ToString());
                change.Audit(actor, "RemoveGroupMember", $"SCIM removed {name} from {group.DisplayName}", TenantChange.Resource(group),
                    new AuditResource(userId.ToString(), "user", name));
            }
        }

        return null;
    }

    private static async Task<Results<NoContent, ScimError>> DeleteAsync(string id, HttpContext http, DirectoryWriter directory, CancellationToken cancellationToken)
    {
        var actor = ScimRequest.Actor(http);
        var tenantId = http.User.RequiredTenantId();
        return await directory.ChangeAsync<Results<NoContent, ScimError>>(tenantId, async change =>
        {
            var group = Guid.TryParse(id, out var groupId)
                ? await change.Db.Groups.FirstOrDefaultAsync(g => g.Id == groupId && g.TenantId == tenantId, cancellationToken)
                : null;
            if (group is null)
            {
                change.Refuse();
                return ScimError.NotFound("group", id);
            }

            if (group.Source != DirectorySource.Scim)
            {
                change.Refuse();
                return ScimError.NotProvisionedByScim("group", group.DisplayName, group.Source);
            }

            await GroupChanges.RemoveAsync(change, group, cancellationToken);
            change.Audit(actor, "DeleteGroup", $"SCIM deleted group {group.DisplayName}", TenantChange.Resource(group));
            return TypedResults.NoContent();
        }, cancellationToken);
    }
}
