using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Stratus.Platform.Regions;

public static class PatroniRegionStoreRegistration
{
    /// <summary>
    /// Registers <see cref="PatroniRegionStore"/> as the region's <see cref="IRegionStore"/> when
    /// Stratus:Region:Patroni:RestUrls is set, and says whether it did (a single region, or SQLite, has no region store).
    /// </summary>
    public static bool AddPatroniRegionStore(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var section = configuration.GetSection(PatroniRegionStoreOptions.Section);
        if (!section.GetSection(nameof(PatroniRegionStoreOptions.RestUrls)).GetChildren().Any())
        {
            return false;
        }

        services.AddOptions<PatroniRegionStoreOptions>().Bind(section).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<PatroniRegionStoreOptions>, PatroniRegionStoreOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        // Its own client: each call has its own deadline (CallTimeout), and a PATCH must not be retried blindly
        // by a resilience handler (the store reads the epoch again before each attempt).
        services.AddHttpClient<IRegionStore, PatroniRegionStore>(http => http.Timeout = Timeout.InfiniteTimeSpan);
        return true;
    }
}
