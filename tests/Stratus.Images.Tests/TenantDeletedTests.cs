using System.Net;
using Microsoft.EntityFrameworkCore;
using Stratus.Testing;

namespace Stratus.Images.Tests;

/// <summary>Issue 16 item 12: a deleted tenant's custom images do not stay forever.</summary>
[Collection(ImagesCollection.Name)]
public sealed class TenantDeletedTests(ImagesHosts hosts) : IDisposable
{
    private readonly TempFolder files = new();

    public void Dispose() => files.Dispose();

    [Theory]
    [MemberData(nameof(ImagesHosts.Providers), MemberType = typeof(ImagesHosts))]
    public async Task A_deleted_tenants_images_are_forgotten_and_another_tenants_are_kept(string provider)
    {
        var host = hosts.Host(provider);
        using var gone = await host.CreateTenantAsync();
        using var kept = await host.CreateTenantAsync();
        var goneImage = Guid.Parse(await DeviceImagesClient.CreateAsync(gone.Admin));
        var keptImage = Guid.Parse(await DeviceImagesClient.CreateAsync(kept.Admin));

        using (var operatorClient = await host.Process.OperatorClientAsync())
        {
            Assert.Equal(HttpStatusCode.OK, (await operatorClient.PostAsync($"/api/v1/tenants/{gone.Id}/suspend", null)).StatusCode);
            Assert.True((await operatorClient.DeleteAsync($"/api/v1/tenants/{gone.Id}")).IsSuccessStatusCode);
        }

        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (await CountAsync(host, goneImage) > 0)
        {
            Assert.True(waited.Elapsed < TimeSpan.FromSeconds(60), "the deleted tenant's image is still in the images store after 60 s");
            await Task.Delay(200);
        }

        Assert.Equal(1, await CountAsync(host, keptImage));
    }

    private static async Task<int> CountAsync(ImagesHost host, Guid image)
    {
        await using var db = host.OpenStore();
        return await db.DeviceImages.CountAsync(i => i.Id == image);
    }
}
