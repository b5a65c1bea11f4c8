using System.Net;
using System.Net.Sockets;
using Stratus.HostAgent.Drivers;
using Stratus.HostAgent.Tests.Support;
using Stratus.Testing;

namespace Stratus.HostAgent.Tests.Drivers.Qemu;

/// <summary>
/// Another Cloud PC is out of a guest's reach: guest B runs a web server, and guest A, on the same host, finds no way
/// to it. Each refusal is paired with a control that shows the same request works where it should (so a refusal is
/// the confinement, not a dead server or a broken wget).
/// </summary>
public sealed partial class GuestConfinementTests
{
    private const string OtherId = "neighbour";

    /// <summary>The port B serves on inside its guest (and A on a port of its own, for the control).</summary>
    private const int GuestPort = 8123;
    private const int OwnPort = 8124;
    private const string OtherBody = "neighbour-only secret";
    private const string OwnBody = "guest-A own page";

    private static async Task CheckOtherGuestUnreachableAsync(VmHost host, SerialConsole a, VmInfo runningA, VmInfo runningB, ITestOutputHelper output)
    {
        // B's consoles are unix sockets of its folder, and neither QEMU listens on TCP: no hostfwd, no VNC or monitor
        // on a port. The same detector finds this test's own listener (the control that it sees TCP listeners at all).
        foreach (var running in new[] { runningA, runningB })
        {
            var pid = running.ProcessId!.Value;
            var commandLine = (await File.ReadAllTextAsync($"/proc/{pid}/cmdline")).Split('\0');
            Assert.DoesNotContain(commandLine, a => a.Contains("hostfwd", StringComparison.Ordinal) || a.Contains("guestfwd", StringComparison.Ordinal)
                || a.Contains("tcp:", StringComparison.Ordinal) || a.Contains("host=", StringComparison.Ordinal) || a.Contains("port=", StringComparison.Ordinal));
            Assert.StartsWith("unix:", commandLine[Array.IndexOf(commandLine, "-vnc") + 1], StringComparison.Ordinal);
            Assert.Equal("user,id=net0", commandLine[Array.IndexOf(commandLine, "-netdev") + 1]);
            Assert.Empty(ListeningTcpSockets(pid));
            foreach (var socket in new[] { running.Console.SerialSocketPath, running.Console.VncSocketPath })
            {
                Assert.True(File.Exists(socket), $"{socket} is missing");
                Assert.StartsWith(host.DataPath + "/", socket, StringComparison.Ordinal);
            }
        }

        using (var control = new TcpListener(IPAddress.Loopback, 0))
        {
            control.Start();
            Assert.NotEmpty(ListeningTcpSockets(Environment.ProcessId));
        }

        await using var b = await SerialConsole.ConnectAsync(runningB.Console.SerialSocketPath);
        await ServeAsync(b, GuestPort, OtherBody);
        await ServeAsync(a, OwnPort, OwnBody);

        // Controls: B's server answers at B's own address, from B; A's answers at the same address, from A.
        Assert.Equal(OtherBody, await GetAsync(b, $"http://10.0.2.15:{GuestPort}/", output, "B to itself"));
        Assert.Equal(OwnBody, await GetAsync(a, $"http://10.0.2.15:{OwnPort}/", output, "A to itself"));

        // From A, 10.0.2.15 is A itself: B's port there is closed, B's page never comes.
        var refused = await GetAsync(a, $"http://10.0.2.15:{GuestPort}/", output, "A to 10.0.2.15 at B's port");
        Assert.DoesNotContain(OtherBody, refused, StringComparison.Ordinal);
        Assert.Contains("exit=", refused, StringComparison.Ordinal);

        // Nor through the host: nothing listens on B's port there (no forward), and A cannot reach the host anyway.
        var hostAddresses = new[] { IPAddress.Loopback }.Concat(HostOnlyServer.HostAddresses()).ToList();
        foreach (var address in hostAddresses)
        {
            Assert.False(await ConnectsAsync(address, GuestPort), $"the host listens on {address}:{GuestPort}: a forward to a guest?");
        }

        foreach (var target in new[] { "10.0.2.2" }.Concat(HostOnlyServer.HostAddresses().Select(h => h.ToString())))
        {
            var answer = await GetAsync(a, $"http://{target}:{GuestPort}/", output, $"A to {target} at B's port");
            Assert.DoesNotContain(OtherBody, answer, StringComparison.Ordinal);
            Assert.Contains("exit=", answer, StringComparison.Ordinal);
        }

        // And B is still serving (its refusal to A was not B's server dying).
        Assert.Equal(OtherBody, await GetAsync(b, $"http://127.0.0.1:{GuestPort}/", output, "B to itself, after"));
    }

    /// <summary>Starts busybox httpd in the guest on <paramref name="port"/>, serving one page.</summary>
    private static async Task ServeAsync(SerialConsole guest, int port, string body)
    {
        var folder = $"/tmp/www{port}";
        await guest.RunAsync($"mkdir -p {folder} && echo '{body}' > {folder}/index.html && httpd -p {port} -h {folder}; echo started=$?", TimeSpan.FromSeconds(60));
    }

    /// <summary>wget in the guest; its page, or its error and exit code ("exit=N") when it fails.</summary>
    private static async Task<string> GetAsync(SerialConsole guest, string url, ITestOutputHelper output, string what)
    {
        var answer = await guest.RunAsync($"wget -q -T 20 -O - {url} 2>&1 || echo exit=$?", TimeSpan.FromSeconds(120));
        output.WriteLine($"{what} ({url}): {answer.Replace('\n', ' ')}");
        return answer.Trim();
    }

    private static async Task<bool> ConnectsAsync(IPAddress address, int port)
    {
        using var client = new TcpClient(address.AddressFamily);
        try
        {
            await client.ConnectAsync(address, port).WaitAsync(TimeSpan.FromSeconds(10));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>The TCP sockets in LISTEN state that process <paramref name="pid"/> holds (from /proc/net/tcp and tcp6).</summary>
    private static IReadOnlyList<string> ListeningTcpSockets(int pid)
    {
        var listening = new HashSet<string>(StringComparer.Ordinal);
        foreach (var table in new[] { "/proc/net/tcp", "/proc/net/tcp6" })
        {
            foreach (var line in File.ReadLines(table).Skip(1))
            {
                var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (fields[3] == "0A")
                {
                    listening.Add(fields[9]);
                }
            }
        }

        var held = new List<string>();
        foreach (var fd in Directory.EnumerateFiles($"/proc/{pid}/fd"))
        {
            if (new FileInfo(fd).LinkTarget is { } target && target.StartsWith("socket:[", StringComparison.Ordinal) && listening.Contains(target[8..^1]))
            {
                held.Add(target);
            }
        }

        return held;
    }
}
