using System.Text.RegularExpressions;

namespace Stratus.Provisioning.Policies;

/// <summary>
/// What an image id can be, checked before it is looked up or sent to the images service in a URL: a device
/// image's GUID, or a gallery image's folder name (the images service's rule: a letter or digit, then letters,
/// digits, dots, dashes and underscores, at most 128, never "..").
/// </summary>
public static partial class ImageIds
{
    public static bool IsWellFormed(string imageId) =>
        Guid.TryParse(imageId, out _) || (GalleryIdPattern().IsMatch(imageId) && !imageId.Contains("..", StringComparison.Ordinal));

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")]
    private static partial Regex GalleryIdPattern();
}
