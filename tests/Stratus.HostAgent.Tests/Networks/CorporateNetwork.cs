using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Stratus.HostAgent.Agent;
using Stratus.Testing;

namespace Stratus.HostAgent.Tests.Networks;

/// <summary>
/// A tenant's "corporate" network, made by the test: a network namespace joined to the host by a veth pair whose host
/// end (<see cref="Uplink"/>, no address) is what the connection names as its uplink hostInterface. Inside: the gateway
/// (10.20.0.1), a DNS server (dnsmasq, 10.20.0.53) answering <see cref="Name"/> = 10.20.0.80, and an HTTP server on
/// 10.20.0.80:8080 and on 10.20.0.90:8080 (10.OCTET.0.x for another subnet) serving <see cref="Body"/>. Two of them may exist at once with the same
/// addresses (two tenants, same subnet): each is its own namespace. Disposal stops both servers and deletes the
/// namespace, which takes the veth pair with it.
/// </summary>
internal sealed class CorporateNetwork : IAsyncDisposable
{
    public const string Name = "intranet.corp.example";
    public const string SearchDomain = "corp.example";
    public const int Port = 8080;

    private readonly TempFolder _site = new();
    private readonly List<Process> _processes = [];

    private CorporateNetwork(string suffix, bool overVxlan, int octet)
    {
        Subnet = $"10.{octet}.0.0/24";
        Gateway = $"10.{octet}.0.1";
        DnsServer = $"10.{octet}.0.53";
        EndpointAddress = $"10.{octet}.0.80";
        OtherAddress = $"10.{octet}.0.90";
        Namespace = $"stratus-corp-{suffix}";
        Uplink = $"sco{suffix}a";
        Body = $"corporate intranet {suffix}";
        OverVxlan = overVxlan;
        // Over VXLAN, the pair is the underlay: a /30 of 198.18.0.0/15 (RFC 2544, routed nowhere), one per network.
        var subnet = Random.Shared.Next(1 << 14);
        HostUnderlay = $"198.{18 + (subnet >> 14)}.{(subnet >> 6) & 0xff}.{((subnet & 0x3f) << 2) + 1}";
        CorporateUnderlay = $"198.{18 + (subnet >> 14)}.{(subnet >> 6) & 0xff}.{((subnet & 0x3f) << 2) + 2}";
    }

    /// <summary>The tenant's subnet, 10.OCTET.0.0/24 (10.20.0.0/24 unless the test needs two subnets of one tenant, which may not overlap).</summary>
    public string Subnet { get; }

    public string Gateway { get; }

    public string DnsServer { get; }

    public string EndpointAddress { get; }

    /// <summary>A second address of the corporate server, named nowhere: only a machine on this L2 finds it.</summary>
    public string OtherAddress { get; }

    /// <summary>The tenant's network is reached by VXLAN (VNI 42, UDP 4789) over the pair, not on the pair itself.</summary>
    public bool OverVxlan { get; }

    public string HostUnderlay { get; }

    public string CorporateUnderlay { get; }

    public string Namespace { get; }

    /// <summary>The host's end of the pair: the connection's uplink interface.</summary>
    public string Uplink { get; }

    public string Body { get; }

    public string Url => $"http://{Name}:{Port}/hello.txt";

    public static async Task<CorporateNetwork> StartAsync(bool overVxlan = false, int octet = 20)
    {
        var corporate = new CorporateNetwork(Guid.NewGuid().ToString("N")[..6], overVxlan, octet);
        try
        {
            await corporate.SetUpAsync();
            return corporate;
        }
        catch
        {
            await corporate.DisposeAsync();
            throw;
        }
    }

    /// <summary>The connection over this network's uplink, as compute would send it.</summary>
    public DesiredNetwork Connection(Guid id, string serviceAddress, int mtu = 1500) => OverVxlan
        ? new(id, 1, Subnet, Gateway, mtu, "vxlan", Uplink, null, 42, CorporateUnderlay, null, serviceAddress, [DnsServer], SearchDomain,
            [Name], [$"{Name}:{Port}"], Guid.NewGuid())
        : new(id, 1, Subnet, Gateway, mtu, "hostInterface", Uplink, null, null, null, null, serviceAddress, [DnsServer], SearchDomain,
            [Name], [$"{Name}:{Port}"], Guid.NewGuid());

    /// <summary>The cable pulled: the corporate end of the pair goes down, so the host's end loses its carrier.</summary>
    public Task CutAsync() => IpAsync("-n", Namespace, "link", "set", Uplink[..^1] + "b", "down");

    private async Task SetUpAsync()
    {
        var peer = Uplink[..^1] + "b";
        await IpAsync("netns", "add", Namespace);
        await IpAsync("link", "add", Uplink, "type", "veth", "peer", "name", peer);
        await IpAsync("link", "set", peer, "netns", Namespace);
        await IpAsync("link", "set", Uplink, "up");
        var tenantLink = peer;
        if (OverVxlan)
        {
            await IpAsync("addr", "add", $"{HostUnderlay}/30", "dev", Uplink);
            await IpAsync("-n", Namespace, "addr", "add", $"{CorporateUnderlay}/30", "dev", peer);
            await IpAsync("-n", Namespace, "link", "set", peer, "up");
            tenantLink = "vx42";
            await IpAsync("-n", Namespace, "link", "add", tenantLink, "type", "vxlan", "id", "42", "remote", HostUnderlay, "dstport", "4789", "dev", peer);
        }

        foreach (var address in new[] { Gateway, DnsServer, EndpointAddress, OtherAddress })
        {
            await IpAsync("-n", Namespace, "addr", "add", $"{address}/24", "dev", tenantLink);
        }

        await IpAsync("-n", Namespace, "link", "set", tenantLink, "up");
        await IpAsync("-n", Namespace, "link", "set", peer, "up");
        await IpAsync("-n", Namespace, "link", "set", "lo", "up");
        await File.WriteAllTextAsync(Path.Combine(_site.Path, "hello.txt"), Body + "\n");
        Start("dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv", "--no-hosts", "--bind-interfaces",
            $"--listen-address={DnsServer}", "--port=53", $"--address=/{Name}/{EndpointAddress}", "--pid-file=");
        Start("/usr/bin/python3", "-c", """
            import functools, http.server, sys, threading
            handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=sys.argv[3])
            for address in sys.argv[1:3]:
                server = http.server.ThreadingHTTPServer((address, 8080), handler)
                threading.Thread(target=server.serve_forever).start()
            """, EndpointAddress, OtherAddress, _site.Path);

        // Both serve once their addresses answer from inside the namespace (deadline: a loaded CI machine).
        var clock = Stopwatch.StartNew();
        while (!await ListeningAsync())
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(90), "The corporate network's servers did not start within 90 s.");
            await Task.Delay(200);
        }
    }

    private async Task<bool> ListeningAsync()
    {
        foreach (var (address, port) in new[] { (EndpointAddress, Port), (OtherAddress, Port) })
        {
            using var socket = HostAgent.Networks.NamespaceSockets.Create(Namespace, AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                await socket.ConnectAsync(new IPEndPoint(IPAddress.Parse(address), port)).WaitAsync(TimeSpan.FromSeconds(5));
            }
            catch (Exception exception) when (exception is SocketException or TimeoutException)
            {
                return false;
            }
        }

        var answer = await HostAgent.Networks.NamespaceProbes.ResolveAsync(Namespace, IPAddress.Parse(DnsServer), Name, TimeSpan.FromSeconds(2), CancellationToken.None);
        return answer is { Addresses.Count: > 0 };
    }

    private void Start(string program, params string[] arguments)
    {
        var start = new ProcessStartInfo("ip") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in new[] { "netns", "exec", Namespace, program }.Concat(arguments))
        {
            start.ArgumentList.Add(argument);
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException($"Cannot start {program} in {Namespace}.");
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _processes.Add(process);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var process in _processes)
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
            }

            process.Dispose();
        }

        await ProcessRunner.RunAsync("ip", ["netns", "del", Namespace], TimeSpan.FromSeconds(30));
        await ProcessRunner.RunAsync("ip", ["link", "del", Uplink], TimeSpan.FromSeconds(30));
        _site.Dispose();
    }

    private static Task IpAsync(params string[] arguments) => ProcessRunner.RunCheckedAsync("ip", arguments, TimeSpan.FromSeconds(30));
}
