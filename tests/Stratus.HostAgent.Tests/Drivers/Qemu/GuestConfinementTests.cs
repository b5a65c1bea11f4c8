using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Text;
using Stratus.HostAgent.Drivers;
using Stratus.HostAgent.Tests.Support;
using Stratus.Testing;

namespace Stratus.HostAgent.Tests.Drivers.Qemu;

/// <summary>
/// A real guest (TCG) on the hosted network reaches the outside world and nothing of the host: not its loopback
/// (10.0.2.2), not its other addresses, not a control-plane network; and its QEMU process runs as the guest user,
/// under seccomp, in a cgroup with the plan's limits; nor another guest of the host (GuestConfinementTests.OtherGuest.cs).
/// Two VMs, booted together, for every check (boots are slow).
/// </summary>
public sealed partial class GuestConfinementTests(ITestOutputHelper output)
{
    private const string Id = "confined";

    [Fact]
    public async Task Guest_ReachesTheOutside_NeverTheHostTheControlPlaneOrAnotherGuest_AndItsQemuIsConfined()
    {
        await using var outside = await OutsideWorld.StartAsync();
        await using var controlPlane = await OutsideWorld.StartAsync();
        try
        {
            await CheckAsync(outside, controlPlane);
        }
        finally
        {
            // The agent keeps the networks it was given in the host's table: this test's goes with it.
            await ProcessRunner.RunAsync("nft", ["delete", "element", "inet", "stratus", "control_plane_v4", $"{{ {controlPlane.Network} }}"], TimeSpan.FromSeconds(30));
        }
    }

    [Fact]
    public async Task Start_WhenGuestsCannotBeConfined_IsRefusedWithTheReason_AndRunsNoQemu()
    {
        // A user name useradd refuses: the confinement cannot be set up on this host.
        await using var host = new VmHost(output, o => o with { Confinement = o.Confinement with { User = "no such user" } });
        await host.Driver.CreateAsync(await VmHost.SpecAsync("unconfined"));

        var refused = await Assert.ThrowsAsync<VmDriverException>(() => host.Driver.StartAsync("unconfined"));

        Assert.Contains("Guests cannot be confined on this host, so no VM starts", refused.Message, StringComparison.Ordinal);
        Assert.Contains("useradd", refused.Message, StringComparison.Ordinal);
        Assert.Empty(VmHost.QemuProcesses(host.DataPath + "/"));
        Assert.Equal(VmPowerState.Stopped, (await host.Driver.GetAsync("unconfined"))!.PowerState);
    }

    private async Task CheckAsync(OutsideWorld outside, OutsideWorld controlPlane)
    {
        await using var hostServer = HostOnlyServer.Start();
        await using var host = new VmHost(output, o => o with { Confinement = o.Confinement with { ControlPlaneNetworks = [controlPlane.Network] } });
        // Two TCG guests booting at once on a busy host: Linux's boot-time check of the IO-APIC timer can miss its
        // window and panic ("IO-APIC + timer doesn't work"); no_timer_check skips that check, nothing else.
        await host.Driver.CreateAsync(await VmHost.SpecAsync(Id, memoryMiB: 256, kernelArguments: "no_timer_check"));
        await host.Driver.CreateAsync(await VmHost.SpecAsync(OtherId, memoryMiB: 256, kernelArguments: "no_timer_check"));
        var starting = new[] { host.Driver.StartAsync(Id), host.Driver.StartAsync(OtherId) };
        await Task.WhenAll(starting);
        var running = await starting[0];
        var other = await starting[1];
        var pid = running.ProcessId!.Value;

        // The process: the guest user (all four uids), seccomp filtering (mode 2), the plan's limits.
        var status = await File.ReadAllLinesAsync($"/proc/{pid}/status");
        var uids = status.Single(l => l.StartsWith("Uid:", StringComparison.Ordinal)).Split('\t', StringSplitOptions.RemoveEmptyEntries)[1..];
        var guestUid = GuestUid();
        Assert.Equal(new[] { guestUid, guestUid, guestUid, guestUid }, uids);
        Assert.NotEqual("0", guestUid);
        Assert.Equal("Seccomp:\t2", status.Single(l => l.StartsWith("Seccomp:", StringComparison.Ordinal)));
        var memoryLimit = (256L + host.Options.Confinement.MemoryOverheadMiB) * 1024 * 1024;
        Assert.Equal(("100000 100000", memoryLimit.ToString(System.Globalization.CultureInfo.InvariantCulture)), await CgroupLimitsAsync(pid));

        await using var console = await SerialConsole.ConnectAsync(running.Console.SerialSocketPath);

        // The outside world answers, through the host's NAT.
        Assert.Equal(outside.Body, await console.RunAsync($"wget -q -T 30 -O - {outside.Url}", TimeSpan.FromSeconds(120)));

        // Each refused target answers the host itself (so a refusal in the guest is the firewall, not a dead server).
        var targets = new List<(string What, string FromHost, string FromGuest)>
        {
            ("the host's loopback", $"http://127.0.0.1:{hostServer.Port}/", $"http://10.0.2.2:{hostServer.Port}/"),
            ("the host's address on the outside link", $"http://{outside.HostAddress}:{hostServer.Port}/", $"http://{outside.HostAddress}:{hostServer.Port}/"),
            ("a control-plane network", controlPlane.Url, controlPlane.Url),
        };
        foreach (var address in HostOnlyServer.HostAddresses())
        {
            targets.Add(($"the host's address {address}", $"http://{address}:{hostServer.Port}/", $"http://{address}:{hostServer.Port}/"));
        }

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        foreach (var (what, fromHost, fromGuest) in targets)
        {
            var expected = fromHost == controlPlane.Url ? controlPlane.Body : HostOnlyServer.Body;
            Assert.Equal(expected, (await http.GetStringAsync(fromHost)).Trim());
            var answer = await console.RunAsync($"wget -q -T 20 -O - {fromGuest} 2>&1; echo exit=$?", TimeSpan.FromSeconds(120));
            output.WriteLine($"{what} ({fromGuest}) from the guest: {answer.Replace('\n', ' ')}");
            Assert.DoesNotContain(expected, answer, StringComparison.Ordinal);
            Assert.DoesNotContain("exit=0", answer, StringComparison.Ordinal);
        }

        await CheckOtherGuestUnreachableAsync(host, console, running, other, output);
    }

    private static string GuestUid() =>
        File.ReadLines("/etc/passwd").Select(l => l.Split(':')).Single(f => f[0] == "stratus-vm")[2];

    /// <summary>The CPU quota and period and the memory limit of the process's cgroup, v2 or v1, whichever holds them.</summary>
    private static async Task<(string Cpu, string Memory)> CgroupLimitsAsync(int pid)
    {
        var lines = (await File.ReadAllLinesAsync($"/proc/{pid}/cgroup")).Select(l => l.Split(':', 3)).ToList();
        string Group(string controller) => lines.First(f => f[1].Split(',').Contains(controller))[2];
        string Read(params string[] parts) => File.ReadAllText(Path.Combine(parts)).Trim();
        foreach (var unified in new[] { "/sys/fs/cgroup", "/sys/fs/cgroup/unified" })
        {
            var controllers = Path.Combine(unified, "cgroup.controllers");
            if (File.Exists(controllers) && File.ReadAllText(controllers).Split(' ', '\n').Contains("memory"))
            {
                var group = unified + lines.Single(f => f[0] == "0")[2];
                Assert.Matches($"/stratus/[0-9a-f]{{8}}-{Id}$", group);
                return (Read(group, "cpu.max"), Read(group, "memory.max"));
            }
        }

        var cpu = "/sys/fs/cgroup/cpu" + Group("cpu");
        var memory = "/sys/fs/cgroup/memory" + Group("memory");
        Assert.Matches($"/stratus/[0-9a-f]{{8}}-{Id}$", cpu);
        Assert.Matches($"/stratus/[0-9a-f]{{8}}-{Id}$", memory);
        return ($"{Read(cpu, "cpu.cfs_quota_us")} {Read(cpu, "cpu.cfs_period_us")}", Read(memory, "memory.limit_in_bytes"));
    }
}
