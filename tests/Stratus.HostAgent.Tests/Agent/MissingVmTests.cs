using System.Text.Json;
using Microsoft.Extensions.Logging;
using Stratus.HostAgent.Agent;
using Stratus.HostAgent.Tests.Support;

namespace Stratus.HostAgent.Tests.Agent;

/// <summary>
/// Issue 16 item 3: a VM whose disk the host had and lost (a replaced data disk, a folder removed by hand) is
/// reported missing, so that its Cloud PC says its disk is lost, instead of being made again, empty, under the same
/// id as if nothing had happened. A VM the host never had is created as before. Real QEMU driver (no VM boots) and a
/// scripted control plane over real HTTP.
/// </summary>
public sealed class MissingVmTests(ITestOutputHelper output)
{
    [Fact]
    public async Task A_vm_the_host_had_and_lost_is_reported_missing_and_not_made_again_while_a_new_one_is_created()
    {
        await using var host = new VmHost(output);
        var image = await TinyImage.GetAsync();
        Directory.CreateDirectory(Path.Combine(host.DataPath, "images"));
        Directory.CreateSymbolicLink(Path.Combine(host.DataPath, "images", "tiny"), image.FolderPath.TrimEnd('/'));
        var lost = Guid.NewGuid();
        var fresh = Guid.NewGuid();
        await using var controlPlane = new ScriptedControlPlane((hostId, request) => $$"""
            {"hostId":"{{hostId}}","version":{{request}},"operations":[],"deletedVmIds":[],"vms":[
              {"id":"{{lost}}","imageId":"tiny","vCpuCount":1,"memoryMiB":256,"diskGiB":8,"power":"stopped","delete":false,"generation":3,"created":true},
              {"id":"{{fresh}}","imageId":"tiny","vCpuCount":1,"memoryMiB":256,"diskGiB":8,"power":"stopped","delete":false,"generation":1,"created":false}]}
            """);
        using var loggers = new TestOutputLoggerFactory(output);
        using var agent = new HostAgentService(host.Driver, controlPlane.AgentOptions(host.DataPath, "host-with-a-lost-disk", TimeSpan.FromMilliseconds(300)), "tcg",
            new HttpClient { BaseAddress = controlPlane.Url }, TimeProvider.System, loggers.CreateLogger<HostAgentService>());
        await agent.StartAsync(CancellationToken.None);
        try
        {
            var waited = System.Diagnostics.Stopwatch.StartNew();
            JsonElement report = default;
            while (!(controlPlane.LastReport is { } last && Has(report = last, fresh, "stopped") && Has(report, lost, "missing")))
            {
                Assert.True(waited.Elapsed < TimeSpan.FromSeconds(60), $"no report within 60 s showed the new VM stopped and the lost one missing; the last: {controlPlane.LastReport}");
                await Task.Delay(100);
            }

            var missing = report.GetProperty("vms").EnumerateArray().Single(v => v.GetProperty("id").GetGuid() == lost);
            Assert.False(missing.GetProperty("ready").GetBoolean());
            Assert.Equal(3, missing.GetProperty("generation").GetInt64());
            Assert.Contains("disk is not on this host", missing.GetProperty("detail").GetString(), StringComparison.Ordinal);
            Assert.False(Directory.Exists(Path.Combine(host.DataPath, "vms", HostAgentService.DriverId(lost))), "the lost VM was made again");
            Assert.True(File.Exists(Path.Combine(host.DataPath, "vms", HostAgentService.DriverId(fresh), "disk.qcow2")), "the new VM was not created");
            Assert.Equal([HostAgentService.DriverId(fresh)], (await host.Driver.ListAsync()).Select(v => v.Id));
        }
        finally
        {
            await agent.StopAsync(CancellationToken.None);
        }
    }

    private static bool Has(JsonElement report, Guid vm, string state) =>
        report.GetProperty("vms").EnumerateArray().Any(v => v.GetProperty("id").GetGuid() == vm && v.GetProperty("state").GetString() == state);
}
