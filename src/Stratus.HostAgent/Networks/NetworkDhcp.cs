using System.Globalization;
using System.Net;
using System.Text;
using Stratus.HostAgent.Drivers.Qemu;

namespace Stratus.HostAgent.Networks;

/// <summary>
/// The connection's DHCP server on this host: dnsmasq in the connection's namespace, DHCP only (port=0: no DNS; the
/// guests use the tenant's servers), static leases only (one dhcp-host per VM of this host on the connection), so the
/// DHCP servers of two hosts on the same L2 never hand out the same address, and a guest of another host gets no
/// answer from this one. dnsmasq daemonizes: it outlives an agent restart, which finds it by its pid file and its
/// command line (its configuration file's path).
/// </summary>
internal sealed class NetworkDhcp(string folder, string networkNamespace, string probeLink)
{
    public string ConfigFile => Path.Combine(folder, "dnsmasq.conf");
    public string HostsFile => Path.Combine(folder, "dhcp-hosts");
    public string PidFile => Path.Combine(folder, "dnsmasq.pid");

    /// <summary>The running dnsmasq's pid, or null.</summary>
    public int? RunningPid()
    {
        try
        {
            return int.TryParse(File.ReadAllText(PidFile).Trim(), out var pid) && HostProcess.IsRunning(pid, ConfigFile) ? pid : null;
        }
        catch (Exception exception) when (exception is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }

    /// <summary>Writes the configuration and leases; (re)starts dnsmasq when its configuration changed, else has it re-read the leases.</summary>
    public async Task EnsureAsync(Agent.DesiredNetwork network, IReadOnlyList<(string Mac, string Address)> leases, CancellationToken cancellationToken)
    {
        var config = Config(network);
        var hosts = string.Concat(leases.OrderBy(l => l.Mac, StringComparer.Ordinal).Select(l => $"{l.Mac},{l.Address}\n"));
        var configChanged = !File.Exists(ConfigFile) || await File.ReadAllTextAsync(ConfigFile, cancellationToken) != config;
        var hostsChanged = !File.Exists(HostsFile) || await File.ReadAllTextAsync(HostsFile, cancellationToken) != hosts;
        if (hostsChanged)
        {
            await WriteAsync(HostsFile, hosts, cancellationToken);
        }

        var pid = RunningPid();
        if (pid is { } running && configChanged)
        {
            await StopAsync(cancellationToken);
            pid = null;
        }

        if (configChanged)
        {
            await WriteAsync(ConfigFile, config, cancellationToken);
        }

        if (pid is null)
        {
            File.Delete(PidFile);
            await LinuxNetwork.IpAsync(cancellationToken, "netns", "exec", networkNamespace, "dnsmasq", $"--conf-file={ConfigFile}");
        }
        else if (hostsChanged)
        {
            // SIGHUP: dnsmasq reads dhcp-hostsfile again, without dropping a lease it gave.
            await CommandRunner.RunCheckedAsync("kill", ["-HUP", pid.Value.ToString(CultureInfo.InvariantCulture)], TimeSpan.FromSeconds(10), cancellationToken);
        }
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (RunningPid() is not { } pid)
        {
            return;
        }

        HostProcess.Kill(pid, ConfigFile);
        if (!await HostProcess.WaitForExitAsync(pid, ConfigFile, TimeSpan.FromSeconds(10), TimeProvider.System, cancellationToken))
        {
            throw LinuxNetwork.Failure($"dnsmasq (pid {pid}) of {networkNamespace} survives SIGKILL.");
        }
    }

    private string Config(Agent.DesiredNetwork network)
    {
        var subnet = IPNetwork.Parse(network.Subnet);
        var text = new StringBuilder();
        text.AppendLine("# Made by the Stratus host agent; rewritten whenever the connection changes.");
        text.AppendLine("port=0");
        text.AppendLine(CultureInfo.InvariantCulture, $"interface={probeLink}");
        text.AppendLine("bind-interfaces");
        text.AppendLine(CultureInfo.InvariantCulture, $"pid-file={PidFile}");
        text.AppendLine("leasefile-ro");
        text.AppendLine("no-resolv");
        text.AppendLine("no-hosts");
        // Its own log file (with each DHCP exchange), never the agent's stderr: a daemon holding the pipe open would keep
        // the agent waiting for the end of its output.
        text.AppendLine(CultureInfo.InvariantCulture, $"log-facility={Path.Combine(folder, "dnsmasq.log")}");
        text.AppendLine("log-dhcp");
        text.AppendLine(CultureInfo.InvariantCulture, $"dhcp-range={subnet.BaseAddress},static,{Netmask(subnet.PrefixLength)},1h");
        text.AppendLine(CultureInfo.InvariantCulture, $"dhcp-hostsfile={HostsFile}");
        text.AppendLine(CultureInfo.InvariantCulture, $"dhcp-option=option:router,{network.Gateway}");
        if (network.DnsServers.Count > 0)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"dhcp-option=option:dns-server,{string.Join(',', network.DnsServers)}");
        }

        if (network.DnsSearchDomain is { Length: > 0 } domain)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"dhcp-option=option:domain-name,{domain}");
            text.AppendLine(CultureInfo.InvariantCulture, $"dhcp-option=option:domain-search,{domain}");
        }

        text.AppendLine(CultureInfo.InvariantCulture, $"dhcp-option=option:mtu,{network.Mtu}");
        return text.ToString();
    }

    internal static string Netmask(int prefixLength)
    {
        var mask = prefixLength == 0 ? 0u : uint.MaxValue << (32 - prefixLength);
        return new IPAddress([(byte)(mask >> 24), (byte)(mask >> 16), (byte)(mask >> 8), (byte)mask]).ToString();
    }

    private static async Task WriteAsync(string path, string content, CancellationToken cancellationToken)
    {
        // dnsmasq drops its privileges (to nobody) before it re-reads the leases on SIGHUP: the file is readable by all.
        await File.WriteAllTextAsync(path + ".tmp", content, cancellationToken);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path + ".tmp", UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        }

        File.Move(path + ".tmp", path, overwrite: true);
    }
}
