using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Stratus.Compute.Persistence;
using Stratus.Platform.Messaging;

namespace Stratus.Compute.Tests.Networks;

/// <summary>
/// Issue 20 on a real stratus process: network's event goes through the outbox, the relay and compute's queue to the
/// hosts' desired state (a waiting long poll answers); agents are scripted HTTP clients of the agent protocol as in the
/// other compute tests; the hosts' interfaces are served to network's service token (hosts.read) and to no other scope.
/// </summary>
public sealed class NetworkAgentTests(ComputeHost compute) : IClassFixture<ComputeHost>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task A_published_connection_reaches_the_regions_hosts_a_vm_on_it_gets_a_nic_and_checks_are_published_once()
    {
        await compute.DrainAllAsync();
        using var host = await compute.EnrollAsync("test-1", "test-1a");
        using var other = await compute.EnrollAsync("test-2", "test-2a");
        var version = (await host.DesiredStateAsync()).GetProperty("version").GetInt64();
        var id = Guid.NewGuid();

        await PublishAsync(NetworkStore.Connection(id, "test-1", subnet: "10.60.0.0/24", gateway: "10.60.0.1"));

        // The long poll answers once the queue delivered the event (each poll waits up to 2 s: ask again until then).
        var network = await WaitForNetworkAsync(host, version);
        Assert.Equal("10.60.0.0/24", network.GetProperty("subnet").GetString());
        Assert.Equal("10.60.0.254", network.GetProperty("serviceAddress").GetString());
        Assert.Equal(0, (await other.DesiredStateAsync()).GetProperty("networks").GetArrayLength());

        var placed = await compute.Operator.PostAsJsonAsync("/api/v1/vms", new { region = "test-1", imageId = "tiny", vCpuCount = 1, memoryMiB = 1024, diskGiB = 8, networkConnectionId = id });
        Assert.Equal(HttpStatusCode.Created, placed.StatusCode);
        var vm = await placed.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("10.60.0.2", vm.GetProperty("ipAddress").GetString());
        var nic = (await host.DesiredStateAsync()).GetProperty("vms").EnumerateArray().Single().GetProperty("nic");
        Assert.Equal((id, "10.60.0.2"), (nic.GetProperty("networkConnectionId").GetGuid(), nic.GetProperty("ipAddress").GetString()));
        var elsewhere = await compute.Operator.PostAsJsonAsync("/api/v1/vms", new { region = "test-2", imageId = "tiny", vCpuCount = 1, memoryMiB = 1024, diskGiB = 8, networkConnectionId = id });
        Assert.Equal(HttpStatusCode.Conflict, elsewhere.StatusCode);
        Assert.Contains("is in region test-1, not test-2", (await elsewhere.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString(), StringComparison.Ordinal);

        // The host reports its checks twice (every report carries the latest): one event.
        var checkedAt = TimeProvider.System.GetUtcNow();
        for (var i = 0; i < 2; i++)
        {
            Assert.Equal(HttpStatusCode.NoContent, (await ReportAsync(host, id, checkedAt, ["eth0", "eth1"])).StatusCode);
        }

        await using var db = OpenComputeStore();
        var type = MessageNames.Of<NetworkChecksReported>();
        var relayed = await db.OutboxMessages.AsNoTracking().Where(m => m.MessageType == type).Select(m => m.Body).ToListAsync();
        var checks = JsonSerializer.Deserialize<NetworkChecksReported>(Assert.Single(relayed), MessageJson.Options)!;
        Assert.Equal((id, host.HostId, "test-1"), (checks.ConnectionId, checks.HostId, checks.Region));
        Assert.Equal("uplinkExists", Assert.Single(checks.Checks).Name);
    }

    [Fact]
    public async Task Host_interfaces_are_served_to_networks_hosts_read_token_and_the_operator_not_to_another_scope()
    {
        using var host = await compute.EnrollAsync("test-2", "test-2a");
        Assert.Equal(HttpStatusCode.NoContent, (await ReportAsync(host, null, null, ["eth1", "eth0", "bond0"])).StatusCode);

        using var network = await ServiceClientAsync("hosts.read");
        var body = await network.GetFromJsonAsync<JsonElement>("/api/v1/regions/test-2/hostInterfaces");
        Assert.Equal("test-2", body.GetProperty("region").GetString());
        var listed = body.GetProperty("hosts").EnumerateArray().Single(h => h.GetProperty("hostId").GetGuid() == host.HostId);
        Assert.Equal(["bond0", "eth0", "eth1"], listed.GetProperty("interfaces").EnumerateArray().Select(i => i.GetString()));
        Assert.Equal("ready", listed.GetProperty("state").GetString());
        Assert.DoesNotContain(body.GetProperty("hosts").EnumerateArray(), h => h.GetProperty("name").GetString() is null);

        var unknown = await network.GetAsync("/api/v1/regions/mars-1/hostInterfaces");
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal("application/problem+json", unknown.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.OK, (await compute.Operator.GetAsync("/api/v1/regions/test-2/hostInterfaces")).StatusCode);

        // Network's token for another scope, and network's hosts.read token elsewhere in compute: refused.
        using var otherScope = await ServiceClientAsync("cloudPcs.read");
        var refused = await otherScope.GetAsync("/api/v1/regions/test-2/hostInterfaces");
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.Forbidden, (await network.GetAsync("/api/v1/hosts")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await compute.Stratus.Http.GetAsync("/api/v1/regions/test-2/hostInterfaces")).StatusCode);
    }

    private static Task<HttpResponseMessage> ReportAsync(Agent agent, Guid? connectionId, DateTimeOffset? checkedAt, string[] interfaces) =>
        agent.Client.PostAsJsonAsync("/api/v1/agent/report", new
        {
            accelerator = "simulated", agentVersion = "test", vms = Array.Empty<object>(), operations = Array.Empty<object>(), interfaces,
            networks = connectionId is null ? Array.Empty<object>() : new object[]
            {
                new
                {
                    id = connectionId, version = 1, realized = true, checkedAt,
                    checks = new[] { new { name = "uplinkExists", status = "passed", startDateTime = checkedAt, endDateTime = checkedAt } },
                },
            },
        });

    private async Task<JsonElement> WaitForNetworkAsync(Agent agent, long after)
    {
        var deadline = TimeProvider.System.GetUtcNow() + Patience;
        while (true)
        {
            var desired = await agent.DesiredStateAsync(after);
            if (desired.GetProperty("networks").GetArrayLength() > 0 || TimeProvider.System.GetUtcNow() > deadline)
            {
                Assert.True(desired.GetProperty("version").GetInt64() > after, "the connection must come with a new desired version");
                return Assert.Single(desired.GetProperty("networks").EnumerateArray());
            }
        }
    }

    /// <summary>Publishes as network would: a row in an outbox, which the process's relay takes to compute's queue.</summary>
    private async Task PublishAsync<T>(T message)
        where T : notnull
    {
        await using var db = OpenComputeStore();
        db.Publish(message);
        await db.SaveChangesAsync();
    }

    private SqliteComputeDbContext OpenComputeStore() => new(
        new DbContextOptionsBuilder<SqliteComputeDbContext>().UseSqlite($"Data Source={Path.Combine(compute.Stratus.DataFolder, "db", "compute.db")};Default Timeout=60").Options,
        TimeProvider.System);

    private async Task<HttpClient> ServiceClientAsync(string scope)
    {
        using var response = await compute.Stratus.Http.PostAsync("/connect/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials", ["client_id"] = "network", ["client_secret"] = ComputeHost.NetworkSecret, ["scope"] = scope,
        }));
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        var token = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("access_token").GetString();
        var client = compute.Stratus.NewClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }
}
