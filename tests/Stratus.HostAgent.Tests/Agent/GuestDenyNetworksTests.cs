using Stratus.HostAgent.Confinement;

namespace Stratus.HostAgent.Tests.Agent;

/// <summary>
/// The networks an agent's guests never reach (besides the host's own addresses): the ones its operator names, and
/// wherever its control plane is, found from the control-plane URLs so that nobody has to remember to list them.
/// </summary>
public sealed class GuestDenyNetworksTests
{
    [Fact]
    public async Task ControlPlaneAddresses_AreDenied_AlongsideTheNamedNetworks()
    {
        var denied = await GuestConfinementOptions.DenyNetworksAsync(
            [new Uri("https://203.0.113.7:8443"), new Uri("http://[2001:db8::5]:8080"), new Uri("https://203.0.113.7:9443")],
            ["198.51.100.0/24", "fd00::/64"], CancellationToken.None);

        Assert.Equal(["198.51.100.0/24", "fd00::/64", "203.0.113.7/32", "2001:db8::5/128"], denied);
    }

    [Fact]
    public async Task AControlPlaneName_IsDeniedAtTheAddressesItResolvesTo()
    {
        var denied = await GuestConfinementOptions.DenyNetworksAsync([new Uri("http://localhost:8080")], [], CancellationToken.None);

        Assert.Contains("127.0.0.1/32", denied);
    }

    [Fact]
    public async Task AControlPlaneNameThatDoesNotResolve_AddsNothing_RatherThanStoppingTheAgent()
    {
        // .invalid never resolves (RFC 2606).
        var denied = await GuestConfinementOptions.DenyNetworksAsync([new Uri("http://control-plane.invalid:8080")], ["192.0.2.0/24"], CancellationToken.None);

        Assert.Equal(["192.0.2.0/24"], denied);
    }

    [Theory]
    [InlineData("10.0.0.0/33")]
    [InlineData("10.1.2.3/24")]
    [InlineData("10.0.0.1")]
    [InlineData("")]
    public async Task NotANetwork_IsRefused_NamingIt(string network)
    {
        var refused = await Assert.ThrowsAsync<ArgumentException>(() =>
            GuestConfinementOptions.DenyNetworksAsync([new Uri("http://127.0.0.1:8080")], [network], CancellationToken.None));

        Assert.Contains($"'{network}'", refused.Message, StringComparison.Ordinal);
    }
}
