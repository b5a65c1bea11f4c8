using System.Net;
using System.Net.Sockets;
using Stratus.Testing;

namespace Stratus.HostAgent.Tests.Support;

/// <summary>
/// An address standing in for the internet: a network namespace of the test's own, joined to the host by a veth
/// pair on a /30 of 198.18.0.0/15 (RFC 2544, routed nowhere), with an HTTP server (Python's http.server) inside
/// serving <see cref="Body"/> as /hello.txt, and a <see cref="SilentPort"/>. Nothing of it is a host address, so it is what a guest's NAT reaches
/// as "outside". Disposal stops the server and deletes the namespace, which takes the veth pair with it.
/// </summary>
internal sealed class OutsideWorld : IAsyncDisposable
{
    // The site, and a port whose connections are accepted (by the kernel's backlog) and never answered.
    private const string ServerProgram = """
        import functools, http.server, socket, sys
        address, port, silent, folder = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
        quiet = socket.socket()
        quiet.bind((address, silent))
        quiet.listen(16)
        handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=folder)
        http.server.ThreadingHTTPServer((address, port), handler).serve_forever()
        """;

    private readonly TempFolder _site = new();
    private System.Diagnostics.Process? _server;

    private OutsideWorld(string suffix, int subnet)
    {
        Namespace = $"stratus-ow-{suffix}";
        HostLink = $"sow{suffix}a";
        HostAddress = $"198.{18 + (subnet >> 14)}.{(subnet >> 6) & 0xff}.{((subnet & 0x3f) << 2) + 1}";
        Address = $"198.{18 + (subnet >> 14)}.{(subnet >> 6) & 0xff}.{((subnet & 0x3f) << 2) + 2}";
        Network = $"198.{18 + (subnet >> 14)}.{(subnet >> 6) & 0xff}.{(subnet & 0x3f) << 2}/30";
        Body = $"hello from outside {suffix}";
    }

    public string Namespace { get; }
    public string HostLink { get; }
    public string HostAddress { get; }
    public string Address { get; }

    /// <summary>The /30 of the pair, for a test that names this world a control-plane network.</summary>
    public string Network { get; }
    public int Port { get; } = 8080;

    /// <summary>Accepts connections and never answers: a download from it ends only by a timeout.</summary>
    public int SilentPort { get; } = 8081;
    public string Body { get; }
    public string Url => $"http://{Address}:{Port}/hello.txt";

    public static async Task<OutsideWorld> StartAsync()
    {
        var suffix = Guid.NewGuid().ToString("N")[..6];
        var world = new OutsideWorld(suffix, Random.Shared.Next(1 << 15));
        try
        {
            await world.SetUpAsync();
            return world;
        }
        catch
        {
            await world.DisposeAsync();
            throw;
        }
    }

    private async Task SetUpAsync()
    {
        var peer = $"sow{Namespace[^6..]}b";
        await IpAsync("netns", "add", Namespace);
        await IpAsync("link", "add", HostLink, "type", "veth", "peer", "name", peer);
        await IpAsync("link", "set", peer, "netns", Namespace);
        await IpAsync("addr", "add", $"{HostAddress}/30", "dev", HostLink);
        await IpAsync("link", "set", HostLink, "up");
        await IpAsync("-n", Namespace, "addr", "add", $"{Address}/30", "dev", peer);
        await IpAsync("-n", Namespace, "link", "set", peer, "up");
        await IpAsync("-n", Namespace, "link", "set", "lo", "up");
        await File.WriteAllTextAsync(Path.Combine(_site.Path, "hello.txt"), Body + "\n");
        var start = new System.Diagnostics.ProcessStartInfo("ip")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in new[] { "netns", "exec", Namespace, "/usr/bin/python3", "-c", ServerProgram, Address,
                     Port.ToString(System.Globalization.CultureInfo.InvariantCulture), SilentPort.ToString(System.Globalization.CultureInfo.InvariantCulture), _site.Path })
        {
            start.ArgumentList.Add(argument);
        }

        _server = System.Diagnostics.Process.Start(start) ?? throw new InvalidOperationException("Cannot start the outside world's HTTP server.");
        _server.OutputDataReceived += (_, _) => { };
        _server.ErrorDataReceived += (_, _) => { };
        _server.BeginOutputReadLine();
        _server.BeginErrorReadLine();

        // Listening once the host connects to it through the veth (the way the guest's NAT will).
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Parse(Address), Port).WaitAsync(TimeSpan.FromSeconds(5));
                return;
            }
            catch (Exception exception) when (exception is SocketException or TimeoutException && clock.Elapsed < TimeSpan.FromSeconds(60) && !_server.HasExited)
            {
                await Task.Delay(200);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_server is { HasExited: false })
        {
            _server.Kill(entireProcessTree: true);
            await _server.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        }

        _server?.Dispose();
        // Deleting the namespace deletes the peer end, and with it the host's end of the pair.
        await ProcessRunner.RunAsync("ip", ["netns", "del", Namespace], TimeSpan.FromSeconds(30));
        await ProcessRunner.RunAsync("ip", ["link", "del", HostLink], TimeSpan.FromSeconds(30));
        _site.Dispose();
    }

    private static Task IpAsync(params string[] arguments) => ProcessRunner.RunCheckedAsync("ip", arguments, TimeSpan.FromSeconds(30));
}
