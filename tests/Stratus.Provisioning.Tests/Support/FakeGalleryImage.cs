using System.Security.Cryptography;
using System.Text.Json;
using Stratus.Testing;

namespace Stratus.Provisioning.Tests.Support;

/// <summary>
/// A gallery image laid out as scripts/build-tiny-image.sh does (manifest, kernel, initrd, qcow2 disk) with small
/// stand-in files: the images service lists and replicates it, and the simulated driver never boots it.
/// </summary>
public static class FakeGalleryImage
{
    public static async Task WriteAsync(string galleryFolder, string id, string name)
    {
        var folder = Path.Combine(galleryFolder, id);
        System.IO.Directory.CreateDirectory(folder);
        await File.WriteAllTextAsync(Path.Combine(folder, "vmlinux"), "not really a kernel");
        await File.WriteAllTextAsync(Path.Combine(folder, "initrd.img"), "not really an initrd");
        await ProcessRunner.RunCheckedAsync("qemu-img", ["create", "-q", "-f", "qcow2", Path.Combine(folder, "disk.qcow2"), "1G"], TimeSpan.FromSeconds(30));
        var files = new[] { "vmlinux", "initrd.img", "disk.qcow2" }.ToDictionary(f => f, f =>
        {
            var bytes = File.ReadAllBytes(Path.Combine(folder, f));
            return new { sha256 = Convert.ToHexStringLower(SHA256.HashData(bytes)), size = bytes.Length };
        });
        var manifest = new
        {
            formatVersion = 1,
            name,
            version = "1.0.0",
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
