using System.Diagnostics;
using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Text;
using Stratus.HostAgent.Agent;
using Stratus.HostAgent.Drivers;
using Stratus.HostAgent.Networks;
using Stratus.HostAgent.Tests.Support;
using Stratus.Testing;

namespace Stratus.HostAgent.Tests.Networks;

/// <summary>
/// A real guest (TCG) on tenant X's connection A: it gets its address in A's subnet from A's DHCP server, resolves the
/// corporate name with the tenant's DNS server and search domain, and downloads from the corporate endpoint; it reaches
/// nothing of tenant Y's connection B on the same host with the same subnet, and none of the host's addresses, even
/// when it tries them on its own link; moved to connection B, it restarts there with B's address and reaches Y's
/// endpoint. Two boots for all of it (boots under TCG are slow).
/// </summary>
public sealed class GuestOnConnectionTests(ITestOutputHelper output)
{
    private const string GuestAddress = "10.20.0.10";
    private const string ServiceAddressA = "10.20.0.2";
    private const string ServiceAddressB = "10.20.0.3";
    private const string MovedAddress = "10.20.0.11";

    [Fact]
    public async Task Guest_OnConnectionA_GetsItsAddressByDhcp_ResolvesAndReachesTheCorporateEndpoint_AndNeverTenantYNorTheHost()
    {
        await using var corporateX = await CorporateNetwork.StartAsync();
        await using var corporateY = await CorporateNetwork.StartAsync();
        await using var hostServer = HostOnlyServer.Start();
        await using var host = new VmHost(output);
        using var logs = new TestOutputLoggerFactory(output);
        var networks = new HostNetworks(host.DataPath, TimeProvider.System, logs.CreateLogger("networks"));
        var a = corporateX.Connection(Guid.NewGuid(), ServiceAddressA);
        var b = corporateY.Connection(Guid.NewGuid(), ServiceAddressB);
        var vmId = Guid.NewGuid();
        var id = vmId.ToString("N");
        var desired = new DesiredVm(vmId, "tiny", 1, 256, 8, "running", false, 1, Nic: new DesiredNic(a.Id, GuestAddress));
        try
        {
            await networks.RealizeAsync([a, b], [desired], CancellationToken.None);
            Assert.All(networks.Reported([a, b]), n => Assert.True(n.Realized, n.Error));
            Assert.Contains($"{NetworkNames.MacAddress(vmId)},{GuestAddress}", await File.ReadAllTextAsync(networks.DhcpHostsFile(a.Id)), StringComparison.Ordinal);

            var nic = new VmNic(a.Id, networks.Names.Tap(vmId), NetworkNames.MacAddress(vmId), networks.Names.Bridge(a.Id), a.Mtu);
            await host.Driver.CreateAsync(await VmHost.SpecAsync(id) with { Nic = nic });
            var running = await host.Driver.StartAsync(id);
            var commandLine = (await File.ReadAllTextAsync($"/proc/{running.ProcessId}/cmdline")).Split('\0');
            Assert.Contains($"tap,id=net0,ifname={nic.TapName},script=no,downscript=no", commandLine);
            Assert.Contains(commandLine, c => c.Contains("stratus.net=dhcp", StringComparison.Ordinal));
            Assert.Equal(networks.Names.Bridge(a.Id), LinuxNetwork.MasterOf(nic.TapName));

            await using var console = await SerialConsole.ConnectAsync(running.Console.SerialSocketPath);
            // The lease: udhcpc asks at boot (and again in the background if the first tries failed).
            var clock = Stopwatch.StartNew();
            string address;
            while (!(address = await console.RunAsync("ip -4 -o addr show dev eth0", TimeSpan.FromSeconds(120))).Contains($"{GuestAddress}/24", StringComparison.Ordinal))
            {
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(120), $"No DHCP lease within 120 s: {address}");
                await Task.Delay(1000);
            }

            var resolv = await console.RunAsync("cat /etc/resolv.conf", TimeSpan.FromSeconds(60));
            output.WriteLine($"eth0: {address}\nresolv.conf:\n{resolv}");
            Assert.Contains($"nameserver {corporateX.DnsServer}", resolv, StringComparison.Ordinal);
            Assert.Contains($"search {CorporateNetwork.SearchDomain}", resolv, StringComparison.Ordinal);
            Assert.Contains($"default via {corporateX.Gateway}", await console.RunAsync("ip route", TimeSpan.FromSeconds(60)), StringComparison.Ordinal);

            // The corporate name, by the tenant's DNS server, and its endpoint through the connection's uplink.
            Assert.Equal(corporateX.Body, await console.RunAsync($"wget -q -T 30 -O - {corporateX.Url}", TimeSpan.FromSeconds(120)));

            // Tenant Y, same subnet, same host: its server's address 10.20.0.90 is X's own corporate server from the guest
            // (never Y's page), and Y's service address 10.20.0.3 (alive on Y's network: the control) never answers.
            var toY = await console.RunAsync($"wget -q -T 20 -O - http://{corporateX.OtherAddress}:{CorporateNetwork.Port}/hello.txt 2>&1", TimeSpan.FromSeconds(120));
            Assert.DoesNotContain(corporateY.Body, toY, StringComparison.Ordinal);
            Assert.True(await NamespaceProbes.PingAsync(corporateY.Namespace, IPAddress.Parse(ServiceAddressB), TimeSpan.FromSeconds(10), CancellationToken.None));
            var pingY = await console.RunAsync($"ping -c 2 -W 2 {ServiceAddressB} >/dev/null 2>&1; echo exit=$?", TimeSpan.FromSeconds(120));
            Assert.Equal("exit=1", pingY);

            // The host: each of its addresses, tried on the guest's own link (so only the bridge could answer), refuses.
            foreach (var hostAddress in HostOnlyServer.HostAddresses())
            {
                using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
                Assert.Equal(HostOnlyServer.Body, (await http.GetStringAsync($"http://{hostAddress}:{hostServer.Port}/")).Trim());
                var answer = await console.RunAsync(
                    $"ip route replace {hostAddress}/32 dev eth0; wget -q -T 10 -O - http://{hostAddress}:{hostServer.Port}/ 2>&1; echo exit=$?", TimeSpan.FromSeconds(120));
                output.WriteLine($"the host's {hostAddress} from the guest: {answer.Replace('\n', ' ')}");
                Assert.DoesNotContain(HostOnlyServer.Body, answer, StringComparison.Ordinal);
                Assert.DoesNotContain("exit=0", answer, StringComparison.Ordinal);
            }

            var checks = await networks.CheckAsync(a, CancellationToken.None);
            Assert.All(checks, c => Assert.True(c.Status == "passed", $"{c.Name}: {c.AdditionalDetails}"));

            // Moved to connection B (compute's changeVmNetwork): B's DHCP server gets the lease, the VM restarts on B's
            // bridge, and its guest gets B's address and reaches tenant Y's endpoint, no longer X's.
            var moved = desired with { Nic = new DesiredNic(b.Id, MovedAddress) };
            await networks.RealizeAsync([a, b], [moved], CancellationToken.None);
            var nicOnB = nic with { NetworkId = b.Id, Bridge = networks.Names.Bridge(b.Id) };
            var restarted = await host.Driver.SetNicAsync(id, nicOnB);
            Assert.Equal(nicOnB, restarted.Spec.Nic);
            Assert.NotEqual(running.ProcessId, restarted.ProcessId);
            Assert.Equal(networks.Names.Bridge(b.Id), LinuxNetwork.MasterOf(nic.TapName));
            await using var movedConsole = await SerialConsole.ConnectAsync(restarted.Console.SerialSocketPath);
            clock.Restart();
            while (!(address = await movedConsole.RunAsync("ip -4 -o addr show dev eth0", TimeSpan.FromSeconds(120))).Contains($"{MovedAddress}/24", StringComparison.Ordinal))
            {
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(120), $"No DHCP lease on B within 120 s: {address}");
                await Task.Delay(1000);
            }

            Assert.Equal(corporateY.Body, await movedConsole.RunAsync($"wget -q -T 30 -O - {corporateY.Url}", TimeSpan.FromSeconds(120)));
        }
        finally
        {
            await host.Driver.DeleteAsync(VmTombstone.Issue(id));
            await networks.TearDownUnlistedAsync([], CancellationToken.None);
        }

        Assert.False(LinuxNetwork.LinkExists(networks.Names.Tap(vmId)));
        foreach (var network in new[] { a, b })
        {
            Assert.False(LinuxNetwork.LinkExists(networks.Names.Bridge(network.Id)));
            Assert.False(LinuxNetwork.NamespaceExists(networks.Names.Namespace(network.Id)));
        }

        Assert.Empty(NetworkConnectionTests.DnsmasqProcesses(host.DataPath));
    }
}
