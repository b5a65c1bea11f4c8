using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Stratus.Network.Connections;
using Stratus.Network.HealthChecks;
using Stratus.Network.Persistence;
using Stratus.Network.Selection;
using Stratus.Platform.Jobs;
using Stratus.Platform.Messaging;
using Stratus.Platform.Persistence;

namespace Stratus.Network;

/// <summary>Network connections of the tenants, their health checks and the choice among them by priority (issue 20).</summary>
public static class NetworkModule
{
    public const string Queue = "network";

    public static IHostApplicationBuilder AddNetwork(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.AddServiceStore<NetworkDbContext, SqliteNetworkDbContext, PostgresNetworkDbContext>(NetworkDbContext.SchemaName);
        builder.Services.AddOptions<NetworkOptions>().BindConfiguration("Stratus:Network")
            .Validate(o => o.HealthCheckInterval > TimeSpan.Zero && o.HealthCheckRunTimeout > TimeSpan.Zero && o.SchedulerInterval > TimeSpan.Zero
                && o.SelectionMaxCheckAge > TimeSpan.Zero && o.PreProvisioningCheckAge >= TimeSpan.Zero && o.MaxConnectionsPerTenant > 0,
                "Stratus:Network: the intervals, timeouts and ages must be positive and MaxConnectionsPerTenant at least 1.")
            .ValidateOnStart();
        builder.Services.AddSingleton<ConnectionUsageClient>();
        builder.Services.AddSingleton<HostInterfacesClient>();
        builder.Services.AddScoped<HealthCheckRuns>();
        builder.Services.AddMessageHandler<NetworkChecksReported, NetworkChecksReportedHandler, NetworkDbContext>(Queue);
        builder.Services.AddMessageHandler<TenantDeleted, TenantDeletedHandler, NetworkDbContext>(Queue);
        builder.Services.AddPeriodicJob<HealthCheckScheduler>();
        return builder;
    }

    public static IEndpointRouteBuilder MapNetworkApi(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapOnPremisesConnectionsApi();
        endpoints.MapNetworkConnectionSelectionsApi();
        return endpoints;
    }
}
