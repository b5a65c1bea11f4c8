using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Stratus.Images.Tests;

[Collection(ImagesCollection.Name)]
public sealed class GalleryImagesTests(ImagesHosts hosts)
{
    [Theory]
    [MemberData(nameof(ImagesHosts.Providers), MemberType = typeof(ImagesHosts))]
    public async Task Gallery_ImageFoundAtStart_IsListedAndReplicatedIntoEveryRegion(string provider)
    {
        var host = hosts.Host(provider);
        using var tenant = await host.CreateTenantAsync();

        var image = await WaitUntilReplicatedAsync(tenant.Admin, ImagesHosts.GalleryImageId, host.Regions.Count);

        Assert.Equal("Stratus Test Gallery", image.GetProperty("displayName").GetString());
        Assert.Equal("Stratus Test Gallery", image.GetProperty("offerDisplayName").GetString());
        Assert.Equal("Stratus", image.GetProperty("publisherDisplayName").GetString());
        Assert.Equal("1.2.3", image.GetProperty("skuDisplayName").GetString());
        Assert.Equal("1.2.3", image.GetProperty("osVersionNumber").GetString());
        Assert.Equal(2, image.GetProperty("sizeInGB").GetInt32());
        Assert.Equal("supported", image.GetProperty("status").GetString());
        Assert.True(DateOnly.TryParse(image.GetProperty("startDate").GetString(), System.Globalization.CultureInfo.InvariantCulture, out _));
        Assert.Equal(JsonValueKind.Null, image.GetProperty("endDate").ValueKind);
        Assert.Equal(host.Regions, image.GetProperty("replicas").EnumerateArray().Select(r => r.GetProperty("region").GetString()));

        foreach (var region in host.Regions)
        {
            // The copy is the gallery folder without its hidden .cache, complete (manifest included), nothing half-made beside it.
            var copy = Path.Combine(host.RegionFolder(region), ImagesHosts.GalleryImageId);
            Assert.Equal(["disk.qcow2", "initrd.img", "manifest.json", "vmlinux"], Directory.EnumerateFileSystemEntries(copy).Select(Path.GetFileName).Order(StringComparer.Ordinal));
            Assert.Equal(
                await File.ReadAllBytesAsync(Path.Combine(host.ImagesRoot, "gallery", ImagesHosts.GalleryImageId, "disk.qcow2")),
                await File.ReadAllBytesAsync(Path.Combine(copy, "disk.qcow2")));
            Assert.DoesNotContain(Directory.EnumerateFileSystemEntries(host.RegionFolder(region)), e => Path.GetFileName(e).StartsWith('.'));
        }

        var list = await tenant.Admin.GetFromJsonAsync<JsonElement>("/api/v1/galleryImages");
        Assert.Contains(list.GetProperty("value").EnumerateArray(), i => i.GetProperty("id").GetString() == ImagesHosts.GalleryImageId);
    }

    [Theory]
    [MemberData(nameof(ImagesHosts.Providers), MemberType = typeof(ImagesHosts))]
    public async Task Replicate_ImageAddedLater_IsCopiedOnDemand_AndExistingCopiesAreKept(string provider)
    {
        var host = hosts.Host(provider);
        using var operatorClient = await host.Process.OperatorClientAsync();
        var id = "stratus-test-late-" + Guid.NewGuid().ToString("N")[..8];
        var first = host.Regions[0];
        await WaitUntilReplicatedAsync(operatorClient, ImagesHosts.GalleryImageId, host.Regions.Count);
        var existing = Path.Combine(host.RegionFolder(first), ImagesHosts.GalleryImageId, "disk.qcow2");
        var before = File.GetLastWriteTimeUtc(existing);
        await DiskFiles.WriteFakeGalleryImageAsync(Path.Combine(host.ImagesRoot, "gallery"), id, "Late Image", "2.0.0");

        var response = await operatorClient.PostAsync("/api/v1/galleryImages/replicate", null);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var late = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("value").EnumerateArray().Single(i => i.GetProperty("id").GetString() == id);
        Assert.All(late.GetProperty("replicas").EnumerateArray(), r => Assert.Equal("replicated", r.GetProperty("status").GetString()));
        Assert.All(host.Regions, r => Assert.True(File.Exists(Path.Combine(host.RegionFolder(r), id, "manifest.json"))));
        Assert.Equal(before, File.GetLastWriteTimeUtc(existing));
    }

    [Theory]
    [MemberData(nameof(ImagesHosts.Providers), MemberType = typeof(ImagesHosts))]
    public async Task Gallery_ReaderCanRead_UserAndAnonymousCannot_OnlyTheOperatorReplicates(string provider)
    {
        var host = hosts.Host(provider);
        using var tenant = await host.CreateTenantAsync();
        using var reader = await tenant.UserClientAsync("reader", "cloudPcReader");
        using var user = await tenant.UserClientAsync("plain");

        Assert.Equal(HttpStatusCode.OK, (await reader.GetAsync($"/api/v1/galleryImages/{ImagesHosts.GalleryImageId}")).StatusCode);
        await Problem.AssertAsync(await user.GetAsync("/api/v1/galleryImages"), HttpStatusCode.Forbidden);
        await Problem.AssertAsync(await host.Process.Http.GetAsync("/api/v1/galleryImages"), HttpStatusCode.Unauthorized);
        await Problem.AssertAsync(await tenant.Admin.PostAsync("/api/v1/galleryImages/replicate", null), HttpStatusCode.Forbidden);
        await Problem.AssertAsync(await reader.GetAsync("/api/v1/galleryImages/no-such-image"), HttpStatusCode.NotFound);
    }

    private static async Task<JsonElement> WaitUntilReplicatedAsync(HttpClient client, string id, int regions)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var image = await client.GetFromJsonAsync<JsonElement>($"/api/v1/galleryImages/{id}");
            var replicas = image.GetProperty("replicas").EnumerateArray().ToList();
            if (replicas.Count == regions && replicas.All(r => r.GetProperty("status").GetString() == "replicated"))
            {
                return image;
            }

            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"{id} is not replicated after 30 s: {image}");
            await Task.Delay(200);
        }
    }
}
