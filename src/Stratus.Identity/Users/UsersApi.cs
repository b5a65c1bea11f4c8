using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Stratus.Identity.Accounts;
using Stratus.Identity.Persistence;
using Stratus.Identity.Sync;
using Stratus.Platform.Audit;
using Stratus.Platform.Auth;
using Stratus.Platform.Http;

namespace Stratus.Identity.Users;

public sealed record PasswordProfile(string? Password, bool? ForceChangePasswordNextSignIn);

public sealed record CreateUserRequest(
    string? UserPrincipalName,
    string? DisplayName,
    string? GivenName,
    string? Surname,
    string? Mail,
    bool? AccountEnabled,
    PasswordProfile? PasswordProfile);

public sealed record UpdateUserRequest(
    string? DisplayName,
    string? GivenName,
    string? Surname,
    string? Mail,
    bool? AccountEnabled,
    PasswordProfile? PasswordProfile);

/// <summary>A user, with Microsoft Graph's property names.</summary>
public sealed record UserView(
    Guid Id,
    string UserPrincipalName,
    string DisplayName,
    string? GivenName,
    string? Surname,
    string? Mail,
    bool AccountEnabled,
    DateTimeOffset CreatedDateTime,
    string? ExternalId,
    bool OnPremisesSyncEnabled,
    string CreationType)
{
    public static UserView From(Account a) => new(a.Id, a.UserName, a.DisplayName, a.GivenName, a.Surname, a.Mail, a.Enabled,
        a.CreatedAt, a.ExternalId, a.Source == DirectorySource.Ldap, a.Source.ToString().ToLowerInvariant());
}

public static class UsersApi
{
    public const long MaxBodyBytes = 64 * 1024;

    public static IEndpointRouteBuilder MapUsersApi(this IEndpointRouteBuilder endpoints)
    {
        var read = endpoints.MapGroup("/api/v1/users").WithTags("Users").RequireAuthorization(StratusPolicies.CloudPcReader);
        var write = endpoints.MapGroup("/api/v1/users").WithTags("Users").RequireAuthorization(StratusPolicies.TenantAdministrator)
            .WithMetadata(new RequestSizeLimitAttribute(MaxBodyBytes));
        read.MapGet("/", ListAsync).WithName("ListUsers").WithSummary("The tenant's users; $filter on userPrincipalName, accountEnabled");
        read.MapGet("/{id:guid}", GetAsync).WithName("GetUser");
        write.MapPost("/", CreateAsync).WithName("CreateUser").WithSummary("Create a user of the caller's tenant");
        write.MapPatch("/{id:guid}", UpdateAsync).WithName("UpdateUser").WithSummary("Change a user; accountEnabled false disables, passwordProfile resets the password");
        write.MapDelete("/{id:guid}", DeleteAsync).WithName("DeleteUser");
        return endpoints;
    }

    private static async Task<Results<Ok<PagedResult<UserView>>, ValidationProblem>> ListAsync(
        HttpContext http, IdentityDbContext db,
        [FromQuery(Name = "$filter")] string? filter, [FromQuery(Name = "$top")] int? top, [FromQuery(Name = "$skip")] int? skip,
        CancellationToken cancellationToken)
    {
        if (Paging.Validate(top, skip) is { } invalid)
        {
            return invalid;
        }

        var tenant = http.User.RequiredTenantId();
        var query = db.Accounts.AsNoTracking().Where(a => a.TenantId == tenant);
        if (!string.IsNullOrWhiteSpace(filter))
        {
            var parsed = ODataFilter.Parse(filter, "userPrincipalName", "accountEnabled", "displayName");
            if (parsed.Error is { } error)
            {
                return Problems.Validation("$filter", error);
            }

            foreach (var (property, value) in parsed.Conditions)
            {
                query = property switch
                {
                    "userPrincipalName" => query.Where(a => a.NormalizedUserName == Account.Normalize(value)),
                    "displayName" => query.Where(a => a.DisplayName == value),
                    "accountEnabled" when bool.TryParse(value, out var enabled) => query.Where(a => a.Enabled == enabled),
                    _ => query.Where(_ => false),
                };
            }
        }

        var total = await query.CountAsync(cancellationToken);
        var page = await query.OrderBy(a => a.NormalizedUserName).Skip(skip ?? 0).Take(top ?? Paging.DefaultTop).ToListAsync(cancellationToken);
        return TypedResults.Ok(new PagedResult<UserView>(page.Select(UserView.From).ToList(), total));
    }

    private static async Task<Results<Ok<UserView>, ProblemHttpResult>> GetAsync(Guid id, HttpContext http, IdentityDbContext db, CancellationToken cancellationToken)
    {
        var tenant = http.User.RequiredTenantId();
        var user = await db.Accounts.AsNoTracking().FirstOrDefaultAsync(a => a.Id == id && a.TenantId == tenant, cancellationToken);
        return user is null ? Problems.NotFound("user", id) : TypedResults.Ok(UserView.From(user));
    }

    private static async Task<Results<Created<UserView>, ValidationProblem, ProblemHttpResult>> CreateAsync(
        CreateUserRequest? request, HttpContext http, DirectoryWriter directory, CancellationToken cancellationToken)
    {
        var tenantId = http.User.RequiredTenantId();
        var actor = AuditActor.From(http);

        // PBKDF2 takes a good part of a second on a busy machine: hashed before the tenant's directory lock is
        // taken, so that other changes of the tenant do not queue behind it.
        var passwordHash = HashIfValid(request?.PasswordProfile?.Password);
        return await directory.ChangeAsync<Results<Created<UserView>, ValidationProblem, ProblemHttpResult>>(tenantId, async change =>
        {
            var validator = new Validator();
            var upnError = UserPrincipalNames.Check(request?.UserPrincipalName, change.Tenant.Domain, out var upn);
            if (upnError is not null)
            {
                validator.Add("userPrincipalName", $"'userPrincipalName' {upnError}");
            }

            validator.Require("displayName", request?.DisplayName);
            ValidateOptional(validator, request?.GivenName, request?.Surname, request?.Mail);
            var password = request?.PasswordProfile?.Password;
            validator.Check(password is not null, "passwordProfile.password", $"'passwordProfile.password' is required: at least {Passwords.MinimumLength} characters.");
            validator.Check(password is null || password.Length is >= Passwords.MinimumLength and <= 256, "passwordProfile.password",
                $"'passwordProfile.password' must be {Passwords.MinimumLength} to 256 characters.");
            if (!validator.IsValid)
            {
                change.Refuse();
                return validator.ToProblem();
            }

            if (await change.Db.Accounts.AnyAsync(a => a.NormalizedUserName == Account.Normalize(upn), cancellationToken))
            {
                change.Fail(actor, "CreateUser", $"Refused to create {upn}: the name is taken");
                return Problems.Conflict("user-exists", $"A user named '{upn}' already exists. Choose another userPrincipalName.");
            }

            var user = UserChanges.New(change.Tenant.Id, upn, request!.DisplayName!.Trim(), DirectorySource.Local, change.Now);
            user.GivenName = request.GivenName;
            user.Surname = request.Surname;
            user.Mail = request.Mail;
            user.Enabled = request.AccountEnabled ?? true;
            user.PasswordHash = passwordHash!;
            change.Db.Accounts.Add(user);
            change.UserCreated(user);
            change.Audit(actor, "CreateUser", $"Created user {upn}", TenantChange.Resource(user));
            return TypedResults.Created($"/api/v1/users/{user.Id}", UserView.From(user));
        }, cancellationToken);
    }

    private static async Task<Results<Ok<UserView>, ValidationProblem, ProblemHttpResult>> UpdateAsync(
        Guid id, UpdateUserRequest? request, HttpContext http, DirectoryWriter directory, CancellationToken cancellationToken)
    {
        var tenantId = http.User.RequiredTenantId();
        var actor = AuditActor.From(http);
        var passwordHash = HashIfValid(request?.PasswordProfile?.Password);
        return await directory.ChangeAsync<Results<Ok<UserView>, ValidationProblem, ProblemHttpResult>>(tenantId, async change =>
        {
            var user = await change.Db.Accounts.FirstOrDefaultAsync(a => a.Id == id && a.TenantId == tenantId, cancellationToken);
            if (user is null)
            {
                change.Refuse();
                return Problems.NotFound("user", id);
            }

            var validator = new Validator();
            if (request is null)
            {
                validator.Add("body", "Send a JSON object with the properties to change.");
            }

            validator.Check(request?.DisplayName is null || request.DisplayName.Trim().Length is > 0 and <= 256, "displayName", "'displayName' must be 1 to 256 characters.");
            ValidateOptional(validator, request?.GivenName, request?.Surname, request?.Mail);
            var password = request?.PasswordProfile?.Password;
            validator.Check(password is null || password.Length is >= Passwords.MinimumLength and <= 256, "passwordProfile.password",
                $"'passwordProfile.password' must be {Passwords.MinimumLength} to 256 characters.");
            if (!validator.IsValid)
            {
                change.Refuse();
                return validator.ToProblem();
            }

            var wasEnabled = user.Enabled;
            var disabling = user.Enabled && request!.AccountEnabled == false;
            if (disabling && user.Id == http.User.AccountId())
            {
                change.Refuse();
                return Problems.Conflict("self-disable", "You cannot disable your own account. Ask another tenant administrator.");
            }

            var changed = UserChanges.Apply(user, request!.DisplayName?.Trim(), request.GivenName, request.Surname, request.Mail, request.AccountEnabled);
            if (password is not null)
            {
                user.PasswordHash = passwordHash!;
                change.Audit(actor, "ResetPassword", $"Reset the password of {user.UserName}", TenantChange.Resource(user));
            }

            if (changed)
            {
                UserChanges.PublishChange(change, user, wasEnabled);
                change.Audit(actor, disabling ? "DisableUser" : "UpdateUser", $"{(disabling ? "Disabled" : "Updated")} user {user.UserName}", TenantChange.Resource(user));
            }

            return TypedResults.Ok(UserView.From(user));
        }, cancellationToken);
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(Guid id, HttpContext http, DirectoryWriter directory, CancellationToken cancellationToken)
    {
        var tenantId = http.User.RequiredTenantId();
        var actor = AuditActor.From(http);
        return await directory.ChangeAsync<Results<NoContent, ProblemHttpResult>>(tenantId, async change =>
        {
            var user = await change.Db.Accounts.FirstOrDefaultAsync(a => a.Id == id && a.TenantId == tenantId, cancellationToken);
            if (user is null)
            {
                change.Refuse();
                return Problems.NotFound("user", id);
            }

            if (user.Id == http.User.AccountId())
            {
                change.Refuse();
                return Problems.Conflict("self-delete", "You cannot delete your own account. Ask another tenant administrator.");
            }

            await UserChanges.RemoveAsync(change, user, cancellationToken);
            change.Audit(actor, "DeleteUser", $"Deleted user {user.UserName}", TenantChange.Resource(user));
            return TypedResults.NoContent();
        }, cancellationToken);
    }

    private static void ValidateOptional(Validator validator, string? givenName, string? surname, string? mail)
    {
        validator.Check(givenName is null || givenName.Length <= 64, "givenName", "'givenName' must be at most 64 characters.");
        validator.Check(surname is null || surname.Length <= 64, "surname", "'surname' must be at most 64 characters.");
        validator.Check(mail is null || (mail.Length <= 256 && System.Net.Mail.MailAddress.TryCreate(mail, out _)), "mail", "'mail' must be an e-mail address.");
    }

    /// <summary>The hash of a password the validation below will accept; null otherwise (the validation then refuses it).</summary>
    private static string? HashIfValid(string? password) =>
        password is { Length: >= Passwords.MinimumLength and <= 256 } ? Passwords.Hash(password) : null;
}
