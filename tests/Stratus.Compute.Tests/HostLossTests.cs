using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Stratus.Testing;

namespace Stratus.Compute.Tests;

/// <summary>
/// Issue 18, compute's side, on a real stratus process (SQLite) with short timings: the copy policy in the desired
/// state, reported copies in GET /api/v1/vms/{id}, staleness, host loss (a VM with a copy made again on another host
/// of its region with a higher epoch and RestoreFrom; one without stays, failed), and the per-host tombstone (the lost
/// host, back, is told to delete its stale disk only once the VM is ready on its new host). The agents are scripted
/// HTTP clients of the agent protocol (ComputeHost.Agent), as in the other compute tests.
/// </summary>
public sealed class HostLossTests : IAsyncLifetime
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);
    private readonly TempFolder data = new();
    private string store = "";
    private StratusProcess stratus = null!;
    private HttpClient operatorClient = null!;

    public async Task InitializeAsync()
    {
        store = "file://" + Path.Combine(data.Path, "copies", "test-1");
        stratus = await StratusProcess.StartAsync(["run", "--targets", "identity,diagnostics,compute"], Path.Combine(data.Path, "server"), new Dictionary<string, string?>
        {
            ["Stratus__Compute__HeartbeatTimeout"] = "00:00:03",
            ["Stratus__Compute__HostLossGrace"] = "00:00:02",
            ["Stratus__Compute__LongPollTimeout"] = "00:00:01",
            ["Stratus__Compute__DiskCopies__DefaultInterval"] = "00:00:02",
            ["Stratus__Compute__DiskCopies__CheckInterval"] = "00:00:01",
            ["Stratus__Compute__Regions__0__Name"] = "test-1",
            ["Stratus__Compute__Regions__0__DisplayName"] = "Test region 1",
            ["Stratus__Compute__Regions__0__Zones__0"] = "test-1a",
            ["Stratus__Compute__Regions__0__CopyStore"] = store,
        });
        operatorClient = await stratus.OperatorClientAsync();
    }

    public async Task DisposeAsync()
    {
        operatorClient.Dispose();
        await stratus.DisposeAsync();
        data.Dispose();
    }

    [Fact]
    public async Task A_lost_hosts_vm_with_a_copy_is_made_again_elsewhere_with_a_higher_epoch_and_the_lost_host_deletes_its_stale_disk_only_when_told()
    {
        using var lost = await EnrollAsync("lost");
        using var lostAlive = new CancellationTokenSource();
        var lostBeating = KeepReportingAsync(lost, lostAlive.Token);
        var withCopy = await PlaceAsync();
        var withoutCopy = await PlaceAsync();
        Assert.Equal(lost.HostId, withCopy.GetProperty("hostId").GetGuid());

        // The desired state carries the default policy (2 s) to the region's store, epoch 0, nothing to restore.
        var desired = Vm(await lost.DesiredStateAsync(), withCopy.GetProperty("id").GetGuid());
        Assert.Equal(2, desired.GetProperty("copies").GetProperty("intervalSeconds").GetInt32());
        Assert.Equal([store], desired.GetProperty("copies").GetProperty("storeUris").EnumerateArray().Select(s => s.GetString()));
        Assert.Equal(0, desired.GetProperty("epoch").GetInt64());
        Assert.Equal(JsonValueKind.Null, desired.GetProperty("restoreFrom").ValueKind);

        // The host reports a copy of one VM; GET shows it.
        var vmId = withCopy.GetProperty("id").GetGuid();
        var takenAt = TimeProvider.System.GetUtcNow();
        Assert.Equal(HttpStatusCode.NoContent, (await AcceptedAsync(() => lost.ReportAsync(new object[]
        {
            new { id = vmId, state = "running", ready = true, generation = 1, copies = new[] { new { storeUri = store, latestCopyAt = takenAt, latestBytes = 1234, diskBytes = 8L << 30, chainLength = 1, lastAttemptAt = takenAt } } },
            new { id = withoutCopy.GetProperty("id").GetGuid(), state = "running", ready = true, generation = 1 },
        }, unmanagedVms: Array.Empty<object>()))).StatusCode);
        var copy = (await GetVmAsync(vmId)).GetProperty("diskCopies").EnumerateArray().Single();
        Assert.Equal("test-1", copy.GetProperty("region").GetString());
        Assert.Equal(1234, copy.GetProperty("latestBytes").GetInt64());

        // A second host joins; the first goes silent. After the heartbeat timeout (3 s) and the grace (2 s), the VM
        // with a copy moves to the second host, the one without stays where it is.
        await lostAlive.CancelAsync();
        await lostBeating;
        using var survivor = await EnrollAsync("survivor");
        using var heartbeats = new CancellationTokenSource();
        var beating = KeepReportingAsync(survivor, heartbeats.Token);
        try
        {
            var moved = await WaitForAsync(async () => await GetVmAsync(vmId) is var v && v.GetProperty("hostId").GetGuid() == survivor.HostId ? v : (JsonElement?)null,
                "the VM with a copy made again on the surviving host");
            Assert.Equal(JsonValueKind.Null, moved.GetProperty("state").ValueKind);
            Assert.Equal(lost.HostId, (await GetVmAsync(withoutCopy.GetProperty("id").GetGuid())).GetProperty("hostId").GetGuid());

            // Stale meanwhile: its latest copy is older than twice its interval.
            await WaitForAsync(async () => (await GetVmAsync(vmId)).GetProperty("diskCopies")[0].GetProperty("status").GetString() == "stale" ? true : (bool?)null, "the copy stale");

            var onSurvivor = Vm(await survivor.DesiredStateAsync(), vmId);
            Assert.Equal(1, onSurvivor.GetProperty("epoch").GetInt64());
            Assert.False(onSurvivor.GetProperty("created").GetBoolean());
            Assert.Equal(vmId, onSurvivor.GetProperty("restoreFrom").GetProperty("sourceVmId").GetGuid());
            Assert.Equal(store, onSurvivor.GetProperty("restoreFrom").GetProperty("storeUri").GetString());

            // The lost host comes back before the VM is up on the survivor: the VM is not in its desired state, and it is not told to delete it.
            Assert.Equal(HttpStatusCode.NoContent, (await AcceptedAsync(() => lost.ReportAsync(
                new object[] { new { id = withoutCopy.GetProperty("id").GetGuid(), state = "running", ready = true, generation = 1 } },
                unmanagedVms: new object[] { new { id = vmId, state = "stopped", imageId = "tiny", vCpuCount = 1, memoryMiB = 1024, diskGiB = 8 } }))).StatusCode);
            var back = await lost.DesiredStateAsync();
            Assert.DoesNotContain(back.GetProperty("vms").EnumerateArray(), v => v.GetProperty("id").GetGuid() == vmId);
            Assert.DoesNotContain(back.GetProperty("deletedVmIds").EnumerateArray(), id => id.GetGuid() == vmId);

            // Up on the survivor, with a fresh copy: the lost host is told to delete its stale disk; restoreFrom is no longer sent; healthy again.
            await heartbeats.CancelAsync();
            await beating;
            var fresh = TimeProvider.System.GetUtcNow();
            Assert.Equal(HttpStatusCode.NoContent, (await AcceptedAsync(() => survivor.ReportAsync(new object[]
            {
                new { id = vmId, state = "running", ready = true, generation = 2, copies = new[] { new { storeUri = store, latestCopyAt = fresh, latestBytes = 99, diskBytes = 8L << 30, chainLength = 1, lastAttemptAt = fresh } } },
            }, unmanagedVms: Array.Empty<object>()))).StatusCode);
            Assert.Contains((await lost.DesiredStateAsync()).GetProperty("deletedVmIds").EnumerateArray(), id => id.GetGuid() == vmId);
            Assert.Equal(JsonValueKind.Null, Vm(await survivor.DesiredStateAsync(), vmId).GetProperty("restoreFrom").ValueKind);
            await WaitForAsync(async () => (await GetVmAsync(vmId)).GetProperty("diskCopies")[0].GetProperty("status").GetString() == "healthy" ? true : (bool?)null, "the copy healthy again");
        }
        finally
        {
            await heartbeats.CancelAsync();
            await beating;
        }
    }

    private async Task<Agent> EnrollAsync(string name)
    {
        var token = (await (await operatorClient.PostAsJsonAsync("/api/v1/hosts/enrollmentTokens", new { region = "test-1" })).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString();
        var enroll = await stratus.Http.PostAsJsonAsync("/api/v1/agent/enroll", new
        {
            enrollmentToken = token, name, zone = "test-1a", driver = "simulated", vCpus = 8, memoryMiB = 8192, diskGiB = 200, agentVersion = "test",
        });
        Assert.Equal(HttpStatusCode.Created, enroll.StatusCode);
        var body = await enroll.Content.ReadFromJsonAsync<JsonElement>();
        var client = new HttpClient { BaseAddress = stratus.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        client.DefaultRequestHeaders.Add("X-Stratus-Agent-Token", body.GetProperty("agentToken").GetString());
        return new Agent(body.GetProperty("hostId").GetGuid(), client);
    }

    private async Task<JsonElement> PlaceAsync()
    {
        var placed = await operatorClient.PostAsJsonAsync("/api/v1/vms", new { id = Guid.NewGuid(), region = "test-1", imageId = "tiny", vCpuCount = 1, memoryMiB = 1024, diskGiB = 8 });
        Assert.Equal(HttpStatusCode.Created, placed.StatusCode);
        return await placed.Content.ReadFromJsonAsync<JsonElement>();
    }

    private async Task<JsonElement> GetVmAsync(Guid id) => await operatorClient.GetFromJsonAsync<JsonElement>($"/api/v1/vms/{id}");

    private static JsonElement Vm(JsonElement desiredState, Guid id) => desiredState.GetProperty("vms").EnumerateArray().Single(v => v.GetProperty("id").GetGuid() == id);

    /// <summary>A report sent again while another report of the host crossed it (409: the agent protocol's retry).</summary>
    private static async Task<HttpResponseMessage> AcceptedAsync(Func<Task<HttpResponseMessage>> report)
    {
        for (var attempt = 1; ; attempt++)
        {
            var response = await report();
            if (response.StatusCode != HttpStatusCode.Conflict || attempt == 5)
            {
                return response;
            }
        }
    }

    private static async Task KeepReportingAsync(Agent agent, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            using var _ = await agent.ReportAsync(unmanagedVms: Array.Empty<object>());
            await Task.Delay(TimeSpan.FromMilliseconds(500), cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    private static async Task<T> WaitForAsync<T>(Func<Task<T?>> probe, string what) where T : struct
    {
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            if (await probe() is { } found)
            {
                return found;
            }

            Assert.True(waited.Elapsed < Patience, $"{what}: not within {Patience.TotalSeconds} s");
            await Task.Delay(250);
        }
    }
}
