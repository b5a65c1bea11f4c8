using Stratus.HostAgent.Drivers;
using Stratus.Testing;

namespace Stratus.HostAgent.Tests.Support;

/// <summary>The gallery image of tests/Stratus.Testing's TinyImageFolder, loaded and verified once per run.</summary>
internal static class TinyImage
{
    private static readonly Lazy<Task<GalleryImage>> Image = new(BuildAsync);

    public static Task<GalleryImage> GetAsync() => Image.Value;

    public static string RepositoryRoot => StratusProcess.RepositoryRoot;

    private static async Task<GalleryImage> BuildAsync() => await GalleryImage.LoadAsync(await TinyImageFolder.GetAsync(), verify: true);
}
