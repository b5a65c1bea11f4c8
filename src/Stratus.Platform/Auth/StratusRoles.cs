using Microsoft.AspNetCore.Authorization;
using System.Security.Claims;

namespace Stratus.Platform.Auth;

/// <summary>The roles of Stratus, as they appear in tokens.</summary>
public static class StratusRoles
{
    public const string PlatformOperator = "platformOperator";
    public const string TenantAdministrator = "tenantAdministrator";
    public const string CloudPcAdministrator = "cloudPcAdministrator";
    public const string CloudPcReader = "cloudPcReader";

    /// <summary>
    /// Opens the console of any Cloud PC of the tenant (each time audited). Not implied by any administrator
    /// role: seeing a user's screen is granted on purpose, to the people who give support.
    /// </summary>
    public const string CloudPcConsoleOperator = "cloudPcConsoleOperator";

    public const string User = "user";

    public static readonly IReadOnlyList<string> All = [PlatformOperator, TenantAdministrator, CloudPcAdministrator, CloudPcReader, CloudPcConsoleOperator, User];
}

public static class StratusClaims
{
    public const string Subject = "sub";
    public const string Name = "name";
    public const string Tenant = "tid";
    public const string Role = "role";

    /// <summary>Present only in a service's token (client credentials): which service it is.</summary>
    public const string ClientId = "client_id";

    /// <summary>
    /// In a portal session's cookie only: the token identity issued at sign-in, with which the portal calls the
    /// services as its user (it cannot mint one).
    /// </summary>
    public const string AccessToken = "stratus_access_token";

    /// <summary>
    /// In a delegated token only (token exchange, RFC 8693 §4.1): the service acting for the token's subject, as a
    /// JSON object with its <c>sub</c> and <c>client_id</c>.
    /// </summary>
    public const string Actor = "act";

    /// <summary>A service token's granted scopes, space-separated (RFC 9068).</summary>
    public const string Scope = "scope";
}

public static class StratusPolicies
{
    public const string PlatformOperator = "platformOperator";
    public const string TenantAdministrator = "tenantAdministrator";

    /// <summary>Reads of Cloud PC data: Cloud PC readers and everyone above them in the tenant.</summary>
    public const string CloudPcReader = "cloudPcReader";

    public const string CloudPcAdministrator = "cloudPcAdministrator";

    /// <summary>Any signed-in account of a tenant.</summary>
    public const string TenantMember = "tenantMember";

    /// <summary>
    /// A policy of people holding one of <paramref name="roles"/> (any signed-in person when null), and of
    /// services where the endpoint accepts one of their scopes; with <paramref name="tenant"/>, only tokens of a tenant.
    /// </summary>
    public static AuthorizationPolicy Access(IReadOnlyList<string>? roles, bool tenant) =>
        new AuthorizationPolicyBuilder().RequireAuthenticatedUser().AddRequirements(new StratusAccessRequirement(roles, tenant)).Build();
}

public static class ClaimsPrincipalExtensions
{
    /// <summary>The caller's tenant, from the token; null for the platform operator.</summary>
    public static Guid? TenantId(this ClaimsPrincipal principal)
    {
        ArgumentNullException.ThrowIfNull(principal);
        return Guid.TryParse(principal.FindFirstValue(StratusClaims.Tenant), out var tenant) ? tenant : null;
    }

    /// <summary>The caller's tenant where an endpoint serves only tenant members (its policy guarantees one).</summary>
    public static Guid RequiredTenantId(this ClaimsPrincipal principal) =>
        principal.TenantId() ?? throw new InvalidOperationException("The endpoint's policy must require a tenant.");

    public static Guid AccountId(this ClaimsPrincipal principal)
    {
        ArgumentNullException.ThrowIfNull(principal);
        return Guid.Parse(principal.FindFirstValue(StratusClaims.Subject)!);
    }

    public static string UserName(this ClaimsPrincipal principal)
    {
        ArgumentNullException.ThrowIfNull(principal);
        return principal.FindFirstValue(StratusClaims.Name) ?? "";
    }
}
