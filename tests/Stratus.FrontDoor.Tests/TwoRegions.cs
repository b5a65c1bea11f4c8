using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Stratus.Platform.Regions;
using Stratus.Testing;

namespace Stratus.FrontDoor.Tests;

/// <summary>
/// Regions A and B of two stand-in instances each, the stand-in identity, and the real front door process
/// (`stratus run --targets frontdoor`) in front of them, with short times so that a failover fits a test:
/// a 2 s lease, a 5 s failover delay, probes every 250 ms. Each test has its own, and stops all of it.
/// </summary>
public sealed class TwoRegions : IAsyncDisposable
{
    public static readonly TimeSpan LeaseDuration = TimeSpan.FromSeconds(2);
    public static readonly TimeSpan FailoverDelay = TimeSpan.FromSeconds(5);

    /// <summary>Generous: the CI machine is two busy cores.</summary>
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(90);

    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private readonly TempFolder data = new();

    private TwoRegions(StandInIdentity identity, IReadOnlyList<StandInInstance> a, IReadOnlyList<StandInInstance> b)
    {
        Identity = identity;
        A = a;
        B = b;
    }

    public StandInIdentity Identity { get; }

    public IReadOnlyList<StandInInstance> A { get; }

    public IReadOnlyList<StandInInstance> B { get; }

    public StratusProcess FrontDoor { get; private set; } = null!;

    public static async Task<TwoRegions> StartAsync()
    {
        var identity = await StandInIdentity.StartAsync();
        var instances = await Task.WhenAll(StandInInstance.StartAsync("A", "a1"), StandInInstance.StartAsync("A", "a2"),
            StandInInstance.StartAsync("B", "b1"), StandInInstance.StartAsync("B", "b2"));
        var regions = new TwoRegions(identity, instances[..2], instances[2..]);
        await regions.StartFrontDoorAsync();
        return regions;
    }

    /// <summary>Starts the front door on the same data folder: what a restart after a crash does.</summary>
    public async Task StartFrontDoorAsync()
    {
        var environment = new Dictionary<string, string?>
        {
            ["Stratus__Services__identity__Url"] = Identity.Url.ToString(),
            ["Stratus__FrontDoor__PreferredReadRegion"] = "B",
            ["Stratus__FrontDoor__LeaseDuration"] = LeaseDuration.ToString(),
            ["Stratus__FrontDoor__FailoverDelay"] = FailoverDelay.ToString(),
            ["Stratus__FrontDoor__ProbeInterval"] = "00:00:00.250",
            ["Stratus__FrontDoor__ProbeTimeout"] = "00:00:02",
        };
        foreach (var (region, index) in new[] { (A, 0), (B, 1) })
        {
            environment[$"Stratus__FrontDoor__Regions__{index}__Name"] = region[0].Region;
            for (var i = 0; i < region.Count; i++)
            {
                environment[$"Stratus__FrontDoor__Regions__{index}__Instances__{i}"] = region[i].Url.ToString();
            }
        }

        FrontDoor = await StratusProcess.StartAsync(["run", "--targets", "frontdoor"], data.Path, environment);
    }

    public async Task StopFrontDoorAsync() => await FrontDoor.DisposeAsync();

    public HttpClient Client(string? token = null)
    {
        var client = FrontDoor.NewClient();
        if (token is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return client;
    }

    public async Task<RegionLease> LeaseAsync(HttpClient service, string region)
    {
        using var response = await service.GetAsync($"{RegionLeaseApi.Path}?region={region}");
        Assert.True(response.IsSuccessStatusCode, $"lease for {region}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return (await response.Content.ReadFromJsonAsync<RegionLease>(Json))!;
    }

    public async Task<JsonElement> RegionsAsync(HttpClient @operator)
    {
        using var response = await @operator.GetAsync("/frontdoor/v1/regions");
        Assert.True(response.IsSuccessStatusCode, $"regions: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return await response.Content.ReadFromJsonAsync<JsonElement>(Json);
    }

    /// <summary>Polls until <paramref name="condition"/> holds, failing with <paramref name="what"/> after <see cref="Deadline"/>.</summary>
    public static async Task<T> EventuallyAsync<T>(Func<Task<T>> read, Func<T, bool> condition, string what)
    {
        var until = TimeProvider.System.GetUtcNow() + Deadline;
        T last;
        while (!condition(last = await read()))
        {
            Assert.True(TimeProvider.System.GetUtcNow() < until, $"not within {Deadline.TotalSeconds} s: {what}; last seen: {last}");
            await Task.Delay(100);
        }

        return last;
    }

    public async ValueTask DisposeAsync()
    {
        if (FrontDoor is not null)
        {
            await FrontDoor.DisposeAsync();
        }

        foreach (var instance in A.Concat(B))
        {
            await instance.DisposeAsync();
        }

        await Identity.DisposeAsync();
        data.Dispose();
    }
}
