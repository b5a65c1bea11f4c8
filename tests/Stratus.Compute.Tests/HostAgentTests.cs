using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Stratus.Testing;

namespace Stratus.Compute.Tests;

/// <summary>The real `stratus host` agent, with the simulated driver, against the real control plane.</summary>
public sealed class HostAgentTests(ComputeHost compute) : IClassFixture<ComputeHost>
{
    [Fact]
    public async Task Agent_RunsPlacedVms_SurvivesKill9_ConvergesWithoutDuplicates_AndRemovesDeleted()
    {
        await compute.DrainAllAsync();
        using var data = new TempFolder();
        var token = (await (await compute.Operator.PostAsJsonAsync("/api/v1/hosts/enrollmentTokens", new { region = "test-2" })).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString()!;
        var name = "agent-" + Guid.NewGuid().ToString("N")[..6];

        using (var agent = StartAgent(data.Path, name, token))
        {
            var hostId = await WaitForHostAsync(name);
            var vms = new List<Guid>();
            for (var i = 0; i < 3; i++)
            {
                var placed = await compute.PlaceAsync("test-2");
                Assert.Equal(HttpStatusCode.Created, placed.StatusCode);
                var vm = await placed.Content.ReadFromJsonAsync<JsonElement>();
                Assert.Equal(hostId, vm.GetProperty("hostId").GetGuid());
                vms.Add(vm.GetProperty("id").GetGuid());
            }

            await WaitAsync(async () => (await Vms(hostId)).All(v => v.GetProperty("state").GetString() == "running" && v.GetProperty("ready").GetBoolean()), "VMs running");
            var hostView = await compute.Operator.GetFromJsonAsync<JsonElement>($"/api/v1/hosts/{hostId}");
            Assert.Equal("simulated", hostView.GetProperty("driver").GetString());
            Assert.Equal("simulated", hostView.GetProperty("accelerator").GetString());

            // kill -9: a crash, not a stop.
            agent.Kill(entireProcessTree: true);
            await agent.WaitForExitAsync();

            // Restarted without the enrollment token: it is the same host, from its data folder.
            using var restarted = StartAgent(data.Path, name, token: null);
            Assert.Equal(HttpStatusCode.OK, (await compute.Operator.DeleteAsync($"/api/v1/vms/{vms[0]}")).StatusCode);
            await WaitAsync(async () => (await Vms(hostId)).Count == 2, "the deleted VM gone");
            await WaitAsync(async () => (await Vms(hostId)).All(v => v.GetProperty("state").GetString() == "running"), "VMs running after restart");

            var hosts = (await compute.Operator.GetFromJsonAsync<JsonElement>("/api/v1/hosts")).EnumerateArray().Where(h => h.GetProperty("name").GetString() == name).ToList();
            Assert.Single(hosts);
            Assert.Equal(2, hosts[0].GetProperty("vmCount").GetInt32());
            Assert.Equal(2, hosts[0].GetProperty("allocated").GetProperty("vCpus").GetInt32());
            restarted.Kill(entireProcessTree: true);
            await restarted.WaitForExitAsync();
        }
    }

    [Fact]
    public async Task Agent_WithABadEnrollmentToken_ExitsWithTheReason()
    {
        using var data = new TempFolder();
        using var agent = StartAgent(data.Path, "bad-" + Guid.NewGuid().ToString("N")[..6], "not-a-token");
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await agent.WaitForExitAsync(timeout.Token);
        Assert.NotEqual(0, agent.ExitCode);
        Assert.Contains("Enrollment refused", await agent.StandardError.ReadToEndAsync() + await agent.StandardOutput.ReadToEndAsync(), StringComparison.Ordinal);
    }

    private Process StartAgent(string dataFolder, string name, string? token, Dictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(StratusProcess.BinaryPath) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var (variable, value) in environment ?? [])
        {
            start.Environment[variable] = value;
        }

        foreach (var argument in new[] { "host", "--control-plane", compute.Stratus.BaseAddress.ToString(), "--zone", "test-2a", "--name", name, "--data", dataFolder, "--driver", "simulated", "--vcpus", "8", "--memory-mib", "8192" })
        {
            start.ArgumentList.Add(argument);
        }

        if (token is not null)
        {
            start.ArgumentList.Add("--enrollment-token");
            start.ArgumentList.Add(token);
        }

        return Process.Start(start) ?? throw new InvalidOperationException("cannot start stratus host");
    }

    private async Task<Guid> WaitForHostAsync(string name)
    {
        Guid? id = null;
        await WaitAsync(async () =>
        {
            var host = (await compute.Operator.GetFromJsonAsync<JsonElement>("/api/v1/hosts")).EnumerateArray().FirstOrDefault(h => h.GetProperty("name").GetString() == name);
            id = host.ValueKind == JsonValueKind.Object ? host.GetProperty("id").GetGuid() : null;
            return id is not null;
        }, "the agent enrolled");
        return id!.Value;
    }

    [Fact]
    public async Task Agent_reads_its_s3_copy_store_credentials_from_configuration_and_refuses_half_of_them_at_start()
    {
        using var data = new TempFolder();
        using var agent = StartAgent(data.Path, "s3-" + Guid.NewGuid().ToString("N")[..6], "not-a-token", new() { ["Stratus__CopyStores__S3__AccessKey"] = "key-only" });
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await agent.WaitForExitAsync(timeout.Token);
        Assert.Equal(1, agent.ExitCode);
        var said = await agent.StandardError.ReadToEndAsync() + await agent.StandardOutput.ReadToEndAsync();
        Assert.Contains("error: Only one of Stratus:CopyStores:S3:AccessKey and SecretKey is set", said, StringComparison.Ordinal);
        Assert.DoesNotContain("Enrollment refused", said, StringComparison.Ordinal);
    }

    private async Task<List<JsonElement>> Vms(Guid hostId) =>
        (await compute.Operator.GetFromJsonAsync<JsonElement>($"/api/v1/vms?hostId={hostId}")).EnumerateArray().ToList();

    private static async Task WaitAsync(Func<Task<bool>> condition, string what)
    {
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < TimeSpan.FromSeconds(60))
        {
            if (await condition())
            {
                return;
            }

            await Task.Delay(250);
        }

        Assert.Fail($"Timed out waiting for {what}.");
    }
}
