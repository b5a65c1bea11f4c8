using Stratus.HostAgent.Tests.Support;
using Stratus.Testing;

namespace Stratus.HostAgent.Tests.Drivers.Qemu;

/// <summary>
/// What a person types in a Cloud PC of Stratus Tiny Linux works: busybox's static wget downloads from a server
/// outside (the test's own, in a network namespace), by address and by a name, with and without a timeout.
/// </summary>
public sealed class TinyImageToolsTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Wget_InTheGuest_DownloadsFromAServerOutside_ByAddressAndByName_WithATimeout()
    {
        await using var outside = await OutsideWorld.StartAsync();
        await using var host = new VmHost(output);
        await host.Driver.CreateAsync(await VmHost.SpecAsync("tools"));
        var running = await host.Driver.StartAsync("tools");
        await using var console = await SerialConsole.ConnectAsync(running.Console.SerialSocketPath);

        // By address, as the issue tried it; -T is what crashed ("Segmentation fault": busybox without its timeout feature).
        Assert.Equal(outside.Body, await console.RunAsync($"wget -q -O - {outside.Url}", TimeSpan.FromSeconds(120)));
        Assert.Equal(outside.Body, await console.RunAsync($"wget -q -T 30 -O - {outside.Url}", TimeSpan.FromSeconds(120)));
        Assert.Equal(outside.Body, await console.RunAsync($"wget -qT30 -O - {outside.Url}", TimeSpan.FromSeconds(120)));

        // By name: the guest's resolver reads /etc/hosts (localhost and its own name are there from the start).
        Assert.Contains("127.0.0.1", await console.RunAsync("ping -c 1 -W 5 localhost | head -n 1"), StringComparison.Ordinal);
        await console.RunAsync($"echo '{outside.Address} outside.test' >> /etc/hosts");
        Assert.Equal(outside.Body, await console.RunAsync($"wget -q -T 30 -O - http://outside.test:{outside.Port}/hello.txt", TimeSpan.FromSeconds(120)));

        // A timeout that runs out ends the download with an error, not a crash.
        var timedOut = await console.RunAsync($"wget -q -T 2 -O /dev/null http://{outside.Address}:{outside.SilentPort}/ ; echo $?", TimeSpan.FromSeconds(120));
        Assert.Equal(("Terminated", "143"), (timedOut.Split('\n')[0], timedOut.Split('\n')[^1]));
    }
}
