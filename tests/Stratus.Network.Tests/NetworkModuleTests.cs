namespace Stratus.Network.Tests;

public sealed class NetworkModuleTests
{
    [Fact]
    public void Queue_IsTheServicesName() => Assert.Equal("network", NetworkModule.Queue);
}
