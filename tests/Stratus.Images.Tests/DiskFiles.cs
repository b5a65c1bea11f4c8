using System.Security.Cryptography;
using System.Text.Json;
using Stratus.Testing;

namespace Stratus.Images.Tests;

/// <summary>Small disk images made for a test with qemu-img, and the fake gallery image (a test fixture).</summary>
public static class DiskFiles
{
    public static async Task<string> Qcow2Async(string folder, string name = "disk.qcow2", string size = "64M")
    {
        var path = Path.Combine(folder, name);
        await ProcessRunner.RunCheckedAsync("qemu-img", ["create", "-q", "-f", "qcow2", path, size], TimeSpan.FromSeconds(30));
        return path;
    }

    /// <summary>A qcow2 that is only the difference to another disk.</summary>
    public static async Task<string> Qcow2WithBackingFileAsync(string folder)
    {
        var backing = await Qcow2Async(folder, "base.qcow2");
        var path = Path.Combine(folder, "overlay.qcow2");
        await ProcessRunner.RunCheckedAsync("qemu-img", ["create", "-q", "-f", "qcow2", "-b", backing, "-F", "qcow2", path], TimeSpan.FromSeconds(30));
        return path;
    }

    /// <summary>A qcow2 cut short, as an interrupted download leaves it: its refcount tables end past the file.</summary>
    public static async Task<string> TruncatedQcow2Async(string folder)
    {
        var path = await Qcow2Async(folder, "truncated.qcow2");
        await using (var stream = new FileStream(path, FileMode.Open))
        {
            stream.SetLength(100_000);
        }

        return path;
    }

    /// <summary>1 MiB of raw disk with an MBR signature (0x55AA at byte 510).</summary>
    public static async Task<string> RawWithMbrAsync(string folder)
    {
        var bytes = new byte[1024 * 1024];
        bytes[510] = 0x55;
        bytes[511] = 0xAA;
        var path = Path.Combine(folder, "disk.raw");
        await File.WriteAllBytesAsync(path, bytes);
        return path;
    }

    public static async Task<string> TextAsync(string folder)
    {
        var path = Path.Combine(folder, "notes.txt");
        await File.WriteAllTextAsync(path, string.Concat(Enumerable.Repeat("This is a text file, not a disk.\n", 100)));
        return path;
    }

    /// <summary>
    /// A gallery image as scripts/build-tiny-image.sh lays it out (manifest, kernel, initrd, disk, a .cache of
    /// downloads), with small stand-in files: enough to list and replicate, not to boot.
    /// </summary>
    public static async Task WriteFakeGalleryImageAsync(string galleryFolder, string id, string name, string version)
    {
        var folder = Path.Combine(galleryFolder, id);
        Directory.CreateDirectory(Path.Combine(folder, ".cache"));
        await File.WriteAllTextAsync(Path.Combine(folder, ".cache", "linux-image.deb"), "a downloaded package");
        await File.WriteAllTextAsync(Path.Combine(folder, "vmlinux"), "not really a kernel");
        await File.WriteAllTextAsync(Path.Combine(folder, "initrd.img"), "not really an initrd");
        await Qcow2Async(folder, "disk.qcow2", "2G");
        var files = new[] { "vmlinux", "initrd.img", "disk.qcow2" }.ToDictionary(f => f, f =>
        {
            var bytes = File.ReadAllBytes(Path.Combine(folder, f));
            return new { sha256 = Convert.ToHexStringLower(SHA256.HashData(bytes)), size = bytes.Length };
        });
        var manifest = new
        {
            formatVersion = 1,
            name,
            version,
            kernel = "vmlinux",
            initrd = "initrd.img",
            disk = "disk.qcow2",
            cmdline = "console=ttyS0",
            readyMarker = "STRATUS-READY",
            files,
        };
        await File.WriteAllTextAsync(Path.Combine(folder, "manifest.json"), JsonSerializer.Serialize(manifest));
    }
}
