using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Stratus.Identity.Accounts;
using Stratus.Identity.Persistence;
using Stratus.Identity.Sync;
using Stratus.Platform.Auth;

namespace Stratus.Identity.Scim;

/// <summary>/scim/v2/Users: the tenant's users, as an identity provider provisions them.</summary>
public static class ScimUsersApi
{
    private const string Resource = "Users";

    public static RouteGroupBuilder MapScimUsers(this RouteGroupBuilder scim)
    {
        ArgumentNullException.ThrowIfNull(scim);
        scim.MapGet("/Users", ListAsync).WithName("ScimListUsers").WithSummary("Users; filter on userName, externalId, displayName, id, active");
        scim.MapGet("/Users/{id}", GetAsync).WithName("ScimGetUser");
        scim.MapPost("/Users", CreateAsync).WithName("ScimCreateUser").WithSummary("Provision a user: userName is the UPN, in the tenant's domain");
        scim.MapPut("/Users/{id}", ReplaceAsync).WithName("ScimReplaceUser");
        scim.MapPatch("/Users/{id}", PatchAsync).WithName("ScimPatchUser").WithSummary("Change a user; active false disables it");
        scim.MapDelete("/Users/{id}", DeleteAsync).WithName("ScimDeleteUser");
        return scim;
    }

    private static async Task<Results<ScimResponse, ScimError>> ListAsync(HttpContext http, IdentityDbContext db, CancellationToken cancellationToken)
    {
        if (ScimRequest.ReadPage(http.Request.Query, out var startIndex, out var count) is { } pageError)
        {
            return pageError;
        }

        var tenant = http.User.RequiredTenantId();
        var query = db.Accounts.AsNoTracking().Where(a => a.TenantId == tenant);
        if (http.Request.Query["filter"].ToString() is { Length: > 0 } filter)
        {
            var parsed = ScimFilter.Parse(filter, ScimSchemas.User);
            if (parsed.Error is { } message)
            {
                return ScimError.BadRequest(ScimErrorTypes.InvalidFilter, message);
            }

            foreach (var condition in parsed.Conditions)
            {
                if (Filter(query, condition) is not { } filtered)
                {
                    return ScimError.BadRequest(ScimErrorTypes.InvalidFilter,
                        $"Users cannot be filtered on '{condition.Attribute}' with that value. Supported: userName, externalId, displayName, id and emails[type eq \"work\"].value eq \"text\"; active eq true|false.");
                }

                query = filtered;
            }
        }

        var total = await query.CountAsync(cancellationToken);
        var page = count == 0 ? [] : await query.OrderBy(a => a.Id).Skip(startIndex - 1).Take(count).ToListAsync(cancellationToken);
        return ScimResponse.Ok(ScimRequest.ListResponse(
            page.Select(u => ScimRequest.Project(ScimUserResource.ToScim(u, ScimRequest.Location(http.Request, Resource, u.Id)), http.Request.Query, ScimSchemas.User)),
            total, startIndex));
    }

    private static IQueryable<Account>? Filter(IQueryable<Account> query, ScimCondition condition)
    {
        if (condition.Selector is { } selector && (condition.Attribute != "emails.value" || !selector.All(ScimUserDraft.PicksWorkMail)))
        {
            return null;
        }

        if (condition.Attribute == "active")
        {
            return condition.Kind == ScimValueKind.Boolean ? query.Where(a => a.Enabled == (condition.Value == "true")) : null;
        }

        if (!condition.IsString(out var value))
        {
            return null;
        }

        switch (condition.Attribute)
        {
            case "username":
                var normalized = Account.Normalize(value);
                return query.Where(a => a.NormalizedUserName == normalized);
            case "externalid":
                return query.Where(a => a.ExternalId == value);
            case "displayname":
                return query.Where(a => a.DisplayName == value);
            case "id":
                return Guid.TryParse(value, out var id) ? query.Where(a => a.Id == id) : query.Where(a => false);
            case "emails.value":
                // A user has one e-mail address, the work one (see ScimUserResource); addresses compare without case.
                var mail = value.ToLowerInvariant();
                return query.Where(a => a.Mail != null && a.Mail.ToLower() == mail);
            default:
                return null;
        }
    }

    private static async Task<Results<ScimResponse, ScimError>> GetAsync(string id, HttpContext http, IdentityDbContext db, CancellationToken cancellationToken)
    {
        var tenant = http.User.RequiredTenantId();
        var user = Guid.TryParse(id, out var userId)
            ? await db.Accounts.AsNoTracking().FirstOrDefaultAsync(a => a.Id == userId && a.TenantId == tenant, cancellationToken)
            : null;
        return user is null
            ? ScimError.NotFound("user", id)
            : ScimResponse.Ok(ScimRequest.Project(ScimUserResource.ToScim(user, ScimRequest.Location(http.Request, Resource, user.Id)), http.Request.Query, ScimSchemas.User));
    }

    private static async Task<Results<ScimResponse, ScimError>> CreateAsync(HttpContext http, DirectoryWriter directory, CancellationToken cancellationToken)
    {
        var body = await ScimRequest.ReadObjectAsync(http.Request, cancellationToken);
        if (body.Error is { } bodyError)
        {
            return bodyError;
        }

        if (ScimUserDraft.Parse(body.Value, out var parseError) is not { } draft)
        {
            return parseError!;
        }

        var actor = ScimRequest.Actor(http);
        return await directory.ChangeAsync<Results<ScimResponse, ScimError>>(http.User.RequiredTenantId(), async change =>
        {
            if (draft.Validate(change.Tenant.Domain, out var upn) is { } invalid)
            {
                change.Refuse();
                return invalid;
            }

            if (await change.Db.Accounts.AnyAsync(a => a.NormalizedUserName == Account.Normalize(upn), cancellationToken))
            {
                change.Refuse();
                return ScimError.Uniqueness($"A user named '{upn}' already exists.");
            }

            var user = UserChanges.New(change.Tenant.Id, upn, draft.DisplayNameOr(upn), DirectorySource.Scim, change.Now);
            draft.Active ??= true;
            draft.ApplyTo(user, upn);
            change.Db.Accounts.Add(user);
            change.UserCreated(user);
            change.Audit(actor, "CreateUser", $"SCIM created user {upn}", TenantChange.Resource(user));
            var location = ScimRequest.Location(http.Request, Resource, user.Id);
            return ScimResponse.Created(ScimUserResource.ToScim(user, location), location);
        }, cancellationToken);
    }

    private static async Task<Results<ScimResponse, ScimError>> ReplaceAsync(string id, HttpContext http, DirectoryWriter directory, CancellationToken cancellationToken)
    {
        var body = await ScimRequest.ReadObjectAsync(http.Request, cancellationToken);
        if (body.Error is { } bodyError)
        {
            return bodyError;
        }

        if (ScimUserDraft.Parse(body.Value, out var parseError) is not { } draft)
        {
            return parseError!;
        }

        // PUT replaces the user: what it leaves out is cleared, except 'active', which only an explicit value changes.
        var active = draft.Active;
        return await ChangeAsync(id, http, directory, user =>
        {
            draft.Active = active ?? user.Enabled;
            return (draft, null);
        }, cancellationToken);
    }

    private static async Task<Results<ScimResponse, ScimError>> PatchAsync(string id, HttpContext http, DirectoryWriter directory, CancellationToken cancellationToken)
    {
        var body = await ScimRequest.ReadObjectAsync(http.Request, cancellationToken);
        if (body.Error is { } bodyError)
        {
            return bodyError;
        }

        if (ScimPatch.Parse(body.Value, ScimSchemas.User, out var patchError) is not { } operations)
        {
            return patchError!;
        }

        // All operations apply to a draft first: one that fails refuses the whole PATCH, and nothing is saved.
        return await ChangeAsync(id, http, directory, user =>
        {
            var draft = ScimUserDraft.From(user);
            foreach (var operation in operations)
            {
                if (draft.Apply(operation) is { } error)
                {
                    return (null, error);
                }
            }

            return (draft, null);
        }, cancellationToken);
    }

    private static async Task<Results<ScimResponse, ScimError>> ChangeAsync(string id, HttpContext http, DirectoryWriter directory,
        Func<Account, (ScimUserDraft? Draft, ScimError? Error)> edit, CancellationToken cancellationToken)
    {
        var actor = ScimRequest.Actor(http);
        var tenantId = http.User.RequiredTenantId();
        return await directory.ChangeAsync<Results<ScimResponse, ScimError>>(tenantId, async change =>
        {
            var user = Guid.TryParse(id, out var userId)
                ? await change.Db.Accounts.FirstOrDefaultAsync(a => a.Id == userId && a.TenantId == tenantId, cancellationToken)
                : null;
            if (user is null)
            {
                change.Refuse();
                return ScimError.NotFound("user", id);
            }

            if (user.Source != DirectorySource.Scim)
            {
                change.Refuse();
                return ScimError.NotProvisionedByScim("user", user.UserName, user.Source);
            }

            var (draft, error) = edit(user);
            var upn = "";
            error ??= draft!.Validate(change.Tenant.Domain, out upn);
            if (error is not null)
            {
                change.Refuse();
                return error;
            }

            if (Account.Normalize(upn) != user.NormalizedUserName
                && await change.Db.Accounts.AnyAsync(a => a.NormalizedUserName == Account.Normalize(upn), cancellationToken))
            {
                change.Refuse();
                return ScimError.Uniqueness($"A user named '{upn}' already exists.");
            }

            var wasEnabled = user.Enabled;
            if (draft!.ApplyTo(user, upn))
            {
                UserChanges.PublishChange(change, user, wasEnabled);
                var disabled = wasEnabled && !user.Enabled;
                change.Audit(actor, disabled ? "DisableUser" : "UpdateUser", $"SCIM {(disabled ? "disabled" : "updated")} user {upn}", TenantChange.Resource(user));
            }
            else
            {
                // Nothing changed: no event, no audit record, nothing to save.
                change.Refuse();
            }

            return ScimResponse.Ok(ScimUserResource.ToScim(user, ScimRequest.Location(http.Request, Resource, user.Id)));
        }, cancellationToken);
    }

    private static async Task<Results<NoContent, ScimError>> DeleteAsync(string id, HttpContext http, DirectoryWriter directory, CancellationToken cancellationToken)
    {
        var actor = ScimRequest.Actor(http);
        var tenantId = http.User.RequiredTenantId();
        return await directory.ChangeAsync<Results<NoContent, ScimError>>(tenantId, async change =>
        {
            var user = Guid.TryParse(id, out var userId)
                ? await change.Db.Accounts.FirstOrDefaultAsync(a => a.Id == userId && a.TenantId == tenantId, cancellationToken)
                : null;
            if (user is null)
            {
                change.Refuse();
                return ScimError.NotFound("user", id);
            }

            if (user.Source != DirectorySource.Scim)
            {
                change.Refuse();
                return ScimError.NotProvisionedByScim("user", user.UserName, user.Source);
            }

            await UserChanges.RemoveAsync(change, user, cancellationToken);
            change.Audit(actor, "DeleteUser", $"SCIM deleted user {user.UserName}", TenantChange.Resource(user));
            return TypedResults.NoContent();
        }, cancellationToken);
    }
}
