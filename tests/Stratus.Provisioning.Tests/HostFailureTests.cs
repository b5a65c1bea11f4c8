using Stratus.Provisioning.Tests.Support;

namespace Stratus.Provisioning.Tests;

/// <summary>A `stratus up` without embedded hosts: its Cloud PCs run on a simulated host of the test's own, which it can stop dead.</summary>
public abstract class SeparateHostProvisioningHost : ProvisioningHost
{
    protected override IReadOnlyList<string> Arguments { get; } = ["up", "--hosts", "none"];
}

/// <summary>A reboot must end within 3 s; hosts are declared down only after 10 minutes, so the deadline comes first.</summary>
public sealed class OperationDeadlineHost : SeparateHostProvisioningHost
{
    protected override IReadOnlyDictionary<string, string?> ExtraSettings { get; } = new Dictionary<string, string?>
    {
        ["Stratus__Provisioning__OperationDeadlines__Reboot"] = "00:00:03",
        ["Stratus__Compute__HeartbeatTimeout"] = "00:10:00",
    };
}

/// <summary>A host silent for 8 s is down; operations keep their long default deadlines, so the host's fall comes first.</summary>
public sealed class HostDownHost : SeparateHostProvisioningHost
{
    protected override IReadOnlyDictionary<string, string?> ExtraSettings { get; } = new Dictionary<string, string?>
    {
        ["Stratus__Compute__HeartbeatTimeout"] = "00:00:08",
    };
}

/// <summary>An operation whose host stopped mid-way fails at its deadline, and the Cloud PC takes actions again.</summary>
public sealed class OperationDeadlineTests(OperationDeadlineHost host) : IClassFixture<OperationDeadlineHost>
{
    [Fact]
    public async Task A_reboot_whose_host_stopped_fails_at_its_deadline_and_the_cloud_pc_accepts_actions_again()
    {
        await using var agent = await SimulatedHostAgent.StartAsync(host);
        using var tenant = await host.CreateTenantAsync("deadline");
        var pc = (await tenant.ProvisionAsync()).CloudPc;

        await agent.KillAsync();
        var reboot = await tenant.ActAsync(pc.Id, "reboot");
        var failed = await Eventually.UntilAsync(() => tenant.GetOperationAsync(pc.Id, reboot.Id), o => o.Status != "running", "the reboot to end at its deadline");
        Assert.Equal("failed", failed.Status);
        Assert.Contains("deadline (00:00:03)", failed.Detail, StringComparison.Ordinal);
        var after = await tenant.GetCloudPcAsync(pc.Id);
        Assert.Equal(("provisioned", (Guid?)null), (after.Status, after.ActiveOperationId));
        Assert.Equal(("operationTimedOut", true), (after.StatusDetail?.Code, after.StatusDetail?.Retryable));

        // It takes actions again: the next reboot is accepted, and meets the same deadline while the host is away.
        var again = await tenant.ActAsync(pc.Id, "reboot");
        Assert.Equal("failed", (await Eventually.UntilAsync(() => tenant.GetOperationAsync(pc.Id, again.Id), o => o.Status != "running", "the second reboot to end")).Status);
    }
}

/// <summary>
/// compute.hostDown.v1: the Cloud PCs of a host that stopped mid-operation say hostUnreachable, their operation
/// fails, and they are themselves again when the host returns.
/// </summary>
public sealed class HostDownTests(HostDownHost host) : IClassFixture<HostDownHost>
{
    [Fact]
    public async Task The_cloud_pcs_of_a_host_declared_down_say_so_their_operation_fails_and_they_come_back_with_the_host()
    {
        await using var agent = await SimulatedHostAgent.StartAsync(host);
        using var tenant = await host.CreateTenantAsync("hostdown");
        var pc = (await tenant.ProvisionAsync()).CloudPc;

        await agent.KillAsync();
        var reboot = await tenant.ActAsync(pc.Id, "reboot");
        var unreachable = await tenant.WaitForCloudPcAsync(p => p.Id == pc.Id && p.StatusDetail?.Code == "hostUnreachable",
            "the Cloud PC to say its host is unreachable", TimeSpan.FromSeconds(90));
        Assert.Equal(("provisioned", true, (Guid?)null), (unreachable.Status, unreachable.StatusDetail!.Retryable, unreachable.ActiveOperationId));
        Assert.Contains(agent.Name, unreachable.StatusDetail.Message, StringComparison.Ordinal);
        Assert.Equal("down", (await host.HostOfRegionAsync("local-1")).State);
        var failed = await tenant.GetOperationAsync(pc.Id, reboot.Id);
        Assert.Equal("failed", failed.Status);
        Assert.Contains("stopped answering", failed.Detail, StringComparison.Ordinal);

        agent.Start();
        var back = await tenant.WaitForCloudPcAsync(p => p.Id == pc.Id && p.StatusDetail is null, "the Cloud PC to come back with its host", TimeSpan.FromSeconds(90));
        Assert.Equal("provisioned", back.Status);
        Assert.Equal("ready", (await host.HostOfRegionAsync("local-1")).State);
        await tenant.WaitForSuccessAsync(await tenant.ActAsync(pc.Id, "reboot"));
    }
}
