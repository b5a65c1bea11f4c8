using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Configuration;
using Stratus.Identity.Accounts;
using Stratus.Identity.Clients;
using Stratus.Identity.Keys;
using Stratus.Platform.Auth;
using Stratus.Identity.Auth;
using Stratus.Identity.Groups;
using Stratus.Identity.Ldap;
using Stratus.Identity.Licensing;
using Stratus.Identity.Persistence;
using Stratus.Identity.Roles;
using Stratus.Identity.Scim;
using Stratus.Identity.Sync;
using Stratus.Identity.Tenants;
using Stratus.Identity.Users;
using Stratus.Platform.Hosting;
using Stratus.Platform.Jobs;
using Stratus.Platform.Persistence;

namespace Stratus.Identity;

public static class IdentityModule
{
    /// <summary>The identity service's own durable queue (its LDAP syncs).</summary>
    public const string Queue = "identity";

    public static IHostApplicationBuilder AddIdentity(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.AddServiceStore<IdentityDbContext, SqliteIdentityDbContext, PostgresIdentityDbContext>(IdentityDbContext.SchemaName);
        builder.Services.AddScoped<SignInService>();
        builder.Services.AddSingleton(new SigningKeyOptions(
            builder.Configuration.GetValue<TimeSpan?>("Stratus:Identity:SigningKeyRotation") ?? SigningKeyOptions.DefaultRotation));
        builder.Services.AddSingleton(services => MasterKey.Read(services.GetRequiredService<IConfiguration>(), services.GetRequiredService<StratusHostSettings>().DataFolder));
        builder.Services.AddSingleton<IdentitySecrets>();
        builder.Services.AddSingleton<Clients.TokenExchange>();
        builder.Services.AddSingleton<SigningKeyStore>();
        builder.Services.AddSingleton<ISigningKeySource>(services => services.GetRequiredService<SigningKeyStore>());
        builder.Services.AddSingleton<SigningKeyRefresher>();
        builder.Services.AddSingleton<IStartupTask>(services => services.GetRequiredService<SigningKeyRefresher>());
        builder.Services.AddHostedService(services => services.GetRequiredService<SigningKeyRefresher>());
        builder.Services.AddSingleton<BootstrapResult>();
        builder.Services.AddSingleton<IStartupTask, BootstrapOperator>();
        builder.Services.AddSingleton<IStartupTask, SeedServicePlans>();
        builder.Services.AddScoped<DirectoryWriter>();
        builder.Services.AddPeriodicJob<SignInAttemptPruner>();
        builder.Services.AddPeriodicJob<RevocationPruner>();
        builder.AddScim();
        builder.Services.AddLdapSync(Queue);
        return builder;
    }

    public static IEndpointRouteBuilder MapIdentityApi(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapAuthApi();
        endpoints.MapRevocationsApi();
        endpoints.MapTokenKeys();
        endpoints.MapTokenEndpoint();
        endpoints.MapTokenRenewal();
        endpoints.MapTenantsApi();
        endpoints.MapUsersApi();
        endpoints.MapGroupsApi();
        endpoints.MapLicensingApi();
        endpoints.MapRolesApi();
        endpoints.MapDirectoryStateApi();
        endpoints.MapScimApi();
        endpoints.MapLdapConfigurationApi();
        return endpoints;
    }
}
