using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Stratus.HostAgent.Agent;

namespace Stratus.HostAgent.Networks;

/// <summary>
/// The agent's network connections: each pass realizes every connection of the desired state (with a static DHCP lease
/// for each of this host's VMs on it), runs its checks when it is first realized and whenever its CheckRunId changes,
/// and tears down a connection it made that is no longer listed once no VM's tap is on its bridge. Reports say, per
/// connection, whether it is realized (or why not) and the latest checks.
/// </summary>
internal sealed partial class HostNetworks(string dataFolder, TimeProvider time, ILogger logger)
{
    private readonly NetworkRealizer realizer = new(dataFolder, logger);
    private readonly ConcurrentDictionary<Guid, ReportedNetwork> reported = new();
    private NetworkChecks Checks => new(realizer, time);

    /// <summary>This agent's names of the devices and namespaces it makes.</summary>
    public NetworkNames Names => realizer.Names;

    /// <summary>The connection's static DHCP leases (MAC,address per line), as dnsmasq reads them.</summary>
    public string DhcpHostsFile(Guid networkId) => realizer.DhcpOf(networkId).HostsFile;

    /// <summary>Realizes every listed connection and runs the checks that are due. Null (a control plane without networks): nothing changes.</summary>
    public async Task RealizeAsync(IReadOnlyList<DesiredNetwork>? networks, IReadOnlyList<DesiredVm> vms, CancellationToken cancellationToken)
    {
        foreach (var network in networks ?? [])
        {
            var leases = vms.Where(v => !v.Delete && v.Nic?.NetworkConnectionId == network.Id)
                .Select(v => (NetworkNames.MacAddress(v.Id), v.Nic!.IpAddress)).ToList();
            var before = reported.GetValueOrDefault(network.Id);
            try
            {
                await realizer.RealizeAsync(network, leases, cancellationToken);
            }
            catch (Exception exception) when (exception is Drivers.VmDriverException or IOException or FormatException or ArgumentException or TimeoutException)
            {
                LogRealizeFailed(logger, network.Id, exception.Message);
                reported[network.Id] = new ReportedNetwork(network.Id, network.Version, false, exception.Message, before?.CheckRunId, before?.CheckedAt, before?.Checks);
                continue;
            }

            if (before is { Realized: true, Checks: not null } && before.CheckRunId == network.CheckRunId)
            {
                reported[network.Id] = before with { Version = network.Version };
                continue;
            }

            await CheckAsync(network, cancellationToken);
        }
    }

    /// <summary>Runs the connection's checks now and keeps their results for the reports.</summary>
    public async Task<IReadOnlyList<NetworkCheckResult>> CheckAsync(DesiredNetwork network, CancellationToken cancellationToken)
    {
        var checks = await Checks.RunAsync(network, cancellationToken);
        reported[network.Id] = new ReportedNetwork(network.Id, network.Version, true, null, network.CheckRunId, time.GetUtcNow(), checks);
        LogChecked(logger, network.Id, checks.Count(c => c.Status == "passed"), checks.Count, (checks[^1].EndDateTime - checks[0].StartDateTime).TotalMilliseconds);
        return checks;
    }

    /// <summary>Tears down the connections this agent made that are not listed any more and carry no VM's tap.</summary>
    public async Task TearDownUnlistedAsync(IReadOnlyList<DesiredNetwork>? networks, CancellationToken cancellationToken)
    {
        if (networks is null)
        {
            return;
        }

        var listed = networks.Select(n => n.Id).ToHashSet();
        foreach (var made in realizer.Made().Where(m => !listed.Contains(m.Id)))
        {
            var taps = LinuxNetwork.PortsOf(realizer.Names.Bridge(made.Id)).Where(p => p.StartsWith("stt", StringComparison.Ordinal)).ToList();
            if (taps.Count > 0)
            {
                LogKeptInUse(logger, made.Id, string.Join(", ", taps));
                continue;
            }

            try
            {
                await realizer.TearDownAsync(made, cancellationToken);
                reported.TryRemove(made.Id, out _);
            }
            catch (Exception exception) when (exception is Drivers.VmDriverException or IOException or TimeoutException)
            {
                LogRealizeFailed(logger, made.Id, exception.Message);
            }
        }
    }

    /// <summary>The listed connections as this host has them.</summary>
    public IReadOnlyList<ReportedNetwork> Reported(IReadOnlyList<DesiredNetwork>? networks, string notRealized = "Not realized yet.") =>
        (networks ?? []).Select(n => reported.GetValueOrDefault(n.Id) ?? new ReportedNetwork(n.Id, n.Version, false, notRealized, null, null, null)).ToList();

    /// <summary>The host's interfaces that may be uplinks: not loopback, none of the agent's own devices.</summary>
    public static IReadOnlyList<string> UplinkCandidates() =>
        LinuxNetwork.Links().Where(l => l != "lo" && !NetworkNames.IsAgentDevice(l)).ToList();

    [LoggerMessage(EventId = 4303, Level = LogLevel.Warning, Message = "Network connection {NetworkId} cannot be realized on this host: {Error}")]
    private static partial void LogRealizeFailed(ILogger logger, Guid networkId, string error);

    [LoggerMessage(EventId = 4304, Level = LogLevel.Information, Message = "Network connection {NetworkId} checked: {Passed} of {Count} passed in {Milliseconds:0} ms")]
    private static partial void LogChecked(ILogger logger, Guid networkId, int passed, int count, double milliseconds);

    [LoggerMessage(EventId = 4305, Level = LogLevel.Information, Message = "Network connection {NetworkId} is no longer listed but VMs' taps are on it ({Taps}): kept until they leave")]
    private static partial void LogKeptInUse(ILogger logger, Guid networkId, string taps);
}
