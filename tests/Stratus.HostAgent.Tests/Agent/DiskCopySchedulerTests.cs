using System.Text.Json;
using Microsoft.Extensions.Logging;
using Stratus.HostAgent.Agent;
using Stratus.HostAgent.Drivers;
using Stratus.HostAgent.Tests.Support;
using Stratus.Testing;

namespace Stratus.HostAgent.Tests.Agent;

/// <summary>
/// Issue 18, the agent's side: copies on schedule (again after each interval, reported per store, remembered across a
/// restart), a copy on demand (the CopyDisk operation), and fencing (a disk made for an older epoch is never started;
/// with RestoreFrom it is made again from the copy). A scripted control plane over real HTTP, a real file:// copy
/// store, and the simulated driver with a stand-in for the drivers' copies (StandInCopyDriver).
/// </summary>
public sealed class DiskCopySchedulerTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Copies_are_taken_every_interval_reported_per_store_remembered_across_a_restart_and_taken_on_demand()
    {
        using var data = new TempFolder();
        var store = "file://" + Path.Combine(data.Path, "store");
        var vm = Guid.NewGuid();
        var operation = Guid.NewGuid();
        var withOperation = false;
        var copies = $$"""{"intervalSeconds":2,"storeUris":["{{store}}"]}""";
        await using var controlPlane = new ScriptedControlPlane((hostId, request) =>
        {
            var operations = Volatile.Read(ref withOperation) ? $$"""{"id":"{{operation}}","vmId":"{{vm}}","kind":"CopyDisk","argument":null}""" : "";
            var vms = $$"""{"id":"{{vm}}","imageId":"tiny","vCpuCount":1,"memoryMiB":256,"diskGiB":8,"power":"running","delete":false,"generation":1,"copies":{{copies}}}""";
            return $$"""{"hostId":"{{hostId}}","version":{{request}},"deletedVmIds":[],"operations":[{{operations}}],"vms":[{{vms}}]}""";
        });
        using var loggers = new TestOutputLoggerFactory(output);
        var driver = new StandInCopyDriver(TimeProvider.System);
        var options = controlPlane.AgentOptions(data.Path, "copying-host", TimeSpan.FromMilliseconds(200)) with { CopyCheckInterval = TimeSpan.FromMilliseconds(200) };
        var agent = new HostAgentService(driver, options, "tcg", new HttpClient { BaseAddress = controlPlane.Url }, TimeProvider.System, loggers.CreateLogger<HostAgentService>());
        await agent.StartAsync(CancellationToken.None);
        JsonElement copy;
        try
        {
            // A first copy at once, a second one interval (2 s) later: the chain grows to 2.
            copy = await ReportedCopyAsync(controlPlane, vm, c => c.GetProperty("chainLength").GetInt32() >= 2);
            Assert.Equal(store, copy.GetProperty("storeUri").GetString());
            Assert.Equal(JsonValueKind.Null, copy.GetProperty("lastError").ValueKind);
            Assert.Equal(2, driver.Copies);
        }
        finally
        {
            await agent.StopAsync(CancellationToken.None);
            agent.Dispose();
        }

        // A new agent over the same data folder that takes no copy by itself (a long check interval) reports the latest copy it remembers.
        var latest = copy.GetProperty("latestCopyAt").GetDateTimeOffset();
        options = options with { CopyCheckInterval = TimeSpan.FromHours(1) };
        using var restarted = new HostAgentService(driver, options, "tcg", new HttpClient { BaseAddress = controlPlane.Url }, TimeProvider.System, loggers.CreateLogger<HostAgentService>());
        var reportsBefore = controlPlane.Reports;
        await restarted.StartAsync(CancellationToken.None);
        try
        {
            var remembered = await ReportedCopyAsync(controlPlane, vm, c => controlPlane.Reports > reportsBefore);
            Assert.True(remembered.GetProperty("latestCopyAt").GetDateTimeOffset() >= latest, $"the restarted agent reported {remembered}");
            var copiesBefore = driver.Copies;

            // The CopyDisk operation takes one now, to each of the VM's stores, and returns its result.
            Volatile.Write(ref withOperation, true);
            var result = await OperationResultAsync(controlPlane, operation);
            Assert.True(result.GetProperty("succeeded").GetBoolean(), result.ToString());
            using var taken = JsonDocument.Parse(result.GetProperty("result").GetString()!);
            Assert.Equal(store, taken.RootElement.GetProperty("storeUri").GetString());
            Assert.Equal(copiesBefore + 1, driver.Copies);
            var stored = await Stratus.HostAgent.Copies.CopyStores.Open(store).ListAsync($"vms/{HostAgentService.DriverId(vm)}/");
            Assert.Equal(driver.Copies, stored.Count);
        }
        finally
        {
            await restarted.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task A_disk_made_for_an_older_epoch_is_never_started_and_is_made_again_from_the_copy_when_compute_says_so()
    {
        using var data = new TempFolder();
        var store = "file://" + Path.Combine(data.Path, "store");
        var vm = Guid.NewGuid();
        var phase = 1;
        await using var controlPlane = new ScriptedControlPlane((hostId, request) =>
        {
            var (epoch, restore) = Volatile.Read(ref phase) switch
            {
                1 => (1, "null"),
                2 => (2, "null"),
                _ => (2, $$"""{"sourceVmId":"{{vm}}","storeUri":"{{store}}"}"""),
            };
            return $$"""
                {"hostId":"{{hostId}}","version":{{request}},"deletedVmIds":[],"operations":[],
                 "vms":[{"id":"{{vm}}","imageId":"tiny","vCpuCount":1,"memoryMiB":256,"diskGiB":8,"power":"running","delete":false,"generation":1,
                         "epoch":{{epoch}},"restoreFrom":{{restore}}}]}
                """;
        });
        using var loggers = new TestOutputLoggerFactory(output);
        var driver = new StandInCopyDriver(TimeProvider.System);
        var options = controlPlane.AgentOptions(data.Path, "fenced-host", TimeSpan.FromMilliseconds(200));
        using var agent = new HostAgentService(driver, options, "tcg", new HttpClient { BaseAddress = controlPlane.Url }, TimeProvider.System, loggers.CreateLogger<HostAgentService>());
        await agent.StartAsync(CancellationToken.None);
        try
        {
            // Epoch 1: made from its image, its epoch recorded, running.
            await ReportedVmAsync(controlPlane, vm, v => v.GetProperty("state").GetString() == "running");
            Assert.Equal("1", File.ReadAllText(Path.Combine(options.DataFolder, "epochs", HostAgentService.DriverId(vm))));

            // Epoch 2 with no copy to make it from: stopped and reported fenced, never started.
            Volatile.Write(ref phase, 2);
            var fenced = await ReportedVmAsync(controlPlane, vm, v => v.GetProperty("state").GetString() == "fenced");
            Assert.Contains("older epoch", fenced.GetProperty("detail").GetString(), StringComparison.Ordinal);
            Assert.Equal(VmPowerState.Stopped, (await driver.GetAsync(HostAgentService.DriverId(vm)))!.PowerState);
            var version = agent.ConvergedVersion;
            while (agent.ConvergedVersion < version + 2)
            {
                await Task.Delay(100);
            }

            Assert.Equal(VmPowerState.Stopped, (await driver.GetAsync(HostAgentService.DriverId(vm)))!.PowerState);
            Assert.Empty(driver.Restores);

            // Epoch 2 with RestoreFrom: compute's order; the stale disk is made again from the copy and runs.
            Volatile.Write(ref phase, 3);
            await ReportedVmAsync(controlPlane, vm, v => v.GetProperty("state").GetString() == "running" && v.GetProperty("detail").ValueKind == JsonValueKind.Null);
            Assert.Equal((HostAgentService.DriverId(vm), HostAgentService.DriverId(vm), store), Assert.Single(driver.Restores));
            Assert.Equal("2", File.ReadAllText(Path.Combine(options.DataFolder, "epochs", HostAgentService.DriverId(vm))));
        }
        finally
        {
            await agent.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task A_copy_in_progress_holds_up_no_other_vms_stop_and_its_result_is_reported_when_it_ends()
    {
        using var data = new TempFolder();
        var store = "file://" + Path.Combine(data.Path, "store");
        var copied = Guid.NewGuid();
        var other = Guid.NewGuid();
        var operation = Guid.NewGuid();
        var otherPower = "running";
        await using var controlPlane = new ScriptedControlPlane((hostId, request) =>
        {
            var copyingVm = $$$"""{"id":"{{{copied}}}","imageId":"tiny","vCpuCount":1,"memoryMiB":256,"diskGiB":8,"power":"running","delete":false,"generation":1,"copies":{"intervalSeconds":3600,"storeUris":["{{{store}}}"]}}""";
            var otherVm = $$"""{"id":"{{other}}","imageId":"tiny","vCpuCount":1,"memoryMiB":256,"diskGiB":8,"power":"{{Volatile.Read(ref otherPower)}}","delete":false,"generation":1}""";
            var copyNow = $$"""{"id":"{{operation}}","vmId":"{{copied}}","kind":"CopyDisk","argument":null}""";
            return $$"""{"hostId":"{{hostId}}","version":{{request}},"deletedVmIds":[],"operations":[{{copyNow}}],"vms":[{{copyingVm}},{{otherVm}}]}""";
        });
        using var loggers = new TestOutputLoggerFactory(output);
        var copyStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var driver = new StandInCopyDriver(TimeProvider.System)
        {
            BeforeCopy = async _ =>
            {
                copyStarted.TrySetResult();
                await release.Task;
            },
        };

        // No scheduled copy (a check an hour away): the only copy is the CopyDisk operation, held in progress.
        var options = controlPlane.AgentOptions(data.Path, "busy-host", TimeSpan.FromMilliseconds(200)) with { CopyCheckInterval = TimeSpan.FromHours(1) };
        using var agent = new HostAgentService(driver, options, "tcg", new HttpClient { BaseAddress = controlPlane.Url }, TimeProvider.System, loggers.CreateLogger<HostAgentService>());
        await agent.StartAsync(CancellationToken.None);
        try
        {
            await copyStarted.Task.WaitAsync(Patience);
            await ReportedVmAsync(controlPlane, other, v => v.GetProperty("state").GetString() == "running");

            // The other VM is to stop: it stops while the copy is still in progress, and the copy is not reported done.
            Volatile.Write(ref otherPower, "stopped");
            await ReportedVmAsync(controlPlane, other, v => v.GetProperty("state").GetString() == "stopped");
            Assert.Equal(0, driver.Copies);
            Assert.DoesNotContain(controlPlane.LastReport!.Value.GetProperty("operations").EnumerateArray(), o => o.GetProperty("id").GetGuid() == operation);

            // The copy ends: its result is reported, and it ran once though every pass listed it.
            release.SetResult();
            var result = await OperationResultAsync(controlPlane, operation);
            Assert.True(result.GetProperty("succeeded").GetBoolean(), result.ToString());
            Assert.Equal(1, driver.Copies);
        }
        finally
        {
            release.TrySetResult();
            await agent.StopAsync(CancellationToken.None);
        }
    }

    private static async Task<JsonElement> ReportedCopyAsync(ScriptedControlPlane controlPlane, Guid vm, Func<JsonElement, bool> done)
    {
        var vmReport = await ReportedVmAsync(controlPlane, vm, v => v.TryGetProperty("copies", out var c) && c.ValueKind == JsonValueKind.Array && c.GetArrayLength() == 1 && done(c[0]));
        return vmReport.GetProperty("copies")[0];
    }

    private static async Task<JsonElement> ReportedVmAsync(ScriptedControlPlane controlPlane, Guid vm, Func<JsonElement, bool> done)
    {
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            var found = controlPlane.LastReport?.GetProperty("vms").EnumerateArray().FirstOrDefault(v => v.GetProperty("id").GetGuid() == vm);
            if (found is { ValueKind: JsonValueKind.Object } v && done(v))
            {
                return v;
            }

            Assert.True(waited.Elapsed < Patience, $"no report within {Patience.TotalSeconds} s showed what the test waits for; the last: {controlPlane.LastReport}");
            await Task.Delay(100);
        }
    }

    private static async Task<JsonElement> OperationResultAsync(ScriptedControlPlane controlPlane, Guid operation)
    {
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            var found = controlPlane.LastReport?.GetProperty("operations").EnumerateArray().FirstOrDefault(o => o.GetProperty("id").GetGuid() == operation);
            if (found is { ValueKind: JsonValueKind.Object } o)
            {
                return o;
            }

            Assert.True(waited.Elapsed < Patience, $"no report within {Patience.TotalSeconds} s had the operation's result; the last: {controlPlane.LastReport}");
            await Task.Delay(100);
        }
    }
}
