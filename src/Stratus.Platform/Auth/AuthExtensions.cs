using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;
using Stratus.Platform.Persistence;

using Stratus.Platform.Http;

namespace Stratus.Platform.Auth;

public static class AuthExtensions
{
    /// <summary>The scheme that picks bearer tokens for API clients and the cookie for the portals.</summary>
    public const string Scheme = "stratus";

    public static IHostApplicationBuilder AddStratusAuth(this IHostApplicationBuilder builder, string dataFolder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddSingleton<SigningKeys>();
        builder.Services.AddSingleton<TokenIssuer>();
        builder.Services.AddServiceCallClient();
        builder.Services.AddSingleton<Http.ServiceCalls>();
        builder.Services.AddSingleton<IStartupTask, LoadSigningKeys>();

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
        builder.Services.AddSingleton<IConfigureOptions<JwtBearerOptions>, ConfigureJwtBearer>();
        builder.Services.AddCredentialRevocation();

        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(StratusPolicies.PlatformOperator, p => p.RequireRole(StratusRoles.PlatformOperator))
            .AddPolicy(StratusPolicies.TenantMember, p => p.RequireClaim(StratusClaims.Tenant))
            .AddPolicy(StratusPolicies.TenantAdministrator, p => p.RequireClaim(StratusClaims.Tenant).RequireRole(StratusRoles.TenantAdministrator))
            .AddPolicy(StratusPolicies.CloudPcAdministrator, p => p.RequireClaim(StratusClaims.Tenant)
                .RequireRole(StratusRoles.TenantAdministrator, StratusRoles.CloudPcAdministrator))
            .AddPolicy(StratusPolicies.CloudPcReader, p => p.RequireClaim(StratusClaims.Tenant)
                .RequireRole(StratusRoles.TenantAdministrator, StratusRoles.CloudPcAdministrator, StratusRoles.CloudPcReader));
        builder.Services.AddSingleton<IAuthorizationMiddlewareResultHandler, ProblemAuthorizationResultHandler>();
        return builder;
    }

    private static Task Deny(RedirectContext<CookieAuthenticationOptions> context, int status)
    {
        context.Response.StatusCode = status;
        return Task.CompletedTask;
    }

    private sealed class ConfigureJwtBearer(SigningKeys keys) : IConfigureNamedOptions<JwtBearerOptions>
    {
        public void Configure(string? name, JwtBearerOptions options)
        {
            options.MapInboundClaims = false;
            options.TokenValidationParameters = new TokenValidationParameters
            {
                ValidIssuer = SigningKeys.Issuer,
                ValidAudience = SigningKeys.Audience,
                NameClaimType = StratusClaims.Name,
                RoleClaimType = StratusClaims.Role,
                ClockSkew = TimeSpan.FromSeconds(30),
                IssuerSigningKeyResolver = (_, _, _, _) => [keys.Current],
            };
        }

        public void Configure(JwtBearerOptions options) => Configure(Options.DefaultName, options);
    }
}
