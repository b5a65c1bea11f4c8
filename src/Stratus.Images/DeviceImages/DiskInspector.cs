using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Options;

namespace Stratus.Images.DeviceImages;

/// <summary>Graph's cloudPcDeviceImageErrorCode values that Stratus uses.</summary>
public static class DeviceImageErrorCodes
{
    public const string SourceImageInvalid = "sourceImageInvalid";
    public const string SourceImageNotFound = "sourceImageNotFound";
    public const string SourceImageSizeExceedsLimitation = "sourceImageSizeExceedsLimitation";
    public const string InternalServerError = "internalServerError";
}

/// <summary>An upload that cannot become an image, with the reason in words its owner can act on.</summary>
internal sealed class ImageRefusedException(string errorCode, string details) : Exception(details)
{
    public string ErrorCode { get; } = errorCode;
}

internal sealed record Inspection(string Format, long VirtualSize);

/// <summary>
/// Decides whether an upload is a disk Stratus can boot: qcow2 or raw, standalone, whole, and a disk at all.
/// Only qemu-img reads the file's structure, never following a backing file: `qemu-img info` without
/// --backing-chain does not open one, and an image that names one is refused before anything else opens it.
/// </summary>
internal sealed class DiskInspector(QemuImg qemuImg, IOptions<ImagesOptions> options)
{
    private const string HowToMake = "Upload a standalone qcow2 (for example made with `qemu-img convert -O qcow2 DISK image.qcow2`) or a raw disk image.";

    public async Task<Inspection> InspectAsync(string path, CancellationToken cancellationToken)
    {
        var file = new FileInfo(path);
        if (!file.Exists)
        {
            throw new ImageRefusedException(DeviceImageErrorCodes.SourceImageNotFound, "The uploaded content is gone from the image store. Delete this image and upload it again.");
        }

        var length = file.Length;
        if (length == 0)
        {
            throw Invalid("The upload is empty. " + HowToMake);
        }

        var timeout = options.Value.InspectTimeout;
        var info = await qemuImg.RunAsync(["info", "--output=json", path], timeout, untrusted: true, cancellationToken);
        if (info.ExitCode != 0)
        {
            throw Invalid($"qemu-img cannot read the upload as a disk image ({info.Complaint}). {HowToMake}");
        }

        using var json = JsonDocument.Parse(info.StandardOutput);
        var root = json.RootElement;
        var format = root.TryGetProperty("format", out var f) ? f.GetString() ?? "" : "";
        var virtualSize = root.TryGetProperty("virtual-size", out var v) ? v.GetInt64() : 0;
        switch (format)
        {
            case "qcow2":
                await CheckQcow2Async(path, root, timeout, cancellationToken);
                break;
            case "raw":
                await CheckRawAsync(path, length, cancellationToken);
                break;
            default:
                throw Invalid($"The upload is a {format} image; Stratus takes qcow2 or raw. Convert it first: `qemu-img convert -O qcow2 DISK image.qcow2`.");
        }

        var limit = options.Value.MaxVirtualSizeGiB * ImagesOptions.GiB;
        if (virtualSize > limit)
        {
            throw new ImageRefusedException(DeviceImageErrorCodes.SourceImageSizeExceedsLimitation,
                $"The disk's virtual size is {Gib(virtualSize)} GiB; images may have at most {options.Value.MaxVirtualSizeGiB} GiB. Shrink its partitions and the disk (`qemu-img resize --shrink`), then upload it again.");
        }

        if (virtualSize <= 0)
        {
            throw Invalid("The disk has no size. " + HowToMake);
        }

        return new Inspection(format, virtualSize);
    }

    private async Task CheckQcow2Async(string path, JsonElement info, TimeSpan timeout, CancellationToken cancellationToken)
    {
        // A backing file would make the image read some other file of this server, and could not be copied to regions.
        if (info.TryGetProperty("backing-filename", out var backing) || info.TryGetProperty("full-backing-filename", out backing))
        {
            throw Invalid($"The qcow2 image names a backing file ('{backing.GetString()}'), so it is only the difference to another disk. Upload a standalone image: `qemu-img convert -O qcow2 OVERLAY image.qcow2` merges the chain.");
        }

        var data = info.TryGetProperty("format-specific", out var specific) && specific.TryGetProperty("data", out var d) ? d : default;
        if (data.ValueKind == JsonValueKind.Object && data.TryGetProperty("data-file", out var dataFile))
        {
            throw Invalid($"The qcow2 image keeps its data in an external file ('{dataFile.GetString()}'). Upload a standalone image: `qemu-img convert -O qcow2 DISK image.qcow2`.");
        }

        if (info.TryGetProperty("encrypted", out var encrypted) && encrypted.ValueKind == JsonValueKind.True)
        {
            throw Invalid("The qcow2 image is encrypted; Stratus cannot boot it without the key. Upload an unencrypted image.");
        }

        if (data.ValueKind == JsonValueKind.Object && data.TryGetProperty("corrupt", out var corrupt) && corrupt.ValueKind == JsonValueKind.True)
        {
            throw Invalid("The qcow2 image is marked corrupt. Repair it (`qemu-img check -r all`) or export it again, then upload it again.");
        }

        var check = await qemuImg.RunAsync(["check", "-f", "qcow2", "--output=json", path], timeout, untrusted: true, cancellationToken);

        // 0: clean; 3: only leaked clusters (wasted space, which the conversion drops); 2: corruptions, which
        // include any cluster past the end of the file (a truncated upload); 1: could not check.
        if (check.ExitCode is not (0 or 3))
        {
            var corruptions = TryRead(check.StandardOutput, "corruptions");
            throw Invalid(check.ExitCode == 2
                ? $"The qcow2 image is damaged or truncated: qemu-img check found {corruptions ?? "some"} corruptions. Upload it again in full, or export it again."
                : $"The qcow2 image cannot be checked ({check.Complaint}); it is probably truncated or damaged. Upload it again in full.");
        }
    }

    private static async Task CheckRawAsync(string path, long length, CancellationToken cancellationToken)
    {
        if (length % 512 != 0)
        {
            throw Invalid($"A raw disk is a whole number of 512-byte sectors; the upload has {length} bytes, so it is truncated or not a disk. {HowToMake}");
        }

        // Every bootable disk starts with a partition table: an MBR, or GPT's protective MBR, both signed 0x55AA
        // at byte 510. Without it this is some other file, sent as a disk.
        var signature = new byte[2];
        await using (var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 4096, FileOptions.Asynchronous))
        {
            stream.Seek(510, SeekOrigin.Begin);
            await stream.ReadExactlyAsync(signature, cancellationToken);
        }

        if (signature[0] != 0x55 || signature[1] != 0xAA)
        {
            throw Invalid($"The upload does not look like a disk: a raw disk starts with a partition table (MBR or GPT, signed 0x55AA at byte 510), and this file has none. {HowToMake}");
        }
    }

    private static string? TryRead(string json, string property)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            return document.RootElement.TryGetProperty(property, out var value) ? value.ToString() : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string Gib(long bytes) => (bytes / (double)ImagesOptions.GiB).ToString("0.#", CultureInfo.InvariantCulture);

    private static ImageRefusedException Invalid(string details) => new(DeviceImageErrorCodes.SourceImageInvalid, details);
}
