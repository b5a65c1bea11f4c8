using System.Security.Cryptography;

namespace Stratus.Testing;

/// <summary>
/// A small disk that boots as a custom image does (from its disk: SYSLINUX, the tiny image's kernel, an initrd whose
/// getty prints "customdisk login:" on the serial console and the display, never STRATUS-READY), built by
/// scripts/build-bootable-disk.sh into artifacts/bootable-disk/disk.qcow2 and rebuilt only when the script or the
/// kernel changes. Shared by every test of every test project, as <see cref="TinyImageFolder"/> is.
/// </summary>
public static class BootableDiskFolder
{
    /// <summary>The prompt the disk's getty prints on ttyS0 and tty1 (its host name is customdisk).</summary>
    public const string LoginPrompt = "customdisk login:";

    private static readonly Lazy<Task<string>> Disk = new(BuildAsync);

    /// <summary>The path of disk.qcow2; copy it before writing to it.</summary>
    public static Task<string> GetAsync() => Disk.Value;

    private static async Task<string> BuildAsync()
    {
        var kernel = Path.Combine(await TinyImageFolder.GetAsync(), "vmlinuz");
        var root = StratusProcess.RepositoryRoot;
        var script = Path.Combine(root, "scripts", "build-bootable-disk.sh");
        var folder = Path.Combine(root, "artifacts", "bootable-disk");
        await using var buildLock = await TinyImageFolder.AcquireLockAsync(Path.Combine(root, "artifacts", "bootable-disk.lock"));
        var stamp = Path.Combine(folder, ".build-sha256");
        var buildKey = Convert.ToHexStringLower(SHA256.HashData([.. await File.ReadAllBytesAsync(script), .. await File.ReadAllBytesAsync(kernel)]));
        var disk = Path.Combine(folder, "disk.qcow2");
        var upToDate = File.Exists(disk) && File.Exists(stamp) && (await File.ReadAllTextAsync(stamp)).Trim() == buildKey;
        if (!upToDate)
        {
            await ProcessRunner.RunCheckedAsync("bash", [script, kernel, folder], TimeSpan.FromMinutes(5));
            await File.WriteAllTextAsync(stamp, buildKey);
        }

        return disk;
    }
}
