using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Hosting;

namespace Stratus.Network;

/// <summary>Network connections of the tenants, their health checks and the choice among them by priority (issue 20).</summary>
public static class NetworkModule
{
    public const string Queue = "network";

    public static IHostApplicationBuilder AddNetwork(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder;
    }

    public static IEndpointRouteBuilder MapNetworkApi(this IEndpointRouteBuilder endpoints) => endpoints;
}
