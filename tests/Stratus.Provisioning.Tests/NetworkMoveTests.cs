using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Stratus.Platform.Auth;
using Stratus.Provisioning.Tests.Support;

namespace Stratus.Provisioning.Tests;

/// <summary>
/// Issue 20: what uses a connection (asked by network before a delete), and the administrator's move of the Cloud
/// PCs off a connection, one by one through compute's changeVmNetwork (the real compute with simulated hosts, or answers
/// the test publishes as compute would), each audited, each with a deadline.
/// </summary>
[Collection(NetworkHost.Collection)]
public sealed class NetworkMoveTests(NetworkHost host)
{
    [Fact]
    public async Task Usage_NamesPoliciesAndCountsCloudPcs_ForTheCallersTenantOnly()
    {
        using var tenant = await host.CreateTenantAsync("netuse");
        using var other = await host.CreateTenantAsync("netuse2");
        var a = await host.AddConnectionAsync(tenant.Id, "Corp A");
        var policy = await tenant.CreateNetworkPolicyAsync("Corp", "hosted", a.Id.ToString());
        await tenant.CreateNetworkPolicyAsync("Hosted only", "hosted");
        var pc = await tenant.SettledCloudPcAsync(await tenant.AddUserOfPolicyAsync(policy, "ada"));
        Assert.Equal(("provisioned", (Guid?)null), (pc.Status, pc.OnPremisesConnectionId));

        // The Cloud PC is on the hosted network (first in order): the policy names A, no Cloud PC is on it.
        var usage = await tenant.Admin.GetFromJsonAsync<UsageBody>($"/api/v1/networkConnectionUsage/{a.Id}");
        Assert.Equal((a.Id, 0), (usage!.ConnectionId, usage.CloudPcCount));
        Assert.Equal([policy.Id], usage.Policies.Select(p => p.Id));

        var onA = await tenant.CreateNetworkPolicyAsync("Corp first", a.Id.ToString());
        var second = await tenant.SettledCloudPcAsync(await tenant.AddUserOfPolicyAsync(onA, "bob"));
        Assert.Equal(a.Id, second.OnPremisesConnectionId);

        using var network = await host.NetworkServiceClientAsync(tenant.Id, StratusScopes.CloudPcsRead);
        usage = await network.GetFromJsonAsync<UsageBody>($"/api/v1/networkConnectionUsage/{a.Id}");
        Assert.Equal(1, usage!.CloudPcCount);
        Assert.Equal(new[] { policy.Id, onA.Id }.Order(), usage.Policies.Select(p => p.Id).Order());

        using var otherNetwork = await host.NetworkServiceClientAsync(other.Id, StratusScopes.CloudPcsRead);
        usage = await otherNetwork.GetFromJsonAsync<UsageBody>($"/api/v1/networkConnectionUsage/{a.Id}");
        Assert.Equal((0, 0), (usage!.CloudPcCount, usage.Policies.Count));
        Assert.Equal(0, (await other.Admin.GetFromJsonAsync<UsageBody>($"/api/v1/networkConnectionUsage/{a.Id}"))!.CloudPcCount);

        using var wrongScope = await host.NetworkServiceClientAsync(tenant.Id, StratusScopes.HostsRead);
        Assert.Equal(HttpStatusCode.Forbidden, (await wrongScope.GetAsync($"/api/v1/networkConnectionUsage/{a.Id}")).StatusCode);
        await tenant.CreateUserAsync("cy");
        using var user = await tenant.SignInAsync("cy");
        Assert.Equal(HttpStatusCode.Forbidden, (await user.GetAsync($"/api/v1/networkConnectionUsage/{a.Id}")).StatusCode);
    }

    [Fact]
    public async Task Move_TwoCloudPcs_OneAtATime_EachAudited()
    {
        using var tenant = await host.CreateTenantAsync("netmove");
        var a = await host.AddConnectionAsync(tenant.Id, "Corp A");
        var b = await host.AddConnectionAsync(tenant.Id, "Corp B");
        var policy = await tenant.CreateNetworkPolicyAsync("Corp", a.Id.ToString(), b.Id.ToString());
        var first = await tenant.SettledCloudPcAsync(await tenant.AddUserOfPolicyAsync(policy, "ada"));
        var second = await tenant.SettledCloudPcAsync(await tenant.AddUserOfPolicyAsync(policy, "bob"));
        Assert.All(new[] { first, second }, p => Assert.Equal(("provisioned", (Guid?)a.Id), (p.Status, p.OnPremisesConnectionId)));
        host.Network.SetHealth(a.Id, "failed", "gatewayUnreachable");

        var accepted = await tenant.Admin.PostAsJsonAsync($"/api/v1/onPremisesConnections/{a.Id}/moveCloudPcs", new { reason = "Corp A's uplink is cut" });
        Assert.True(accepted.StatusCode == HttpStatusCode.Accepted, await accepted.Content.ReadAsStringAsync());
        Assert.Equal(2, (await accepted.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("cloudPcCount").GetInt32());

        // The real compute (simulated hosts) carries out each change and answers with the VM's address on B.
        var vms = new[] { first.VmId, second.VmId };
        var moved = await Eventually.UntilAsync(tenant.NetworkCloudPcsAsync, l => l.Count(p => p.OnPremisesConnectionId == b.Id) == 2, "both Cloud PCs to be on Corp B",
            TimeSpan.FromSeconds(180));
        var sent = await ChangesAsync(vms);
        Assert.Equal(2, sent.Count);
        Assert.All(sent, change => Assert.Equal(b.Id, change.GetProperty("networkConnectionId").GetGuid()));
        Assert.Equal(2, moved.Select(p => p.IpAddress).Where(ip => !string.IsNullOrEmpty(ip)).Distinct().Count());
        Assert.All(moved, p => Assert.Equal("Corp B", p.OnPremisesConnectionName));
        foreach (var pc in new[] { first, second })
        {
            var audit = Assert.Single(await tenant.WaitForAuditAsync(pc.Id, "networkConnectionMoved"));
            Assert.Contains("from network connection Corp A", audit, StringComparison.Ordinal);
            Assert.Contains("to Corp B", audit, StringComparison.Ordinal);
            Assert.Contains("uplink is cut", audit, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Move_OfAnUnknownConnectionIs404_OneWithNowhereToGoStays_AndTheOtherGoesToTheHostedNetwork()
    {
        using var tenant = await host.CreateTenantAsync("netstuck");
        var a = await host.AddConnectionAsync(tenant.Id, "Corp A");
        var onlyA = await tenant.CreateNetworkPolicyAsync("Only A", a.Id.ToString());
        var withHosted = await tenant.CreateNetworkPolicyAsync("A then hosted", a.Id.ToString(), "hosted");
        var stays = await tenant.SettledCloudPcAsync(await tenant.AddUserOfPolicyAsync(onlyA, "ada"));
        var stuck = await tenant.SettledCloudPcAsync(await tenant.AddUserOfPolicyAsync(withHosted, "bob"));
        host.Network.SetHealth(a.Id, "failed", "gatewayUnreachable");

        // A connection network does not know in this tenant: 404, and no move is recorded.
        await Problem.AssertAsync(await tenant.Admin.PostAsJsonAsync($"/api/v1/onPremisesConnections/{Guid.NewGuid()}/moveCloudPcs", new { }), HttpStatusCode.NotFound);
        var accepted = await tenant.Admin.PostAsJsonAsync($"/api/v1/onPremisesConnections/{a.Id}/moveCloudPcs", new { });
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        // A second move of the connection while this one runs is refused.
        await Problem.AssertConflictAsync(await tenant.Admin.PostAsJsonAsync($"/api/v1/onPremisesConnections/{a.Id}/moveCloudPcs", new { }), "move-running");

        var staying = Assert.Single(await tenant.WaitForAuditAsync(stays.Id, "networkConnectionMoveFailed"));
        Assert.Contains("no other usable network connection", staying, StringComparison.Ordinal);
        var change = Assert.Single(await Eventually.UntilAsync(() => ChangesAsync([stuck.VmId]), l => l.Count > 0, "the stuck Cloud PC's change to be sent"));
        Assert.Equal(JsonValueKind.Null, change.GetProperty("networkConnectionId").ValueKind);

        // Compute (the real one, with simulated hosts) carries the change out and answers: the movable one is on the
        // hosted network now, the other stays on A.
        Assert.Single(await tenant.WaitForAuditAsync(stuck.Id, "networkConnectionMoved", timeout: NetworkHost.MoveTimeout + TimeSpan.FromSeconds(90)));
        var after = (await tenant.NetworkCloudPcsAsync()).ToDictionary(p => p.Id);
        Assert.Equal(((Guid?)a.Id, (Guid?)null), (after[stays.Id].OnPremisesConnectionId, after[stuck.Id].OnPremisesConnectionId));
    }

    private async Task<List<JsonElement>> ChangesAsync(Guid[] vms) =>
        (await host.SentAsync("compute.changeVmNetwork.v1")).Where(m => vms.Contains(m.GetProperty("vmId").GetGuid())).ToList();

    private sealed record UsagePolicyBody(Guid Id, string DisplayName);

    private sealed record UsageBody(Guid ConnectionId, List<UsagePolicyBody> Policies, int CloudPcCount);
}
