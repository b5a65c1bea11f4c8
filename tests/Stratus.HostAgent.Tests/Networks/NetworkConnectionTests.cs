using System.Diagnostics;
using Stratus.HostAgent.Agent;
using Stratus.HostAgent.Networks;
using Stratus.HostAgent.Tests.Support;
using Stratus.Testing;

namespace Stratus.HostAgent.Tests.Networks;

/// <summary>
/// A connection realized with real parts (bridge, namespace, veth, dnsmasq) over a corporate network the test makes:
/// all six checks pass; the realization is idempotent and an agent restarted over the same data takes it as it is;
/// the host has no address and no IPv6 on it; the uplink cut fails the checks with what to do; teardown leaves nothing.
/// </summary>
public sealed class NetworkConnectionTests(ITestOutputHelper output)
{
    private static readonly string[] CheckOrder =
        ["uplinkExists", "bridgeAndDhcpRunning", "mtuConsistent", "gatewayReachable", "dnsResolution", "endpointConnectivity"];

    [Fact]
    public async Task Connection_Realized_PassesAllChecks_SurvivesARestart_FailsWhenItsUplinkIsCut_AndLeavesNothingWhenTornDown()
    {
        await using var corporate = await CorporateNetwork.StartAsync();
        using var data = new TempFolder();
        using var logs = new TestOutputLoggerFactory(output);
        var network = corporate.Connection(Guid.NewGuid(), serviceAddress: "10.20.0.2");
        var networks = new HostNetworks(data.Path, TimeProvider.System, logs.CreateLogger("networks"));
        try
        {
            await networks.RealizeAsync([network], [], CancellationToken.None);
            var healthy = networks.Reported([network]).Single();
            Assert.True(healthy.Realized, healthy.Error);
            Assert.Equal(network.CheckRunId, healthy.CheckRunId);
            Print(healthy.Checks!);
            Assert.Equal(CheckOrder, healthy.Checks!.Select(c => c.Name));
            Assert.All(healthy.Checks!, c => Assert.True(c.Status == "passed", $"{c.Name}: {c.ErrorType} {c.AdditionalDetails}"));
            Assert.Contains("10.20.0.80", healthy.Checks![4].AdditionalDetails, StringComparison.Ordinal);

            // Isolation: the bridge carries no host address and no IPv6; its ports neither; nothing routes off it.
            var bridge = networks.Names.Bridge(network.Id);
            Assert.Empty((await ProcessRunner.RunCheckedAsync("ip", ["-o", "addr", "show", "dev", bridge], TimeSpan.FromSeconds(30))).StandardOutput.Trim());
            foreach (var link in new[] { bridge, corporate.Uplink, networks.Names.VethHostEnd(network.Id) })
            {
                Assert.Equal("1", (await File.ReadAllTextAsync($"/proc/sys/net/ipv6/conf/{link}/disable_ipv6")).Trim());
            }

            Assert.Equal("0", (await File.ReadAllTextAsync($"/proc/sys/net/ipv4/conf/{bridge}/forwarding")).Trim());
            var rules = (await ProcessRunner.RunCheckedAsync("nft", ["list", "table", "inet", HostIsolation.Table], TimeSpan.FromSeconds(30))).StandardOutput;
            Assert.Contains("iifname \"stb*\"", rules, StringComparison.Ordinal);

            // Idempotent, and restart-safe: a new agent over the same data keeps the same dnsmasq and devices.
            var dhcpPid = new NetworkDhcp(Path.Combine(data.Path, "networks", network.Id.ToString("N")), networks.Names.Namespace(network.Id), networks.Names.ProbeLink(network.Id)).RunningPid();
            Assert.NotNull(dhcpPid);
            var restarted = new HostNetworks(data.Path, TimeProvider.System, logs.CreateLogger("networks"));
            await restarted.RealizeAsync([network], [], CancellationToken.None);
            Assert.True(restarted.Reported([network]).Single().Realized);
            Assert.Equal(dhcpPid, new NetworkDhcp(Path.Combine(data.Path, "networks", network.Id.ToString("N")), networks.Names.Namespace(network.Id), networks.Names.ProbeLink(network.Id)).RunningPid());
            Assert.Equal([corporate.Uplink, networks.Names.VethHostEnd(network.Id)], LinuxNetwork.PortsOf(bridge).Order(StringComparer.Ordinal));

            // The uplink cut: a new run of the checks (a new CheckRunId) fails, saying what to do.
            await corporate.CutAsync();
            var cutRun = network with { CheckRunId = Guid.NewGuid() };
            await restarted.RealizeAsync([cutRun], [], CancellationToken.None);
            var cut = restarted.Reported([cutRun]).Single();
            Print(cut.Checks!);
            Assert.Equal(cutRun.CheckRunId, cut.CheckRunId);
            var byName = cut.Checks!.ToDictionary(c => c.Name);
            Assert.Equal(("failed", "uplinkInterfaceNotFound"), (byName["uplinkExists"].Status, byName["uplinkExists"].ErrorType));
            Assert.Equal(("failed", "gatewayUnreachable"), (byName["gatewayReachable"].Status, byName["gatewayReachable"].ErrorType));
            Assert.All(cut.Checks!.Where(c => c.Status == "failed"), c => Assert.False(string.IsNullOrWhiteSpace(c.RecommendedAction)));
            Assert.Contains(corporate.Uplink, byName["uplinkExists"].RecommendedAction, StringComparison.Ordinal);
            Assert.Equal("passed", byName["bridgeAndDhcpRunning"].Status);
        }
        finally
        {
            await networks.TearDownUnlistedAsync([], CancellationToken.None);
        }

        // Nothing left: no bridge, no namespace, no veth, no dnsmasq, no state; the corporate uplink (not the agent's) stays.
        Assert.False(LinuxNetwork.LinkExists(networks.Names.Bridge(network.Id)));
        Assert.False(LinuxNetwork.LinkExists(networks.Names.VethHostEnd(network.Id)));
        Assert.False(LinuxNetwork.NamespaceExists(networks.Names.Namespace(network.Id)));
        Assert.False(Directory.Exists(Path.Combine(data.Path, "networks", network.Id.ToString("N"))));
        Assert.Empty(DnsmasqProcesses(data.Path));
        Assert.True(LinuxNetwork.LinkExists(corporate.Uplink));
    }

    [Fact]
    public async Task Connection_OverVxlan_IsRealizedWithItsOwnDevice_PassesAllChecks_AndLeavesNothing()
    {
        await using var corporate = await CorporateNetwork.StartAsync(overVxlan: true);
        using var data = new TempFolder();
        using var logs = new TestOutputLoggerFactory(output);
        var networks = new HostNetworks(data.Path, TimeProvider.System, logs.CreateLogger("networks"));
        // VXLAN takes 50 bytes of the underlay's 1500: the connection's MTU is 1450, and one of 1500 is a mismatch.
        var network = corporate.Connection(Guid.NewGuid(), serviceAddress: "10.20.0.2", mtu: 1450);
        var device = networks.Names.UplinkDevice(network.Id, "vxlan");
        try
        {
            await networks.RealizeAsync([network], [], CancellationToken.None);
            var reported = networks.Reported([network]).Single();
            Assert.True(reported.Realized, reported.Error);
            Print(reported.Checks!);
            Assert.All(reported.Checks!, c => Assert.True(c.Status == "passed", $"{c.Name}: {c.ErrorType} {c.AdditionalDetails}"));
            Assert.Equal(networks.Names.Bridge(network.Id), LinuxNetwork.MasterOf(device));

            var tooBig = network with { Mtu = 1500, CheckRunId = Guid.NewGuid() };
            await networks.RealizeAsync([tooBig], [], CancellationToken.None);
            var mtu = networks.Reported([tooBig]).Single().Checks!.Single(c => c.Name == "mtuConsistent");
            Assert.Equal(("failed", "mtuMismatch"), (mtu.Status, mtu.ErrorType));
            Assert.Contains("1450", mtu.RecommendedAction, StringComparison.Ordinal);
        }
        finally
        {
            await networks.TearDownUnlistedAsync([], CancellationToken.None);
        }

        Assert.False(LinuxNetwork.LinkExists(device));
        Assert.False(LinuxNetwork.LinkExists(networks.Names.Bridge(network.Id)));
        Assert.False(LinuxNetwork.NamespaceExists(networks.Names.Namespace(network.Id)));
        Assert.True(LinuxNetwork.LinkExists(corporate.Uplink));
    }

    private void Print(IReadOnlyList<NetworkCheckResult> checks)
    {
        foreach (var check in checks)
        {
            output.WriteLine($"{check.Name,-22} {check.Status,-7} {(check.EndDateTime - check.StartDateTime).TotalMilliseconds,6:0} ms  {check.ErrorType} {check.AdditionalDetails} {check.RecommendedAction}");
        }

        output.WriteLine($"whole set: {(checks[^1].EndDateTime - checks[0].StartDateTime).TotalMilliseconds:0} ms");
    }

    /// <summary>dnsmasq processes whose command line names a file under the folder.</summary>
    internal static IReadOnlyList<int> DnsmasqProcesses(string folder) =>
        Directory.EnumerateDirectories("/proc").Select(Path.GetFileName).Where(n => int.TryParse(n, out _)).Select(int.Parse!)
            .Where(pid =>
            {
                try
                {
                    var commandLine = File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ');
                    return commandLine.Contains("dnsmasq", StringComparison.Ordinal) && commandLine.Contains(folder, StringComparison.Ordinal);
                }
                catch (IOException)
                {
                    return false;
                }
            }).ToList();
}
