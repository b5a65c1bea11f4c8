using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Stratus.Compute.Tests;

public sealed class PlacementTests(ComputeHost compute) : IClassFixture<ComputeHost>
{
    [Fact]
    public async Task Place_SpreadsOverZones_WithinCapacity_ThenRefusesWithAReason()
    {
        await compute.DrainAllAsync();
        using var a = await compute.EnrollAsync("test-1", "test-1a", vcpus: 2, memoryMiB: 2048, diskGiB: 100);
        using var b = await compute.EnrollAsync("test-1", "test-1b", vcpus: 2, memoryMiB: 2048, diskGiB: 100);

        var hosts = new List<Guid>();
        for (var i = 0; i < 4; i++)
        {
            var placed = await compute.PlaceAsync("test-1");
            Assert.Equal(HttpStatusCode.Created, placed.StatusCode);
            hosts.Add((await placed.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("hostId").GetGuid());
        }

        // Alternating zones: two VMs on each host, which is all that fits.
        Assert.Equal(2, hosts.Count(h => h == a.HostId));
        Assert.Equal(2, hosts.Count(h => h == b.HostId));
        Assert.NotEqual(hosts[0], hosts[1]);

        var full = await compute.PlaceAsync("test-1");
        Assert.Equal(HttpStatusCode.Conflict, full.StatusCode);
        var problem = await full.Content.ReadFromJsonAsync<JsonElement>();
        Assert.EndsWith("no-capacity", problem.GetProperty("type").GetString(), StringComparison.Ordinal);
        Assert.Contains("test-1", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);

        var host = await compute.Operator.GetFromJsonAsync<JsonElement>($"/api/v1/hosts/{a.HostId}");
        Assert.Equal(2, host.GetProperty("allocated").GetProperty("vCpus").GetInt32());
        Assert.Equal(2, host.GetProperty("vmCount").GetInt32());
    }

    [Fact]
    public async Task Place_SameIdTwice_PlacesOnce()
    {
        await compute.DrainAllAsync();
        using var host = await compute.EnrollAsync("test-2", "test-2a");
        var id = Guid.NewGuid();

        var first = await compute.PlaceAsync("test-2", id: id);
        var second = await compute.PlaceAsync("test-2", id: id);

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        var vms = await compute.Operator.GetFromJsonAsync<JsonElement>($"/api/v1/vms?hostId={host.HostId}");
        Assert.Equal(1, vms.GetArrayLength());
        var view = await compute.Operator.GetFromJsonAsync<JsonElement>($"/api/v1/hosts/{host.HostId}");
        Assert.Equal(1024, view.GetProperty("allocated").GetProperty("memoryMiB").GetInt32());
    }

    [Fact]
    public async Task Place_AnIdThatWasDeleted_IsRefusedAndPlacesNothing()
    {
        await compute.DrainAllAsync();
        using var host = await compute.EnrollAsync("test-2", "test-2a");
        var id = Guid.NewGuid();
        Assert.Equal(HttpStatusCode.Created, (await compute.PlaceAsync("test-2", id: id)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await compute.Operator.DeleteAsync($"/api/v1/vms/{id}")).StatusCode);
        (await host.ReportAsync(vms: Array.Empty<object>())).EnsureSuccessStatusCode();
        var vms = await compute.Operator.GetFromJsonAsync<JsonElement>($"/api/v1/vms?hostId={host.HostId}");
        Assert.Equal(0, vms.GetArrayLength());

        var again = await compute.PlaceAsync("test-2", id: id);

        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        var problem = await again.Content.ReadFromJsonAsync<JsonElement>();
        Assert.EndsWith("vm-deleted", problem.GetProperty("type").GetString(), StringComparison.Ordinal);
        Assert.Contains("Leave 'id' out", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        vms = await compute.Operator.GetFromJsonAsync<JsonElement>($"/api/v1/vms?hostId={host.HostId}");
        Assert.Equal(0, vms.GetArrayLength());
    }

    [Fact]
    public async Task Place_DrainedHostAndUnknownRegion_AreRefused()
    {
        await compute.DrainAllAsync();
        using var host = await compute.EnrollAsync("test-2", "test-2a");
        Assert.Equal(HttpStatusCode.OK, (await compute.Operator.PostAsync($"/api/v1/hosts/{host.HostId}/drain", null)).StatusCode);

        Assert.Equal(HttpStatusCode.Conflict, (await compute.PlaceAsync("test-2")).StatusCode);
        var unknown = await compute.PlaceAsync("mars-1");
        Assert.Equal(HttpStatusCode.BadRequest, unknown.StatusCode);
        Assert.True((await unknown.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors").TryGetProperty("region", out _));
        var tooBig = await compute.Operator.PostAsJsonAsync("/api/v1/vms", new { region = "test-2", imageId = "tiny", vCpuCount = 0, memoryMiB = 1, diskGiB = 0 });
        var errors = (await tooBig.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors");
        Assert.True(errors.TryGetProperty("vCpuCount", out _) && errors.TryGetProperty("memoryMiB", out _) && errors.TryGetProperty("diskGiB", out _));

        Assert.Equal(HttpStatusCode.OK, (await compute.Operator.PostAsync($"/api/v1/hosts/{host.HostId}/resume", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await compute.PlaceAsync("test-2")).StatusCode);
    }

    [Fact]
    public async Task Regions_ListConfiguredZonesAndReadyHosts()
    {
        var regions = (await compute.Operator.GetFromJsonAsync<JsonElement>("/api/v1/regions")).EnumerateArray().ToList();
        Assert.Equal(["test-1", "test-2"], regions.Select(r => r.GetProperty("name").GetString()));
        Assert.Equal(["test-1a", "test-1b"], regions[0].GetProperty("zones").EnumerateArray().Select(z => z.GetProperty("name").GetString()));
    }
}
