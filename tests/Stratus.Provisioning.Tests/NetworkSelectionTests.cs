using System.Net;
using System.Net.Http.Json;
using Stratus.Provisioning.Tests.Support;

namespace Stratus.Provisioning.Tests;

/// <summary>
/// Issue 20, provisioning's part: a policy's ordered networkConnectionIds are checked at network, a Cloud PC goes
/// on the first usable one (each skipped one audited with its reason), none usable fails it with every reason,
/// and a hosted-only policy never calls network. Network is <see cref="NetworkStandIn"/>.
/// </summary>
[Collection(NetworkHost.Collection)]
public sealed class NetworkSelectionTests(NetworkHost host)
{
    [Fact]
    public async Task Policy_NetworkConnectionIds_MustBeTheTenantsOwn_OnceEach_AndNetworkReachable()
    {
        using var tenant = await host.CreateTenantAsync("netpol");
        var a = await host.AddConnectionAsync(tenant.Id, "Corp A");
        var foreign = await host.AddConnectionAsync(Guid.NewGuid(), "Another tenant's");
        object Policy(params string[] ids) => new { displayName = "Net", imageId = ProvisioningHost.ImageId, networkConnectionIds = ids };

        var notOwn = await Problem.AssertValidationAsync(await tenant.PostPolicyAsync(Policy(a.Id.ToString(), foreign.Id.ToString())), "networkConnectionIds[1]");
        Assert.Contains(foreign.Id.ToString(), notOwn, StringComparison.Ordinal);
        var twice = await Problem.AssertValidationAsync(await tenant.PostPolicyAsync(Policy(a.Id.ToString(), "hosted", a.Id.ToString().ToUpperInvariant())), "networkConnectionIds[2]");
        Assert.Contains("twice", twice, StringComparison.Ordinal);
        await Problem.AssertValidationAsync(await tenant.PostPolicyAsync(Policy("hosted", "corp")), "networkConnectionIds[1]");

        host.Network.Unavailable = true;
        try
        {
            var down = await Problem.AssertAsync(await tenant.PostPolicyAsync(Policy(a.Id.ToString())), HttpStatusCode.ServiceUnavailable);
            Assert.Contains("network service", down.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }
        finally
        {
            host.Network.Unavailable = false;
        }

        Assert.Empty((await tenant.Admin.GetFromJsonAsync<Page<PolicyBody>>("/api/v1/provisioningPolicies"))!.Value);

        // The failed calls may have opened provisioning's circuit to network for a few seconds (as a real outage
        // does): a 503 writes nothing, so the create is sent until network is asked again.
        var created = await Eventually.UntilAsync(() => tenant.PostPolicyAsync(Policy(a.Id.ToString(), "HOSTED")),
            r => r.StatusCode != HttpStatusCode.ServiceUnavailable, "provisioning to reach network again");
        Assert.True(created.StatusCode == HttpStatusCode.Created, await created.Content.ReadAsStringAsync());
        var policy = (await created.Content.ReadFromJsonAsync<PolicyNetworkBody>())!;
        Assert.Equal([a.Id.ToString(), "hosted"], policy.NetworkConnectionIds);

        // An edit naming an unknown connection changes nothing.
        var edit = await tenant.Admin.PatchAsJsonAsync($"/api/v1/provisioningPolicies/{policy.Id}", new { displayName = "Renamed", networkConnectionIds = new[] { Guid.NewGuid().ToString() } });
        await Problem.AssertValidationAsync(edit, "networkConnectionIds[0]");
        var kept = (await tenant.Admin.GetFromJsonAsync<PolicyNetworkBody>($"/api/v1/provisioningPolicies/{policy.Id}"))!;
        Assert.Equal("Net", kept.DisplayName);
        Assert.Equal([a.Id.ToString(), "hosted"], kept.NetworkConnectionIds);
    }

    [Fact]
    public async Task Provisioning_SkipsAnUnhealthyFirstConnection_AndPlacesOnTheSecond_InItsRegion()
    {
        using var tenant = await host.CreateTenantAsync("netsel");
        var a = await host.AddConnectionAsync(tenant.Id, "Corp A", status: "failed", reason: "gatewayUnreachable: 10.20.0.1 did not answer ARP from local-1-host");
        var b = await host.AddConnectionAsync(tenant.Id, "Corp B", region: "local-2");
        var policy = await tenant.CreateNetworkPolicyAsync("Corp", a.Id.ToString(), b.Id.ToString());

        var user = await tenant.AddUserOfPolicyAsync(policy, "ada");
        var pc = await tenant.SettledCloudPcAsync(user);

        Assert.True(pc.Status == "provisioned", $"{pc.Status}: {pc.StatusDetail?.Message}");
        Assert.Equal((b.Id, "Corp B", "local-2"), (pc.OnPremisesConnectionId, pc.OnPremisesConnectionName, pc.RegionName));
        var place = Assert.Single(await host.SentAsync("compute.placeVm.v1"), m => m.GetProperty("vmId").GetGuid() == pc.VmId);
        Assert.Equal((b.Id, "local-2"), (place.GetProperty("networkConnectionId").GetGuid(), place.GetProperty("region").GetString()));
        var skipped = Assert.Single(await tenant.WaitForAuditAsync(pc.Id, "networkConnectionSkipped"));
        Assert.Contains("Corp A", skipped, StringComparison.Ordinal);
        Assert.Contains("gatewayUnreachable", skipped, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Provisioning_NoUsableConnection_FailsNamingEachAndWhy()
    {
        using var tenant = await host.CreateTenantAsync("netnone");
        var a = await host.AddConnectionAsync(tenant.Id, "Corp A", status: "failed", reason: "uplinkInterfaceNotFound: eth9 is on no host of local-1");
        var b = await host.AddConnectionAsync(tenant.Id, "Corp B", status: "pending", reason: "never checked");
        var policy = await tenant.CreateNetworkPolicyAsync("Corp", a.Id.ToString(), b.Id.ToString());

        var pc = await tenant.SettledCloudPcAsync(await tenant.AddUserOfPolicyAsync(policy, "bob"));

        Assert.Equal(("failed", "networkConnectionUnhealthy"), (pc.Status, pc.StatusDetail?.Code));
        foreach (var expected in new[] { "Corp A", "uplinkInterfaceNotFound", "Corp B", "never checked" })
        {
            Assert.Contains(expected, pc.StatusDetail!.Message, StringComparison.Ordinal);
        }

        Assert.DoesNotContain(await host.SentAsync("compute.placeVm.v1"), m => m.GetProperty("vmId").GetGuid() == pc.VmId);
        Assert.Equal(2, (await tenant.WaitForAuditAsync(pc.Id, "networkConnectionSkipped", 2)).Count);
    }

    [Fact]
    public async Task HostedOnlyPolicies_NeverCallNetwork()
    {
        using var tenant = await host.CreateTenantAsync("nethost");
        var implicitHosted = await tenant.CreatePolicyAsync("Implicit");
        var explicitHosted = await tenant.CreateNetworkPolicyAsync("Explicit", "hosted");

        var first = await tenant.SettledCloudPcAsync(await tenant.AddUserOfPolicyAsync(implicitHosted, "cy"));
        var second = await tenant.SettledCloudPcAsync(await tenant.AddUserOfPolicyAsync(explicitHosted, "di"));

        foreach (var pc in new[] { first, second })
        {
            Assert.Equal(("provisioned", (Guid?)null, "Hosted network"), (pc.Status, pc.OnPremisesConnectionId, pc.OnPremisesConnectionName));
        }

        Assert.Empty(host.Network.CallsOf(tenant.Id));
    }

    [Fact]
    public async Task NetworkUnreachable_ProvisioningFailsAtItsDeadline_AndARetryUsesTheConnection()
    {
        using var tenant = await host.CreateTenantAsync("netdown");
        var a = await host.AddConnectionAsync(tenant.Id, "Corp A");
        var policy = await tenant.CreateNetworkPolicyAsync("Corp", a.Id.ToString());
        Guid user;
        host.Network.Unavailable = true;
        try
        {
            user = await tenant.AddUserOfPolicyAsync(policy, "eve");
            var failed = await tenant.SettledCloudPcAsync(user);
            Assert.Equal(("failed", "networkServiceUnreachable"), (failed.Status, failed.StatusDetail?.Code));
            Assert.Contains("network service", failed.StatusDetail!.Message, StringComparison.Ordinal);
        }
        finally
        {
            host.Network.Unavailable = false;
        }

        var pc = (await tenant.NetworkCloudPcsAsync()).Single(p => p.UserId == user);
        await tenant.WaitForSuccessAsync(await tenant.ActAsync(pc.Id, "retry"));
        var retried = (await tenant.NetworkCloudPcsAsync()).Single(p => p.UserId == user);
        Assert.Equal(("provisioned", (Guid?)a.Id), (retried.Status, retried.OnPremisesConnectionId));
    }
}

public sealed record PolicyNetworkBody(Guid Id, string DisplayName, List<string> NetworkConnectionIds);
