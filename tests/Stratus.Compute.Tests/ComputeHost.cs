using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Stratus.Testing;

namespace Stratus.Compute.Tests;

/// <summary>A real stratus process running compute on SQLite, with a short heartbeat timeout.</summary>
public sealed class ComputeHost : IAsyncLifetime
{
    /// <summary>The network service's client secret, so that a test can get its service token as network does.</summary>
    public const string NetworkSecret = "network-test-secret-0123456789";

    private readonly TempFolder data = new();

    public StratusProcess Stratus { get; private set; } = null!;

    public HttpClient Operator { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Stratus = await StratusProcess.StartAsync(["run", "--targets", "identity,diagnostics,compute"], data.Path, new Dictionary<string, string?>
        {
            ["Stratus__Compute__HeartbeatTimeout"] = "00:00:10",
            ["Stratus__Compute__LongPollTimeout"] = "00:00:02",
            ["Stratus__Compute__Regions__0__Name"] = "test-1",
            ["Stratus__Compute__Regions__0__DisplayName"] = "Test region 1",
            ["Stratus__Compute__Regions__0__Zones__0"] = "test-1a",
            ["Stratus__Compute__Regions__0__Zones__1"] = "test-1b",
            ["Stratus__Compute__Regions__1__Name"] = "test-2",
            ["Stratus__Compute__Regions__1__DisplayName"] = "Test region 2",
            ["Stratus__Compute__Regions__1__Zones__0"] = "test-2a",
            ["Stratus__Clients__network__Secret"] = NetworkSecret,
        });
        Operator = await Stratus.OperatorClientAsync();
    }

    public async Task DisposeAsync()
    {
        Operator.Dispose();
        await Stratus.DisposeAsync();
        data.Dispose();
    }

    /// <summary>Enrolls a host as an agent would and returns a client that speaks for it.</summary>
    public async Task<Agent> EnrollAsync(string region, string zone, int vcpus = 8, int memoryMiB = 8192, int diskGiB = 200, string? name = null)
    {
        var tokenResponse = await Operator.PostAsJsonAsync("/api/v1/hosts/enrollmentTokens", new { region });
        Assert.Equal(HttpStatusCode.Created, tokenResponse.StatusCode);
        var token = (await tokenResponse.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString();
        var enroll = await Stratus.Http.PostAsJsonAsync("/api/v1/agent/enroll", new
        {
            enrollmentToken = token,
            name = name ?? "host-" + Guid.NewGuid().ToString("N")[..8],
            zone,
            driver = "simulated",
            vCpus = vcpus,
            memoryMiB,
            diskGiB,
            agentVersion = "test",
        });
        Assert.Equal(HttpStatusCode.Created, enroll.StatusCode);
        var body = await enroll.Content.ReadFromJsonAsync<JsonElement>();
        var client = new HttpClient { BaseAddress = Stratus.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        client.DefaultRequestHeaders.Add("X-Stratus-Agent-Token", body.GetProperty("agentToken").GetString());
        return new Agent(body.GetProperty("hostId").GetGuid(), client);
    }

    /// <summary>Drains every host, so that a test places only on the hosts it enrolls itself.</summary>
    public async Task DrainAllAsync()
    {
        foreach (var host in (await Operator.GetFromJsonAsync<JsonElement>("/api/v1/hosts")).EnumerateArray())
        {
            await Operator.PostAsync($"/api/v1/hosts/{host.GetProperty("id").GetGuid()}/drain", null);
        }
    }

    public Task<HttpResponseMessage> PlaceAsync(string region, int vcpus = 1, int memoryMiB = 1024, int diskGiB = 8, Guid? id = null) =>
        Operator.PostAsJsonAsync("/api/v1/vms", new { id = id ?? Guid.NewGuid(), region, imageId = "tiny", vCpuCount = vcpus, memoryMiB, diskGiB });
}

public sealed record Agent(Guid HostId, HttpClient Client) : IDisposable
{
    public void Dispose() => Client.Dispose();

    public async Task<JsonElement> DesiredStateAsync(long? after = null) =>
        await Client.GetFromJsonAsync<JsonElement>("/api/v1/agent/desiredState" + (after is { } a ? $"?after={a}" : ""));

    /// <summary>A report; unmanagedVms null is an agent that has not told its VMs apart (older, or before its first desired state).</summary>
    public Task<HttpResponseMessage> ReportAsync(object? vms = null, object? operations = null, object? unmanagedVms = null) =>
        Client.PostAsJsonAsync("/api/v1/agent/report", new { accelerator = "simulated", agentVersion = "test", vms = vms ?? Array.Empty<object>(), operations = operations ?? Array.Empty<object>(), unmanagedVms });
}

