using System.Text.Json;
using System.Text.Json.Serialization;

namespace Stratus.Images.Store;

/// <summary>
/// manifest.json of an image folder, as scripts/build-tiny-image.sh writes it and the host agent reads it
/// (src/Stratus.HostAgent/Drivers/GalleryImage.cs). A custom image has no kernel or initrd: it boots from its disk.
/// Publisher, offer and sku are optional display names for the gallery.
/// </summary>
public sealed record ImageManifest(
    int FormatVersion,
    string? Name,
    string? Version,
    string? Kernel,
    string? Initrd,
    string? Disk,
    string? Publisher,
    string? Offer,
    string? Sku,
    Dictionary<string, ManifestFile>? Files)
{
    public const string FileName = "manifest.json";

    public const int CurrentFormatVersion = 1;

    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        WriteIndented = true,
    };
}

public sealed record ManifestFile([property: JsonPropertyName("sha256")] string Sha256, long Size);
