namespace Stratus.Images.Store;

/// <summary>
/// Taking an image out of use before its files go: every folder of it (custom/ and each region) is renamed to a
/// hidden `.ID.withdrawn-*` folder in one step each, so that from then on no host agent can build a VM disk on
/// it, yet it can be put back untouched when a last check finds it in use. The leftovers sweep never touches
/// withdrawn folders: only the deletion that withdrew them removes them (or puts them back).
/// </summary>
public sealed partial class ImageStore
{
    private const string WithdrawnMarker = ".withdrawn-";

    /// <summary>Withdraws every folder of the image; idempotent (folders withdrawn before stay so).</summary>
    /// <returns>How many folders are withdrawn now.</returns>
    public int Withdraw(string imageId)
    {
        foreach (var parent in ImageParents().Where(Directory.Exists))
        {
            var folder = Path.Combine(parent, imageId);
            if (Directory.Exists(folder))
            {
                Directory.Move(folder, Path.Combine(parent, $".{imageId}{WithdrawnMarker}{Guid.NewGuid():N}"));
            }
        }

        return ImageParents().Sum(parent => Withdrawn(parent, imageId).Count());
    }

    /// <summary>Puts withdrawn folders back where nothing took their place.</summary>
    public void Restore(string imageId)
    {
        foreach (var parent in ImageParents())
        {
            foreach (var withdrawn in Withdrawn(parent, imageId).ToList())
            {
                var folder = Path.Combine(parent, imageId);
                if (!Directory.Exists(folder))
                {
                    Directory.Move(withdrawn, folder);
                }
            }
        }
    }

    /// <summary>Removes an image that nothing uses: its withdrawn folders, and whatever else of it <see cref="RemoveEverywhere"/> finds.</summary>
    public void RemoveWithdrawn(string imageId)
    {
        foreach (var parent in ImageParents())
        {
            foreach (var withdrawn in Withdrawn(parent, imageId).ToList())
            {
                DeleteQuietly(withdrawn);
            }
        }

        RemoveEverywhere(imageId);
    }

    private IEnumerable<string> ImageParents() => Regions.Select(RegionFolder).Prepend(CustomFolder);

    private static IEnumerable<string> Withdrawn(string parent, string imageId) =>
        Directory.Exists(parent) ? Directory.EnumerateDirectories(parent, $".{imageId}{WithdrawnMarker}*") : [];
}
