using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Stratus.Testing;

namespace Stratus.Images.Tests;

/// <summary>
/// Issue 19 item 4: the image store of region A (the running service) replicated to region B's store (a folder, as a
/// mount of region B would be), checked by sha256; what goes wrong with a replica is found and repaired.
/// </summary>
[Collection(ImagesCollection.Name)]
public sealed class FileReplicationTests(ImagesHosts hosts) : IDisposable
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(120);
    private readonly TempFolder files = new();

    public void Dispose() => files.Dispose();

    [Theory]
    [MemberData(nameof(ImagesHosts.Providers), MemberType = typeof(ImagesHosts))]
    public async Task UploadedCustomImage_IsReplicatedToRegionB_WhereItsManifestChecksumsHold(string provider)
    {
        var host = hosts.Host(provider);
        using var tenant = await host.CreateTenantAsync();
        var id = await ReadyImageAsync(tenant);

        // What B's host agents read (regions/REGION/ID) and B's own copy of the custom image, complete with their manifests.
        var folders = host.Regions.Select(r => Path.Combine("regions", r, id)).Append(Path.Combine("custom", id)).ToList();
        await WaitForAsync($"image {id} replicated to B", () => folders.All(f => File.Exists(Path.Combine(host.RegionBImages, f, "manifest.json"))));
        foreach (var folder in folders)
        {
            await AssertImageIntactAsync(Path.Combine(host.RegionBImages, folder));
        }

        // The tenant sees its image's replicas with the checksums of B's bytes.
        var replicas = await tenant.Admin.GetFromJsonAsync<JsonElement>($"/api/v1/deviceImages/{id}/replicas");
        var values = replicas.GetProperty("value").EnumerateArray().ToList();
        Assert.Equal(folders.Count * 2, values.Count); // disk.qcow2 and manifest.json in each folder
        foreach (var replica in values)
        {
            Assert.Equal("replicated", replica.GetProperty("state").GetString());
            Assert.Equal("B", replica.GetProperty("targetRegion").GetString());
            var path = Path.Combine(host.RegionBImages, replica.GetProperty("path").GetString()!);
            Assert.Equal(await Sha256Async(path), replica.GetProperty("sha256").GetString());
        }

        // Idempotent: another pass copies nothing that is already there.
        using var operatorClient = await host.Process.OperatorClientAsync();
        Assert.Equal(HttpStatusCode.OK, (await operatorClient.PostAsync("/api/v1/fileReplication/run", null)).StatusCode);
        var again = await tenant.Admin.GetFromJsonAsync<JsonElement>($"/api/v1/deviceImages/{id}/replicas");
        Assert.Equal(
            values.Select(v => (v.GetProperty("path").GetString(), v.GetProperty("replicatedAt").GetDateTimeOffset())).Order(),
            again.GetProperty("value").EnumerateArray().Select(v => (v.GetProperty("path").GetString(), v.GetProperty("replicatedAt").GetDateTimeOffset())).Order());
    }

    [Theory]
    [MemberData(nameof(ImagesHosts.Providers), MemberType = typeof(ImagesHosts))]
    public async Task CorruptedAndMissingReplicas_AreDetectedAndCopiedAgain(string provider)
    {
        var host = hosts.Host(provider);
        var gallery = Path.Combine("gallery", ImagesHosts.GalleryImageId);
        var replica = Path.Combine(host.RegionBImages, gallery);
        var disk = Path.Combine(host.ImagesRoot, gallery, "disk.qcow2");
        var diskReplica = Path.Combine(replica, "disk.qcow2");
        await WaitForAsync("the gallery image replicated to B", () => File.Exists(Path.Combine(replica, "manifest.json")));
        var source = await Sha256Async(disk);

        // A flipped byte keeps the size: only reading the replica whole finds it; a missing manifest each pass does.
        await using (var stream = new FileStream(diskReplica, FileMode.Open, FileAccess.ReadWrite))
        {
            var first = stream.ReadByte();
            stream.Position = 0;
            stream.WriteByte((byte)(first ^ 0xFF));
        }

        File.Delete(Path.Combine(replica, "manifest.json"));
        Assert.NotEqual(source, await Sha256Async(diskReplica));

        using var operatorClient = await host.Process.OperatorClientAsync();
        var run = await operatorClient.PostAsync("/api/v1/fileReplication/run?verify=true", null);
        Assert.Equal(HttpStatusCode.OK, run.StatusCode);

        Assert.Equal(source, await Sha256Async(diskReplica));
        await AssertImageIntactAsync(replica);
        var failedOrPending = await operatorClient.GetFromJsonAsync<JsonElement>("/api/v1/fileReplication/files?state=pending");
        Assert.DoesNotContain(failedOrPending.GetProperty("value").EnumerateArray(), f => f.GetProperty("path").GetString()!.StartsWith("gallery/", StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(ImagesHosts.Providers), MemberType = typeof(ImagesHosts))]
    public async Task FailedCopy_IsRecordedAndRetriedWithBackoff_UntilItSucceeds(string provider)
    {
        var host = hosts.Host(provider);
        using var tenant = await host.CreateTenantAsync();

        // A file where B's folder for the image must go: every copy into it fails until it is removed.
        var blocker = Path.Combine(host.RegionBImages, "custom");
        Directory.CreateDirectory(blocker);
        var id = await DeviceImagesClient.CreateAsync(tenant.Admin);
        await File.WriteAllTextAsync(Path.Combine(blocker, id), "not a folder");
        await UploadReadyAsync(tenant, id);

        using var operatorClient = await host.Process.OperatorClientAsync();
        JsonElement failed = default;
        await WaitForAsync($"a failed copy of custom/{id}", async () =>
        {
            var page = await operatorClient.GetFromJsonAsync<JsonElement>("/api/v1/fileReplication/files?state=failed&targetRegion=B&$top=1000");
            failed = page.GetProperty("value").EnumerateArray().FirstOrDefault(f => f.GetProperty("path").GetString() == $"custom/{id}/disk.qcow2");
            return failed.ValueKind == JsonValueKind.Object;
        });
        Assert.True(failed.GetProperty("attempts").GetInt32() >= 1);
        Assert.False(string.IsNullOrEmpty(failed.GetProperty("lastError").GetString()));
        Assert.True(failed.GetProperty("nextAttemptAt").GetDateTimeOffset() > failed.GetProperty("sourceModifiedAt").GetDateTimeOffset());
        var status = await operatorClient.GetFromJsonAsync<JsonElement>("/api/v1/fileReplication");
        var route = status.GetProperty("routes").EnumerateArray().Single(r => r.GetProperty("targetRegion").GetString() == "B");
        Assert.True(route.GetProperty("failed").GetInt32() >= 1);
        Assert.True(route.GetProperty("lagSeconds").GetDouble() > 0);

        File.Delete(Path.Combine(blocker, id));
        await WaitForAsync($"custom/{id} replicated after the failure", () => File.Exists(Path.Combine(blocker, id, "manifest.json")));
        await AssertImageIntactAsync(Path.Combine(blocker, id));
    }

    [Theory]
    [MemberData(nameof(ImagesHosts.Providers), MemberType = typeof(ImagesHosts))]
    public async Task DeletedImage_IsRemovedFromRegionB(string provider)
    {
        var host = hosts.Host(provider);
        using var tenant = await host.CreateTenantAsync();
        var id = await ReadyImageAsync(tenant);
        var replica = Path.Combine(host.RegionBImages, "custom", id);
        await WaitForAsync($"image {id} replicated to B", () => File.Exists(Path.Combine(replica, "manifest.json")));

        Assert.Equal(HttpStatusCode.NoContent, (await tenant.Admin.DeleteAsync($"/api/v1/deviceImages/{id}")).StatusCode);

        await WaitForAsync($"image {id} removed from B", () => !Directory.Exists(replica)
            && host.Regions.All(r => !Directory.Exists(Path.Combine(host.RegionBImages, "regions", r, id))), host);
    }

    [Theory]
    [MemberData(nameof(ImagesHosts.Providers), MemberType = typeof(ImagesHosts))]
    public async Task Status_IsTheOperators_WithTheLagMetric_AndRefusesBadInput(string provider)
    {
        var host = hosts.Host(provider);
        using var operatorClient = await host.Process.OperatorClientAsync();
        await WaitForAsync("the gallery image replicated to B", () => File.Exists(Path.Combine(host.RegionBImages, "gallery", ImagesHosts.GalleryImageId, "manifest.json")));

        var status = await operatorClient.GetFromJsonAsync<JsonElement>("/api/v1/fileReplication");
        Assert.True(status.GetProperty("enabled").GetBoolean());
        Assert.Equal("A", status.GetProperty("region").GetString());
        var route = status.GetProperty("routes").EnumerateArray().Single();
        Assert.Equal("images", route.GetProperty("set").GetString());
        Assert.True(route.GetProperty("replicated").GetInt32() >= 2);
        Assert.NotEqual(JsonValueKind.Null, route.GetProperty("lastReplicatedAt").ValueKind);
        var metrics = await operatorClient.GetStringAsync("/metrics");
        Assert.Contains("stratus_file_replication_lag_seconds{", metrics, StringComparison.Ordinal);

        foreach (var bad in new[] { "files?state=bogus", "files?state=1", "files?targetRegion=C", "files?$top=0" })
        {
            await Problem.AssertAsync(await operatorClient.GetAsync($"/api/v1/fileReplication/{bad}"), HttpStatusCode.BadRequest);
        }

        await Problem.AssertAsync(await operatorClient.PostAsync("/api/v1/fileReplication/run?verify=maybe", null), HttpStatusCode.BadRequest);

        // Tenants see their own images' replicas only: not the operator's view, nor another tenant's image.
        using var owner = await host.CreateTenantAsync();
        using var other = await host.CreateTenantAsync();
        var id = await DeviceImagesClient.CreateAsync(owner.Admin);
        await Problem.AssertAsync(await owner.Admin.GetAsync("/api/v1/fileReplication"), HttpStatusCode.Forbidden);
        await Problem.AssertAsync(await other.Admin.GetAsync($"/api/v1/deviceImages/{id}/replicas"), HttpStatusCode.NotFound);
        Assert.Equal(HttpStatusCode.OK, (await owner.Admin.GetAsync($"/api/v1/deviceImages/{id}/replicas")).StatusCode);
    }

    private async Task<string> ReadyImageAsync(TestTenant tenant)
    {
        var id = await DeviceImagesClient.CreateAsync(tenant.Admin);
        await UploadReadyAsync(tenant, id);
        return id;
    }

    private async Task UploadReadyAsync(TestTenant tenant, string id)
    {
        var disk = await DiskFiles.Qcow2Async(files.Path, $"{id}.qcow2");
        Assert.Equal(HttpStatusCode.Accepted, (await DeviceImagesClient.UploadAsync(tenant.Admin, id, disk)).StatusCode);
        var image = await DeviceImagesClient.WaitForDecisionAsync(tenant.Admin, id);
        Assert.True(image.GetProperty("status").GetString() == "ready", image.ToString());
    }

    /// <summary>A replica folder is an image B can serve: its manifest's sha256 and size hold for every file it lists.</summary>
    private static async Task AssertImageIntactAsync(string folder)
    {
        var manifest = JsonDocument.Parse(await File.ReadAllBytesAsync(Path.Combine(folder, "manifest.json"))).RootElement;
        Assert.True(File.Exists(Path.Combine(folder, manifest.GetProperty("disk").GetString()!)), $"{folder} has no disk");
        var listed = manifest.GetProperty("files").EnumerateObject().ToList();
        Assert.NotEmpty(listed);
        foreach (var file in listed)
        {
            var path = Path.Combine(folder, file.Name);
            Assert.Equal(file.Value.GetProperty("sha256").GetString(), await Sha256Async(path));
            Assert.Equal(file.Value.GetProperty("size").GetInt64(), new FileInfo(path).Length);
        }
    }

    private static async Task<string> Sha256Async(string path)
    {
        await using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(await SHA256.HashDataAsync(stream));
    }

    private static Task WaitForAsync(string what, Func<bool> condition, ImagesHost? host = null) => WaitForAsync(what, () => Task.FromResult(condition()), host);

    /// <summary>Polls until the condition holds; passes run every 2 s, the deadline is generous for a loaded machine.</summary>
    private static async Task WaitForAsync(string what, Func<Task<bool>> condition, ImagesHost? host = null)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            // The replicator's own log lines (event ids 7251-7255) and failed passes say why, when it times out.
            Assert.True(clock.Elapsed < Deadline, $"Timed out after {Deadline.TotalSeconds} s waiting for {what}."
                + (host is null ? "" : "\n" + string.Join('\n', host.Process.Output.Split('\n').Where(l => l.Contains("replica", StringComparison.OrdinalIgnoreCase) || l.Contains("fileReplicator", StringComparison.Ordinal)).TakeLast(30))));
            await Task.Delay(250);
        }
    }
}
