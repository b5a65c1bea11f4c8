using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Stratus.Testing;

namespace Stratus.Images.Tests;

[Collection(ImagesCollection.Name)]
public sealed class DeviceImagesTests(ImagesHosts hosts) : IDisposable
{
    private readonly TempFolder files = new();

    public void Dispose() => files.Dispose();

    public static TheoryData<string, string> Disks()
    {
        var data = new TheoryData<string, string>();
        foreach (var provider in new[] { "sqlite", "postgres" })
        {
            data.Add(provider, "qcow2");
            data.Add(provider, "raw with an MBR");
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Disks))]
    public async Task Upload_RealDisk_BecomesReady_InEveryRegion_AsAStandaloneQcow2WithoutKernel(string provider, string kind)
    {
        var host = hosts.Host(provider);
        using var tenant = await host.CreateTenantAsync();
        var disk = kind == "qcow2" ? await DiskFiles.Qcow2Async(files.Path) : await DiskFiles.RawWithMbrAsync(files.Path);
        var id = await DeviceImagesClient.CreateAsync(tenant.Admin, "Finance desktop", "2.1.0");

        var upload = await DeviceImagesClient.UploadAsync(tenant.Admin, id, disk);

        Assert.Equal(HttpStatusCode.Accepted, upload.StatusCode);
        Assert.Equal($"/api/v1/deviceImages/{id}", upload.Headers.Location?.OriginalString);
        var image = await DeviceImagesClient.WaitForDecisionAsync(tenant.Admin, id);
        Assert.True(image.GetProperty("status").GetString() == "ready", image.ToString());
        Assert.Equal(JsonValueKind.Null, image.GetProperty("errorCode").ValueKind);
        Assert.Equal("Finance desktop", image.GetProperty("displayName").GetString());
        Assert.Equal("2.1.0", image.GetProperty("version").GetString());
        Assert.StartsWith("sha256:", image.GetProperty("sourceImageResourceId").GetString(), StringComparison.Ordinal);
        foreach (var region in host.Regions)
        {
            var folder = Path.Combine(host.RegionFolder(region), id);
            var manifest = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(folder, "manifest.json"))).RootElement;
            Assert.Equal(1, manifest.GetProperty("formatVersion").GetInt32());
            Assert.Equal("Finance desktop", manifest.GetProperty("name").GetString());
            Assert.Equal("2.1.0", manifest.GetProperty("version").GetString());
            Assert.Equal("disk.qcow2", manifest.GetProperty("disk").GetString());
            Assert.False(manifest.TryGetProperty("kernel", out _));
            Assert.False(manifest.TryGetProperty("initrd", out _));
            var info = await ProcessRunner.RunCheckedAsync("qemu-img", ["info", "--output=json", Path.Combine(folder, "disk.qcow2")], TimeSpan.FromSeconds(30));
            var disk0 = JsonDocument.Parse(info.StandardOutput).RootElement;
            Assert.Equal("qcow2", disk0.GetProperty("format").GetString());
            Assert.False(disk0.TryGetProperty("backing-filename", out _));
        }

        // The upload was only the source: it is gone once the image is ready.
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(host.ImagesRoot, "uploads"), Guid.Parse(id).ToString("N") + "*"));
        var events = await host.EventsAsync(id);
        Assert.Contains("images.deviceImageReady.v1", events);
        Assert.Contains("platform.auditRecorded.v1", events);
    }

    public static TheoryData<string, string> Refusals()
    {
        var data = new TheoryData<string, string>();
        foreach (var provider in new[] { "sqlite", "postgres" })
        {
            data.Add(provider, "text file");
            data.Add(provider, "truncated qcow2");
            data.Add(provider, "qcow2 with a backing file");
            data.Add(provider, "qcow2 larger than the limit");
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Refusals))]
    public async Task Upload_NotAUsableDisk_Fails_WithAReason_AndLeavesNoFile(string provider, string kind)
    {
        var host = hosts.Host(provider);
        using var tenant = await host.CreateTenantAsync();
        var (path, errorCode, reason) = kind switch
        {
            "text file" => (await DiskFiles.TextAsync(files.Path), "sourceImageInvalid", "not a disk"),
            "truncated qcow2" => (await DiskFiles.TruncatedQcow2Async(files.Path), "sourceImageInvalid", "truncated"),
            "qcow2 with a backing file" => (await DiskFiles.Qcow2WithBackingFileAsync(files.Path), "sourceImageInvalid", "backing file"),
            "qcow2 larger than the limit" => (await DiskFiles.Qcow2Async(files.Path, size: "2G"), "sourceImageSizeExceedsLimitation", "at most 1 GiB"),
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };
        var id = await DeviceImagesClient.CreateAsync(tenant.Admin);

        Assert.Equal(HttpStatusCode.Accepted, (await DeviceImagesClient.UploadAsync(tenant.Admin, id, path)).StatusCode);

        var image = await DeviceImagesClient.WaitForDecisionAsync(tenant.Admin, id);
        Assert.Equal("failed", image.GetProperty("status").GetString());
        Assert.Equal(errorCode, image.GetProperty("errorCode").GetString());
        Assert.Contains(reason, image.GetProperty("statusDetails").GetString(), StringComparison.Ordinal);
        await host.AssertNothingLeftAsync(id);
        Assert.Contains("images.deviceImageFailed.v1", await host.EventsAsync(id));

        // A decided image takes no second upload.
        var again = await DeviceImagesClient.UploadAsync(tenant.Admin, id, await DiskFiles.RawWithMbrAsync(files.Path));
        Assert.EndsWith("image-not-pending", (await Problem.AssertAsync(again, HttpStatusCode.Conflict)).GetProperty("type").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("sqlite", false)]
    [InlineData("sqlite", true)]
    [InlineData("postgres", false)]
    [InlineData("postgres", true)]
    public async Task Upload_OverTheLimit_Returns413_LeavesNoFile_AndTheImageStillTakesContent(string provider, bool chunked)
    {
        var host = hosts.Host(provider);
        using var tenant = await host.CreateTenantAsync();
        var big = Path.Combine(files.Path, "big.raw");
        var bytes = new byte[ImagesHosts.MaxUploadBytes + (1024 * 1024)];
        bytes[510] = 0x55;
        bytes[511] = 0xAA;
        await File.WriteAllBytesAsync(big, bytes);
        var id = await DeviceImagesClient.CreateAsync(tenant.Admin);

        var response = await DeviceImagesClient.UploadAsync(tenant.Admin, id, big, chunked);

        var problem = await Problem.AssertAsync(response, HttpStatusCode.RequestEntityTooLarge);
        Assert.Contains(ImagesHosts.MaxUploadBytes.ToString(System.Globalization.CultureInfo.InvariantCulture), problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        await host.AssertNothingLeftAsync(id);
        var image = await tenant.Admin.GetFromJsonAsync<JsonElement>($"/api/v1/deviceImages/{id}");
        Assert.Equal("pending", image.GetProperty("status").GetString());

        Assert.Equal(HttpStatusCode.Accepted, (await DeviceImagesClient.UploadAsync(tenant.Admin, id, await DiskFiles.RawWithMbrAsync(files.Path), chunked)).StatusCode);
        Assert.Equal("ready", (await DeviceImagesClient.WaitForDecisionAsync(tenant.Admin, id)).GetProperty("status").GetString());
    }

    [Theory]
    [MemberData(nameof(ImagesHosts.Providers), MemberType = typeof(ImagesHosts))]
    public async Task Create_WrongJsonOrMissingFields_Returns400NamingThem(string provider)
    {
        var host = hosts.Host(provider);
        using var tenant = await host.CreateTenantAsync();

        var malformed = await tenant.Admin.PostAsync("/api/v1/deviceImages", new StringContent("{\"displayName\": ", Encoding.UTF8, "application/json"));
        var wrongType = await tenant.Admin.PostAsync("/api/v1/deviceImages", new StringContent("{\"displayName\": 42, \"version\": \"1.0.0\"}", Encoding.UTF8, "application/json"));
        var missing = await tenant.Admin.PostAsJsonAsync("/api/v1/deviceImages", new { version = "one" });

        await Problem.AssertAsync(malformed, HttpStatusCode.BadRequest);
        Assert.Contains("JSON", (await Problem.AssertAsync(wrongType, HttpStatusCode.BadRequest)).GetProperty("detail").GetString(), StringComparison.Ordinal);
        var errors = (await Problem.AssertAsync(missing, HttpStatusCode.BadRequest)).GetProperty("errors");
        Assert.True(errors.TryGetProperty("displayName", out _));
        Assert.Contains("major.minor.patch", errors.GetProperty("version")[0].GetString(), StringComparison.Ordinal);
        Assert.Equal(0, (await tenant.Admin.GetFromJsonAsync<JsonElement>("/api/v1/deviceImages")).GetProperty("totalCount").GetInt32());
    }

    [Theory]
    [MemberData(nameof(ImagesHosts.Providers), MemberType = typeof(ImagesHosts))]
    public async Task Upload_WrongContentTypeOrEmptyBody_IsRefused_AndLeavesNoFile(string provider)
    {
        var host = hosts.Host(provider);
        using var tenant = await host.CreateTenantAsync();
        var id = await DeviceImagesClient.CreateAsync(tenant.Admin);

        var json = await tenant.Admin.PutAsJsonAsync($"/api/v1/deviceImages/{id}/content", new { disk = "base64" });
        var empty = new ByteArrayContent([]);
        empty.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/octet-stream");
        var nothing = await tenant.Admin.PutAsync($"/api/v1/deviceImages/{id}/content", empty);

        await Problem.AssertAsync(json, HttpStatusCode.UnsupportedMediaType);
        Assert.True((await Problem.AssertAsync(nothing, HttpStatusCode.BadRequest)).GetProperty("errors").TryGetProperty("content", out _));
        await host.AssertNothingLeftAsync(id);
    }

    [Theory]
    [MemberData(nameof(ImagesHosts.Providers), MemberType = typeof(ImagesHosts))]
    public async Task UnknownId_Returns404_OnEveryEndpoint(string provider)
    {
        var host = hosts.Host(provider);
        using var tenant = await host.CreateTenantAsync();
        var unknown = Guid.NewGuid();
        var disk = await DiskFiles.RawWithMbrAsync(files.Path);

        await Problem.AssertAsync(await tenant.Admin.GetAsync($"/api/v1/deviceImages/{unknown}"), HttpStatusCode.NotFound);
        await Problem.AssertAsync(await DeviceImagesClient.UploadAsync(tenant.Admin, unknown.ToString(), disk), HttpStatusCode.NotFound);
        await Problem.AssertAsync(await tenant.Admin.DeleteAsync($"/api/v1/deviceImages/{unknown}"), HttpStatusCode.NotFound);
        await Problem.AssertAsync(await tenant.Admin.GetAsync("/api/v1/deviceImages/not-a-guid"), HttpStatusCode.NotFound);
    }

    [Theory]
    [MemberData(nameof(ImagesHosts.Providers), MemberType = typeof(ImagesHosts))]
    public async Task Delete_ReadyImage_RemovesItsFilesFromEveryStore(string provider)
    {
        var host = hosts.Host(provider);
        using var tenant = await host.CreateTenantAsync();
        var id = await DeviceImagesClient.CreateAsync(tenant.Admin);
        await DeviceImagesClient.UploadAsync(tenant.Admin, id, await DiskFiles.Qcow2Async(files.Path));
        Assert.Equal("ready", (await DeviceImagesClient.WaitForDecisionAsync(tenant.Admin, id)).GetProperty("status").GetString());
        Assert.All(host.Regions, r => Assert.True(Directory.Exists(Path.Combine(host.RegionFolder(r), id))));

        Assert.Equal(HttpStatusCode.NoContent, (await tenant.Admin.DeleteAsync($"/api/v1/deviceImages/{id}")).StatusCode);

        await Problem.AssertAsync(await tenant.Admin.GetAsync($"/api/v1/deviceImages/{id}"), HttpStatusCode.NotFound);
        await host.AssertNothingLeftAsync(id);
        Assert.Contains("images.deviceImageDeleted.v1", await host.EventsAsync(id));
    }

    [Theory]
    [MemberData(nameof(ImagesHosts.Providers), MemberType = typeof(ImagesHosts))]
    public async Task List_IsPagedAndFiltered(string provider)
    {
        var host = hosts.Host(provider);
        using var tenant = await host.CreateTenantAsync();
        var first = await DeviceImagesClient.CreateAsync(tenant.Admin, "Alpha", "1.0.0");
        var second = await DeviceImagesClient.CreateAsync(tenant.Admin, "Beta", "1.0.0");
        await DeviceImagesClient.CreateAsync(tenant.Admin, "Gamma", "1.0.0");

        var page = await tenant.Admin.GetFromJsonAsync<JsonElement>("/api/v1/deviceImages?$top=2&$skip=0");
        var beta = await tenant.Admin.GetFromJsonAsync<JsonElement>("/api/v1/deviceImages?$filter=displayName eq 'Beta' and status eq 'pending'");
        var badFilter = await tenant.Admin.GetAsync("/api/v1/deviceImages?$filter=status eq 'lost'");
        var badTop = await tenant.Admin.GetAsync("/api/v1/deviceImages?$top=0");

        Assert.Equal(3, page.GetProperty("totalCount").GetInt32());
        Assert.Equal([first, second], page.GetProperty("value").EnumerateArray().Select(i => i.GetProperty("id").GetString()));
        Assert.Equal(second, beta.GetProperty("value").EnumerateArray().Single().GetProperty("id").GetString());
        Assert.True((await Problem.AssertAsync(badFilter, HttpStatusCode.BadRequest)).GetProperty("errors").TryGetProperty("$filter", out _));
        Assert.True((await Problem.AssertAsync(badTop, HttpStatusCode.BadRequest)).GetProperty("errors").TryGetProperty("$top", out _));
    }
}
