using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Stratus.Images.Store;
using Stratus.Platform.Auth;
using Stratus.Platform.Http;

namespace Stratus.Images.Gallery;

public sealed record ReplicaView(string Region, string Status);

/// <summary>Graph's cloudPcGalleryImage, plus where the image is replicated.</summary>
public sealed record GalleryImageView(
    string Id,
    string DisplayName,
    string OfferDisplayName,
    string PublisherDisplayName,
    string SkuDisplayName,
    int SizeInGB,
    string Status,
    DateOnly StartDate,
    DateOnly? EndDate,
    DateOnly? ExpirationDate,
    string OsVersionNumber,
    IReadOnlyList<ReplicaView> Replicas);

/// <summary>The gallery images, read from the store's gallery folder (there is no table: the folder is the truth).</summary>
public static class GalleryImagesApi
{
    public static IEndpointRouteBuilder MapGalleryImagesApi(this IEndpointRouteBuilder endpoints)
    {
        // Tenants choose from the gallery; the operator sees it too, to follow replication.
        var readers = StratusPolicies.Access(
            [StratusRoles.TenantAdministrator, StratusRoles.CloudPcAdministrator, StratusRoles.CloudPcReader, StratusRoles.PlatformOperator], tenant: false);
        var group = endpoints.MapGroup("/api/v1/galleryImages").WithTags("Images");
        group.MapGet("/", List).WithName("ListGalleryImages").RequireAuthorization(readers);
        group.MapGet("/{id}", Get).WithName("GetGalleryImage").RequireAuthorization(readers).AcceptsScope(StratusScopes.ImagesRead);
        group.MapPost("/replicate", ReplicateAsync).WithName("ReplicateGalleryImages")
            .WithSummary("Copy every gallery image into every region that lacks it, now, and answer when done")
            .RequireAuthorization(StratusPolicies.PlatformOperator);
        return endpoints;
    }

    private static Ok<PagedResult<GalleryImageView>> List(ImageStore store)
    {
        var images = store.ListGallery().Select(i => ToView(i, store)).ToList();
        return TypedResults.Ok(new PagedResult<GalleryImageView>(images, images.Count));
    }

    private static Results<Ok<GalleryImageView>, ProblemHttpResult> Get(string id, ImageStore store)
    {
        var image = ImageStore.IsImageId(id) ? store.ReadImage(Path.Combine(store.GalleryFolder, id)) : null;
        return image is null ? Problems.NotFound("gallery image", id) : TypedResults.Ok(ToView(image, store));
    }

    private static async Task<Ok<PagedResult<GalleryImageView>>> ReplicateAsync(ImageReplicator replicator, ImageStore store, CancellationToken cancellationToken)
    {
        await replicator.RunOnceAsync(cancellationToken);
        return List(store);
    }

    private static GalleryImageView ToView(StoredImage image, ImageStore store)
    {
        var manifest = image.Manifest;
        var version = manifest.Version ?? "unknown";
        var sizeInGB = (int)Math.Ceiling(ImageStore.VirtualSize(Path.Combine(image.Folder, manifest.Disk!)) / (double)ImagesOptions.GiB);
        return new GalleryImageView(
            image.Id,
            manifest.Name!,
            manifest.Offer ?? manifest.Name!,
            manifest.Publisher ?? "Stratus",
            manifest.Sku ?? version,
            sizeInGB,
            "supported",
            DateOnly.FromDateTime(image.ModifiedAtUtc),
            EndDate: null,
            ExpirationDate: null,
            version,
            store.Regions.Select(r => new ReplicaView(r, store.StateIn(r, image).ToString().ToLowerInvariant())).ToList());
    }
}
