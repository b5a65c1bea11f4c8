using Microsoft.AspNetCore.Http;
using Yarp.ReverseProxy.Forwarder;

namespace Stratus.FrontDoor;

/// <summary>
/// YARP's default request copy (every header but Host, which becomes the instance's), plus X-Forwarded-For, -Proto
/// and -Host, so that a service can build links to the front door's address rather than its own. Set, not appended:
/// the front door is the public entry, so whatever a client claims in them is not to be passed on as if checked.
/// </summary>
internal sealed class ForwardedHeaders : HttpTransformer
{
    public static readonly ForwardedHeaders Instance = new();

    public override async ValueTask TransformRequestAsync(HttpContext httpContext, HttpRequestMessage proxyRequest, string destinationPrefix, CancellationToken cancellationToken)
    {
        await base.TransformRequestAsync(httpContext, proxyRequest, destinationPrefix, cancellationToken);
        Set(proxyRequest, "X-Forwarded-For", httpContext.Connection.RemoteIpAddress?.ToString());
        Set(proxyRequest, "X-Forwarded-Proto", httpContext.Request.Scheme);
        Set(proxyRequest, "X-Forwarded-Host", httpContext.Request.Host.Value);
    }

    private static void Set(HttpRequestMessage request, string name, string? value)
    {
        request.Headers.Remove(name);
        if (!string.IsNullOrEmpty(value))
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }
    }
}
