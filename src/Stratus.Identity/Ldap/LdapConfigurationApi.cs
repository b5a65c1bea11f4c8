using System.Text.RegularExpressions;
using System.Xml;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Stratus.Identity.Persistence;
using Stratus.Identity.Users;
using Stratus.Platform.Audit;
using Stratus.Platform.Auth;
using Stratus.Platform.Http;

namespace Stratus.Identity.Ldap;

/// <summary>Which LDAP attribute fills which property. Omitted: the default; "" (optional ones only): not synced.</summary>
public sealed record LdapAttributeMapping(
    string? UserName,
    string? DisplayName,
    string? GivenName,
    string? Surname,
    string? Mail,
    string? GroupName,
    string? Member,
    string? ExternalId);

public sealed record LdapConfigurationRequest(
    string? Url,
    string? BindDn,
    string? BindPassword,
    IReadOnlyList<string>? BaseDns,
    string? UserFilter,
    string? GroupFilter,
    LdapAttributeMapping? Attributes,
    string? SyncInterval);

/// <summary>The configuration as the API shows it: the bind password is write-only.</summary>
public sealed record LdapConfigurationView(
    string Url,
    string BindDn,
    bool BindPasswordSet,
    IReadOnlyList<string> BaseDns,
    string UserFilter,
    string GroupFilter,
    LdapAttributeMapping Attributes,
    string SyncInterval,
    DateTimeOffset CreatedDateTime,
    DateTimeOffset UpdatedDateTime,
    DateTimeOffset NextSyncDateTime)
{
    public static LdapConfigurationView From(LdapConfiguration c) => new(
        c.Url, c.BindDn, true, c.BaseDns, c.UserFilter, c.GroupFilter,
        new LdapAttributeMapping(c.UserNameAttribute, c.DisplayNameAttribute, c.GivenNameAttribute ?? "", c.SurnameAttribute ?? "",
            c.MailAttribute ?? "", c.GroupNameAttribute, c.MemberAttribute, c.ExternalIdAttribute ?? ""),
        XmlConvert.ToString(c.SyncInterval), c.CreatedAt, c.UpdatedAt, c.NextSyncAt);
}

public sealed record LdapSyncCounts(
    int Created, int Updated, int Disabled, int GroupsCreated, int GroupsUpdated, int GroupsDeleted, int MembershipsAdded, int MembershipsRemoved, int Skipped);

/// <summary>The last sync: <c>result</c> is notRun, succeeded or failed; <c>error</c> a stable code, <c>reason</c> what to do.</summary>
public sealed record LdapSyncStatusView(
    string Result,
    Guid? SyncId,
    string? Trigger,
    DateTimeOffset? StartedDateTime,
    DateTimeOffset? FinishedDateTime,
    string? Error,
    string? Reason,
    LdapSyncCounts Counts,
    IReadOnlyList<string> Warnings,
    DateTimeOffset? LastSuccessDateTime,
    bool InProgress,
    DateTimeOffset NextSyncDateTime);

public sealed record LdapSyncAccepted(Guid SyncId, string Status);

/// <summary>A tenant administrator's LDAP directory: one per tenant, always the caller's own (from the token).</summary>
public static partial class LdapConfigurationApi
{
    public const string Path = "/api/v1/ldapConfiguration";
    public const int MaxBaseDns = 10;

    private static readonly LdapAttributeMapping Defaults = new("uid", "cn", "givenName", "sn", "mail", "cn", "member", null);
    private static readonly TimeSpan DefaultInterval = TimeSpan.FromHours(1);
    private static readonly TimeSpan MaximumInterval = TimeSpan.FromDays(7);

    [GeneratedRegex(@"^(?:[A-Za-z][A-Za-z0-9-]{0,127}|[0-9]+(?:\.[0-9]+)+)$")]
    private static partial Regex AttributeName();

    public static IEndpointRouteBuilder MapLdapConfigurationApi(this IEndpointRouteBuilder endpoints)
    {
        var group = endpoints.MapGroup(Path).WithTags("LDAP sync").RequireAuthorization(StratusPolicies.TenantAdministrator)
            .WithMetadata(new RequestSizeLimitAttribute(UsersApi.MaxBodyBytes));
        group.MapGet("/", GetAsync).WithName("GetLdapConfiguration").WithSummary("The tenant's LDAP directory (the bind password is never returned)");
        group.MapPut("/", PutAsync).WithName("SetLdapConfiguration").WithSummary("Create or replace the tenant's LDAP directory; omit bindPassword to keep it");
        group.MapDelete("/", DeleteAsync).WithName("DeleteLdapConfiguration").WithSummary("Stop syncing; users and groups from LDAP stay as they are");
        group.MapPost("/sync", SyncAsync).WithName("SyncLdap").WithSummary("Run a sync now, through the durable queue; follow it at /status");
        group.MapGet("/status", StatusAsync).WithName("GetLdapSyncStatus").WithSummary("The last sync: when, its result and reason, and what it changed");
        return endpoints;
    }

    private static async Task<Results<Ok<LdapConfigurationView>, ProblemHttpResult>> GetAsync(HttpContext http, IdentityDbContext db, CancellationToken cancellationToken)
    {
        var tenantId = http.User.RequiredTenantId();
        var configuration = await db.LdapConfigurations.AsNoTracking().FirstOrDefaultAsync(c => c.TenantId == tenantId, cancellationToken);
        return configuration is null ? NotConfigured() : TypedResults.Ok(LdapConfigurationView.From(configuration));
    }

    private static async Task<Results<Ok<LdapConfigurationView>, ValidationProblem, ProblemHttpResult>> PutAsync(
        LdapConfigurationRequest? request, HttpContext http, IdentityDbContext db, LdapSecrets secrets, IOptions<LdapOptions> options,
        TimeProvider clock, CancellationToken cancellationToken)
    {
        var tenantId = http.User.RequiredTenantId();
        var configuration = await db.LdapConfigurations.FirstOrDefaultAsync(c => c.TenantId == tenantId, cancellationToken);
        var validator = Validate(request, configuration, options.Value, out var interval);
        if (!validator.IsValid)
        {
            return validator.ToProblem();
        }

        var now = clock.GetUtcNow();
        var attributes = request!.Attributes;
        var creating = configuration is null;
        configuration ??= db.LdapConfigurations.Add(new LdapConfiguration
        {
            TenantId = tenantId,
            Url = "",
            BindDn = "",
            ProtectedBindPassword = "",
            UserFilter = "",
            GroupFilter = "",
            UserNameAttribute = "",
            DisplayNameAttribute = "",
            GroupNameAttribute = "",
            MemberAttribute = "",
            CreatedAt = now,
        }).Entity;
        configuration.Url = request.Url!.Trim();
        configuration.BindDn = request.BindDn!.Trim();
        if (request.BindPassword is { } password)
        {
            configuration.ProtectedBindPassword = secrets.Protect(password);
        }

        configuration.BaseDns = request.BaseDns!.Select(b => b.Trim()).ToList();
        configuration.UserFilter = request.UserFilter?.Trim() is { Length: > 0 } userFilter ? userFilter : "(objectClass=inetOrgPerson)";
        configuration.GroupFilter = request.GroupFilter?.Trim() is { Length: > 0 } groupFilter ? groupFilter : "(objectClass=groupOfNames)";
        configuration.UserNameAttribute = Required(attributes?.UserName, Defaults.UserName!);
        configuration.DisplayNameAttribute = Required(attributes?.DisplayName, Defaults.DisplayName!);
        configuration.GivenNameAttribute = Optional(attributes?.GivenName, Defaults.GivenName);
        configuration.SurnameAttribute = Optional(attributes?.Surname, Defaults.Surname);
        configuration.MailAttribute = Optional(attributes?.Mail, Defaults.Mail);
        configuration.GroupNameAttribute = Required(attributes?.GroupName, Defaults.GroupName!);
        configuration.MemberAttribute = Required(attributes?.Member, Defaults.Member!);
        configuration.ExternalIdAttribute = Optional(attributes?.ExternalId, Defaults.ExternalId);
        configuration.SyncInterval = interval;
        configuration.UpdatedAt = now;

        // Every save arms the schedule anew: the new token makes any earlier scheduled message a no-op.
        configuration.ScheduleToken = Guid.NewGuid();
        configuration.NextSyncAt = now + interval;
        db.Publish(new LdapSyncDue(tenantId, configuration.ScheduleToken), configuration.NextSyncAt);
        db.Audit(clock, tenantId, AuditActor.From(http), "ldap", creating ? "CreateLdapConfiguration" : "UpdateLdapConfiguration",
            $"{(creating ? "Configured" : "Changed")} LDAP sync from {configuration.Url}{(request.BindPassword is null ? "" : " (bind password set)")}", true,
            new AuditResource(tenantId.ToString(), "ldapConfiguration", configuration.Url));
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException) when (creating)
        {
            return Problems.Conflict("ldap-configuration-changed", "Another administrator created the LDAP configuration at the same moment. Load it and try again.");
        }

        return TypedResults.Ok(LdapConfigurationView.From(configuration));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(HttpContext http, IdentityDbContext db, TimeProvider clock, CancellationToken cancellationToken)
    {
        var tenantId = http.User.RequiredTenantId();
        var configuration = await db.LdapConfigurations.FirstOrDefaultAsync(c => c.TenantId == tenantId, cancellationToken);
        if (configuration is null)
        {
            return NotConfigured();
        }

        db.LdapConfigurations.Remove(configuration);
        db.LdapSyncStatuses.RemoveRange(await db.LdapSyncStatuses.Where(s => s.TenantId == tenantId).ToListAsync(cancellationToken));
        db.Audit(clock, tenantId, AuditActor.From(http), "ldap", "DeleteLdapConfiguration", $"Removed LDAP sync from {configuration.Url}", true,
            new AuditResource(tenantId.ToString(), "ldapConfiguration", configuration.Url));
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.NoContent();
    }

    private static async Task<Results<Accepted<LdapSyncAccepted>, ProblemHttpResult>> SyncAsync(
        HttpContext http, IdentityDbContext db, TimeProvider clock, CancellationToken cancellationToken)
    {
        var tenantId = http.User.RequiredTenantId();
        var configuration = await db.LdapConfigurations.AsNoTracking().FirstOrDefaultAsync(c => c.TenantId == tenantId, cancellationToken);
        if (configuration is null)
        {
            return NotConfigured();
        }

        var syncId = Guid.CreateVersion7(clock.GetUtcNow());
        db.Publish(new LdapSyncRequested(tenantId, syncId));
        db.Audit(clock, tenantId, AuditActor.From(http), "ldap", "RequestLdapSync", $"Requested an LDAP sync from {configuration.Url}", true,
            new AuditResource(tenantId.ToString(), "ldapConfiguration", configuration.Url));
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Accepted($"{Path}/status", new LdapSyncAccepted(syncId, "queued"));
    }

    private static async Task<Results<Ok<LdapSyncStatusView>, ProblemHttpResult>> StatusAsync(
        HttpContext http, IdentityDbContext db, TimeProvider clock, CancellationToken cancellationToken)
    {
        var tenantId = http.User.RequiredTenantId();
        var configuration = await db.LdapConfigurations.AsNoTracking().FirstOrDefaultAsync(c => c.TenantId == tenantId, cancellationToken);
        if (configuration is null)
        {
            return NotConfigured();
        }

        var status = await db.LdapSyncStatuses.AsNoTracking().FirstOrDefaultAsync(s => s.TenantId == tenantId, cancellationToken);
        var inProgress = configuration.SyncLeaseUntil is { } until && until > clock.GetUtcNow();
        if (status is null)
        {
            return TypedResults.Ok(new LdapSyncStatusView("notRun", null, null, null, null, null, null,
                new LdapSyncCounts(0, 0, 0, 0, 0, 0, 0, 0, 0), [], null, inProgress, configuration.NextSyncAt));
        }

        return TypedResults.Ok(new LdapSyncStatusView(
            status.Succeeded ? "succeeded" : "failed",
            status.SyncId,
            status.Trigger == LdapSyncTrigger.Manual ? "manual" : "scheduled",
            status.StartedAt,
            status.FinishedAt,
            status.Error,
            status.Reason,
            new LdapSyncCounts(status.UsersCreated, status.UsersUpdated, status.UsersDisabled, status.GroupsCreated, status.GroupsUpdated,
                status.GroupsDeleted, status.MembershipsAdded, status.MembershipsRemoved, status.Skipped),
            status.Warnings,
            status.LastSuccessAt,
            inProgress,
            configuration.NextSyncAt));
    }

    private static ProblemHttpResult NotConfigured() => TypedResults.Problem(
        statusCode: StatusCodes.Status404NotFound,
        title: "Not found",
        detail: $"Your tenant has no LDAP configuration. Create one with PUT {Path}.",
        type: Problems.TypePrefix + "ldap-not-configured");

    private static Validator Validate(LdapConfigurationRequest? request, LdapConfiguration? existing, LdapOptions options, out TimeSpan interval)
    {
        var validator = new Validator();
        interval = DefaultInterval;
        if (request is null)
        {
            validator.Add("body", "Send the configuration as a JSON object.");
            return validator;
        }

        validator.Check(IsLdapUrl(request.Url), "url", "'url' is required: ldap://host[:port] or ldaps://host[:port], with nothing after the port.");
        validator.Check(IsDn(request.BindDn), "bindDn", "'bindDn' is required: a distinguished name such as cn=stratus,dc=example,dc=com (at most 1024 characters).");

        // An empty password with a DN is an unauthenticated bind, which many servers accept without checking anything.
        if (request.BindPassword is null)
        {
            // The stored password goes only to the server and DN it was given for: pointing it elsewhere would hand it over.
            validator.Check(existing is not null, "bindPassword", "'bindPassword' is required when LDAP is first configured.");
            validator.Check(existing is null || (string.Equals(existing.Url, request.Url?.Trim(), StringComparison.OrdinalIgnoreCase)
                    && string.Equals(existing.BindDn, request.BindDn?.Trim(), StringComparison.OrdinalIgnoreCase)),
                "bindPassword", "'bindPassword' is required when 'url' or 'bindDn' changes.");
        }
        else
        {
            validator.Check(request.BindPassword.Length is > 0 and <= 1024, "bindPassword", "'bindPassword' must be 1 to 1024 characters.");
        }

        if (request.BaseDns is not { Count: > 0 and <= MaxBaseDns } baseDns)
        {
            validator.Add("baseDns", $"'baseDns' is required: 1 to {MaxBaseDns} distinguished names to search under.");
        }
        else
        {
            for (var i = 0; i < baseDns.Count; i++)
            {
                validator.Check(IsDn(baseDns[i]), $"baseDns[{i}]", $"'baseDns[{i}]' must be a distinguished name such as ou=people,dc=example,dc=com.");
            }

            validator.Check(baseDns.Select(b => DistinguishedNames.Normalize(b ?? "")).Distinct(StringComparer.Ordinal).Count() == baseDns.Count,
                "baseDns", "'baseDns' names the same DN twice.");
        }

        validator.Check(request.UserFilter is null || IsFilter(request.UserFilter), "userFilter",
            "'userFilter' must be an LDAP filter in parentheses, such as (objectClass=inetOrgPerson) (at most 4096 characters).");
        validator.Check(request.GroupFilter is null || IsFilter(request.GroupFilter), "groupFilter",
            "'groupFilter' must be an LDAP filter in parentheses, such as (objectClass=groupOfNames) (at most 4096 characters).");

        var attributes = request.Attributes;
        CheckAttribute(validator, "userName", attributes?.UserName, required: true);
        CheckAttribute(validator, "displayName", attributes?.DisplayName, required: true);
        CheckAttribute(validator, "givenName", attributes?.GivenName, required: false);
        CheckAttribute(validator, "surname", attributes?.Surname, required: false);
        CheckAttribute(validator, "mail", attributes?.Mail, required: false);
        CheckAttribute(validator, "groupName", attributes?.GroupName, required: true);
        CheckAttribute(validator, "member", attributes?.Member, required: true);
        CheckAttribute(validator, "externalId", attributes?.ExternalId, required: false);

        if (request.SyncInterval is { } text)
        {
            var parsed = TryParseDuration(text);
            validator.Check(parsed is { } value && value >= options.MinimumSyncInterval && value <= MaximumInterval, "syncInterval",
                $"'syncInterval' must be an ISO 8601 duration from {XmlConvert.ToString(options.MinimumSyncInterval)} to {XmlConvert.ToString(MaximumInterval)}, such as PT1H.");
            interval = parsed ?? DefaultInterval;
        }

        return validator;
    }

    private static void CheckAttribute(Validator validator, string name, string? value, bool required)
    {
        if (value is null || (!required && value.Length == 0))
        {
            return;
        }

        validator.Check(AttributeName().IsMatch(value.Trim()), $"attributes.{name}",
            $"'attributes.{name}' must be an LDAP attribute name (letters, digits, '-') or OID{(required ? "" : "; \"\" not to sync it")}.");
    }

    private static string Required(string? value, string fallback) => value?.Trim() is { Length: > 0 } name ? name : fallback;

    private static string? Optional(string? value, string? fallback) => value is null ? fallback : value.Trim() is { Length: > 0 } name ? name : null;

    private static TimeSpan? TryParseDuration(string text)
    {
        try
        {
            return XmlConvert.ToTimeSpan(text.Trim());
        }
        catch (FormatException)
        {
            return null;
        }
        catch (OverflowException)
        {
            return null;
        }
    }

    private static bool IsLdapUrl(string? value) =>
        Uri.TryCreate(value?.Trim(), UriKind.Absolute, out var url)
        && (url.Scheme == "ldap" || url.Scheme == "ldaps")
        && url.Host.Length > 0
        && url.AbsolutePath is "" or "/"
        && url.Query.Length == 0
        && url.Fragment.Length == 0
        && url.UserInfo.Length == 0;

    /// <summary>Enough of RFC 4514 to catch mistakes: attribute=value pairs separated by commas.</summary>
    private static bool IsDn(string? value)
    {
        if (string.IsNullOrWhiteSpace(value) || value.Length > 1024)
        {
            return false;
        }

        return Regex.Split(value.Trim(), @"(?<!\\),").All(rdn =>
        {
            var equals = rdn.IndexOf('=', StringComparison.Ordinal);
            return equals > 0 && rdn[..equals].Trim().Length > 0 && rdn[(equals + 1)..].Trim().Length > 0;
        });
    }

    /// <summary>One parenthesized filter with balanced parentheses (RFC 4515 escapes literal ones as \28 and \29).</summary>
    private static bool IsFilter(string value)
    {
        var filter = value.Trim();
        if (filter.Length is < 3 or > 4096 || filter[0] != '(' || filter[^1] != ')')
        {
            return false;
        }

        var depth = 0;
        for (var i = 0; i < filter.Length; i++)
        {
            depth += filter[i] switch { '(' => 1, ')' => -1, _ => 0 };
            if (depth < 0 || (depth == 0 && i < filter.Length - 1))
            {
                return false;
            }
        }

        return depth == 0 && filter.Contains('=', StringComparison.Ordinal);
    }
}
