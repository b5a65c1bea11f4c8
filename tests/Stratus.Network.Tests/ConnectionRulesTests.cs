using Stratus.Network.Connections;
using Stratus.Platform.Http;

namespace Stratus.Network.Tests;

/// <summary>The rules the API applies, on their own; the API tests show each as a 400 naming its field.</summary>
public sealed class ConnectionRulesTests
{
    [Theory]
    [InlineData("10.20.0.0/24", true)]
    [InlineData("192.168.0.0/16", true)]
    [InlineData("10.20.0.1/24", false)]
    [InlineData("10.20.0.0/30", false)]
    [InlineData("10.20.0.0", false)]
    [InlineData("10.20.0.0/", false)]
    [InlineData("10.20/16", false)]
    public void Subnet_IsAnIPv4NetworkWithRoomForHosts(string subnet, bool valid) =>
        Assert.Equal(valid, ConnectionRules.TryParseSubnet(subnet, out _, out _));

    [Theory]
    [InlineData("eth0", true)]
    [InlineData("enp3s0.120", true)]
    [InlineData("br-lan_1", true)]
    [InlineData("..", false)]
    [InlineData("eth/0", false)]
    [InlineData("sixteen-chars-xx", false)]
    public void InterfaceName_IsALinuxName(string name, bool valid) => Assert.Equal(valid, ConnectionRules.IsInterfaceName(name));

    [Fact]
    public void Validate_ReportsEveryFieldAtOnce()
    {
        var spec = new ConnectionSpec("Corp", "local-9", "10.20.0.0/24", "10.20.0.255", 100, "vlan", "eth1", 5000, null, null, null,
            ["not-an-ip"], null, [], ["nohostport"]);
        var validator = new Validator();

        ConnectionRules.Validate(spec, ["local-1"], [("10.20.0.0/16", "Wide")], validator);

        var problem = validator.ToProblem().ProblemDetails;
        Assert.Equal(["dnsServers", "mtu", "regionName", "requiredEndpoints", "subnet", "uplink.vlanId"], problem.Errors.Keys.Order(StringComparer.Ordinal));
    }
}
