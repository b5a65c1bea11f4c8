using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Stratus.Images.Persistence;
using Stratus.Images.Store;
using Stratus.Platform.Audit;
using Stratus.Platform.Auth;
using Stratus.Platform.Http;

namespace Stratus.Images.DeviceImages;

public sealed record CreateDeviceImageRequest(string? DisplayName, string? Version);

/// <summary>Graph's cloudPcDeviceImage, and how far its import got (<c>percentComplete</c>, a Stratus addition).</summary>
public sealed record DeviceImageView(
    string Id,
    string DisplayName,
    string Version,
    string? OsBuildNumber,
    string? OperatingSystem,
    string OsStatus,
    string Status,
    string? ErrorCode,
    string? StatusDetails,
    DateTimeOffset LastModifiedDateTime,
    string? SourceImageResourceId,
    DateOnly? ExpirationDate,
    int? PercentComplete)
{
    // The operating system inside an uploaded disk is not inspected, so Stratus does not claim to know it.
    public static DeviceImageView From(DeviceImage i) => new(i.ImageId, i.DisplayName, i.Version, null, null, "unknown",
        i.Status.ToString().ToLowerInvariant(), i.ErrorCode, i.StatusDetails, i.LastModifiedAt, i.SourceImageResourceId, null, i.PercentComplete);
}

/// <summary>
/// A tenant's custom images: create one, upload its disk (streamed to the store, never held in memory), and
/// a durable message has it validated and replicated. The tenant is always the caller's token's.
/// </summary>
public static partial class DeviceImagesApi
{
    private const long MaxJsonBytes = 64 * 1024;

    public static IEndpointRouteBuilder MapDeviceImagesApi(this IEndpointRouteBuilder endpoints)
    {
        var read = endpoints.MapGroup("/api/v1/deviceImages").WithTags("Images").RequireAuthorization(StratusPolicies.CloudPcReader)
            .AcceptsScope(StratusScopes.ImagesRead);
        var write = endpoints.MapGroup("/api/v1/deviceImages").WithTags("Images").RequireAuthorization(StratusPolicies.CloudPcAdministrator);
        read.MapGet("/", ListAsync).WithName("ListDeviceImages");
        read.MapGet("/{id:guid}", GetAsync).WithName("GetDeviceImage");
        write.MapPost("/", CreateAsync).WithName("CreateDeviceImage")
            .WithSummary("Create a custom image, pending until its content is uploaded and validated")
            .WithMetadata(new RequestSizeLimitAttribute(MaxJsonBytes));
        // The endpoint counts the bytes itself (a chunked body has no length to check up front), so the server's
        // default limit of about 28 MiB must not apply. Declared, so that routing lifts it before any middleware
        // reads: with an Idempotency-Key the platform reads the start of the body, after which it cannot change.
        write.MapPut("/{id:guid}/content", UploadAsync).WithName("UploadDeviceImageContent")
            .WithSummary("The disk (qcow2 or raw) as application/octet-stream; answers 202 and validation follows")
            .Accepts<Stream>("application/octet-stream")
            .WithMetadata(new DisableRequestSizeLimitAttribute());
        write.MapDelete("/{id:guid}", DeleteAsync).WithName("DeleteDeviceImage")
            .WithSummary("Delete the image and its files in every region; 409 while policies or Cloud PCs use it");
        return endpoints;
    }

    [GeneratedRegex(@"^\d{1,9}\.\d{1,9}\.\d{1,9}$")]
    private static partial Regex VersionPattern();

    private static async Task<Results<Ok<PagedResult<DeviceImageView>>, ValidationProblem>> ListAsync(
        HttpContext http, ImagesDbContext db, [FromQuery(Name = "$filter")] string? filter,
        [FromQuery(Name = "$top")] int? top, [FromQuery(Name = "$skip")] int? skip, CancellationToken cancellationToken)
    {
        if (Paging.Validate(top, skip) is { } invalid)
        {
            return invalid;
        }

        var tenant = http.User.RequiredTenantId();
        var query = db.DeviceImages.AsNoTracking().Where(i => i.TenantId == tenant);
        if (!string.IsNullOrWhiteSpace(filter))
        {
            var parsed = ODataFilter.Parse(filter, "displayName", "status");
            if (parsed.Error is { } error)
            {
                return Problems.Validation("$filter", error);
            }

            foreach (var (property, value) in parsed.Conditions)
            {
                if (property == "status")
                {
                    if (!Enum.TryParse<DeviceImageStatus>(value, ignoreCase: true, out var status) || !Enum.IsDefined(status))
                    {
                        return Problems.Validation("$filter", "'status' must be pending, ready, failed or deleting.");
                    }

                    query = query.Where(i => i.Status == status);
                }
                else
                {
                    query = query.Where(i => i.DisplayName == value);
                }
            }
        }

        var total = await query.CountAsync(cancellationToken);
        var page = await query.OrderBy(i => i.CreatedAt).ThenBy(i => i.Id).Skip(skip ?? 0).Take(top ?? Paging.DefaultTop).ToListAsync(cancellationToken);
        return TypedResults.Ok(new PagedResult<DeviceImageView>(page.Select(DeviceImageView.From).ToList(), total));
    }

    private static async Task<Results<Ok<DeviceImageView>, ProblemHttpResult>> GetAsync(Guid id, HttpContext http, ImagesDbContext db, CancellationToken cancellationToken)
    {
        var tenant = http.User.RequiredTenantId();
        var image = await db.DeviceImages.AsNoTracking().FirstOrDefaultAsync(i => i.Id == id && i.TenantId == tenant, cancellationToken);
        return image is null ? Problems.NotFound("device image", id) : TypedResults.Ok(DeviceImageView.From(image));
    }

    private static async Task<Results<Created<DeviceImageView>, ValidationProblem>> CreateAsync(
        CreateDeviceImageRequest? request, HttpContext http, ImagesDbContext db, TimeProvider clock, CancellationToken cancellationToken)
    {
        var validator = new Validator()
            .Require("displayName", request?.DisplayName, maxLength: 256)
            .Check(request?.Version is not null && VersionPattern().IsMatch(request.Version), "version",
                "'version' is required, as major.minor.patch (such as 1.0.0).");
        if (!validator.IsValid)
        {
            return validator.ToProblem();
        }

        var now = clock.GetUtcNow();
        var image = new DeviceImage
        {
            Id = Guid.CreateVersion7(now),
            TenantId = http.User.RequiredTenantId(),
            DisplayName = request!.DisplayName!.Trim(),
            Version = request.Version!,
            Status = DeviceImageStatus.Pending,
            StatusDetails = "Waiting for the disk: upload it with PUT /api/v1/deviceImages/{id}/content (application/octet-stream, qcow2 or raw).",
            CreatedAt = now,
            LastModifiedAt = now,
            ConcurrencyStamp = Guid.NewGuid(),
        };
        db.DeviceImages.Add(image);
        db.Audit(clock, image.TenantId, AuditActor.From(http), "image", "CreateDeviceImage", $"Created device image {image.DisplayName} {image.Version}", true, Resource(image));
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Created($"/api/v1/deviceImages/{image.Id}", DeviceImageView.From(image));
    }

    private static async Task<Results<Accepted<DeviceImageView>, ValidationProblem, ProblemHttpResult>> UploadAsync(
        Guid id, HttpContext http, ImagesDbContext db, ImageStore store, IOptions<ImagesOptions> options, TimeProvider clock, CancellationToken cancellationToken)
    {
        var tenant = http.User.RequiredTenantId();
        var image = await db.DeviceImages.FirstOrDefaultAsync(i => i.Id == id && i.TenantId == tenant, cancellationToken);
        if (image is null)
        {
            return Problems.NotFound("device image", id);
        }

        if (image.Status != DeviceImageStatus.Pending || image.UploadFile is not null)
        {
            return NotWaitingForContent(image);
        }

        if (!string.Equals(http.Request.ContentType, "application/octet-stream", StringComparison.OrdinalIgnoreCase))
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status415UnsupportedMediaType, title: "Unsupported media type",
                detail: "Send the disk as the raw body with 'Content-Type: application/octet-stream'.", type: Problems.TypePrefix + "unsupported-media-type");
        }

        var limit = options.Value.MaxUploadBytes;
        if (http.Request.ContentLength > limit)
        {
            return TooLarge(limit);
        }

        Directory.CreateDirectory(store.UploadsFolder);
        var uploadFile = $"{image.Id:N}-{Guid.NewGuid():N}.upload";
        var path = store.UploadPath(uploadFile);
        var committed = false;
        try
        {
            long received;
            string sha256;
            try
            {
                (received, sha256) = await ReceiveAsync(http.Request.Body, path, limit, cancellationToken);
            }
            catch (Exception e) when (e is IOException or OperationCanceledException && http.RequestAborted.IsCancellationRequested)
            {
                // The client went away mid-upload: not a server error, and the image still waits for its content.
                return TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Upload cut short",
                    detail: "The connection closed before the whole disk arrived. Upload it again.", type: Problems.TypePrefix + "upload-incomplete");
            }

            if (received > limit)
            {
                return TooLarge(limit);
            }

            if (received == 0)
            {
                return Problems.Validation("content", "The body is empty: send the disk image (qcow2 or raw) as the body.");
            }

            var now = clock.GetUtcNow();
            image.UploadFile = uploadFile;
            image.SourceImageResourceId = "sha256:" + sha256;
            image.StatusDetails = "Queued for validation and import.";
            image.PercentComplete = 0;
            image.LastModifiedAt = now;
            image.ConcurrencyStamp = Guid.NewGuid();
            db.Publish(new DeviceImageContentUploaded(image.Id, image.TenantId, uploadFile));
            db.Audit(clock, image.TenantId, AuditActor.From(http), "image", "UploadDeviceImageContent",
                $"Uploaded {received} bytes for device image {image.DisplayName} {image.Version}", true, Resource(image));
            try
            {
                await db.SaveChangesAsync(cancellationToken);
            }
            catch (DbUpdateConcurrencyException)
            {
                // Another upload (or a delete) of this image won while this body streamed.
                db.ChangeTracker.Clear();
                var current = await db.DeviceImages.AsNoTracking().FirstOrDefaultAsync(i => i.Id == id && i.TenantId == tenant, cancellationToken);
                return current is null ? Problems.NotFound("device image", id) : NotWaitingForContent(current);
            }

            committed = true;
            return TypedResults.Accepted($"/api/v1/deviceImages/{image.Id}", DeviceImageView.From(image));
        }
        finally
        {
            if (!committed)
            {
                File.Delete(path);
            }
        }
    }

    /// <summary>Streams the body to the file; stops reading once it passes the limit.</summary>
    /// <returns>The bytes received (more than the limit when the body is too large) and their sha256.</returns>
    private static async Task<(long Received, string Sha256)> ReceiveAsync(Stream body, string path, long limit, CancellationToken cancellationToken)
    {
        await using var output = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[1 << 20];
        long received = 0;
        int read;
        while ((read = await body.ReadAsync(buffer, cancellationToken)) > 0)
        {
            received += read;
            if (received > limit)
            {
                return (received, "");
            }

            hash.AppendData(buffer, 0, read);
            await output.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
        }

        await output.FlushAsync(cancellationToken);
        return (received, Convert.ToHexStringLower(hash.GetHashAndReset()));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(
        Guid id, HttpContext http, DeviceImageDeletion deletion, CancellationToken cancellationToken)
    {
        var outcome = await deletion.DeleteAsync(http.User.RequiredTenantId(), id, AuditActor.From(http), cancellationToken);
        return outcome.Result switch
        {
            DeletionResult.Deleted => TypedResults.NoContent(),
            DeletionResult.NotFound => Problems.NotFound("device image", id),
            DeletionResult.InUse => InUse(id, outcome.Usage!),
            _ => Problems.DependencyUnavailable($"Stratus could not learn whether device image {id} is in use ({outcome.Error}), so it is kept. Delete it again in a minute."),
        };
    }

    /// <summary>409 naming what uses the image, also as members for programs: policies and cloudPcCount.</summary>
    private static ProblemHttpResult InUse(Guid id, ImageUsage usage) => TypedResults.Problem(
        statusCode: StatusCodes.Status409Conflict,
        title: "Conflict",
        detail: $"Device image {id} is used by {usage.Describe()}: their disks are built on it. Point the policies at another image, "
            + "reprovision or delete their Cloud PCs, then delete the image.",
        type: Problems.TypePrefix + "image-in-use",
        extensions: new Dictionary<string, object?> { ["policies"] = usage.Policies, ["cloudPcCount"] = usage.CloudPcCount });

    private static ProblemHttpResult NotWaitingForContent(DeviceImage image) => Problems.Conflict("image-not-pending",
        image.Status == DeviceImageStatus.Pending
            ? $"Device image {image.Id} already has its content, which is being validated. Create a new image to upload another disk."
            : $"Device image {image.Id} is {image.Status.ToString().ToLowerInvariant()}; content is uploaded once. Create a new image to upload another disk.");

    private static ProblemHttpResult TooLarge(long limit) => TypedResults.Problem(
        statusCode: StatusCodes.Status413PayloadTooLarge,
        title: "Upload too large",
        detail: $"Uploads may have at most {limit} bytes ({limit / (double)ImagesOptions.GiB:0.##} GiB). Shrink the disk or convert it to a compact qcow2 (`qemu-img convert -O qcow2 -c`).",
        type: Problems.TypePrefix + "upload-too-large");

    private static AuditResource Resource(DeviceImage image) => new(image.ImageId, "deviceImage", image.DisplayName);
}
