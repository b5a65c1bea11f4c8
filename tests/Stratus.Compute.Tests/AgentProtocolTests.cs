using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Stratus.Compute.Tests;

public sealed class AgentProtocolTests(ComputeHost compute) : IClassFixture<ComputeHost>
{
    [Fact]
    public async Task Enroll_UnknownToken_Returns401_AndAReusedOne409()
    {
        var bogus = await compute.Stratus.Http.PostAsJsonAsync("/api/v1/agent/enroll", new { enrollmentToken = "nope", name = "h", zone = "test-1a", driver = "simulated", vCpus = 1, memoryMiB = 1024, diskGiB = 10 });
        Assert.Equal(HttpStatusCode.Unauthorized, bogus.StatusCode);

        var token = (await (await compute.Operator.PostAsJsonAsync("/api/v1/hosts/enrollmentTokens", new { region = "test-1" })).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString();
        var request = new { enrollmentToken = token, name = "once-" + Guid.NewGuid().ToString("N")[..6], zone = "test-1a", driver = "simulated", vCpus = 1, memoryMiB = 1024, diskGiB = 10 };
        Assert.Equal(HttpStatusCode.Created, (await compute.Stratus.Http.PostAsJsonAsync("/api/v1/agent/enroll", request)).StatusCode);
        // A token enrolls one host: a second machine with it is told so (EnrollmentRaceTests: also when they race).
        Assert.Equal(HttpStatusCode.Conflict, (await compute.Stratus.Http.PostAsJsonAsync("/api/v1/agent/enroll", request with { name = request.name + "x" })).StatusCode);

        var wrongZone = (await (await compute.Operator.PostAsJsonAsync("/api/v1/hosts/enrollmentTokens", new { region = "test-2" })).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString();
        var zone = await compute.Stratus.Http.PostAsJsonAsync("/api/v1/agent/enroll", request with { enrollmentToken = wrongZone });
        Assert.Equal(HttpStatusCode.BadRequest, zone.StatusCode);
    }

    [Fact]
    public async Task DesiredState_WithoutAgentToken_Returns401_AndHostsNeedTheOperator()
    {
        Assert.Equal(HttpStatusCode.Unauthorized, (await compute.Stratus.Http.GetAsync("/api/v1/agent/desiredState")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await compute.Stratus.Http.GetAsync("/api/v1/hosts")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await compute.Stratus.Http.PostAsJsonAsync("/api/v1/vms", new { })).StatusCode);
    }

    [Fact]
    public async Task Agent_ConvergesOnDesiredState_ReportsIt_AndDeletionFreesCapacity()
    {
        await compute.DrainAllAsync();
        using var agent = await compute.EnrollAsync("test-2", "test-2a", vcpus: 4, memoryMiB: 4096);
        var initial = await agent.DesiredStateAsync();
        var version = initial.GetProperty("version").GetInt64();
        Assert.Equal(0, initial.GetProperty("vms").GetArrayLength());

        // A long poll that is waiting answers as soon as a VM is placed on the host.
        var poll = agent.DesiredStateAsync(version);
        var placed = await compute.PlaceAsync("test-2", vcpus: 2, memoryMiB: 2048);
        var vmId = (await placed.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
        var desired = await poll;
        Assert.True(desired.GetProperty("version").GetInt64() > version);
        var vm = desired.GetProperty("vms").EnumerateArray().Single();
        Assert.Equal(vmId, vm.GetProperty("id").GetGuid());
        Assert.Equal("running", vm.GetProperty("power").GetString());
        Assert.False(vm.GetProperty("created").GetBoolean(), "a VM the host never reported is one to create");

        Assert.Equal(HttpStatusCode.NoContent, (await agent.ReportAsync(new[] { new { id = vmId, state = "running", ready = true, generation = vm.GetProperty("generation").GetInt64(), detail = (string?)null } })).StatusCode);
        var view = await compute.Operator.GetFromJsonAsync<JsonElement>($"/api/v1/vms/{vmId}");
        Assert.Equal("running", view.GetProperty("state").GetString());
        Assert.True(view.GetProperty("ready").GetBoolean());

        // Once reported, the host had it: were its disk gone, the agent reports it missing instead of making it again.
        Assert.True((await agent.DesiredStateAsync()).GetProperty("vms")[0].GetProperty("created").GetBoolean());

        // Deleting is desired state too: the row and its capacity go once the agent no longer reports the VM.
        Assert.Equal(HttpStatusCode.OK, (await compute.Operator.DeleteAsync($"/api/v1/vms/{vmId}")).StatusCode);
        Assert.True((await agent.DesiredStateAsync()).GetProperty("vms")[0].GetProperty("delete").GetBoolean());
        Assert.Equal(HttpStatusCode.NoContent, (await agent.ReportAsync()).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await compute.Operator.GetAsync($"/api/v1/vms/{vmId}")).StatusCode);
        var host = await compute.Operator.GetFromJsonAsync<JsonElement>($"/api/v1/hosts/{agent.HostId}");
        Assert.Equal(0, host.GetProperty("allocated").GetProperty("vCpus").GetInt32());
    }

    [Fact]
    public async Task LongPoll_WithNoChange_AnswersAfterItsTimeout()
    {
        using var agent = await compute.EnrollAsync("test-1", "test-1b");
        var version = (await agent.DesiredStateAsync()).GetProperty("version").GetInt64();

        var watch = Stopwatch.StartNew();
        var same = await agent.DesiredStateAsync(version);

        Assert.Equal(version, same.GetProperty("version").GetInt64());
        Assert.InRange(watch.Elapsed, TimeSpan.FromSeconds(1.5), TimeSpan.FromSeconds(15));
    }

    [Fact]
    public async Task Operations_AreIdempotentByIdAndCompleteOnceReported()
    {
        await compute.DrainAllAsync();
        using var agent = await compute.EnrollAsync("test-1", "test-1a");
        var vmId = (await (await compute.PlaceAsync("test-1")).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
        var operationId = Guid.NewGuid();

        var first = await compute.Operator.PostAsJsonAsync($"/api/v1/vms/{vmId}/operations", new { id = operationId, kind = "CreateSnapshot", argument = "before-update" });
        var again = await compute.Operator.PostAsJsonAsync($"/api/v1/vms/{vmId}/operations", new { id = operationId, kind = "CreateSnapshot", argument = "before-update" });
        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        var pending = (await agent.DesiredStateAsync()).GetProperty("operations").EnumerateArray().ToList();
        Assert.Single(pending);
        Assert.Equal(HttpStatusCode.BadRequest, (await compute.Operator.PostAsJsonAsync($"/api/v1/vms/{vmId}/operations", new { kind = "Explode" })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await compute.Operator.PostAsJsonAsync($"/api/v1/vms/{vmId}/operations", new { kind = "RevertSnapshot" })).StatusCode);

        await agent.ReportAsync(operations: new[] { new { id = operationId, succeeded = true, result = "snapshot before-update created" } });

        var done = await compute.Operator.GetFromJsonAsync<JsonElement>($"/api/v1/vms/{vmId}/operations/{operationId}");
        Assert.Equal("succeeded", done.GetProperty("status").GetString());
        Assert.Empty((await agent.DesiredStateAsync()).GetProperty("operations").EnumerateArray());
    }

    [Fact]
    public async Task SilentHost_IsMarkedDown_AndReadyAgainWhenItReports()
    {
        using var agent = await compute.EnrollAsync("test-1", "test-1a");

        var deadline = Stopwatch.StartNew();
        string? state = null;
        while (deadline.Elapsed < TimeSpan.FromSeconds(60) && state != "down")
        {
            await Task.Delay(500);
            state = (await compute.Operator.GetFromJsonAsync<JsonElement>($"/api/v1/hosts/{agent.HostId}")).GetProperty("state").GetString();
        }

        Assert.Equal("down", state);
        await Problem(compute.Operator.PostAsync($"/api/v1/hosts/{agent.HostId}/resume", null), HttpStatusCode.Conflict);
        Assert.Equal(HttpStatusCode.NoContent, (await agent.ReportAsync()).StatusCode);
        Assert.Equal("ready", (await compute.Operator.GetFromJsonAsync<JsonElement>($"/api/v1/hosts/{agent.HostId}")).GetProperty("state").GetString());
    }

    [Fact]
    public async Task RemoveHost_WithVms_Returns409_EmptyHostIsRemoved()
    {
        await compute.DrainAllAsync();
        using var busy = await compute.EnrollAsync("test-2", "test-2a");
        await compute.PlaceAsync("test-2");
        await Problem(compute.Operator.DeleteAsync($"/api/v1/hosts/{busy.HostId}"), HttpStatusCode.Conflict);

        await compute.DrainAllAsync();
        using var empty = await compute.EnrollAsync("test-2", "test-2a");
        Assert.Equal(HttpStatusCode.NoContent, (await compute.Operator.DeleteAsync($"/api/v1/hosts/{empty.HostId}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await compute.Operator.GetAsync($"/api/v1/hosts/{empty.HostId}")).StatusCode);
    }

    private static async Task Problem(Task<HttpResponseMessage> call, HttpStatusCode status)
    {
        var response = await call;
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }
}
