using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Stratus.IntegrationTests.Support;
using Stratus.Testing;

namespace Stratus.IntegrationTests.Hosts;

/// <summary>
/// Exports are written only under the host's export folder; no API takes a path (issue 17, item 6). The compute API
/// took ExportSnapshot's argument as name:PATH and the agent wrote wherever PATH said, as the user it runs as.
/// </summary>
public sealed class ExportFolderTests
{
    [Fact]
    public async Task An_export_to_a_path_outside_the_export_folder_is_refused_with_400_and_nothing_stored_and_a_relative_one_lands_in_the_folder()
    {
        using var data = new TempFolder();
        using var agentData = new TempFolder();
        var exports = Path.Combine(agentData.Path, "exports-here");
        await using var stratus = await StratusProcess.StartAsync(["run", "--targets", "identity,diagnostics,compute"], data.Path, new Dictionary<string, string?>
        {
            ["Stratus__Compute__LongPollTimeout"] = "00:00:02",
        });
        using var operatorClient = await stratus.OperatorClientAsync();
        var created = await operatorClient.PostAsJsonAsync("/api/v1/hosts/enrollmentTokens", new { region = "local-1" });
        var token = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString()!;
        await using var agent = HostAgentProcess.Start(["--control-plane", stratus.BaseAddress.ToString().TrimEnd('/'), "--enrollment-token", token, "--zone", "local-1a",
            "--name", "export-host", "--data", agentData.Path, "--exports", exports, "--driver", "simulated", "--vcpus", "4", "--memory-mib", "4096"]);

        var vmId = Guid.NewGuid();
        await Eventually.MatchesAsync(() => operatorClient.PostAsJsonAsync("/api/v1/vms", new { id = vmId, region = "local-1", imageId = "tiny", vCpuCount = 1, memoryMiB = 512, diskGiB = 8 }),
            r => r.StatusCode is HttpStatusCode.Created or HttpStatusCode.OK, "the host to enroll and take the VM", TimeSpan.FromSeconds(90));
        await Eventually.MatchesAsync(() => operatorClient.GetFromJsonAsync<JsonElement>($"/api/v1/vms/{vmId}"),
            v => v.GetProperty("state").ValueKind == JsonValueKind.String && v.GetProperty("state").GetString() == "running", "the VM to run", TimeSpan.FromSeconds(90));
        await RunAsync(operatorClient, vmId, "CreateSnapshot", "monday");

        foreach (var outside in new[] { "monday:/etc/cron.d/stratus.qcow2", $"monday:{Path.Combine(agentData.Path, "beside.qcow2")}", "monday:../escape.qcow2",
                     "monday:pc/../../escape.qcow2", "monday:pc/notes.txt", "monday:", "monday" })
        {
            var operationId = Guid.NewGuid();
            var refused = await operatorClient.PostAsJsonAsync($"/api/v1/vms/{vmId}/operations", new { id = operationId, kind = "ExportSnapshot", argument = outside });
            var problem = await ProblemAssert.IsProblemAsync(refused, HttpStatusCode.BadRequest);
            Assert.True(problem.GetProperty("errors").TryGetProperty("argument", out _), $"{outside}: {problem}");
            Assert.Equal(HttpStatusCode.NotFound, (await operatorClient.GetAsync($"/api/v1/vms/{vmId}/operations/{operationId}")).StatusCode);
        }

        var result = await RunAsync(operatorClient, vmId, "ExportSnapshot", "monday:pc-1/monday.qcow2");
        Assert.Equal(Path.Combine(exports, "pc-1", "monday.qcow2"), result);
    }

    private static async Task<string?> RunAsync(HttpClient operatorClient, Guid vmId, string kind, string argument)
    {
        var operationId = Guid.NewGuid();
        var accepted = await operatorClient.PostAsJsonAsync($"/api/v1/vms/{vmId}/operations", new { id = operationId, kind, argument });
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        var done = await Eventually.MatchesAsync(() => operatorClient.GetFromJsonAsync<JsonElement>($"/api/v1/vms/{vmId}/operations/{operationId}"),
            o => o.GetProperty("status").GetString() != "pending", $"{kind} to finish", TimeSpan.FromSeconds(60));
        Assert.True(done.GetProperty("status").GetString() == "succeeded", done.ToString());
        return done.GetProperty("result").GetString();
    }
}
