using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Stratus.IntegrationTests.Support;
using Stratus.Testing;

namespace Stratus.IntegrationTests.Postgres;

/// <summary>
/// Two control-plane instances (as in two zones) on one PostgreSQL, and a `stratus host` given both: when the
/// instance it talks to is killed, the agent moves to the other, keeps its host alive and runs what is placed.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class HostAgentFailoverTests(PostgresServer postgres)
{
    private static readonly Dictionary<string, string?> Settings = new()
    {
        ["Stratus__Compute__HeartbeatTimeout"] = "00:00:10",
        ["Stratus__Compute__LongPollTimeout"] = "00:00:02",
    };

    [Fact]
    public async Task An_agent_given_two_instances_moves_to_the_other_when_its_instance_dies_and_keeps_running_vms()
    {
        var database = await postgres.CreateDatabaseAsync();
        using var dataA = new TempFolder();
        using var dataB = new TempFolder();
        using var agentData = new TempFolder();
        await using var zoneA = await StratusProcess.StartAsync(["run", "--targets", "all", "--database", database], dataA.Path, DeploymentSecrets.With(Settings));
        await using var zoneB = await StratusProcess.StartAsync(["run", "--targets", "all", "--database", database], dataB.Path, DeploymentSecrets.With(Settings));
        using var operatorB = await zoneB.OperatorClientAsync();
        var tokenResponse = await operatorB.PostAsJsonAsync("/api/v1/hosts/enrollmentTokens", new { region = "local-1" });
        Assert.Equal(HttpStatusCode.Created, tokenResponse.StatusCode);
        var token = (await tokenResponse.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString()!;

        await using var agent = HostAgentProcess.Start(
        [
            "--control-plane", $"{zoneA.BaseAddress.ToString().TrimEnd('/')},{zoneB.BaseAddress.ToString().TrimEnd('/')}", "--enrollment-token", token,
            "--region", "local-1", "--zone", "local-1a", "--name", "zone-host", "--data", agentData.Path, "--driver", "simulated", "--vcpus", "8", "--memory-mib", "8192",
        ]);
        var host = await Eventually.MatchesAsync(() => HostAsync(operatorB), h => h?.GetProperty("state").GetString() == "ready", "the agent to enroll through zone a");
        var hostId = host!.Value.GetProperty("id").GetGuid();

        // Zone a's instance dies (kill -9): the agent moves to zone b's.
        zoneA.Kill();
        var placed = Guid.NewGuid();
        var place = await operatorB.PostAsJsonAsync("/api/v1/vms", new { id = placed, region = "local-1", imageId = "tiny", vCpuCount = 1, memoryMiB = 1024, diskGiB = 8 });
        Assert.True(place.StatusCode is HttpStatusCode.Created or HttpStatusCode.Accepted, await place.Content.ReadAsStringAsync());
        var vm = await Eventually.MatchesAsync(() => operatorB.GetFromJsonAsync<JsonElement>($"/api/v1/vms/{placed}"),
            v => v.GetProperty("state").ValueKind == JsonValueKind.String && v.GetProperty("state").GetString() == "running",
            "the VM placed after zone a died to run, reported through zone b", TimeSpan.FromSeconds(60));
        Assert.Equal(hostId, vm.GetProperty("hostId").GetGuid());

        // Heartbeats go to zone b: the host outlives the heartbeat timeout (10 s) as ready.
        await Task.Delay(TimeSpan.FromSeconds(15));
        Assert.Equal("ready", (await HostAsync(operatorB))!.Value.GetProperty("state").GetString());
        Assert.Contains($"moved to {zoneB.BaseAddress.ToString().TrimEnd('/')}", agent.Output, StringComparison.Ordinal);
    }

    private static async Task<JsonElement?> HostAsync(HttpClient operatorClient)
    {
        var hosts = await operatorClient.GetFromJsonAsync<JsonElement>("/api/v1/hosts");
        return hosts.EnumerateArray().Where(h => h.GetProperty("name").GetString() == "zone-host").Select(h => (JsonElement?)h).FirstOrDefault();
    }
}
