using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Stratus.HostAgent.Drivers;

/// <summary>
/// An image folder as scripts/build-tiny-image.sh writes it: a kernel, an initrd, a base disk and a
/// manifest.json that names them with their sha256. A custom image (from the images service) has no kernel
/// or initrd: it boots from its disk's own boot loader. VM disks are copy-on-write clones of the base disk,
/// so the folder must stay while any VM uses it.
/// </summary>
/// <param name="KernelPath">Null for an image that boots from its disk; then <paramref name="InitrdPath"/> is null too.</param>
/// <param name="ReadyMarker">The line the guest prints on its serial console once ready; null when the image
/// announces nothing (a custom image), and the VM counts as ready once QEMU runs it.</param>
public sealed record GalleryImage(
    string FolderPath,
    string Name,
    string Version,
    string? KernelPath,
    string? InitrdPath,
    string BaseDiskPath,
    string KernelCommandLine,
    string? ReadyMarker)
{
    /// <summary>The newest manifest format this build understands; a newer one is refused, not guessed at.</summary>
    public const int SupportedFormatVersion = 1;

    public const string ManifestFileName = "manifest.json";

    public const string DefaultReadyMarker = "STRATUS-READY";

    private static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web);

    /// <summary>Reads the manifest; with <paramref name="verify"/>, also checks every file against its sha256.</summary>
    public static async Task<GalleryImage> LoadAsync(string folderPath, bool verify, CancellationToken cancellationToken = default)
    {
        var folder = Path.GetFullPath(folderPath);
        var manifestPath = Path.Combine(folder, ManifestFileName);
        if (!File.Exists(manifestPath))
        {
            throw new VmDriverException($"'{folder}' is not an image: it has no {ManifestFileName}.");
        }

        Manifest manifest;
        await using (var stream = File.OpenRead(manifestPath))
        {
            manifest = await JsonSerializer.DeserializeAsync<Manifest>(stream, JsonOptions, cancellationToken)
                ?? throw new VmDriverException($"{manifestPath} is empty.");
        }

        if (manifest.FormatVersion > SupportedFormatVersion)
        {
            throw new VmDriverException(
                $"{manifestPath} has format version {manifest.FormatVersion}; this host agent reads up to {SupportedFormatVersion}. Upgrade the agent.");
        }

        if (manifest.Disk is null || manifest.Name is null || (manifest.Kernel is null) != (manifest.Initrd is null))
        {
            throw new VmDriverException($"{manifestPath} lacks its name or disk, or names a kernel without an initrd (or the reverse).");
        }

        var bootsFromDisk = manifest.Kernel is null;
        var image = new GalleryImage(
            folder,
            manifest.Name,
            manifest.Version ?? "unknown",
            bootsFromDisk ? null : Path.Combine(folder, manifest.Kernel!),
            bootsFromDisk ? null : Path.Combine(folder, manifest.Initrd!),
            Path.Combine(folder, manifest.Disk),
            manifest.Cmdline ?? "console=ttyS0",
            manifest.ReadyMarker ?? (bootsFromDisk ? null : DefaultReadyMarker));

        foreach (var path in new[] { image.KernelPath, image.InitrdPath, image.BaseDiskPath }.OfType<string>())
        {
            if (!File.Exists(path))
            {
                throw new VmDriverException($"Image '{image.Name}' in {folder} lacks {Path.GetFileName(path)}.");
            }
        }

        if (verify)
        {
            foreach (var (file, entry) in manifest.Files ?? [])
            {
                await using var stream = File.OpenRead(Path.Combine(folder, file));
                var actual = Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, cancellationToken));
                if (!string.Equals(actual, entry.Sha256, StringComparison.OrdinalIgnoreCase))
                {
                    throw new VmDriverException($"Image '{image.Name}' in {folder}: {file} does not match its sha256 in the manifest.");
                }
            }
        }

        return image;
    }

    private sealed record Manifest(
        int FormatVersion,
        string? Name,
        string? Version,
        string? Kernel,
        string? Initrd,
        string? Disk,
        string? Cmdline,
        string? ReadyMarker,
        Dictionary<string, ManifestFile>? Files);

    private sealed record ManifestFile([property: JsonPropertyName("sha256")] string Sha256, long Size);
}
