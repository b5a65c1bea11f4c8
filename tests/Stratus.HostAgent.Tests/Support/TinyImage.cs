using System.Security.Cryptography;
using Stratus.HostAgent.Drivers;
using Stratus.Testing;

namespace Stratus.HostAgent.Tests.Support;

/// <summary>
/// The gallery image, built once by scripts/build-tiny-image.sh into artifacts/tiny-image/ and rebuilt only when
/// the script changes (its sha256 is kept beside the image). Shared by every test of the run.
/// </summary>
internal static class TinyImage
{
    private static readonly Lazy<Task<GalleryImage>> Image = new(BuildAsync);

    public static Task<GalleryImage> GetAsync() => Image.Value;

    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    private static async Task<GalleryImage> BuildAsync()
    {
        var script = Path.Combine(RepositoryRoot, "scripts", "build-tiny-image.sh");
        var folder = Path.Combine(RepositoryRoot, "artifacts", "tiny-image");
        var stamp = Path.Combine(folder, ".script-sha256");
        var scriptHash = Convert.ToHexStringLower(SHA256.HashData(await File.ReadAllBytesAsync(script)));
        var upToDate = File.Exists(Path.Combine(folder, GalleryImage.ManifestFileName))
            && File.Exists(stamp) && (await File.ReadAllTextAsync(stamp)).Trim() == scriptHash;
        if (!upToDate)
        {
            await ProcessRunner.RunCheckedAsync("bash", [script, folder], TimeSpan.FromMinutes(15));
            await File.WriteAllTextAsync(stamp, scriptHash);
        }

        return await GalleryImage.LoadAsync(folder, verify: true);
    }

    private static string FindRepositoryRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "Stratus.slnx")))
            {
                return folder.FullName;
            }
        }

        throw new InvalidOperationException($"No Stratus.slnx above {AppContext.BaseDirectory}.");
    }
}
