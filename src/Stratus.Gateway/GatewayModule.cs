using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Stratus.Gateway.Connect;
using Stratus.Gateway.History;
using Stratus.Gateway.Persistence;
using Stratus.Gateway.Reports;
using Stratus.Platform.Jobs;
using Stratus.Platform.Messaging;
using Stratus.Platform.Persistence;

namespace Stratus.Gateway;

public static class GatewayModule
{
    public static IHostApplicationBuilder AddGateway(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddSingleton(GatewayOptions.Read(builder.Configuration));
        builder.Services.AddSingleton<ConsoleRelays>();
        builder.Services.AddSingleton<OpenConsoles>();
        builder.Services.AddSingleton<ProbeKey>();
        builder.Services.AddSingleton<IStartupTask, ProbeKey.Load>();
        builder.AddServiceStore<GatewayDbContext, SqliteGatewayDbContext, PostgresGatewayDbContext>(GatewayDbContext.SchemaName);
        builder.Services.AddMessageHandler<TenantDeleted, TenantDeletedHandler>("gateway");
        builder.Services.AddPeriodicJob<ConnectTicketPruner>();
        builder.Services.AddPeriodicJob<ConnectionHistoryPruner>();
        return builder;
    }

    public static WebApplication MapGatewayApi(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.UseWebSockets(new WebSocketOptions { KeepAliveInterval = TimeSpan.FromSeconds(20) });
        app.MapConnectApi();
        ConsoleRelays.MapConsoleRelays(app);
        app.MapSessionsApi();
        app.MapConnectionHistoryApi();
        app.MapReportsApi();
        return app;
    }
}
