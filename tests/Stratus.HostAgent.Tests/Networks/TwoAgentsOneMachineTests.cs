using Stratus.HostAgent.Networks;
using Stratus.HostAgent.Tests.Support;
using Stratus.Testing;

namespace Stratus.HostAgent.Tests.Networks;

/// <summary>
/// Two agents of one machine (the embedded hosts of `stratus up`, `stratus host` agents beside them) realize the same
/// connection, each over its own uplink: each has its own bridge, namespace and dnsmasq (names from a hash of its data
/// folder and the id, ADR 0019), both pass their checks, and one tearing its realization down leaves the other's whole.
/// </summary>
public sealed class TwoAgentsOneMachineTests(ITestOutputHelper output)
{
    [Fact]
    public async Task SameConnection_OnTwoAgentsOfOneMachine_HasTwoRealizations_AndOneTornDownLeavesTheOther()
    {
        await using var corporate1 = await CorporateNetwork.StartAsync();
        await using var corporate2 = await CorporateNetwork.StartAsync();
        using var data1 = new TempFolder();
        using var data2 = new TempFolder();
        using var logs = new TestOutputLoggerFactory(output);
        var agent1 = new HostNetworks(data1.Path, TimeProvider.System, logs.CreateLogger("agent-1"));
        var agent2 = new HostNetworks(data2.Path, TimeProvider.System, logs.CreateLogger("agent-2"));
        var id = Guid.NewGuid();
        var on1 = corporate1.Connection(id, serviceAddress: "10.20.0.2");
        var on2 = corporate2.Connection(id, serviceAddress: "10.20.0.3") with { CheckRunId = on1.CheckRunId };
        var vmId = Guid.NewGuid();

        // Same connection, same VM id: different names, each within Linux's 15 characters; the MAC is the VM's alone.
        Assert.NotEqual(agent1.Names.Bridge(id), agent2.Names.Bridge(id));
        Assert.NotEqual(agent1.Names.Namespace(id), agent2.Names.Namespace(id));
        Assert.NotEqual(agent1.Names.Tap(vmId), agent2.Names.Tap(vmId));
        Assert.Equal(agent1.Names.Bridge(id), new NetworkNames(data1.Path).Bridge(id));
        Assert.All(new[] { agent1.Names.Bridge(id), agent1.Names.VethHostEnd(id), agent1.Names.ProbeLink(id), agent1.Names.Tap(vmId), agent1.Names.UplinkDevice(id, "vxlan") },
            name => Assert.True(name.Length <= 15 && NetworkNames.IsAgentDevice(name), name));
        try
        {
            await agent1.RealizeAsync([on1], [], CancellationToken.None);
            await agent2.RealizeAsync([on2], [], CancellationToken.None);
            foreach (var (agent, network) in new[] { (agent1, on1), (agent2, on2) })
            {
                var reported = agent.Reported([network]).Single();
                Assert.True(reported.Realized, reported.Error);
                Assert.All(reported.Checks!, c => Assert.True(c.Status == "passed", $"{c.Name}: {c.ErrorType} {c.AdditionalDetails}"));
            }

            Assert.Single(NetworkConnectionTests.DnsmasqProcesses(data1.Path));
            Assert.Single(NetworkConnectionTests.DnsmasqProcesses(data2.Path));

            // Agent 1 no longer lists it: its realization goes, agent 2's stays and still passes.
            await agent1.TearDownUnlistedAsync([], CancellationToken.None);
            Assert.False(LinuxNetwork.LinkExists(agent1.Names.Bridge(id)));
            Assert.False(LinuxNetwork.NamespaceExists(agent1.Names.Namespace(id)));
            Assert.Empty(NetworkConnectionTests.DnsmasqProcesses(data1.Path));
            Assert.True(LinuxNetwork.LinkExists(agent2.Names.Bridge(id)));
            Assert.Equal(agent2.Names.Bridge(id), LinuxNetwork.MasterOf(corporate2.Uplink));
            Assert.Single(NetworkConnectionTests.DnsmasqProcesses(data2.Path));
            var again = await agent2.CheckAsync(on2 with { CheckRunId = Guid.NewGuid() }, CancellationToken.None);
            Assert.All(again, c => Assert.True(c.Status == "passed", $"{c.Name}: {c.ErrorType} {c.AdditionalDetails}"));
        }
        finally
        {
            await agent1.TearDownUnlistedAsync([], CancellationToken.None);
            await agent2.TearDownUnlistedAsync([], CancellationToken.None);
        }

        Assert.False(LinuxNetwork.LinkExists(agent2.Names.Bridge(id)));
        Assert.False(LinuxNetwork.NamespaceExists(agent2.Names.Namespace(id)));
        Assert.Empty(NetworkConnectionTests.DnsmasqProcesses(data2.Path));
    }
}
