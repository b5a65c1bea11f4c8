using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Stratus.Platform.Hosting;

/// <summary>
/// The headers every answer carries, so that a browser confines the portals: nothing but this origin's own scripts run
/// (no inline script, no eval), no other site frames a page (clickjacking), a response is never sniffed into another
/// type, and a URL does not leave the origin in a Referer.
/// </summary>
public static class SecurityHeaders
{
    /// <summary>
    /// The portals' policy. Scripts and connections only from this origin: Blazor's blazor.web.js and its /_blazor
    /// WebSocket, the user portal's modules, noVNC and its console WebSocket ('self' covers ws: and wss: of the same
    /// host in CSP 3). Blazor Server needs no eval (WebAssembly would). Styles allow inline: Fluent UI's web components
    /// set style attributes and add style elements at run time; a style cannot run code. Images allow data: and blob:,
    /// which noVNC's cursor and the admin portal's favicon are.
    /// </summary>
    public const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; " +
        "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

    /// <summary>The API reference (Scalar) runs an inline script of its own: it gets the other headers, and no framing.</summary>
    private const string ApiReferencePolicy = "frame-ancestors 'none'; object-src 'none'; base-uri 'self'";

    public static IApplicationBuilder UseSecurityHeaders(this IApplicationBuilder app, PathString apiReference)
    {
        ArgumentNullException.ThrowIfNull(app);
        return app.Use((context, next) =>
        {
            // Set as the response starts: an error page (the exception handler clears the headers) carries them too.
            context.Response.OnStarting(() =>
            {
                var headers = context.Response.Headers;
                headers.ContentSecurityPolicy = context.Request.Path.StartsWithSegments(apiReference) ? ApiReferencePolicy : ContentSecurityPolicy;
                headers.XContentTypeOptions = "nosniff";
                headers.XFrameOptions = "DENY";
                headers["Referrer-Policy"] = "no-referrer";
                return Task.CompletedTask;
            });
            return next(context);
        });
    }
}
