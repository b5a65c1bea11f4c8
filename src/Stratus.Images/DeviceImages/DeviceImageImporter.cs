using System.Text.Json;
using Microsoft.Extensions.Options;
using Stratus.Images.Store;

namespace Stratus.Images.DeviceImages;

internal sealed record ImportResult(Inspection Source, IReadOnlyList<string> Regions);

/// <summary>Where an import stands: a percentage and a sentence for the image's statusDetails.</summary>
internal delegate Task ImportProgress(int percent, string details, CancellationToken cancellationToken);

/// <summary>
/// Turns a validated upload into an image: a standalone qcow2 and a manifest (no kernel: it boots from its
/// disk) in custom/ID, then a copy in every region's store. Each step is atomic and skipped when already
/// done, so a redelivered message after a crash finishes the work instead of starting over.
/// </summary>
internal sealed class DeviceImageImporter(ImageStore store, DiskInspector inspector, QemuImg qemuImg, IOptions<ImagesOptions> options)
{
    private const string DiskFile = "disk.qcow2";

    /// <summary>Checking is 10 %, the conversion up to 50 %, the copies into the regions share the rest.</summary>
    public async Task<ImportResult> ImportAsync(DeviceImage image, string uploadPath, ImportProgress progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(progress);
        await progress(5, "Checking the uploaded disk.", cancellationToken);
        var source = await inspector.InspectAsync(uploadPath, cancellationToken);
        var master = store.CustomImageFolder(image.ImageId);
        if (!Directory.Exists(master))
        {
            await progress(10, $"Converting the {source.Format} disk to a standalone qcow2.", cancellationToken);
            await ConvertAsync(image, uploadPath, source, master, cancellationToken);
        }

        var stored = store.ReadImage(master) ?? throw new InvalidDataException($"{master} is not a complete image.");
        for (var i = 0; i < store.Regions.Count; i++)
        {
            await progress(50 + (50 * i / store.Regions.Count), $"Copying the image into region {store.Regions[i]} ({i + 1} of {store.Regions.Count}).", cancellationToken);
            await store.ReplicateAsync(stored, store.Regions[i], cancellationToken);
        }

        return new ImportResult(source, store.Regions);
    }

    private async Task ConvertAsync(DeviceImage image, string uploadPath, Inspection source, string master, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(store.CustomFolder);
        var staging = ImageStore.StagingFolder(store.CustomFolder, image.ImageId);
        Directory.CreateDirectory(staging);
        try
        {
            // The format is named, never probed again: a raw disk whose first bytes look like a qcow2 header stays raw.
            var disk = Path.Combine(staging, DiskFile);
            var convert = await qemuImg.RunAsync(["convert", "-q", "-f", source.Format, "-O", "qcow2", uploadPath, disk],
                options.Value.ConvertTimeout, untrusted: false, cancellationToken);
            if (convert.ExitCode != 0)
            {
                throw new ImageRefusedException(DeviceImageErrorCodes.SourceImageInvalid,
                    $"qemu-img could not convert the upload to qcow2 ({convert.Complaint}); it is probably damaged. Upload it again.");
            }

            var (sha256, size) = await ImageStore.HashFileAsync(disk, cancellationToken);
            var manifest = new ImageManifest(ImageManifest.CurrentFormatVersion, image.DisplayName, image.Version, Kernel: null, Initrd: null, DiskFile,
                Publisher: null, Offer: null, Sku: null, new Dictionary<string, ManifestFile> { [DiskFile] = new(sha256, size) });
            await File.WriteAllBytesAsync(Path.Combine(staging, ImageManifest.FileName), JsonSerializer.SerializeToUtf8Bytes(manifest, ImageManifest.Json), cancellationToken);
            Directory.Move(staging, master);
        }
        catch
        {
            if (Directory.Exists(staging))
            {
                Directory.Delete(staging, recursive: true);
            }

            throw;
        }
    }
}
