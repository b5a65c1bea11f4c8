using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using Scalar.AspNetCore;
using Stratus.Platform.Auth;
using Stratus.Platform.Http;
using Stratus.Platform.Idempotency;
using Stratus.Platform.Jobs;
using Stratus.Platform.Messaging;
using Stratus.Platform.Metrics;
using Stratus.Platform.Persistence;
using Stratus.Platform.Regions;

namespace Stratus.Platform.Hosting;

/// <summary>Where this process keeps its files and data.</summary>
public sealed record StratusHostSettings(DatabaseSettings Database, string DataFolder, string Targets);

public static class PlatformExtensions
{
    /// <summary>The largest request body an endpoint takes unless it states its own limit: 1 MiB.</summary>
    public const long MaxRequestBodyBytes = 1024 * 1024;
    private const string ApiReferencePath = "/docs";

    /// <summary>
    /// What every Stratus process has, whichever services it runs: logging with request ids, telemetry,
    /// problem details, auth, the platform store with its durable queues, health and the API reference.
    /// </summary>
    public static WebApplicationBuilder AddStratusPlatform(this WebApplicationBuilder builder, StratusHostSettings settings)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(settings);
        builder.Host.Properties[typeof(DatabaseSettings)] = settings.Database;
        ((IHostApplicationBuilder)builder).Properties[typeof(DatabaseSettings)] = settings.Database;
        builder.Services.AddSingleton(settings);
        builder.Services.AddSingleton(settings.Database);
        builder.Services.AddSingleton(TimeProvider.System);

        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(options =>
        {
            // Scopes carry the request id (and trace id) of every line logged while a request runs.
            options.IncludeScopes = true;
            options.SingleLine = true;
            options.TimestampFormat = "HH:mm:ss.fff ";
            options.UseUtcTimestamp = true;
        });
        builder.Logging.AddFilter("Microsoft.EntityFrameworkCore", LogLevel.Warning);

        // A failed command reaches its caller as an exception, which is logged or answered there; EF's own
        // "Failed executing DbCommand" lines (normal on a fresh database's first migration) only alarm.
        builder.Logging.AddFilter("Microsoft.EntityFrameworkCore.Database.Command", LogLevel.None);

        // Keys at rest in the data folder are protected by its permissions (see docs/adr/0003-tokens.md).
        builder.Logging.AddFilter("Microsoft.AspNetCore.DataProtection", LogLevel.Error);
        // Request lines too ("Request starting ..."): a URL can carry what its caller should not have put there, and a
        // line per request buries the lines that matter. An operator who wants them sets
        // Logging__LogLevel__Microsoft.AspNetCore.Hosting.Diagnostics=Information (more specific, so it wins).
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);

        builder.AddStratusTelemetry(settings.Targets);

        // Every body is refused with 413 above this size, before it is read whole; an endpoint that takes more
        // (a disk image upload) says so with RequestSizeLimit or DisableRequestSizeLimit metadata.
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Limits.MaxRequestBodySize = MaxRequestBodyBytes);

        builder.Services.AddProblemDetails(options => options.CustomizeProblemDetails = context =>
        {
            context.ProblemDetails.Instance ??= context.HttpContext.Request.Path;
            context.ProblemDetails.Extensions["requestId"] = context.HttpContext.TraceIdentifier;
        });
        builder.Services.AddExceptionHandler<ProblemExceptionHandler>();

        // A body or query value the framework cannot read reaches ProblemExceptionHandler, which says what
        // was wrong, instead of an empty 400.
        builder.Services.Configure<RouteHandlerOptions>(options => options.ThrowOnBadRequest = true);
        builder.Services.AddOpenApi();
        builder.Services.AddHealthChecks();

        builder.Services.AddOptions<MessagingOptions>().BindConfiguration("Stratus:Messaging");
        builder.Services.AddSingleton<OutboxSignal>();
        builder.Services.AddSingleton<QueueSignal>();
        builder.Services.AddSingleton<OutboxSignalInterceptor>();
        builder.Services.AddSingleton<MessagingHealth>();
        builder.AddStore<PlatformDbContext, SqlitePlatformDbContext, PostgresPlatformDbContext>(PlatformDbContext.SchemaName);
        builder.Services.AddSingleton<IStartupTask, RegisterSubscriptions>();
        builder.Services.AddHostedService<QueueWorker>();
        builder.Services.AddPeriodicJob<IdempotencyRecordPruner>();
        builder.Services.AddPeriodicJob<QueueRetention>();
        builder.Services.AddHealthChecks().AddCheck<MessagingHealthCheck>("queues", tags: [HealthTags.Ready]);
        builder.Services.AddStratusMetrics();

        builder.AddStratusAuth(settings.DataFolder);

        builder.AddTrustedProxies();

        // Issue 19: in a region of several, writes only while the front door's lease says so; else nothing changes.
        builder.Services.AddStratusRegion(builder.Configuration);
        return builder;
    }

    private static void AddStratusTelemetry(this WebApplicationBuilder builder, string targets)
    {
        var telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService("stratus", serviceInstanceId: Environment.MachineName)
                .AddAttributes([new("stratus.targets", targets)]))
            .WithTracing(tracing => tracing
                .AddAspNetCoreInstrumentation(options => options.Filter = context => !IsProbe(context.Request.Path))
                .AddHttpClientInstrumentation()
                .AddSource("Stratus.*"))
            .WithMetrics(metrics => metrics
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddRuntimeInstrumentation()
                .AddMeter("Stratus.*")
                .AddPrometheusExporter());

        // OTLP export only where a collector is configured, by the standard OpenTelemetry variables.
        if (!string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
        {
            telemetry.UseOtlpExporter();
        }
    }

    private static bool IsProbe(PathString path) =>
        path.StartsWithSegments("/healthz") || path.StartsWithSegments("/readyz") || path.StartsWithSegments("/metrics");

    /// <summary>
    /// Runs migrations and the other start-up tasks, in registration order, before serving. In a region of several,
    /// a task whose writes a standby's store refuses waits until the instance may write (<see cref="DeferredStartupTasks"/>).
    /// </summary>
    public static async Task RunStartupTasksAsync(this WebApplication app, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(app);
        var deferrable = app.Services.GetService<DeferredStartupTasks>();
        foreach (var task in app.Services.GetServices<IStartupTask>())
        {
            if (deferrable is null)
            {
                await task.RunAsync(app.Services, cancellationToken);
            }
            else
            {
                await deferrable.RunOrDeferAsync(task, cancellationToken);
            }
        }
    }

    public static WebApplication UseStratusPlatform(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        // First: everything after it sees the client's address and the front door's scheme and host.
        app.UseTrustedProxies();
        app.UseSecurityHeaders(ApiReferencePath);
        app.UseExceptionHandler();
        app.UseStatusCodePages();

        // Before authentication and idempotency keys: a write refused because the region is read-only does nothing.
        app.UseRegionWriteGuard();
        app.UseAuthentication();
        app.UseAuthorization();

        // After authorization, so that a stranger's body is not even parsed; before idempotency, so that a
        // request refused for its text reserves no key.
        app.UseMiddleware<RequestTextMiddleware>();

        // After authorization: the caller scopes the key, and a request refused 401 or 403 reserves nothing.
        app.UseMiddleware<IdempotencyMiddleware>();

        app.MapHealthChecks("/healthz", new HealthCheckOptions { Predicate = _ => false }).WithTags("Health");
        app.MapHealthChecks("/readyz", new HealthCheckOptions
        {
            Predicate = check => check.Tags.Contains(HealthTags.Ready),
            ResponseWriter = WriteHealthAsync,
        }).WithTags("Health");
        app.MapPrometheusScrapingEndpoint("/metrics");
        app.MapOpenApi("/openapi/{documentName}.json");
        // Served from this process only: Stratus runs offline, and the default fonts come from Scalar's CDN.
        app.MapScalarApiReference(ApiReferencePath, options => options
            .WithTitle("Stratus API")
            .WithOpenApiRoutePattern("/openapi/{documentName}.json")
            .DisableDefaultFonts());
        app.MapDeadLettersApi();
        return app;
    }

    private static Task WriteHealthAsync(HttpContext context, HealthReport report)
    {
        // A read-only region's instance is ready (it serves reads); the front door and operators see whether it writes.
        var region = context.RequestServices.GetRequiredService<RegionWritability>().Current;
        return context.Response.WriteAsJsonAsync(new
        {
            status = report.Status.ToString(),
            checks = report.Entries.ToDictionary(e => e.Key, e => new { status = e.Value.Status.ToString(), description = e.Value.Description }),
            region = region.Region,
            writable = region.Writable,
            epoch = region.Epoch,
            storeRole = region.StoreRole?.ToString(),
            // The start-up tasks a standby's store refused, which run before this instance takes writes.
            startupTasksWaiting = context.RequestServices.GetRequiredService<RegionWritability>().StartupTasksWaiting,
        });
    }
}
