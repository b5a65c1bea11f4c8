using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Stratus.Testing;

namespace Stratus.Images.Tests;

/// <summary>A token of tenant A never reads or changes tenant B's images; roles decide who writes.</summary>
[Collection(ImagesCollection.Name)]
public sealed class TenantIsolationTests(ImagesHosts hosts) : IDisposable
{
    private readonly TempFolder files = new();

    public void Dispose() => files.Dispose();

    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (var provider in new[] { "sqlite", "postgres" })
        {
            foreach (var endpoint in new[] { "GET", "PUT content", "DELETE" })
            {
                data.Add(provider, endpoint);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task TenantA_CannotReachTenantBsImage(string provider, string endpoint)
    {
        var host = hosts.Host(provider);
        using var a = await host.CreateTenantAsync();
        using var b = await host.CreateTenantAsync();
        var pending = await DeviceImagesClient.CreateAsync(b.Admin, "B's image");
        var disk = await DiskFiles.RawWithMbrAsync(files.Path);

        var response = endpoint switch
        {
            "GET" => await a.Admin.GetAsync($"/api/v1/deviceImages/{pending}"),
            "PUT content" => await DeviceImagesClient.UploadAsync(a.Admin, pending, disk),
            "DELETE" => await a.Admin.DeleteAsync($"/api/v1/deviceImages/{pending}"),
            _ => throw new ArgumentOutOfRangeException(nameof(endpoint)),
        };

        await Problem.AssertAsync(response, HttpStatusCode.NotFound);
        await host.AssertNothingLeftAsync(pending);
        var image = await b.Admin.GetFromJsonAsync<JsonElement>($"/api/v1/deviceImages/{pending}");
        Assert.Equal(("B's image", "pending"), (image.GetProperty("displayName").GetString(), image.GetProperty("status").GetString()));

        // B can still upload to it: A's attempt left nothing that blocks it.
        Assert.Equal(HttpStatusCode.Accepted, (await DeviceImagesClient.UploadAsync(b.Admin, pending, disk)).StatusCode);
    }

    [Theory]
    [MemberData(nameof(ImagesHosts.Providers), MemberType = typeof(ImagesHosts))]
    public async Task List_ShowsOnlyTheCallersTenant(string provider)
    {
        var host = hosts.Host(provider);
        using var a = await host.CreateTenantAsync();
        using var b = await host.CreateTenantAsync();
        var mine = await DeviceImagesClient.CreateAsync(a.Admin, "Mine");
        await DeviceImagesClient.CreateAsync(b.Admin, "Theirs");

        var list = await a.Admin.GetFromJsonAsync<JsonElement>("/api/v1/deviceImages");

        Assert.Equal(1, list.GetProperty("totalCount").GetInt32());
        Assert.Equal(mine, list.GetProperty("value").EnumerateArray().Single().GetProperty("id").GetString());
        var filtered = await a.Admin.GetFromJsonAsync<JsonElement>("/api/v1/deviceImages?$filter=displayName eq 'Theirs'");
        Assert.Equal(0, filtered.GetProperty("totalCount").GetInt32());
    }

    [Theory]
    [MemberData(nameof(ImagesHosts.Providers), MemberType = typeof(ImagesHosts))]
    public async Task Roles_UserCannotRead_ReaderCannotWrite_CloudPcAdministratorCan(string provider)
    {
        var host = hosts.Host(provider);
        using var tenant = await host.CreateTenantAsync();
        using var user = await tenant.UserClientAsync("plain");
        using var reader = await tenant.UserClientAsync("reader", "cloudPcReader");
        using var cloudPcAdmin = await tenant.UserClientAsync("pcadmin", "cloudPcAdministrator");
        using var operatorClient = await host.Process.OperatorClientAsync();
        var existing = await DeviceImagesClient.CreateAsync(tenant.Admin);

        await Problem.AssertAsync(await user.PostAsJsonAsync("/api/v1/deviceImages", new { displayName = "Mine", version = "1.0.0" }), HttpStatusCode.Forbidden);
        await Problem.AssertAsync(await user.GetAsync("/api/v1/deviceImages"), HttpStatusCode.Forbidden);
        await Problem.AssertAsync(await reader.PostAsJsonAsync("/api/v1/deviceImages", new { displayName = "Mine", version = "1.0.0" }), HttpStatusCode.Forbidden);
        await Problem.AssertAsync(await reader.DeleteAsync($"/api/v1/deviceImages/{existing}"), HttpStatusCode.Forbidden);
        await Problem.AssertAsync(await DeviceImagesClient.UploadAsync(reader, existing, await DiskFiles.RawWithMbrAsync(files.Path)), HttpStatusCode.Forbidden);
        // The operator belongs to no tenant, so it has no tenant's images to create.
        await Problem.AssertAsync(await operatorClient.PostAsJsonAsync("/api/v1/deviceImages", new { displayName = "Mine", version = "1.0.0" }), HttpStatusCode.Forbidden);
        Assert.Equal(HttpStatusCode.OK, (await reader.GetAsync($"/api/v1/deviceImages/{existing}")).StatusCode);
        await DeviceImagesClient.CreateAsync(cloudPcAdmin);
        Assert.Equal(2, (await reader.GetFromJsonAsync<JsonElement>("/api/v1/deviceImages")).GetProperty("totalCount").GetInt32());
        await host.AssertNothingLeftAsync(existing);
    }
}
