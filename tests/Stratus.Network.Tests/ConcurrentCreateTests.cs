using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Stratus.Network.Tests;

/// <summary>
/// The rules that span a tenant's connections hold when requests race: of many creates sent at once, no two with
/// overlapping subnets are saved, and the tenant never goes over its limit. A loser is told why (400 overlap, 409 limit
/// or concurrent change), never a 500.
/// </summary>
[Collection(NetworkCollection.Name)]
public sealed class ConcurrentCreateTests(NetworkHosts hosts)
{
    private const int Racers = 8;

    [Theory]
    [MemberData(nameof(NetworkHosts.Providers), MemberType = typeof(NetworkHosts))]
    public async Task Creates_of_one_subnet_sent_at_once_save_exactly_one(string provider)
    {
        using var tenant = await hosts.Host(provider).CreateTenantAsync();
        var statuses = await RaceAsync(tenant, i => tenant.Body(subnet: "10.30.0.0/24", gateway: "10.30.0.1", name: $"Racer {i}"));

        Assert.Equal(1, statuses.Count(s => s == HttpStatusCode.Created));
        Assert.All(statuses.Where(s => s != HttpStatusCode.Created), s => Assert.True(s is HttpStatusCode.BadRequest or HttpStatusCode.Conflict, $"a loser got {s}"));
        var saved = (await tenant.Admin.GetFromJsonAsync<JsonElement>(TestTenant.Path)).GetProperty("value").EnumerateArray().ToList();
        Assert.Equal("10.30.0.0/24", Assert.Single(saved).GetProperty("subnet").GetString());
    }

    [Theory]
    [MemberData(nameof(NetworkHosts.Providers), MemberType = typeof(NetworkHosts))]
    public async Task Creates_sent_at_once_near_the_limit_never_pass_it(string provider)
    {
        using var tenant = await hosts.Host(provider).CreateTenantAsync();
        const int limit = 10;
        for (var i = 0; i < limit - 2; i++)
        {
            await tenant.CreateAsync(tenant.Body(subnet: $"10.40.{i}.0/24", gateway: $"10.40.{i}.1", name: $"Existing {i}"));
        }

        var statuses = await RaceAsync(tenant, i => tenant.Body(subnet: $"10.41.{i}.0/24", gateway: $"10.41.{i}.1", name: $"Racer {i}"));

        Assert.InRange(statuses.Count(s => s == HttpStatusCode.Created), 1, 2);
        Assert.All(statuses.Where(s => s != HttpStatusCode.Created), s => Assert.Equal(HttpStatusCode.Conflict, s));
        Assert.True(await tenant.CountAsync() <= limit, "the tenant went over its limit of connections");
    }

    private static async Task<List<HttpStatusCode>> RaceAsync(TestTenant tenant, Func<int, Dictionary<string, object?>> body)
    {
        using var start = new SemaphoreSlim(0);
        var racers = Enumerable.Range(0, Racers).Select(async i =>
        {
            await start.WaitAsync();
            using var response = await tenant.Admin.PostAsJsonAsync(TestTenant.Path, body(i));
            return response.StatusCode;
        }).ToList();
        start.Release(Racers);
        return [.. await Task.WhenAll(racers)];
    }
}
