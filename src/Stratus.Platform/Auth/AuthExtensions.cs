using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Configuration;
using Stratus.Platform.Http;

namespace Stratus.Platform.Auth;

public static class AuthExtensions
{
    /// <summary>The scheme that picks bearer tokens for API clients and the cookie for the portals.</summary>
    public const string Scheme = "stratus";

    public static IHostApplicationBuilder AddStratusAuth(this IHostApplicationBuilder builder, string dataFolder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddSingleton<TokenIssuer>();
        builder.Services.AddServiceCallClient();
        builder.Services.AddSingleton(services => new ClientSecrets(services.GetRequiredService<IConfiguration>(), dataFolder));
        builder.Services.AddSingleton<ClientTokens>();
        builder.Services.AddSingleton<ServiceCalls>();

        // Cookies are encrypted with data protection keys; keep them in the data folder so that a restart
        // does not sign every portal user out.
        builder.Services.AddDataProtection()
            .SetApplicationName("stratus")
            .PersistKeysToFileSystem(new DirectoryInfo(Path.Combine(dataFolder, "keys")));

        builder.Services.AddAuthentication(Scheme)
            .AddPolicyScheme(Scheme, "Bearer token or portal cookie", options => options.ForwardDefaultSelector = context =>
                context.Request.Headers.Authorization.ToString().StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)
                    ? JwtBearerDefaults.AuthenticationScheme
                    : CookieAuthenticationDefaults.AuthenticationScheme)
            .AddJwtBearer()
            .AddCookie(options =>
            {
                options.Cookie.Name = "stratus.session";
                options.Cookie.HttpOnly = true;
                options.Cookie.SameSite = SameSiteMode.Strict;
                options.ExpireTimeSpan = TimeSpan.FromHours(8);
                options.SlidingExpiration = true;

                // An API answers 401 and 403; redirects are for pages, which set their own login path.
                options.Events.OnRedirectToLogin = context => Deny(context, StatusCodes.Status401Unauthorized);
                options.Events.OnRedirectToAccessDenied = context => Deny(context, StatusCodes.Status403Forbidden);
            });
        builder.Services.AddSingleton<IdentityKeys>();
        builder.Services.AddSingleton<IConfigureOptions<JwtBearerOptions>, JwksValidation>();
        builder.Services.AddCredentialRevocation();

        // A service's token passes only where the endpoint accepts one of its scopes (StratusAccessRequirement).
        builder.Services.AddSingleton<IAuthorizationHandler, StratusAccessHandler>();
        builder.Services.AddAuthorizationBuilder()
            .SetDefaultPolicy(StratusPolicies.Access(null, tenant: false))
            .AddPolicy(StratusPolicies.PlatformOperator, StratusPolicies.Access([StratusRoles.PlatformOperator], tenant: false))
            .AddPolicy(StratusPolicies.TenantMember, StratusPolicies.Access(null, tenant: true))
            .AddPolicy(StratusPolicies.TenantAdministrator, StratusPolicies.Access([StratusRoles.TenantAdministrator], tenant: true))
            .AddPolicy(StratusPolicies.CloudPcAdministrator, StratusPolicies.Access([StratusRoles.TenantAdministrator, StratusRoles.CloudPcAdministrator], tenant: true))
            .AddPolicy(StratusPolicies.CloudPcReader,
                StratusPolicies.Access([StratusRoles.TenantAdministrator, StratusRoles.CloudPcAdministrator, StratusRoles.CloudPcReader], tenant: true));
        builder.Services.AddSingleton<IAuthorizationMiddlewareResultHandler, ProblemAuthorizationResultHandler>();
        return builder;
    }

    private static Task Deny(RedirectContext<CookieAuthenticationOptions> context, int status)
    {
        context.Response.StatusCode = status;
        return Task.CompletedTask;
    }
}
