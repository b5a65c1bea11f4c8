using System.Security.Claims;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Stratus.Platform.Auth;

/// <summary>
/// What a service may do at another, granted per client by identity (ADR 0010). An endpoint a service calls
/// names the scope it accepts; every other endpoint refuses service tokens whatever they carry.
/// </summary>
public static class StratusScopes
{
    /// <summary>Read Cloud PCs of the token's tenant (and the token's user's own, at /me).</summary>
    public const string CloudPcsRead = "cloudPcs.read";

    /// <summary>Ask compute to have a VM's host dial a gateway relay.</summary>
    public const string ConsolesRelay = "consoles.relay";

    /// <summary>Read groups, users' licenses, the directory state and the plan catalog of the token's tenant.</summary>
    public const string DirectoryRead = "directory.read";

    /// <summary>Move a user's licenses (provisioning's resize).</summary>
    public const string LicensesWrite = "licenses.write";

    /// <summary>Read gallery and custom images.</summary>
    public const string ImagesRead = "images.read";

    /// <summary>Read identity's credential revocations (every process refuses revoked credentials, ADR 0011).</summary>
    public const string RevocationsRead = "revocations.read";

    /// <summary>Read a VM of compute's, with its disk copies (provisioning's disaster-recovery report).</summary>
    public const string VmsRead = "vms.read";

    /// <summary>Read a tenant's network connections and have network choose among them by priority (provisioning).</summary>
    public const string NetworkConnectionsRead = "networkConnections.read";

    /// <summary>Read the hosts of a region and their network interfaces (network checks a connection's uplink).</summary>
    public const string HostsRead = "hosts.read";

    public static readonly IReadOnlyList<string> All = [CloudPcsRead, ConsolesRelay, DirectoryRead, LicensesWrite, ImagesRead, RevocationsRead, VmsRead, NetworkConnectionsRead, HostsRead, Regions.RegionLeaseApi.Scope];

    public static bool IsService(this ClaimsPrincipal principal)
    {
        ArgumentNullException.ThrowIfNull(principal);
        return principal.HasClaim(c => c.Type == StratusClaims.ClientId);
    }

    public static bool HasScope(this ClaimsPrincipal principal, string scope)
    {
        ArgumentNullException.ThrowIfNull(principal);
        return principal.FindAll(StratusClaims.Scope).SelectMany(c => c.Value.Split(' ', StringSplitOptions.RemoveEmptyEntries)).Contains(scope, StringComparer.Ordinal);
    }

    /// <summary>Lets a service whose token has <paramref name="scope"/> through this endpoint's policy.</summary>
    public static TBuilder AcceptsScope<TBuilder>(this TBuilder builder, string scope) where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new AcceptsScopeAttribute(scope));
}

[AttributeUsage(AttributeTargets.Method | AttributeTargets.Class, AllowMultiple = true)]
public sealed class AcceptsScopeAttribute(string scope) : Attribute
{
    public string Scope { get; } = scope;
}

/// <summary>
/// Every Stratus policy: a person passes by role (and tenant); a service passes only where the endpoint
/// accepts one of its scopes (and the token names a tenant where the policy needs one), never by role.
/// </summary>
public sealed class StratusAccessRequirement(IReadOnlyList<string>? roles, bool tenant) : IAuthorizationRequirement
{
    public IReadOnlyList<string>? Roles { get; } = roles;

    public bool RequiresTenant { get; } = tenant;
}

internal sealed class StratusAccessHandler : AuthorizationHandler<StratusAccessRequirement>
{
    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, StratusAccessRequirement requirement)
    {
        var user = context.User;
        if (user.Identity?.IsAuthenticated != true || (requirement.RequiresTenant && user.TenantId() is null))
        {
            return Task.CompletedTask;
        }

        var allowed = user.IsService()
            ? AcceptedScopes(context.Resource).Any(user.HasScope)
            : requirement.Roles is null || requirement.Roles.Any(user.IsInRole);
        if (allowed)
        {
            context.Succeed(requirement);
        }

        return Task.CompletedTask;
    }

    private static IEnumerable<string> AcceptedScopes(object? resource) =>
        (resource as HttpContext)?.GetEndpoint()?.Metadata.GetOrderedMetadata<AcceptsScopeAttribute>().Select(a => a.Scope) ?? [];
}
