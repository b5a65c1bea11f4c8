using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.StaticFiles;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.FileProviders;
using Microsoft.FluentUI.AspNetCore.Components;

namespace Stratus.Portal;

/// <summary>The end-user portal at /: sign in, my Cloud PCs, and their consoles in the browser (noVNC).</summary>
public static class PortalModule
{
    public static WebApplicationBuilder AddPortal(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);

        // Outside Development the host does not look for the static files of referenced libraries (Fluent UI,
        // the Blazor script) in the build output's manifest; a published binary carries them in wwwroot instead.
        builder.WebHost.UseStaticWebAssets();
        // Secure whenever the portal is reached over HTTPS (the default, None, would never mark it so).
        builder.Services.AddAntiforgery(options => options.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest);
        builder.Services.AddRazorComponents().AddInteractiveServerComponents();
        builder.Services.AddFluentUIComponents();
        builder.Services.AddScoped<Admin.AdminApi>();
        return builder;
    }

    public static WebApplication MapPortal(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.UseAntiforgery();
        app.MapStaticAssets();
        app.MapRazorComponents<Admin.App>().AddInteractiveServerRenderMode();
        var root = Path.Combine(AppContext.BaseDirectory, "portal");
        if (!Directory.Exists(root))
        {
            return app;
        }

        var files = new PhysicalFileProvider(root);
        var types = new FileExtensionContentTypeProvider();
        types.Mappings[".js"] = "text/javascript";
        app.UseDefaultFiles(new DefaultFilesOptions { FileProvider = files });
        app.UseStaticFiles(new StaticFileOptions
        {
            FileProvider = files,
            ContentTypeProvider = types,
            OnPrepareResponse = context => context.Context.Response.Headers.CacheControl = "no-cache",
        });
        app.MapGet("/console", (HttpContext http) => Results.Redirect("/console.html" + http.Request.QueryString)).ExcludeFromDescription();
        return app;
    }
}
