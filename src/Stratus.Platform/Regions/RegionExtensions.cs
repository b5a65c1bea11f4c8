using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Stratus.Platform.Regions;

public static class RegionExtensions
{
    /// <summary>
    /// Stratus:Region, <see cref="RegionWritability"/> and the <see cref="RegionLeaseKeeper"/> (which does nothing
    /// unless Stratus:Region is set), and the region's Patroni cluster as its <see cref="IRegionStore"/> when
    /// Stratus:Region:Patroni is set, so that the keeper promotes and demotes it; the start-up tasks a standby's store
    /// refuses wait in <see cref="DeferredStartupTasks"/>.
    /// </summary>
    public static IServiceCollection AddStratusRegion(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddPatroniRegionStore(configuration);
        services.AddOptions<RegionOptions>().BindConfiguration(RegionOptions.Section)
            .Configure<IConfiguration>((options, configuration) =>
            {
                // One comma-separated value (an environment variable) as well as indexed entries.
                if (configuration[$"{RegionOptions.Section}:{nameof(RegionOptions.FrontDoorUrls)}"] is { Length: > 0 } list)
                {
                    options.FrontDoorUrls.Add(list);
                }
            })
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RegionOptions>, RegionOptionsValidator>());
        services.AddRegionWritability();
        services.AddHttpClient(RegionLeaseKeeper.HttpClientName);
        services.AddHostedService<RegionLeaseKeeper>();
        services.AddSingleton<DeferredStartupTasks>();
        services.AddHostedService(provider => provider.GetRequiredService<DeferredStartupTasks>());
        return services;
    }

    /// <summary>The gate alone, for what waits on it (periodic jobs) wherever it is registered.</summary>
    internal static IServiceCollection AddRegionWritability(this IServiceCollection services)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<RegionWritability>();
        return services;
    }

    /// <summary>Standby mode for requests (<see cref="RegionWriteGuard"/>): before authentication and idempotency keys.</summary>
    public static IApplicationBuilder UseRegionWriteGuard(this IApplicationBuilder app) => app.UseMiddleware<RegionWriteGuard>();
}
