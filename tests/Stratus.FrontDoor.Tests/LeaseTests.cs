using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Stratus.Platform.Regions;

namespace Stratus.FrontDoor.Tests;

public sealed class LeaseTests
{
    [Fact]
    public async Task Lease_IsWritableForA_NotForB_AndBadRequestsGetProblems()
    {
        await using var regions = await TwoRegions.StartAsync();
        using var service = regions.Client(regions.Identity.ServiceToken("compute", RegionLeaseApi.Scope));

        var a = await regions.LeaseAsync(service, "A");
        Assert.True(a.Writable);
        Assert.Equal(("A", 1L), (a.WritableRegion, a.Epoch));
        // At most a lease from now (the answer may have taken long on a busy machine, so no lower bound).
        Assert.True(a.ValidUntil - TimeProvider.System.GetUtcNow() <= TwoRegions.LeaseDuration, $"lease until {a.ValidUntil:o} is longer than {TwoRegions.LeaseDuration}");

        var b = await regions.LeaseAsync(service, "b");
        Assert.False(b.Writable);
        Assert.Equal(("B", "A"), (b.Region, b.WritableRegion));

        using var anonymous = regions.Client();
        await AssertProblemAsync(await anonymous.GetAsync($"{RegionLeaseApi.Path}?region=A"), HttpStatusCode.Unauthorized);
        using var wrongScope = regions.Client(regions.Identity.ServiceToken("compute", "images.read"));
        await AssertProblemAsync(await wrongScope.GetAsync($"{RegionLeaseApi.Path}?region=A"), HttpStatusCode.Forbidden);
        var unknown = await AssertProblemAsync(await service.GetAsync($"{RegionLeaseApi.Path}?region=C"), HttpStatusCode.BadRequest);
        Assert.Contains("There is no region 'C'", unknown.GetProperty("errors").GetProperty("region")[0].GetString(), StringComparison.Ordinal);
        await AssertProblemAsync(await service.GetAsync(RegionLeaseApi.Path), HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Failover_MakesBWritable_OnlyAfterALastLeaseExpired_AndSurvivesARestart()
    {
        await using var regions = await TwoRegions.StartAsync();
        using var service = regions.Client(regions.Identity.ServiceToken("compute", RegionLeaseApi.Scope));
        using var @operator = regions.Client(regions.Identity.OperatorToken());
        await TwoRegions.EventuallyAsync(() => regions.RegionsAsync(@operator), r => AllHealthy(r), "both regions healthy");

        // The test renews A's lease as A's instances would, and keeps asking after A fails (an instance cut off from
        // its database can still reach the front door): every writable grant is recorded.
        var grants = new List<RegionLease>();
        foreach (var instance in regions.A)
        {
            instance.Ready = false;
        }

        var changed = await TwoRegions.EventuallyAsync(async () =>
        {
            grants.Add(await regions.LeaseAsync(service, "A"));
            return await regions.RegionsAsync(@operator);
        }, r => r.GetProperty("writableRegion").GetString() == "B", "B writable after A failed");

        var change = changed.GetProperty("lastChange");
        var at = change.GetProperty("at").GetDateTimeOffset();
        var lastWritableGrant = grants.Where(g => g.Writable).Select(g => g.ValidUntil).DefaultIfEmpty(DateTimeOffset.MinValue).Max();
        Assert.True(at >= lastWritableGrant, $"B became writable at {at:o}, before A's last lease ran out at {lastWritableGrant:o}");
        var lastSeenA = changed.GetProperty("regions").EnumerateArray().Single(r => r.GetProperty("name").GetString() == "A").GetProperty("lastSeen").GetDateTimeOffset();
        Assert.True(at - lastSeenA >= TwoRegions.FailoverDelay, $"failover {at - lastSeenA} after A was last seen healthy, before the failover delay");
        Assert.Equal(("A", "B", 2L), (change.GetProperty("from").GetString(), change.GetProperty("to").GetString(), change.GetProperty("epoch").GetInt64()));
        Assert.StartsWith("failover:", change.GetProperty("reason").GetString(), StringComparison.Ordinal);
        Assert.All(grants.Where(g => g.Epoch == 2), g => Assert.False(g.Writable));

        var b = await regions.LeaseAsync(service, "B");
        Assert.Equal((true, 2L), (b.Writable, b.Epoch));

        // A restart keeps the decision: B stays writable at epoch 2, and A even back healthy gets no write lease.
        foreach (var instance in regions.A)
        {
            instance.Ready = true;
        }

        await regions.StopFrontDoorAsync();
        await regions.StartFrontDoorAsync();
        using var service2 = regions.Client(regions.Identity.ServiceToken("compute", RegionLeaseApi.Scope));
        var a = await regions.LeaseAsync(service2, "A");
        Assert.Equal((false, "B", 2L), (a.Writable, a.WritableRegion, a.Epoch));
        Assert.True((await regions.LeaseAsync(service2, "B")).Writable);
    }

    private static bool AllHealthy(JsonElement regions) => regions.GetProperty("regions").EnumerateArray().All(r => r.GetProperty("healthy").GetBoolean());

    internal static async Task<JsonElement> AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        using (response)
        {
            Assert.Equal(status, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
            Assert.StartsWith("https://stratus.dev/problems/", problem.GetProperty("type").GetString(), StringComparison.Ordinal);
            return problem;
        }
    }
}
