using Stratus.HostAgent.Drivers;
using Stratus.HostAgent.Drivers.Qemu;

namespace Stratus.HostAgent.Networks;

/// <summary>The few Linux network facts and commands the agent's networks need: `ip`, /sys/class/net, /run/netns, sysctls.</summary>
internal static class LinuxNetwork
{
    private static readonly TimeSpan CommandTimeout = TimeSpan.FromSeconds(30);

    public static Task<CommandResult> IpAsync(CancellationToken cancellationToken, params string[] arguments) =>
        CommandRunner.RunCheckedAsync("ip", arguments, CommandTimeout, cancellationToken);

    /// <summary>Runs `ip`; a failure is returned, not thrown (for steps whose failure is expected, such as "already there").</summary>
    public static Task<CommandResult> TryIpAsync(CancellationToken cancellationToken, params string[] arguments) =>
        CommandRunner.RunAsync("ip", arguments, CommandTimeout, cancellationToken);

    public static bool LinkExists(string name) => Directory.Exists($"/sys/class/net/{name}");

    public static bool NamespaceExists(string name) => File.Exists($"/run/netns/{name}");

    /// <summary>The link's operational state ("up", "down", "lowerlayerdown", "unknown"...), or null when it does not exist.</summary>
    public static string? OperState(string name) => ReadSys(name, "operstate");

    /// <summary>True when the link is administratively up (IFF_UP).</summary>
    public static bool IsAdminUp(string name) =>
        ReadSys(name, "flags") is { } flags && (Convert.ToInt32(flags, 16) & 1) == 1;

    public static int? Mtu(string name) => int.TryParse(ReadSys(name, "mtu"), out var mtu) ? mtu : null;

    /// <summary>The bridge a link is a port of, or null.</summary>
    public static string? MasterOf(string name)
    {
        var master = $"/sys/class/net/{name}/master";
        return Directory.Exists(master) || File.Exists(master) ? Path.GetFileName(new FileInfo(master).LinkTarget) : null;
    }

    /// <summary>The ports of a bridge.</summary>
    public static IReadOnlyList<string> PortsOf(string bridge)
    {
        var folder = $"/sys/class/net/{bridge}/brif";
        return Directory.Exists(folder) ? Directory.GetFileSystemEntries(folder).Select(Path.GetFileName).OfType<string>().ToList() : [];
    }

    public static IReadOnlyList<string> Links() =>
        Directory.Exists("/sys/class/net") ? Directory.GetFileSystemEntries("/sys/class/net").Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal).ToList() : [];

    /// <summary>Turns IPv6 off on a link of the host's namespace: no link-local address, so nothing of the host's IPv6 stack faces the tenant.</summary>
    public static void DisableIpv6(string link)
    {
        var path = $"/proc/sys/net/ipv6/conf/{link}/disable_ipv6";
        if (File.Exists(path))
        {
            File.WriteAllText(path, "1");
        }
    }

    /// <summary>The host's own addresses on a link (global scope), from `ip -o addr show dev LINK`.</summary>
    public static async Task<IReadOnlyList<string>> AddressesAsync(string link, CancellationToken cancellationToken)
    {
        var result = await TryIpAsync(cancellationToken, "-o", "addr", "show", "dev", link, "scope", "global");
        return result.ExitCode != 0 ? [] : result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)).Where(f => f.Length > 3).Select(f => f[3]).ToList();
    }

    private static string? ReadSys(string link, string file)
    {
        try
        {
            return File.ReadAllText($"/sys/class/net/{link}/{file}").Trim();
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    public static VmDriverException Failure(string message) => new(message);
}
