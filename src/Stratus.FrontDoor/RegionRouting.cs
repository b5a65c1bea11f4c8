using System.Net;
using System.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Stratus.Platform.Http;
using Stratus.Platform.Idempotency;
using Yarp.ReverseProxy.Forwarder;

namespace Stratus.FrontDoor;

/// <summary>
/// Every path the services serve (API, portals, /connect, the console WebSocket) goes to an instance of a region:
/// a write to the writable region, a read (GET, HEAD, OPTIONS, and so WebSocket upgrades) to the preferred read
/// region while it is healthy, else to the writable one, else to any healthy one. Forwarded with YARP's
/// <see cref="IHttpForwarder"/>; a forward that fails marks its instance unhealthy until its next good probe.
/// </summary>
internal static class RegionRouting
{
    /// <summary>The header that says which region answered, for operators and tests.</summary>
    public const string RegionHeader = "Stratus-Region";

    /// <summary>
    /// The front door's own process maps these too (UseStratusPlatform); the services' come first, so that an operator
    /// reading the dead letters or the API reference through the front door sees the control plane's, not the door's.
    /// </summary>
    private static readonly string[] ServicePathsFirst = ["/api/{**rest}", "/docs/{**rest}", "/openapi/{**rest}"];

    /// <summary>The forwarding client: the process's HttpClient defaults (they trust the deployment's CA, `--ca-cert`) on YARP's settings.</summary>
    public const string ClientName = "frontdoor-forward";

    public static void AddForwardingClient(this IServiceCollection services) => services.AddHttpClient(ClientName)
        .ConfigurePrimaryHttpMessageHandler((handler, _) =>
        {
            if (handler is SocketsHttpHandler sockets)
            {
                sockets.UseProxy = false;
                sockets.AllowAutoRedirect = false;
                sockets.AutomaticDecompression = DecompressionMethods.None;
                sockets.UseCookies = false;
                sockets.ActivityHeadersPropagator = new ReverseProxyPropagator(DistributedContextPropagator.Current);
                sockets.ConnectTimeout = TimeSpan.FromSeconds(5);
            }
        })
        // One handler for the life of the process, as YARP keeps its own: its connection pool is the point.
        .SetHandlerLifetime(Timeout.InfiniteTimeSpan)
        .RemoveAllLoggers();

    public static IEndpointRouteBuilder MapRegionRouting(this IEndpointRouteBuilder endpoints)
    {
        foreach (var pattern in ServicePathsFirst)
        {
            Configure(endpoints.Map(pattern, ForwardAsync), order: -1);
        }

        // Order 0 and a catch-all: the front door's own routes (/frontdoor/v1/..., /healthz, /readyz, /metrics) win.
        Configure(endpoints.Map("/{**path}", ForwardAsync), order: 0);
        return endpoints;
    }

    // The services keep the Idempotency-Key and their own body limits (an image upload is gigabytes): the door passes
    // requests through as they come.
    private static void Configure(IEndpointConventionBuilder endpoint, int order) => endpoint
        .WithOwnIdempotencyKey()
        .WithMetadata(new DisableRequestSizeLimitAttribute())
        .Add(builder => ((RouteEndpointBuilder)builder).Order = order);

    private static async Task ForwardAsync(HttpContext context)
    {
        var services = context.RequestServices;
        var decider = services.GetRequiredService<RegionDecider>();
        var health = services.GetRequiredService<RegionHealth>();
        var options = services.GetRequiredService<IOptions<FrontDoorOptions>>().Value;
        var region = IsRead(context.Request.Method) ? ReadRegion(decider, health, options) : decider.Current.WritableRegion;
        var instance = health.Pick(region);
        context.Response.Headers[RegionHeader] = region;

        var forwarder = services.GetRequiredService<IHttpForwarder>();
        using var http = new HttpMessageInvoker(services.GetRequiredService<IHttpMessageHandlerFactory>().CreateHandler(ClientName), disposeHandler: false);
        var error = await forwarder.SendAsync(context, instance.Url.ToString().TrimEnd('/'), http, ForwarderRequestConfig.Empty, ForwardedHeaders.Instance);
        if (error is ForwarderError.None or ForwarderError.RequestCanceled or ForwarderError.RequestBodyCanceled or ForwarderError.RequestBodyClient
            or ForwarderError.ResponseBodyCanceled or ForwarderError.ResponseBodyClient or ForwarderError.UpgradeRequestCanceled
            or ForwarderError.UpgradeRequestClient or ForwarderError.UpgradeResponseCanceled or ForwarderError.UpgradeResponseClient)
        {
            // Fine, or the client's doing: the instance is not to blame.
            return;
        }

        var exception = context.GetForwarderErrorFeature()?.Exception;
        var message = $"{error}: {exception?.Message ?? "no detail"}";
        instance.Failed(message);
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(RegionRouting));
        FrontDoorLog.ForwardFailed(logger, context.Request.Method, context.Request.Path, instance.Url, message);
        if (!context.Response.HasStarted)
        {
            context.Response.Headers.RetryAfter = "1";
            await TypedResults.Problem(statusCode: StatusCodes.Status502BadGateway, title: "Bad gateway", type: Problems.TypePrefix + "region-unreachable",
                detail: $"The instance of region {region} chosen for this request did not answer; it is avoided from now on. Send the request again.")
                .ExecuteAsync(context);
        }
    }

    private static bool IsRead(string method) => HttpMethods.IsGet(method) || HttpMethods.IsHead(method) || HttpMethods.IsOptions(method);

    private static string ReadRegion(RegionDecider decider, RegionHealth health, FrontDoorOptions options)
    {
        var writable = decider.Current.WritableRegion;
        if (options.PreferredReadRegion is { Length: > 0 } preferred && health.IsHealthy(preferred))
        {
            return options.Find(preferred)!.Name;
        }

        return health.IsHealthy(writable) ? writable : options.Regions.Select(r => r.Name).FirstOrDefault(health.IsHealthy) ?? writable;
    }
}
