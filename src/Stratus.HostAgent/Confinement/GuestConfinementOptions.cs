using System.Net;
using System.Net.Sockets;

namespace Stratus.HostAgent.Confinement;

/// <summary>How a host keeps its guests' QEMU processes confined (docs/adr/0007-guest-confinement.md).</summary>
public sealed record GuestConfinementOptions
{
    /// <summary>The unprivileged system user every QEMU process of the host runs as; created when missing.</summary>
    public string User { get; init; } = "stratus-vm";

    /// <summary>
    /// Networks a guest never reaches besides the host's own addresses: the control plane's and the database's
    /// when they run on other machines (CIDRs, IPv4 or IPv6).
    /// </summary>
    public IReadOnlyList<string> ControlPlaneNetworks { get; init; } = [];

    /// <summary>
    /// What QEMU itself may use on top of the guest's memory (its code, device state, and under TCG the translation
    /// cache, which the command line bounds to <see cref="TranslationCacheMiB"/>): memory limit = plan + this.
    /// </summary>
    public int MemoryOverheadMiB { get; init; } = 512;

    /// <summary>The TCG translation cache (QEMU's tb-size); QEMU's default of 1 GiB would dwarf a small plan.</summary>
    public int TranslationCacheMiB { get; init; } = 256;

    /// <summary>
    /// The networks of <see cref="ControlPlaneNetworks"/> for an agent: the ones its operator names (CIDRs: the
    /// database's, other control-plane machines') and every address its control-plane URLs resolve to now, so that
    /// a guest never reaches the control plane its host talks to, wherever it runs. A name that does not resolve
    /// adds nothing: the agent cannot reach it either, and says so when it tries.
    /// </summary>
    /// <exception cref="ArgumentException">A network is not a CIDR; the message names it.</exception>
    public static async Task<IReadOnlyList<string>> DenyNetworksAsync(IEnumerable<Uri> controlPlanes, IEnumerable<string> networks, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(controlPlanes);
        ArgumentNullException.ThrowIfNull(networks);
        var denied = new List<string>();
        foreach (var network in networks)
        {
            if (!IPNetwork.TryParse(network, out var parsed))
            {
                throw new ArgumentException($"'{network}' is not a network; give one as an address and a prefix length, for example 10.0.0.0/24 or fd00::/64.", nameof(networks));
            }

            // .NET drops the bits past the prefix; 10.1.2.3/24 is more likely a typing slip than a wish for
            // 10.1.2.0/24: ask rather than guess.
            if (!IPAddress.Parse(network.Split('/')[0]).Equals(parsed.BaseAddress))
            {
                throw new ArgumentException($"'{network}' has bits set past its prefix; the network is {parsed}.", nameof(networks));
            }

            denied.Add(parsed.ToString());
        }

        foreach (var url in controlPlanes)
        {
            IPAddress[] addresses;
            try
            {
                addresses = IPAddress.TryParse(url.IdnHost, out var literal) ? [literal] : await Dns.GetHostAddressesAsync(url.IdnHost, cancellationToken);
            }
            catch (SocketException)
            {
                continue;
            }

            denied.AddRange(addresses.Select(a => a.IsIPv4MappedToIPv6 ? a.MapToIPv4() : a)
                .Select(a => new IPNetwork(a, a.AddressFamily == AddressFamily.InterNetwork ? 32 : 128).ToString()));
        }

        return denied.Distinct(StringComparer.Ordinal).ToList();
    }
}
