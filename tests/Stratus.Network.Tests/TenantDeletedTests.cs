using System.Net;
using Microsoft.EntityFrameworkCore;

namespace Stratus.Network.Tests;

/// <summary>A deleted tenant's connections do not stay on the hosts forever; another tenant's are kept.</summary>
[Collection(NetworkCollection.Name)]
public sealed class TenantDeletedTests(NetworkHosts hosts)
{
    [Theory]
    [MemberData(nameof(NetworkHosts.Providers), MemberType = typeof(NetworkHosts))]
    public async Task A_deleted_tenants_connections_are_deleted_and_announced_and_another_tenants_are_kept(string provider)
    {
        var host = hosts.Host(provider);
        using var gone = await host.CreateTenantAsync();
        using var kept = await host.CreateTenantAsync();
        var goneConnection = (await gone.CreateAsync()).GetProperty("id").GetGuid();
        var keptConnection = (await kept.CreateAsync()).GetProperty("id").GetGuid();

        using (var operatorClient = await host.Process.OperatorClientAsync())
        {
            Assert.Equal(HttpStatusCode.OK, (await operatorClient.PostAsync($"/api/v1/tenants/{gone.Id}/suspend", null)).StatusCode);
            Assert.True((await operatorClient.DeleteAsync($"/api/v1/tenants/{gone.Id}")).IsSuccessStatusCode);
        }

        await Eventually.UntilAsync(() => CountAsync(host, goneConnection), count => count == 0, "the deleted tenant's connection to leave the network store");
        Assert.Contains("network.connectionDeleted.v1", await host.EventsAsync(goneConnection));
        await using (var store = host.OpenStore())
        {
            Assert.Equal(0, await store.HealthCheckRuns.CountAsync(r => r.ConnectionId == goneConnection));
        }

        Assert.Equal(1, await CountAsync(host, keptConnection));
        Assert.Equal("Corp A", (await kept.GetAsync(keptConnection)).GetProperty("displayName").GetString());
        Assert.DoesNotContain("network.connectionDeleted.v1", await host.EventsAsync(keptConnection));
    }

    private static async Task<int> CountAsync(NetworkHost host, Guid connection)
    {
        await using var store = host.OpenStore();
        return await store.Connections.CountAsync(c => c.Id == connection);
    }
}
