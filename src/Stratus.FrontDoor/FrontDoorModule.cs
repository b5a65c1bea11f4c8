using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Stratus.FrontDoor;

/// <summary>`stratus run --targets frontdoor`: the one public entry of a two-region control plane (ADR 0017).</summary>
public static class FrontDoorModule
{
    public static IHostApplicationBuilder AddFrontDoor(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);

        // Checked here as well as at start: a configuration mistake is then one line naming every error before the
        // process migrates or listens, not a failed start that reads like a defect.
        var configured = builder.Configuration.GetSection(FrontDoorOptions.Section).Get<FrontDoorOptions>() ?? new FrontDoorOptions();
        if (new FrontDoorOptionsValidator().Validate(null, configured) is { Failed: true } invalid)
        {
            throw new Platform.ConfigurationException(string.Join(" ", invalid.Failures ?? []));
        }

        builder.Services.AddOptions<FrontDoorOptions>().BindConfiguration(FrontDoorOptions.Section).ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<FrontDoorOptions>, FrontDoorOptionsValidator>();
        builder.Services.AddSingleton<RegionHealth>();
        builder.Services.AddSingleton<RegionDecider>();
        builder.Services.AddHttpClient(HealthProber.ClientName);
        builder.Services.AddHostedService<HealthProber>();
        builder.Services.AddHttpForwarder();
        builder.Services.AddForwardingClient();
        return builder;
    }

    public static IEndpointRouteBuilder MapFrontDoor(this IEndpointRouteBuilder endpoints) => endpoints.MapFrontDoorApi().MapRegionRouting();
}
