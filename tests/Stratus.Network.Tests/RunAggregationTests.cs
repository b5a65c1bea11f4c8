using Stratus.Network.Connections;
using Stratus.Network.HealthChecks;

namespace Stratus.Network.Tests;

/// <summary>The aggregation rules of a run, on their own (the integration tests show them through the queue).</summary>
public sealed class RunAggregationTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 7, 12, 0, 0, TimeSpan.Zero);

    private static NetworkConnection Connection(string subnet = "10.20.0.0/24") => new()
    {
        DisplayName = "Corp A", Region = "local-1", Subnet = subnet, Gateway = "10.20.0.1", UplinkInterface = "eth1",
    };

    [Fact]
    public void Worst_IsFailedOverWarningOverPassed_PerCheck()
    {
        var a = Checks.Report(Guid.NewGuid(), Guid.NewGuid(), "host-a", "local-1", 3);
        var b = WithStatus(Checks.Report(a.ConnectionId, a.RunId, "host-b", "local-1", 3), "mtuConsistent", "warning");
        var c = Checks.Report(a.ConnectionId, a.RunId, "host-c", "local-1", 3, failing: "mtuConsistent");

        var detail = RunAggregation.Aggregate(Connection(), [a, b], new RunContext(2, [], 0, null), Now, Now);
        var mtu = detail.HealthChecks.Single(x => x.DisplayName == "mtuConsistent");
        Assert.Equal("warning", mtu.Status);
        Assert.Equal(HealthCheckStatus.Warning, RunAggregation.Overall(detail));

        var worse = RunAggregation.Aggregate(Connection(), [a, b, c], new RunContext(3, [], 0, null), Now, Now);
        Assert.Equal("failed", worse.HealthChecks.Single(x => x.DisplayName == "mtuConsistent").Status);
        Assert.Equal(HealthCheckStatus.Failed, RunAggregation.Overall(worse));
    }

    [Fact]
    public void AHostThatCouldNotRealize_FailsTheBridgeCheck_WithItsError()
    {
        var report = new NetworkChecksReported(Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid(), "host-a", "local-1", 1, false, "uplink eth9 not found", [], Now);

        var detail = RunAggregation.Aggregate(Connection(), [report], new RunContext(1, [], 0, null), Now, Now);

        var bridge = detail.HealthChecks.Single(x => x.DisplayName == "bridgeAndDhcpRunning");
        Assert.Equal("failed", bridge.Status);
        Assert.Contains("uplink eth9 not found", bridge.AdditionalDetails, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("10.20.0.0/29", 2, 0, "passed")]   // 8 - 3 - 2 = 3 free, 37 %
    [InlineData("10.20.0.0/29", 2, 3, "failed")]   // none free
    [InlineData("10.20.0.0/24", 2, 230, "warning")] // 21 free of 256, under 10 %
    [InlineData("10.20.0.0/24", 2, 10, "passed")]
    public void AddressSpace_CountsNetworkBroadcastGatewayHostsAndCloudPcs(string subnet, int hosts, int cloudPcs, string status)
    {
        var detail = RunAggregation.Aggregate(Connection(subnet), [], new RunContext(hosts, [], cloudPcs, null), Now, Now);

        Assert.Equal(status, detail.HealthChecks.Single(x => x.DisplayName == "addressSpace").Status);
    }

    [Fact]
    public void HostsReporting_NoHostInRegion_WhenNoneIsUp()
    {
        var detail = RunAggregation.Aggregate(Connection(), [], new RunContext(0, [], 0, null), Now, Now);

        var reporting = detail.HealthChecks.Single(x => x.DisplayName == "hostsReporting");
        Assert.Equal("noHostInRegion", reporting.ErrorType);
    }

    [Fact]
    public void HostsReporting_NamesTheSilentHosts()
    {
        var a = Checks.Report(Guid.NewGuid(), Guid.NewGuid(), "host-a", "local-1", 2);

        var detail = RunAggregation.Aggregate(Connection(), [a], new RunContext(2, ["host-b"], 0, null), Now, Now);

        var reporting = detail.HealthChecks.Single(x => x.DisplayName == "hostsReporting");
        Assert.Equal("hostDidNotReport", reporting.ErrorType);
        Assert.Contains("host-b", reporting.AdditionalDetails, StringComparison.Ordinal);
    }

    private static NetworkChecksReported WithStatus(NetworkChecksReported report, string check, string status) => report with
    {
        Checks = report.Checks.Select(c => c.Name == check ? c with { Status = status } : c).ToList(),
    };
}
