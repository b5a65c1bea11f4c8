using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Stratus.Platform.Auth;

namespace Stratus.Identity.Scim;

/// <summary>
/// SCIM 2.0 inbound provisioning (RFC 7643, RFC 7644) at /scim/v2, for Entra ID, Okta and other identity
/// providers: each tenant's users and groups, behind the tenant's own SCIM token.
/// </summary>
public static class ScimModule
{
    public const string BasePath = "/scim/v2";

    public const long MaxBodyBytes = 1024 * 1024;

    public static IHostApplicationBuilder AddScim(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);

        // A scheme of its own, never the default: the platform's scheme sends every bearer token to the JWT
        // handler, and only the /scim/v2 endpoints name this one.
        builder.Services.AddAuthentication().AddScheme<AuthenticationSchemeOptions, ScimAuthenticationHandler>(ScimAuthentication.Scheme, "SCIM token", null);

        // First, so that errors under /scim take SCIM's shape whatever the client accepts (see the writer).
        builder.Services.Insert(0, ServiceDescriptor.Singleton<IProblemDetailsWriter, ScimProblemDetailsWriter>());
        return builder;
    }

    public static IEndpointRouteBuilder MapScimApi(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        endpoints.MapScimTokenApi();
        var policy = new AuthorizationPolicyBuilder(ScimAuthentication.Scheme).RequireAuthenticatedUser().RequireClaim(StratusClaims.Tenant).Build();
        var scim = endpoints.MapGroup(BasePath).WithTags("SCIM").RequireAuthorization(policy)
            .WithMetadata(new RequestSizeLimitAttribute(MaxBodyBytes));
        scim.MapScimUsers();
        scim.MapScimGroups();
        scim.MapScimDiscovery();
        return endpoints;
    }
}
