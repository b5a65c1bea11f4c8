using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Stratus.Diagnostics.Audit;
using Stratus.Diagnostics.Persistence;
using Stratus.Diagnostics.Troubleshooting;
using Stratus.Platform.Messaging;
using Stratus.Platform.Persistence;

namespace Stratus.Diagnostics;

public static class DiagnosticsModule
{
    public const string Queue = "diagnostics";

    public static IHostApplicationBuilder AddDiagnostics(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.AddServiceStore<DiagnosticsDbContext, SqliteDiagnosticsDbContext, PostgresDiagnosticsDbContext>(DiagnosticsDbContext.SchemaName);
        builder.Services.AddMessageHandler<SignInRecorded, SignInRecordedHandler>(Queue);
        builder.Services.AddMessageHandler<Platform.Audit.AuditRecorded, AuditRecordedHandler>(Queue);
        builder.Services.AddSingleton<ServiceReads>();
        builder.Services.AddScoped<Troubleshooter>();
        return builder;
    }

    public static IEndpointRouteBuilder MapDiagnosticsApi(this IEndpointRouteBuilder endpoints) => endpoints.MapAuditApi().MapTroubleshootApi();
}
