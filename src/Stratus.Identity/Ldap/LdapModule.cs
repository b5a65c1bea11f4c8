using Microsoft.Extensions.DependencyInjection;
using Stratus.Platform.Messaging;
using Stratus.Platform.Persistence;

namespace Stratus.Identity.Ldap;

public static class LdapModule
{
    public static IServiceCollection AddLdapSync(this IServiceCollection services, string queue)
    {
        services.AddOptions<LdapOptions>().BindConfiguration(LdapOptions.Section)
            .Validate(o => o.MinimumSyncInterval > TimeSpan.Zero && o.Timeout > TimeSpan.Zero && o.LeaseDuration > o.Timeout,
                $"{LdapOptions.Section}: MinimumSyncInterval and Timeout must be positive, LeaseDuration longer than Timeout.")
            .ValidateOnStart();
        services.AddSingleton<LdapSecrets>();
        services.AddSingleton<LdapDirectoryReader>();
        services.AddScoped<LdapSync>();
        // A sync may run as long as its lease on the tenant (LdapOptions.LeaseDuration, 30 min).
        services.AddMessageHandler<LdapSyncRequested, LdapSyncHandler>(queue, handlerTimeout: TimeSpan.FromMinutes(30));
        services.AddMessageHandler<LdapSyncDue, LdapSyncHandler>(queue, handlerTimeout: TimeSpan.FromMinutes(30));
        services.AddSingleton<IStartupTask, RepairLdapSchedules>();
        return services;
    }
}
