using System.Globalization;
using System.Net;
using Stratus.HostAgent.Agent;

namespace Stratus.HostAgent.Networks;

/// <summary>
/// The six agent-side checks of a connection (names and error types are the contract of issue 20), in order, each timed.
/// The network ones look from the connection's namespace, which sits on the tenant's network like a guest. Every
/// failure says what to do about it in words a network administrator can act on.
/// </summary>
internal sealed class NetworkChecks(NetworkRealizer realizer, TimeProvider time)
{
    private static readonly TimeSpan GatewayTimeout = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan DnsTimeout = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan EndpointTimeout = TimeSpan.FromSeconds(3);

    public async Task<IReadOnlyList<NetworkCheckResult>> RunAsync(DesiredNetwork network, CancellationToken cancellationToken)
    {
        var ns = realizer.Names.Namespace(network.Id);
        return
        [
            await CheckAsync("uplinkExists", () => Task.FromResult(UplinkExists(network)), cancellationToken),
            await CheckAsync("bridgeAndDhcpRunning", () => Task.FromResult(BridgeAndDhcpRunning(network)), cancellationToken),
            await CheckAsync("mtuConsistent", () => Task.FromResult(MtuConsistent(network)), cancellationToken),
            await CheckAsync("gatewayReachable", () => GatewayReachableAsync(network, ns, cancellationToken), cancellationToken),
            await CheckAsync("dnsResolution", () => DnsResolutionAsync(network, ns, cancellationToken), cancellationToken),
            await CheckAsync("endpointConnectivity", () => EndpointConnectivityAsync(network, ns, cancellationToken), cancellationToken),
        ];
    }

    private async Task<NetworkCheckResult> CheckAsync(string name, Func<Task<Outcome>> check, CancellationToken cancellationToken)
    {
        var start = time.GetUtcNow();
        Outcome outcome;
        try
        {
            outcome = await check();
        }
        catch (Exception exception) when (!cancellationToken.IsCancellationRequested && exception is not OutOfMemoryException)
        {
            outcome = Outcome.Failed(ErrorTypeOnException(name), $"The check could not run: {exception.Message}",
                "Look at the host agent's log on this host; the connection may not be realized here yet.");
        }

        return new NetworkCheckResult(name, outcome.Status, outcome.ErrorType, outcome.RecommendedAction, outcome.Details, start, time.GetUtcNow());
    }

    private static string ErrorTypeOnException(string name) => name switch
    {
        "uplinkExists" => "uplinkInterfaceNotFound",
        "bridgeAndDhcpRunning" => "bridgeNotRunning",
        "mtuConsistent" => "mtuMismatch",
        "gatewayReachable" => "gatewayUnreachable",
        "dnsResolution" => "dnsServerUnreachable",
        _ => "endpointUnreachable",
    };

    private string UplinkDevice(DesiredNetwork network) =>
        network.UplinkKind == "hostInterface" ? network.UplinkInterface : realizer.Names.UplinkDevice(network.Id, network.UplinkKind);

    private Outcome UplinkExists(DesiredNetwork network)
    {
        var parent = network.UplinkInterface;
        if (!LinuxNetwork.LinkExists(parent))
        {
            return Outcome.Failed("uplinkInterfaceNotFound", $"Interface '{parent}' does not exist on this host.",
                $"Create or rename the interface '{parent}' on this host, or change the connection's uplink interface to one the host has.");
        }

        var device = UplinkDevice(network);
        if (!LinuxNetwork.LinkExists(device))
        {
            return Outcome.Failed("uplinkInterfaceNotFound", $"The {network.UplinkKind} device '{device}' over '{parent}' is missing.",
                "The host agent makes it again on its next pass; if this persists, check that the host's kernel supports VLAN/VXLAN (8021q, vxlan modules).");
        }

        foreach (var link in new[] { parent, device }.Distinct())
        {
            var state = LinuxNetwork.OperState(link);
            if (!LinuxNetwork.IsAdminUp(link) || state is "down" or "lowerlayerdown" or "notpresent")
            {
                return Outcome.Failed("uplinkInterfaceNotFound", $"Interface '{link}' is {(LinuxNetwork.IsAdminUp(link) ? "up, but its link is " + state : "administratively down")}: the uplink carries nothing.",
                    $"Check the cable or switch port of '{parent}' (no carrier), or bring it up with `ip link set {link} up`.");
            }
        }

        return Outcome.Passed($"Interface '{parent}'{(device != parent ? $" with {network.UplinkKind} device '{device}'" : "")} is up.");
    }

    private Outcome BridgeAndDhcpRunning(DesiredNetwork network)
    {
        var bridge = realizer.Names.Bridge(network.Id);
        if (!LinuxNetwork.LinkExists(bridge) || !LinuxNetwork.IsAdminUp(bridge))
        {
            return Outcome.Failed("bridgeNotRunning", $"Bridge '{bridge}' {(LinuxNetwork.LinkExists(bridge) ? "is down" : "does not exist")}.",
                "The host agent makes it on its next pass; if this persists, read the agent's log on this host (events 43xx).");
        }

        var pid = realizer.DhcpOf(network.Id).RunningPid();
        return pid is null
            ? Outcome.Failed("dhcpNotRunning", $"The DHCP server (dnsmasq) of namespace {realizer.Names.Namespace(network.Id)} is not running.",
                "The host agent starts it on its next pass; if this persists, check that dnsmasq is installed on this host (scripts/install-deps.sh up).")
            : Outcome.Passed($"Bridge '{bridge}' is up; dnsmasq runs (pid {pid}).");
    }

    private Outcome MtuConsistent(DesiredNetwork network)
    {
        var parent = network.UplinkInterface;
        if (LinuxNetwork.Mtu(parent) is not { } mtu)
        {
            return Outcome.Failed("mtuMismatch", $"Interface '{parent}' does not exist; its MTU cannot be read.", $"Fix the uplink first (uplinkExists).");
        }

        // VXLAN's encapsulation takes 50 bytes of the underlying interface's MTU.
        var available = network.UplinkKind == "vxlan" ? mtu - 50 : mtu;
        return available < network.Mtu
            ? Outcome.Failed("mtuMismatch", $"Interface '{parent}' has MTU {mtu}, which carries {available}-byte frames{(network.UplinkKind == "vxlan" ? " after VXLAN's 50 bytes" : "")}; the connection's MTU is {network.Mtu}.",
                $"Lower the connection's MTU to {available} or less, or raise the MTU of '{parent}' (and of the network behind it) to {network.Mtu + (available == mtu ? 0 : 50)}.")
            : Outcome.Passed($"Interface '{parent}' has MTU {mtu}; the connection's is {network.Mtu}.");
    }

    private static async Task<Outcome> GatewayReachableAsync(DesiredNetwork network, string ns, CancellationToken cancellationToken) =>
        await NamespaceProbes.PingAsync(ns, IPAddress.Parse(network.Gateway), GatewayTimeout, cancellationToken)
            ? Outcome.Passed($"Gateway {network.Gateway} answers from {network.ServiceAddress}.")
            : Outcome.Failed("gatewayUnreachable", $"Gateway {network.Gateway} did not answer ICMP echo from {network.ServiceAddress} within {GatewayTimeout.TotalSeconds:0} s.",
                $"Check that the gateway {network.Gateway} is up on the uplink's network (VLAN and cabling) and answers ping from the connection's subnet {network.Subnet}.");

    private static async Task<Outcome> DnsResolutionAsync(DesiredNetwork network, string ns, CancellationToken cancellationToken)
    {
        if (network.DnsServers.Count == 0)
        {
            return Outcome.Passed("The connection names no DNS servers: nothing to check.");
        }

        var details = new List<string>();
        foreach (var server in network.DnsServers)
        {
            foreach (var name in network.DnsNamesToResolve.DefaultIfEmpty(null))
            {
                var answer = await NamespaceProbes.ResolveAsync(ns, IPAddress.Parse(server), name ?? "localhost", DnsTimeout, cancellationToken);
                if (answer is null)
                {
                    return Outcome.Failed("dnsServerUnreachable", $"DNS server {server} did not answer within {DnsTimeout.TotalSeconds:0} s.",
                        $"Check that the DNS server {server} runs, is reachable from {network.Subnet}, and accepts queries from it (UDP port 53).");
                }

                if (name is not null && (answer.ResponseCode != 0 || answer.Addresses.Count == 0))
                {
                    return Outcome.Failed("dnsNameNotResolved", $"DNS server {server} has no address for {name} (response code {answer.ResponseCode}).",
                        $"Add an A record for {name} on {server}, or remove the name from the connection's names to resolve.");
                }

                details.Add(name is null ? $"{server} answers" : $"{server}: {name} = {string.Join(", ", answer.Addresses)}");
            }
        }

        return Outcome.Passed(string.Join("; ", details));
    }

    private static async Task<Outcome> EndpointConnectivityAsync(DesiredNetwork network, string ns, CancellationToken cancellationToken)
    {
        var details = new List<string>();
        foreach (var endpoint in network.RequiredEndpoints)
        {
            var separator = endpoint.LastIndexOf(':');
            var host = endpoint[..separator].Trim('[', ']');
            var port = int.Parse(endpoint[(separator + 1)..], CultureInfo.InvariantCulture);
            if (!IPAddress.TryParse(host, out var address))
            {
                address = await ResolveAsync(network, ns, host, cancellationToken);
                if (address is null)
                {
                    return Outcome.Failed("endpointUnreachable", $"{endpoint}: no DNS server of the connection resolves {host}.",
                        $"Add an A record for {host} on the connection's DNS servers ({string.Join(", ", network.DnsServers)}), or name the endpoint by its address.");
                }
            }

            if (await NamespaceProbes.ConnectAsync(ns, address, port, EndpointTimeout, cancellationToken) is { } failure)
            {
                return Outcome.Failed("endpointUnreachable", $"{endpoint} ({address}:{port}) from {network.ServiceAddress}: {failure}.",
                    $"Open TCP port {port} of {host} to {network.Subnet} (firewall rules, routes via {network.Gateway}), or check that the service at {endpoint} runs.");
            }

            details.Add($"{endpoint} ({address}) connects");
        }

        return Outcome.Passed(details.Count == 0 ? "The connection names no required endpoints." : string.Join("; ", details));
    }

    private static async Task<IPAddress?> ResolveAsync(DesiredNetwork network, string ns, string name, CancellationToken cancellationToken)
    {
        foreach (var server in network.DnsServers)
        {
            if (await NamespaceProbes.ResolveAsync(ns, IPAddress.Parse(server), name, DnsTimeout, cancellationToken) is { ResponseCode: 0, Addresses: [var first, ..] })
            {
                return first;
            }
        }

        return null;
    }

    private sealed record Outcome(string Status, string? ErrorType, string? RecommendedAction, string Details)
    {
        public static Outcome Passed(string details) => new("passed", null, null, details);

        public static Outcome Failed(string errorType, string details, string action) => new("failed", errorType, action, details);
    }
}
