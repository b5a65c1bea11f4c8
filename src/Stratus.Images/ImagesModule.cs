using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Stratus.Images.DeviceImages;
using Stratus.Images.Gallery;
using Stratus.Images.Persistence;
using Stratus.Images.Replication;
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
        builder.Services.AddSingleton<ImageUsageClient>();
        builder.Services.AddScoped<DeviceImageDeletion>();
        builder.Services.AddScoped<ImportJobExecution>();
        builder.Services.AddSingleton<ImportJobRunner>();
        builder.Services.AddHostedService(provider => provider.GetRequiredService<ImportJobRunner>());
        builder.Services.AddMessageHandler<DeviceImageContentUploaded, DeviceImageContentUploadedHandler>(Queue);
        builder.Services.AddMessageHandler<TenantDeleted, TenantDeletedHandler>(Queue);
        builder.Services.AddPeriodicJob<ImageReplicator>();
        builder.AddFileReplication();
        return builder;
    }

    public static IEndpointRouteBuilder MapImagesApi(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGalleryImagesApi();
        endpoints.MapDeviceImagesApi();
        endpoints.MapFileReplicationApi();
        return endpoints;
    }

    /// <summary>Issue 19: this region's files copied to the other regions' stores; off without configured stores.</summary>
    private static void AddFileReplication(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<FileReplicationOptions>().BindConfiguration("Stratus:Images:FileReplication")
            .PostConfigure<IConfiguration>((options, configuration) => options.Region ??= configuration["Stratus:Region:Name"] is { Length: > 0 } region ? region : null)
            .ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<FileReplicationOptions>, FileReplicationOptionsValidator>();
        builder.Services.AddSingleton<FileReplicationRoutes>();
        builder.Services.AddSingleton<FileReplicationMetrics>();
        builder.Services.AddPeriodicJob<FileReplicator>();
    }
}

/// <summary>Creates the store's folders before serving; a region name that cannot be a folder stops the start.</summary>
internal sealed class PrepareImageStore(ImageStore store) : IStartupTask
{
    public bool Writes => false;

    public Task RunAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        store.EnsureFolders();
        return Task.CompletedTask;
    }
}
