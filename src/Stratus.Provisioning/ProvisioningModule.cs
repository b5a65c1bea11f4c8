using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Stratus.Platform.Jobs;
using Stratus.Platform.Messaging;
using Stratus.Platform.Persistence;
using Stratus.Provisioning.CloudPcs;
using Stratus.Provisioning.Directory;
using Stratus.Provisioning.Network;
using Stratus.Provisioning.Persistence;
using Stratus.Provisioning.Policies;
using Stratus.Provisioning.RestorePoints;
using Stratus.Provisioning.Settings;

namespace Stratus.Provisioning;

public static class ProvisioningModule
{
    public const string Queue = "provisioning";

    public static IHostApplicationBuilder AddProvisioning(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.AddServiceStore<ProvisioningDbContext, SqliteProvisioningDbContext, PostgresProvisioningDbContext>(ProvisioningDbContext.SchemaName);
        builder.Services.AddOptions<ProvisioningOptions>().BindConfiguration("Stratus:Provisioning")
            .Validate(o => !o.OperationDeadlines.Invalid().Any(), "Every Stratus:Provisioning:OperationDeadlines value must be a positive time span, for example 00:10:00.")
            .ValidateOnStart();
        builder.Services.AddOptions<ProvisioningOptions>().PostConfigure<IConfiguration>((o, configuration) => o.CopyStoreRegions ??= AssignmentEvaluator.RegionsWithCopyStore(configuration));
        builder.Services.AddScoped<Lifecycle>();
        builder.Services.AddScoped<AssignmentEvaluator>();
        builder.Services.AddScoped<ServiceClients>();
        builder.Services.AddScoped<NetworkClient>();
        builder.Services.AddPeriodicJob<Reconciliation>();
        builder.Services.AddPeriodicJob<RestorePointScheduler>();

        var services = builder.Services;
        services.AddMessageHandler<UserCreated, DirectoryEventHandler>(Queue);
        services.AddMessageHandler<UserUpdated, DirectoryEventHandler>(Queue);
        services.AddMessageHandler<UserDeleted, DirectoryEventHandler>(Queue);
        services.AddMessageHandler<GroupMemberAdded, DirectoryEventHandler>(Queue);
        services.AddMessageHandler<GroupMemberRemoved, DirectoryEventHandler>(Queue);
        services.AddMessageHandler<GroupDeleted, DirectoryEventHandler>(Queue);
        services.AddMessageHandler<LicenseAssigned, DirectoryEventHandler>(Queue);
        services.AddMessageHandler<LicenseRemoved, DirectoryEventHandler>(Queue);
        services.AddMessageHandler<EvaluateTenant, EvaluateTenantHandler>(Queue);
        services.AddMessageHandler<VmPlaced, OrchestrationHandlers>(Queue);
        services.AddMessageHandler<VmPlacementFailed, OrchestrationHandlers>(Queue);
        services.AddMessageHandler<VmReported, OrchestrationHandlers>(Queue);
        services.AddMessageHandler<VmOperationCompleted, OrchestrationHandlers>(Queue);
        services.AddMessageHandler<StepDeadline, OrchestrationHandlers>(Queue);
        services.AddMessageHandler<GracePeriodEnded, OrchestrationHandlers>(Queue);
        services.AddMessageHandler<OperationDeadline, OperationDeadlineHandler>(Queue);
        services.AddMessageHandler<HostDown, HostDownHandler>(Queue);
        services.AddMessageHandler<HostUp, HostUpHandler>(Queue);
        services.AddMessageHandler<VmRecovering, HostLossHandlers>(Queue);
        services.AddMessageHandler<VmRecoveryFailed, HostLossHandlers>(Queue);
        services.AddMessageHandler<TenantDeleted, TenantDeletedHandler>(Queue);
        services.AddMessageHandler<DiskCopyStale, DiskCopyHealthHandler>(Queue);
        services.AddMessageHandler<DiskCopyHealthy, DiskCopyHealthHandler>(Queue);
        services.AddMessageHandler<SelectNetworkConnection, SelectNetworkHandler>(Queue);
        services.AddMessageHandler<MoveNextCloudPc, MoveHandlers>(Queue);
        services.AddMessageHandler<VmNetworkChanged, MoveHandlers>(Queue);
        services.AddMessageHandler<CloudPcMoveDeadline, MoveHandlers>(Queue);
        services.AddProvisioningMetrics();
        return builder;
    }

    public static IEndpointRouteBuilder MapProvisioningApi(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPoliciesApi();
        endpoints.MapImageUsageApi();
        endpoints.MapNetworkConnectionsApi();
        endpoints.MapUserSettingsApi();
        endpoints.MapCloudPcsApi();
        endpoints.MapRestorePointsApi();
        endpoints.MapDisasterRecoveryApi();
        return endpoints;
    }
}
