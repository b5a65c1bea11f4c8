using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Stratus.Compute.Agents;
using Stratus.Compute.Hosts;
using Stratus.Compute.Networks;
using Stratus.Compute.Persistence;
using Stratus.Compute.Regions;
using Stratus.Compute.Vms;
using Stratus.Platform.Jobs;
using Stratus.Platform.Messaging;
using Stratus.Platform.Persistence;

namespace Stratus.Compute;

public static class ComputeModule
{
    public const string Queue = "compute";

    public static IHostApplicationBuilder AddCompute(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.AddServiceStore<ComputeDbContext, SqliteComputeDbContext, PostgresComputeDbContext>(ComputeDbContext.SchemaName);
        builder.Services.AddOptions<ComputeOptions>().BindConfiguration("Stratus:Compute");
        builder.Services.AddScoped<Placement>();
        builder.Services.AddPeriodicJob<HeartbeatMonitor>();
        builder.Services.AddPeriodicJob<ComputeRecordPruner>();
        builder.Services.AddMessageHandler<PlaceVm, PlaceVmHandler>(Queue);
        builder.Services.AddMessageHandler<ChangeVm, ChangeVmHandler>(Queue);
        builder.Services.AddMessageHandler<RunVmOperation, RunVmOperationHandler>(Queue);
        builder.Services.AddMessageHandler<SetVmDiskCopies, SetVmDiskCopiesHandler>(Queue);
        builder.Services.AddPeriodicJob<DiskCopyStaleness>();
        builder.Services.AddPeriodicJob<HostLossRecovery>();
        builder.Services.AddMessageHandler<NetworkConnectionUpserted, NetworkConnectionUpsertedHandler>(Queue);
        builder.Services.AddMessageHandler<NetworkConnectionDeleted, NetworkConnectionDeletedHandler>(Queue);
        builder.Services.AddMessageHandler<NetworkHealthCheckRequested, NetworkHealthCheckRequestedHandler>(Queue);
        builder.Services.AddMessageHandler<ChangeVmNetwork, ChangeVmNetworkHandler>(Queue);
        builder.Services.AddPeriodicJob<VmNetworkChangeDeadlines>();
        builder.Services.AddComputeMetrics();
        return builder;
    }

    public static IEndpointRouteBuilder MapComputeApi(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapRegionsApi();
        endpoints.MapHostsApi();
        endpoints.MapUnmanagedVmsApi();
        endpoints.MapAgentApi();
        endpoints.MapVmsApi();
        endpoints.MapHostInterfacesApi();
        return endpoints;
    }
}
