using System.Security.Cryptography;

namespace Stratus.Testing;

/// <summary>
/// The gallery image "Stratus Tiny Linux", built once by scripts/build-tiny-image.sh into artifacts/tiny-image/
/// and rebuilt only when the script changes (its sha256 is kept beside the image). Shared by every test of
/// every test project; a file lock keeps test projects that run at the same time from building it twice.
/// </summary>
public static class TinyImageFolder
{
    public const string ImageId = "stratus-tiny-linux";

    private static readonly Lazy<Task<string>> Folder = new(BuildAsync);

    public static Task<string> GetAsync() => Folder.Value;

    /// <summary>Copies the image (without the build cache) to DATA/images/gallery/stratus-tiny-linux, as `make up` puts it.</summary>
    public static async Task InstallIntoAsync(string dataFolder)
    {
        var source = await GetAsync();
        var target = Path.Combine(dataFolder, "images", "gallery", ImageId);
        Directory.CreateDirectory(target);
        foreach (var file in Directory.GetFiles(source))
        {
            File.Copy(file, Path.Combine(target, Path.GetFileName(file)), overwrite: true);
        }
    }

    private static async Task<string> BuildAsync()
    {
        var root = StratusProcess.RepositoryRoot;
        var script = Path.Combine(root, "scripts", "build-tiny-image.sh");
        var folder = Path.Combine(root, "artifacts", "tiny-image");
        Directory.CreateDirectory(Path.Combine(root, "artifacts"));
        await using var buildLock = await AcquireLockAsync(Path.Combine(root, "artifacts", "tiny-image.lock"));
        var stamp = Path.Combine(folder, ".script-sha256");
        var scriptHash = Convert.ToHexStringLower(SHA256.HashData(await File.ReadAllBytesAsync(script)));
        var upToDate = File.Exists(Path.Combine(folder, "manifest.json"))
            && File.Exists(stamp) && (await File.ReadAllTextAsync(stamp)).Trim() == scriptHash;
        if (!upToDate)
        {
            await ProcessRunner.RunCheckedAsync("bash", [script, folder], TimeSpan.FromMinutes(15));
            await File.WriteAllTextAsync(stamp, scriptHash);
        }

        return folder;
    }

    /// <summary>An exclusive lock file shared by test projects that run at the same time (one builds or installs, the others wait).</summary>
    public static async Task<FileStream> AcquireLockAsync(string path)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (attempt < 900)
            {
                await Task.Delay(TimeSpan.FromSeconds(1));
            }
        }
    }
}
