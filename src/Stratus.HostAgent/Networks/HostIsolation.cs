using Stratus.HostAgent.Drivers.Qemu;

namespace Stratus.HostAgent.Networks;

/// <summary>
/// What keeps a tenant's bridge away from the host and from every other bridge (ADR 0019), beyond having no address
/// of the host on it: nftables tables of their own (`inet stratus_networks`, `arp stratus_networks`; the guest firewall
/// replaces its table inet stratus whole, so these are apart) drop every packet and ARP request that reaches the
/// host's stack from an agent bridge ("stb*"), and every packet the host would route between one and any other
/// interface. Frames switched within one bridge pass the forward hook too when br_netfilter is loaded with
/// bridge-nf-call-iptables=1 (a global switch that overrides the bridge's own nf_call_iptables=0), with the bridge as both
/// input and output: those are the tenant's own traffic and stay allowed. Routing from one agent bridge to another is
/// refused by the kernel itself: <see cref="Harden"/> turns IPv4 forwarding off on every agent bridge (and the host has
/// neither an address nor a route on any of them). The rules match by name prefix, so they are the same for every agent
/// of the machine, and loading them again changes nothing.
/// </summary>
internal static class HostIsolation
{
    public const string Table = "stratus_networks";

    internal const string Ruleset = $$"""
        table inet {{Table}} {}
        delete table inet {{Table}}
        table inet {{Table}} {
          chain input {
            type filter hook input priority filter - 10; policy accept;
            iifname "stb*" counter drop
          }
          chain forward {
            type filter hook forward priority filter - 10; policy accept;
            iifname "stb*" oifname != "stb*" counter drop
            oifname "stb*" iifname != "stb*" counter drop
          }
        }
        table arp {{Table}} {}
        delete table arp {{Table}}
        table arp {{Table}} {
          chain input {
            type filter hook input priority filter - 10; policy accept;
            iifname "stb*" counter drop
          }
        }

        """;

    private static readonly SemaphoreSlim Gate = new(1, 1);

    public static async Task EnsureAsync(CancellationToken cancellationToken)
    {
        await Gate.WaitAsync(cancellationToken);
        try
        {
            var file = Path.Combine(Path.GetTempPath(), $"stratus-networks-{Environment.ProcessId}.nft");
            await File.WriteAllTextAsync(file, Ruleset, cancellationToken);
            try
            {
                await CommandRunner.RunCheckedAsync("nft", ["-f", file], TimeSpan.FromSeconds(30), cancellationToken);
            }
            finally
            {
                File.Delete(file);
            }
        }
        finally
        {
            Gate.Release();
        }
    }

    /// <summary>The bridge's own switches: the host neither forwards what comes in on it nor answers ARP on it.</summary>
    public static void Harden(string bridge)
    {
        Write($"/proc/sys/net/ipv4/conf/{bridge}/forwarding", "0");
        Write($"/proc/sys/net/ipv4/conf/{bridge}/arp_ignore", "8");
        LinuxNetwork.DisableIpv6(bridge);
    }

    private static void Write(string path, string value)
    {
        if (File.Exists(path))
        {
            File.WriteAllText(path, value);
        }
    }
}
