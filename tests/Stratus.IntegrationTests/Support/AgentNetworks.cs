using Microsoft.Extensions.Logging.Abstractions;
using Stratus.HostAgent.Networks;
using Stratus.Testing;

namespace Stratus.IntegrationTests.Support;

/// <summary>
/// The network connections the embedded hosts realized under a data folder (issue 20): bridges, namespaces and
/// dnsmasq outlive `stratus up` as its VMs do, so a test that made them takes them down with the agent's own teardown,
/// after <see cref="QemuProcesses.KillAll"/>: the killed VMs' taps are then all that keeps a bridge in use.
/// </summary>
internal static class AgentNetworks
{
    public static async Task TearDownAllAsync(string dataFolder)
    {
        var hosts = Path.Combine(dataFolder, "hosts");
        if (!Directory.Exists(hosts))
        {
            return;
        }

        foreach (var agentFolder in Directory.GetDirectories(hosts))
        {
            var networks = new HostNetworks(agentFolder, TimeProvider.System, NullLogger.Instance);
            var made = Path.Combine(agentFolder, "networks");
            var ids = Directory.Exists(made) ? Directory.GetDirectories(made).Select(f => Guid.TryParseExact(Path.GetFileName(f), "N", out var id) ? id : Guid.Empty) : [];
            foreach (var tap in ids.Where(id => id != Guid.Empty).SelectMany(id => LinuxNetwork.PortsOf(networks.Names.Bridge(id))).Where(p => p.StartsWith("stt", StringComparison.Ordinal)))
            {
                await ProcessRunner.RunAsync("ip", ["link", "del", tap], TimeSpan.FromSeconds(30));
            }

            await networks.TearDownUnlistedAsync([], CancellationToken.None);
        }
    }
}
