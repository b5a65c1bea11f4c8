using System.Net.Http.Json;

namespace Stratus.FrontDoor.Tests;

/// <summary>Changes the stand-ins' health, so it has regions of its own.</summary>
public sealed class HealthRoutingTests
{
    [Fact]
    public async Task RegionWhoseReadyzFails_IsAvoided_AndSoIsAnInstanceThatFails()
    {
        await using var regions = await TwoRegions.StartAsync();
        using var client = regions.Client();
        await TwoRegions.EventuallyAsync(() => client.GetFromJsonAsync<Echo>("/api/v1/x"), e => e!.Region == "B", "a read served by B");

        foreach (var b in regions.B)
        {
            b.Ready = false;
        }

        // Reads fall back to the writable region once B's probes fail.
        await TwoRegions.EventuallyAsync(() => client.GetFromJsonAsync<Echo>("/api/v1/x"), e => e!.Region == "A", "a read served by A once B is unhealthy");

        // Within a region: a1 fails its probe, so every write goes to a2.
        regions.A[0].Ready = false;
        await TwoRegions.EventuallyAsync(async () =>
        {
            var served = new List<string>();
            for (var i = 0; i < 6; i++)
            {
                using var response = await client.PostAsJsonAsync("/api/v1/x", new { i });
                served.Add((await response.Content.ReadFromJsonAsync<Echo>())!.Instance);
            }

            return string.Join(",", served);
        }, s => s.Split(',').All(i => i == "a2"), "six writes all served by a2");
    }
}
