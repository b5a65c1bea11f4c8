using Stratus.HostAgent.Drivers;
using Stratus.HostAgent.Tests.Support;
using Stratus.Testing;

namespace Stratus.HostAgent.Tests.Drivers;

/// <summary>The image's manifest: its format version is honoured and every file is checked against it.</summary>
public sealed class GalleryImageTests : IDisposable
{
    private readonly TempFolder temp = new();

    public void Dispose() => temp.Dispose();

    [Fact]
    public async Task Load_TheBuiltImage_NamesItsFilesAndVerifies()
    {
        var image = await TinyImage.GetAsync();

        Assert.Equal("Stratus Tiny Linux", image.Name);
        Assert.Equal("STRATUS-READY", image.ReadyMarker);
        Assert.Contains("console=ttyS0", image.KernelCommandLine, StringComparison.Ordinal);
        Assert.True(File.Exists(image.KernelPath) && File.Exists(image.InitrdPath) && File.Exists(image.BaseDiskPath));
    }

    [Fact]
    public async Task Load_NewerFormatVersion_IsRefused()
    {
        var copy = await CopyImageAsync();
        var manifest = Path.Combine(copy, GalleryImage.ManifestFileName);
        await File.WriteAllTextAsync(manifest, (await File.ReadAllTextAsync(manifest)).Replace("\"formatVersion\": 1", "\"formatVersion\": 2", StringComparison.Ordinal));

        var failure = await Assert.ThrowsAsync<VmDriverException>(() => GalleryImage.LoadAsync(copy, verify: false));

        Assert.Contains("format version 2", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Load_AlteredFile_FailsVerification()
    {
        var copy = await CopyImageAsync();
        await File.AppendAllTextAsync(Path.Combine(copy, "initrd.img"), "tampered");

        var failure = await Assert.ThrowsAsync<VmDriverException>(() => GalleryImage.LoadAsync(copy, verify: true));

        Assert.Contains("initrd.img does not match its sha256", failure.Message, StringComparison.Ordinal);
    }

    private async Task<string> CopyImageAsync()
    {
        var image = await TinyImage.GetAsync();
        foreach (var file in Directory.EnumerateFiles(image.FolderPath))
        {
            File.Copy(file, Path.Combine(temp.Path, Path.GetFileName(file)));
        }

        return temp.Path;
    }
}
