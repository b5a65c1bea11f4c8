using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Stratus.HostAgent.Agent;
using Stratus.HostAgent.Networks;
using Stratus.HostAgent.Tests.Support;
using Stratus.Testing;

namespace Stratus.HostAgent.Tests.Networks;

/// <summary>
/// The agent's loop with networks, against a scripted control plane on 127.0.0.1: a connection in the desired state is
/// realized and checked, the report carries it with its six checks and the host's possible uplinks (not the agent's
/// own devices); a desired state without it tears it down.
/// </summary>
public sealed class AgentNetworksTests(ITestOutputHelper output)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    [Fact]
    public async Task Agent_RealizesAListedConnection_ReportsItsChecksAndTheUplinks_AndTearsItDownWhenItIsNoLongerListed()
    {
        await using var corporate = await CorporateNetwork.StartAsync();
        await using var host = new VmHost(output);
        var network = corporate.Connection(Guid.NewGuid(), serviceAddress: "10.20.0.2");
        IReadOnlyList<DesiredNetwork> listed = [network];
        var version = 1;
        await using var controlPlane = new ScriptedControlPlane((hostId, _) =>
            JsonSerializer.Serialize(new DesiredState(hostId, Volatile.Read(ref version), [], [], Networks: Volatile.Read(ref listed)), Json));
        var options = controlPlane.AgentOptions(host.DataPath, "network-host", TimeSpan.FromMilliseconds(300));
        var names = new NetworkNames(options.DataFolder);
        using var loggers = new TestOutputLoggerFactory(output);
        using var agent = new HostAgentService(host.Driver, options, "tcg", new HttpClient { BaseAddress = controlPlane.Url }, TimeProvider.System,
            loggers.CreateLogger<HostAgentService>());
        await agent.StartAsync(CancellationToken.None);
        try
        {
            var report = await EventuallyAsync(controlPlane, r => r.TryGetProperty("networks", out var n) && n.ValueKind == JsonValueKind.Array
                && n.GetArrayLength() == 1 && n[0].GetProperty("realized").GetBoolean() && n[0].GetProperty("checks").ValueKind == JsonValueKind.Array);
            var reported = report.GetProperty("networks")[0];
            Assert.Equal(network.Id, reported.GetProperty("id").GetGuid());
            Assert.Equal(network.CheckRunId, reported.GetProperty("checkRunId").GetGuid());
            var checks = reported.GetProperty("checks").EnumerateArray().ToList();
            Assert.Equal(6, checks.Count);
            Assert.All(checks, c => Assert.True(c.GetProperty("status").GetString() == "passed", c.ToString()));
            var interfaces = report.GetProperty("interfaces").EnumerateArray().Select(i => i.GetString()).ToList();
            Assert.Contains(corporate.Uplink, interfaces);
            Assert.DoesNotContain("lo", interfaces);
            Assert.DoesNotContain(interfaces, i => NetworkNames.IsAgentDevice(i!));

            // No longer listed: torn down at the next pass.
            Volatile.Write(ref listed, []);
            Interlocked.Increment(ref version);
            var clock = Stopwatch.StartNew();
            while (LinuxNetwork.LinkExists(names.Bridge(network.Id)) || LinuxNetwork.NamespaceExists(names.Namespace(network.Id)))
            {
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(120), "The connection was not torn down within 120 s.");
                await Task.Delay(200);
            }

            Assert.Empty(NetworkConnectionTests.DnsmasqProcesses(host.DataPath));
        }
        finally
        {
            await agent.StopAsync(CancellationToken.None);
            await new HostNetworks(options.DataFolder, TimeProvider.System, loggers.CreateLogger("cleanup")).TearDownUnlistedAsync([], CancellationToken.None);
        }
    }

    private static async Task<JsonElement> EventuallyAsync(ScriptedControlPlane controlPlane, Func<JsonElement, bool> condition)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (controlPlane.LastReport is { } report && condition(report))
            {
                return report;
            }

            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(120), $"No such report within 120 s; the last: {controlPlane.LastReport}");
            await Task.Delay(200);
        }
    }
}
