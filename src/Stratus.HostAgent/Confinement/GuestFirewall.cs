using System.Globalization;
using System.Net;
using System.Text;
using Stratus.HostAgent.Drivers;
using Stratus.HostAgent.Drivers.Qemu;

namespace Stratus.HostAgent.Confinement;

/// <summary>
/// The nftables table "inet stratus": QEMU's user-mode network (slirp) opens the guest's connections as ordinary
/// sockets of the QEMU process, so a rule on the output of the guest user's sockets decides what a guest reaches.
/// It refuses every address of the host itself (fib daddr type local: loopback included, and any address added
/// later, with no list to keep up to date), broadcast and multicast, and the configured control-plane networks;
/// it lets DNS through to the host's resolvers when they are local (a guest's 10.0.2.3 forwards to them). The
/// rest (the outside world, through the host's NAT) passes. The control-plane networks are a set, so the later
/// custom networks (tenant bridges) can add their own chains and sets beside it. Refused connections are rejected, so a guest sees
/// "connection refused" at once rather than a hang. Written whole in one nft transaction: idempotent.
/// </summary>
internal static class GuestFirewall
{
    public const string Table = "stratus";

    public static async Task ApplyAsync(GuestUser user, IReadOnlyList<string> controlPlaneNetworks, CancellationToken cancellationToken)
    {
        // Several agents of one machine (stratus up's embedded hosts) share the table: each keeps the others' networks.
        var networks = controlPlaneNetworks.Select(ParseNetwork).ToList();
        foreach (var family in new[] { "ip", "ip6" })
        {
            networks.AddRange((await ExistingNetworksAsync(family, cancellationToken)).Select(n => (family, n)));
        }

        var result = await RunNftAsync(Ruleset(user, networks.Distinct().ToList(), LocalResolvers()), cancellationToken);
        if (result.ExitCode != 0)
        {
            throw new VmDriverException($"nft could not load the guest firewall (table inet {Table}): {result.StandardError.Trim()}");
        }
    }

    internal static string Ruleset(GuestUser user, IReadOnlyList<(string Family, string Network)> controlPlaneNetworks, IReadOnlyList<IPAddress> localResolvers)
    {
        var uid = user.Uid.ToString(CultureInfo.InvariantCulture);
        var text = new StringBuilder();
        // Declaring then deleting makes the load work whether or not the table exists: one atomic replacement.
        text.AppendLine(CultureInfo.InvariantCulture, $"table inet {Table} {{}}");
        text.AppendLine(CultureInfo.InvariantCulture, $"delete table inet {Table}");
        text.AppendLine(CultureInfo.InvariantCulture, $"table inet {Table} {{");
        foreach (var (family, type) in new[] { ("ip", "ipv4_addr"), ("ip6", "ipv6_addr") })
        {
            var elements = controlPlaneNetworks.Where(n => n.Family == family).Select(n => n.Network).ToList();
            text.AppendLine(CultureInfo.InvariantCulture, $"  set {SetName(family)} {{");
            text.AppendLine(CultureInfo.InvariantCulture, $"    type {type}; flags interval; auto-merge;");
            if (elements.Count > 0)
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"    elements = {{ {string.Join(", ", elements)} }}");
            }

            text.AppendLine("  }");
        }

        // Only the guest user's packets go to the guest chain. (A negated match would not do: packets without a
        // socket, such as the kernel's own resets and ICMP answers, match neither "skuid X" nor "skuid != X".)
        text.AppendLine("  chain output {");
        text.AppendLine("    type filter hook output priority filter; policy accept;");
        text.AppendLine(CultureInfo.InvariantCulture, $"    meta skuid {uid} jump guest");
        text.AppendLine("  }");
        text.AppendLine("  chain guest {");
        foreach (var resolver in localResolvers)
        {
            var family = resolver.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? "ip6" : "ip";
            text.AppendLine(CultureInfo.InvariantCulture, $"    {family} daddr {resolver} meta l4proto {{ tcp, udp }} th dport 53 accept");
        }

        text.AppendLine("    fib daddr type { local, broadcast, multicast, anycast } counter reject with icmpx admin-prohibited");
        text.AppendLine(CultureInfo.InvariantCulture, $"    ip daddr @{SetName("ip")} counter reject with icmpx admin-prohibited");
        text.AppendLine(CultureInfo.InvariantCulture, $"    ip6 daddr @{SetName("ip6")} counter reject with icmpx admin-prohibited");
        text.AppendLine("  }");
        text.AppendLine("}");
        return text.ToString();
    }

    private static string SetName(string family) => family == "ip" ? "control_plane_v4" : "control_plane_v6";

    /// <summary>The networks in the table's set now (none when there is no table yet), as nft writes them.</summary>
    private static async Task<List<string>> ExistingNetworksAsync(string family, CancellationToken cancellationToken)
    {
        var result = await CommandRunner.RunAsync("nft", ["-j", "list", "set", "inet", Table, SetName(family)], TimeSpan.FromSeconds(30), cancellationToken);
        var found = new List<string>();
        if (result.ExitCode != 0)
        {
            return found;
        }

        using var document = System.Text.Json.JsonDocument.Parse(result.StandardOutput);
        foreach (var item in document.RootElement.GetProperty("nftables").EnumerateArray())
        {
            if (!item.TryGetProperty("set", out var set) || !set.TryGetProperty("elem", out var elements))
            {
                continue;
            }

            foreach (var element in elements.EnumerateArray())
            {
                found.Add(element.ValueKind == System.Text.Json.JsonValueKind.String ? element.GetString()!
                    : element.TryGetProperty("prefix", out var prefix) ? $"{prefix.GetProperty("addr").GetString()}/{prefix.GetProperty("len").GetInt32()}"
                    : element.TryGetProperty("range", out var range) ? $"{range[0].GetString()}-{range[1].GetString()}"
                    : throw new VmDriverException($"nft lists an element of {SetName(family)} in an unknown form: {element}"));
            }
        }

        return found;
    }

    /// <summary>The host's name servers (/etc/resolv.conf) that are its own addresses, such as 127.0.0.53.</summary>
    private static List<IPAddress> LocalResolvers()
    {
        var found = new List<IPAddress>();
        if (!File.Exists("/etc/resolv.conf"))
        {
            return found;
        }

        var local = System.Net.NetworkInformation.NetworkInterface.GetAllNetworkInterfaces()
            .SelectMany(i => i.GetIPProperties().UnicastAddresses).Select(a => a.Address).ToHashSet();
        foreach (var line in File.ReadLines("/etc/resolv.conf"))
        {
            var fields = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (fields is ["nameserver", var value, ..] && IPAddress.TryParse(value, out var address)
                && (IPAddress.IsLoopback(address) || local.Contains(address)))
            {
                found.Add(address);
            }
        }

        return found;
    }

    private static (string Family, string Network) ParseNetwork(string cidr) =>
        IPNetwork.TryParse(cidr, out var network)
            ? (network.BaseAddress.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? "ip6" : "ip", network.ToString())
            : throw new VmDriverException($"'{cidr}' is not a network in CIDR form (such as 10.20.0.0/16).");

    private static async Task<CommandResult> RunNftAsync(string ruleset, CancellationToken cancellationToken)
    {
        var file = Path.Combine(Path.GetTempPath(), $"stratus-nft-{Guid.NewGuid():N}.nft");
        await File.WriteAllTextAsync(file, ruleset, cancellationToken);
        try
        {
            return await CommandRunner.RunAsync("nft", ["-f", file], TimeSpan.FromSeconds(30), cancellationToken);
        }
        finally
        {
            File.Delete(file);
        }
    }
}
