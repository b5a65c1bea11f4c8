using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Stratus.Images.DeviceImages;
using Stratus.Images.Gallery;
using Stratus.Images.Persistence;
using Stratus.Images.Store;
using Stratus.Platform.Jobs;
using Stratus.Platform.Messaging;
using Stratus.Platform.Persistence;

namespace Stratus.Images;

public static class ImagesModule
{
    public const string Queue = "images";

    public static IHostApplicationBuilder AddImages(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.AddServiceStore<ImagesDbContext, SqliteImagesDbContext, PostgresImagesDbContext>(ImagesDbContext.SchemaName);
        builder.Services.AddOptions<ImagesOptions>().BindConfiguration("Stratus:Images").ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<ImagesOptions>, ImagesOptionsValidator>();
        builder.Services.AddSingleton<ImageStore>();
        builder.Services.AddSingleton<IStartupTask, PrepareImageStore>();
        builder.Services.AddSingleton<QemuImg>();
        builder.Services.AddSingleton<DiskInspector>();
        builder.Services.AddScoped<DeviceImageImporter>();
        // An import takes up to 2 h; until it runs as a job of its own, its handler may take as long.
        builder.Services.AddMessageHandler<DeviceImageContentUploaded, DeviceImageContentUploadedHandler>(Queue, handlerTimeout: TimeSpan.FromHours(2));
        builder.Services.AddPeriodicJob<ImageReplicator>();
        return builder;
    }

    public static IEndpointRouteBuilder MapImagesApi(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGalleryImagesApi();
        endpoints.MapDeviceImagesApi();
        return endpoints;
    }
}

/// <summary>Creates the store's folders before serving; a region name that cannot be a folder stops the start.</summary>
internal sealed class PrepareImageStore(ImageStore store) : IStartupTask
{
    public Task RunAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        store.EnsureFolders();
        return Task.CompletedTask;
    }
}
