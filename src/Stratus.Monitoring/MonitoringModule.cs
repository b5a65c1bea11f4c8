using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Stratus.Monitoring.Notifications;
using Stratus.Monitoring.Persistence;
using Stratus.Monitoring.Records;
using Stratus.Monitoring.Rules;
using Stratus.Platform.Auth;
using Stratus.Platform.Jobs;
using Stratus.Platform.Messaging;
using Stratus.Platform.Persistence;

namespace Stratus.Monitoring;

/// <summary>Alert rules, the records they open from other services' events, and their notifications (issue 21, item 4).</summary>
public static class MonitoringModule
{
    public const string Queue = "monitoring";

    public static IHostApplicationBuilder AddMonitoring(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.AddServiceStore<MonitoringDbContext, SqliteMonitoringDbContext, PostgresMonitoringDbContext>(MonitoringDbContext.SchemaName);
        builder.Services.AddOptions<MonitoringOptions>().BindConfiguration("Stratus:Monitoring")
            .Validate(o => !o.Errors().Any(), "Stratus:Monitoring: the intervals and deadlines must be positive, Smtp:Port a port and Smtp:From an address.")
            .ValidateOnStart();
        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(AlertRulesApi.Policy, StratusPolicies.Access([StratusRoles.TenantAdministrator, StratusRoles.PlatformOperator], tenant: false));
        builder.Services.AddScoped<BuiltInRules>();
        builder.Services.AddScoped<Alerting>();
        builder.Services.AddScoped<NotificationOutbox>();
        builder.Services.AddSingleton<EmailSender>();
        builder.Services.AddSingleton<WebhookSender>();
        builder.Services.AddPeriodicJob<NotificationDispatcher>();
        builder.Services.AddMessageHandler<CloudPcStatusChanged, CloudPcStatusChangedHandler, MonitoringDbContext>(Queue);
        builder.Services.AddMessageHandler<DeviceImageFailed, DeviceImageFailedHandler, MonitoringDbContext>(Queue);
        builder.Services.AddMessageHandler<DeviceImageDeleted, DeviceImageDeletedHandler, MonitoringDbContext>(Queue);
        builder.Services.AddMessageHandler<NetworkConnectionHealthChanged, NetworkConnectionHealthChangedHandler, MonitoringDbContext>(Queue);
        builder.Services.AddMessageHandler<HostDown, HostDownHandler, MonitoringDbContext>(Queue);
        builder.Services.AddMessageHandler<HostUp, HostUpHandler, MonitoringDbContext>(Queue);
        builder.Services.AddMessageHandler<DiskCopyStale, DiskCopyStaleHandler, MonitoringDbContext>(Queue);
        builder.Services.AddMessageHandler<DiskCopyHealthy, DiskCopyHealthyHandler, MonitoringDbContext>(Queue);
        return builder;
    }

    public static IEndpointRouteBuilder MapMonitoringApi(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapAlertRulesApi();
        endpoints.MapAlertRecordsApi();
        return endpoints;
    }
}
